//! `LiveSession`: a user access token whose session is still live in our own database. Every
//! route acting on the caller's account takes it, so none can forget the check.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use auth_core::AuthUser;
use uuid::Uuid;

use super::{ApiError, AppState};
use crate::sessions;

/// The signed-in caller. Validators learn of revocations through the feed within a second;
/// the auth-service checks its own database instead, so a revoked session cannot act here even
/// for that second.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

impl FromRequest for LiveSession {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = AuthUser::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let user = user.await?;
            let state = state.ok_or_else(|| {
                ApiError::Unexpected(anyhow::anyhow!("AppState is not registered"))
            })?;
            let session_id = user.session_id.ok_or(ApiError::SessionRevoked)?;
            let live = sessions::find_live(&state.db, user.user_id, session_id)
                .await
                .map_err(ApiError::from)?;
            if live.is_none() {
                return Err(ApiError::SessionRevoked.into());
            }
            Ok(LiveSession {
                user_id: user.user_id,
                session_id,
            })
        })
    }
}
