//! The caller's account: who they are, changing their password, deleting the account. The
//! last two check the password again, throttled like sign-in.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use http_problem::openapi as problems;
use http_problem::{InvalidField, Json};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::api_doc::{TAG_ACCOUNT, TAG_SESSIONS};
use super::client_info::client_address;
use super::refresh::UserView;
use super::{ApiError, AppState, LiveSession, refresh_cookie};
use crate::accounts::password_check;
use crate::accounts::sign_in_throttle::ThrottleKeys;
use crate::domain::{Email, Password};
use crate::entities::users;
use crate::{account_deletion, accounts};

/// The user behind the access token.
#[utoipa::path(
    tag = TAG_ACCOUNT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = UserView),
        (status = 401, response = http_problem::openapi::Unauthorized),
        (status = 500, response = http_problem::openapi::InternalError),
    ),
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    session: LiveSession,
) -> Result<HttpResponse, ApiError> {
    let account = accounts::find_by_id(&state.db, session.user_id)
        .await?
        .ok_or(ApiError::AccountGone)?;
    Ok(HttpResponse::Ok().json(UserView::from(&account)))
}

/// The errors of a change that checks the password again (documentation only).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum PasswordRecheckErrors {
    #[response(status = 400)]
    BadRequest(#[ref_response] problems::BadRequest),
    #[response(status = 401)]
    Unauthorized(#[ref_response] problems::Unauthorized),
    #[response(status = 422)]
    Unprocessable(#[ref_response] problems::UnprocessableEntity),
    #[response(status = 429)]
    Throttled(#[ref_response] problems::TooManyRequests),
    #[response(status = 500)]
    Internal(#[ref_response] problems::InternalError),
    #[response(status = 503)]
    Busy(#[ref_response] problems::ServiceUnavailable),
}

/// Checks a signed-in user's password again before a sensitive change, throttled like
/// sign-in (`accounts::password_check`). A wrong password is a 422 naming `field`.
async fn recheck_password(
    state: &AppState,
    req: &HttpRequest,
    account: &users::Model,
    password: SecretString,
    field: &'static str,
) -> Result<(), ApiError> {
    let attempt = password_check::admit(
        &state.db,
        &state.throttle,
        ThrottleKeys::new(&account.email, client_address(req, &state.proxies)),
    )
    .await?;
    let matches = attempt
        .verify(&state.hasher, password, Some(account.password_hash.clone()))
        .await?;
    if !matches {
        return Err(InvalidField::new(field, "the password is incorrect").into());
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
    /// 8–128 characters; not a common or breached password, and not the email or its part
    /// before the @.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    new_password: SecretString,
}

/// Changes the password.
///
/// Checks the current one (throttled like sign-in), stores the new
/// one, and revokes every other session of the user (the caller's stays signed in).
#[utoipa::path(
    tag = TAG_SESSIONS,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; the other sessions are revoked"),
        PasswordRecheckErrors,
    ),
)]
#[post("/password")]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: LiveSession,
    req: HttpRequest,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = accounts::find_by_id(&state.db, caller.user_id)
        .await?
        .ok_or(ApiError::AccountGone)?;
    let email = Email::parse(&account.email)
        .map_err(|e| anyhow::anyhow!("a stored email does not parse: {e}"))?;
    let new_password = Password::parse(body.new_password, &email)
        .map_err(|e| InvalidField::new("new_password", e))?;

    recheck_password(
        &state,
        &req,
        &account,
        body.current_password,
        "current_password",
    )
    .await?;
    let new_hash = state.hasher.hash(new_password).await?;
    accounts::change_password(
        &state.db,
        &state.revocations,
        caller.user_id,
        new_hash,
        caller.session_id,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    /// The account's password, checked again.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Deletes the account.
///
/// Checks the password again (throttled like sign-in), then in one transaction deletes the
/// user with every session, publishes a revocation cut-off for all their tokens, and queues
/// the purge of their tasks, which the tasks-service receives even if it is down right now.
#[utoipa::path(
    tag = TAG_SESSIONS,
    operation_id = "delete_account",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; the refresh cookie is cleared"),
        PasswordRecheckErrors,
    ),
)]
#[delete("/account")]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn delete_account(
    state: web::Data<AppState>,
    caller: LiveSession,
    req: HttpRequest,
    body: Json<DeleteAccount>,
) -> Result<HttpResponse, ApiError> {
    let account = accounts::find_by_id(&state.db, caller.user_id)
        .await?
        .ok_or(ApiError::AccountGone)?;
    recheck_password(
        &state,
        &req,
        &account,
        body.into_inner().password,
        "password",
    )
    .await?;
    let final_sweep_after = account_deletion::final_sweep_delay(state.tokens.ttl_secs);
    let deleted = account_deletion::delete_account(
        &state.db,
        &state.revocations,
        caller.user_id,
        final_sweep_after,
    )
    .await?;
    if !deleted {
        return Err(ApiError::AccountGone);
    }
    Ok(HttpResponse::NoContent()
        .cookie(refresh_cookie::removal())
        .finish())
}
