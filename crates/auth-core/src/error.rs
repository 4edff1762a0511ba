//! Why a token was refused. Every `Display` message is safe to show a client (it goes into the
//! `error_description` of `WWW-Authenticate`, so it must stay free of `"` and `\`) and never
//! contains any part of the token.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is too large")]
    TooLarge,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's signing algorithm is not accepted")]
    AlgorithmNotAllowed,
    #[error("the token header must not contain `{0}`")]
    ForbiddenHeader(&'static str),
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongType,
    #[error("the token header has no key id")]
    MissingKeyId,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token's algorithm does not match its signing key")]
    KeyAlgorithmMismatch,
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by an untrusted issuer")]
    WrongIssuer,
    #[error("the token is not intended for this service")]
    WrongAudience,
    #[error("the token is missing the `{0}` claim")]
    MissingClaim(&'static str),
    #[error("the token's `{0}` claim has an invalid value")]
    InvalidClaim(&'static str),
    #[error("the token's claims are malformed")]
    MalformedClaims,
    /// Its session was revoked (sign-out, session revoked) or it was issued before its user's
    /// cut-off (password change, account deleted), as the issuer's revocation feed reported.
    #[error("the token has been revoked")]
    Revoked,
    /// The Authorization header is present but does not use the Bearer scheme (RFC 6750 §2.1).
    #[error("the Authorization header must use the Bearer scheme")]
    NotBearer,
    /// No signing keys are loaded yet (the issuer has not been reachable). Not the client's
    /// fault: the extractor answers 503 rather than 401 so clients retry instead of signing out.
    #[error("signing keys are not available yet; try again shortly")]
    KeysUnavailable,
}

impl TokenError {
    /// True when the failure is on our side (no keys), not a problem with the token.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, TokenError::KeysUnavailable)
    }
}
