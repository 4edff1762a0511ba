//! OAuth 2.0 for other services: the confidential clients that get their own tokens with the
//! client_credentials grant. The endpoints themselves are HTTP: `routes::oauth`.

pub mod clients;
