use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures_util::future::LocalBoxFuture;
use tracing_actix_web::RequestId;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any. Errors rendered while a handler
/// runs (including extractor failures) are inside the scope set by [`RequestIdHeader`].
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware that copies tracing-actix-web's request id (the one in the root span of every
/// log line) into the `x-request-id` response header and makes it available to problem
/// bodies. Register it *inside* `TracingLogger` (i.e. `.wrap(RequestIdHeader).wrap(TracingLogger)`).
#[derive(Clone, Copy, Default)]
pub struct RequestIdHeader;

impl<S, B> Transform<S, ServiceRequest> for RequestIdHeader
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestIdHeaderService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestIdHeaderService {
            service: Rc::new(service),
        }))
    }
}

pub struct RequestIdHeaderService<S> {
    service: Rc<S>,
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

impl<S, B> Service<ServiceRequest> for RequestIdHeaderService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let service = Rc::clone(&self.service);
        Box::pin(REQUEST_ID.scope(id.clone(), async move {
            let mut res = service.call(req).await?;
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(X_REQUEST_ID, value);
            }
            Ok(res)
        }))
    }
}
