//! sea-orm entities of the `auth` schema. Only this service reads them.
pub mod oauth_clients;
pub mod purge_outbox;
pub mod refresh_tokens;
pub mod revocations;
pub mod sessions;
pub mod sign_in_failures;
pub mod signing_keys;
pub mod users;
