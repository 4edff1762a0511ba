//! Where a request comes from, as sessions record it.

use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;

use crate::sessions::ClientInfo;

/// Where a request came from: its user agent (at most 512 characters) and the peer address.
pub fn client_info(req: &HttpRequest) -> ClientInfo {
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect());
    // The peer address, not X-Forwarded-For: a client could forge that header.
    let ip = req.peer_addr().map(|addr| addr.ip().to_string());
    ClientInfo { user_agent, ip }
}
