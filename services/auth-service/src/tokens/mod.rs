//! Everything the service signs or keeps secret: access tokens, the signing keys that sign
//! them and their rotation, the master key that seals those keys at rest, and the opaque
//! random secrets (refresh tokens, client secrets) stored only as hashes.

pub mod access_token;
pub mod key_store;
pub mod master_key;
pub mod opaque_secret;
pub mod rotation;
pub mod signing_keys;
