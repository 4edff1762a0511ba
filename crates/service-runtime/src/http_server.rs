//! The HTTP server both services run: the same middleware, error handlers and OpenAPI
//! endpoint around each service's own routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpServer, web};
use anyhow::Context;
use http_problem::{json_error_handler, query_error_handler};
use tracing_actix_web::TracingLogger;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::cors::{self, CorsPolicy};
use crate::request_limits::{self, RequestLimits};
use crate::shutdown::{self, DrainTimes, Shutdown};
use crate::unknown_routes::KnownRoutes;

/// A client must send its whole request head within this time (slow-loris defence).
pub const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// An idle keep-alive connection is closed after this time.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// After the response, a client has this long to close its side before the server drops it.
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a service puts into the server: its routes (which also register its shared state with
/// `cfg.app_data`), the OpenAPI document they are added to, and its body limit.
pub struct HttpApi<F> {
    /// Title, tags and shared components; each route adds its own path.
    pub openapi: OpenApi,
    /// Registers the routes (`cfg.service(handler)`) and the state they use.
    pub routes: F,
    /// Larger bodies are refused with 413, on every route, with or without `Content-Length`.
    pub body_limit_bytes: usize,
    /// Which browser origins get CORS answers (none by default).
    pub cors: CorsPolicy,
    /// How long it may take to stop ([`crate::shutdown`]).
    pub drain: DrainTimes,
}

/// A server that has started, and its drain.
pub struct Started {
    /// Resolves when the server has stopped.
    pub server: Server,
    pub shutdown: Shutdown,
}

/// Binds `host:port` (port 0: any free port), saying which in the error.
pub fn bind(host: &str, port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind((host, port)).with_context(|| format!("binding {host}:{port}"))
}

/// Starts serving `api` on `listener`. Every response carries an `x-request-id`; every
/// request is traced and held to the [`request_limits`] and the timeouts above; listed browser
/// origins get CORS answers; malformed JSON or query strings and unknown routes are
/// problem+json (405 with `Allow` for a documented path's other methods); the finished
/// document is served at `GET /openapi.json`. Every route can extract `web::Data<Draining>`.
/// The server does not watch signals itself:
/// [`shutdown::serve_until_signalled`] does, in the binaries.
pub fn start<F>(listener: TcpListener, api: HttpApi<F>) -> std::io::Result<Started>
where
    F: Fn(&mut ServiceConfig) + Clone + Send + 'static,
{
    let json_config = web::JsonConfig::default()
        .limit(api.body_limit_bytes)
        .error_handler(json_error_handler);
    let query_config = web::QueryConfig::default().error_handler(query_error_handler);
    let limits = RequestLimits {
        max_body_bytes: api.body_limit_bytes,
    };
    let HttpApi {
        openapi,
        routes,
        cors,
        drain,
        ..
    } = api;
    let cors = Arc::new(cors);
    let (draining_flag, draining) = shutdown::flag();
    let draining = web::Data::new(draining);
    // Learnt from the finished OpenAPI document (the same in every worker).
    let known = KnownRoutes::default();
    let server = HttpServer::new(move || {
        let cors = Arc::clone(&cors);
        let known = known.clone();
        App::new()
            .wrap(from_fn(move |req, next| {
                request_limits::enforce(limits, req, next)
            }))
            .wrap(http_problem::RequestIdHeader)
            // Outside the request id: a preflight answered here needs none; every other
            // answer, errors included, passes back through it and gets its CORS headers.
            .wrap(from_fn(move |req, next| {
                cors::answer(Arc::clone(&cors), req, next)
            }))
            .wrap(TracingLogger::default())
            .app_data(json_config.clone())
            .app_data(query_config.clone())
            .app_data(draining.clone())
            // Routes and their OpenAPI paths are collected together; the finished document
            // is then served at /openapi.json (which documents itself).
            .into_utoipa_app()
            .openapi(openapi.clone())
            .configure(routes.clone())
            .openapi_service({
                let known = known.clone();
                move |mut doc| {
                    http_problem::openapi::finish_document(&mut doc);
                    known.learn(&doc);
                    http_problem::openapi::openapi_json_service(&doc)
                }
            })
            .into_app()
            // What no route takes: 405 with `Allow` on a documented path, else 404.
            .default_service(web::to(move |req: HttpRequest| {
                let known = known.clone();
                async move { known.answer(&req) }
            }))
    })
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
    .shutdown_timeout(drain.timeout.as_secs())
    .disable_signals()
    .listen(listener)?
    .run();
    let shutdown = Shutdown::new(draining_flag, server.handle(), drain);
    Ok(Started { server, shutdown })
}
