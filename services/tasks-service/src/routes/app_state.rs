//! The state every handler shares.

use sea_orm::DatabaseConnection;

use crate::cursor::CursorKey;

/// What the handlers share, built once by `startup` (the verifier is registered beside it).
pub struct AppState {
    pub db: DatabaseConnection,
    /// Signs list cursors.
    pub cursor_key: CursorKey,
    /// Refuse changes without `If-Match` (428).
    pub require_if_match: bool,
}
