//! The refresh token's cookie: `HttpOnly`, `SameSite=Strict`, sent only to `/api/auth`, so
//! the SPA never has to hold the refresh token itself.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use secrecy::SecretString;

pub const NAME: &str = "taskgate_refresh";
const PATH: &str = "/api/auth";

/// The cookie carrying `token`, living `remaining_secs` (the session's remaining lifetime).
pub fn set(token: &str, remaining_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(NAME, token.to_owned())
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(CookieDuration::seconds(remaining_secs))
        .finish()
}

/// The header that makes the browser forget the cookie (sign-out, account deletion).
pub fn removal() -> Cookie<'static> {
    let mut cookie = Cookie::build(NAME, "").path(PATH).finish();
    cookie.make_removal();
    cookie
}

/// The refresh token the request's cookie carries.
pub fn read(req: &HttpRequest) -> Option<SecretString> {
    req.cookie(NAME)
        .map(|cookie| SecretString::from(cookie.value().to_owned()))
}
