//! Where a request comes from, as sessions record it and the throttles count it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;

use crate::client_address::TrustedProxies;
use crate::sessions::ClientInfo;

/// The client's address: the peer's, or, when the peer is a trusted proxy, the one its
/// forwarding header names (`client_address`: forged headers from anyone else are ignored).
/// Worked out once per request; the session record and the throttles take it from there.
pub fn client_address(req: &HttpRequest, proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    if !proxies.is_trusted(peer) {
        // The common case (no proxies configured): no header to read.
        return Some(peer);
    }
    let lines: Vec<&[u8]> = req
        .headers()
        .get_all(proxies.header().name())
        .map(|value| value.as_bytes())
        .collect();
    Some(proxies.client_address(peer, &lines))
}

/// Where a request came from: its user agent (at most 512 characters) and its client address
/// (from [`client_address`]).
pub fn client_info(req: &HttpRequest, client_address: Option<IpAddr>) -> ClientInfo {
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect());
    let ip = client_address.map(|ip| ip.to_string());
    ClientInfo { user_agent, ip }
}
