//! A token's header and claims read WITHOUT verifying it (feature `test-support`): tests use
//! it to look inside tokens a service issued. Nothing that decides access may use it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The JOSE header. Panics on anything but a JWS compact token.
pub fn header(token: &str) -> Value {
    segment(token, 0)
}

/// The claims. Panics on anything but a JWS compact token.
pub fn claims(token: &str) -> Value {
    segment(token, 1)
}

fn segment(token: &str, index: usize) -> Value {
    let encoded = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {token:?}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .unwrap_or_else(|e| panic!("a JWT segment is not base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("a JWT segment is not JSON: {e}"))
}
