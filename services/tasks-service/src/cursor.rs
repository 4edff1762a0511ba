//! The opaque list cursor: base64url of a small versioned JSON document naming the sort and
//! the last row's position in it. Clients only pass it back; we validate it like any input.
//! Only the default sort (newest first, by UUIDv7 id) exists so far; a later sort adds its key
//! to `Position` and the version stays readable.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const MAX_CURSOR_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Format version.
    v: u8,
    /// The sort the cursor belongs to: a cursor is invalid under another sort.
    sort: String,
    /// The id of the last row returned.
    id: Uuid,
}

pub const NEWEST_FIRST: &str = "-created_at";

impl Position {
    pub fn after(id: Uuid) -> Self {
        Self {
            v: 1,
            sort: NEWEST_FIRST.to_owned(),
            id,
        }
    }

    pub fn last_id(&self) -> Uuid {
        self.id
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str) -> Option<Self> {
        if raw.len() > MAX_CURSOR_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let position: Self = serde_json::from_slice(&bytes).ok()?;
        (position.v == 1 && position.sort == NEWEST_FIRST).then_some(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let position = Position::after(Uuid::now_v7());
        assert_eq!(Position::decode(&position.encode()), Some(position));
    }

    proptest! {
        #[test]
        fn garbage_is_rejected_without_panicking(raw in "\\PC{0,600}") {
            let _ = Position::decode(&raw);
        }
    }
}
