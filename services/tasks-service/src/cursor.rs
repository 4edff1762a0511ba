//! The opaque list cursor: `base64url(payload).base64url(HMAC-SHA256(payload))`. The payload
//! names the sort, a fingerprint of the filters and where the last page ended. The MAC makes it
//! tamper-evident: a client can only hand back a cursor we made, unchanged, under the same sort
//! and filters it was made for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::task_fields::to_microseconds;
use crate::listing::{Filters, Position, Sort, SortField, SortKey};

/// A 200-character title of four-byte characters is 800 bytes; with base64 and the MAC a
/// genuine cursor stays well under this.
const MAX_CURSOR_LEN: usize = 2048;
const FORMAT_VERSION: u8 = 2;

type HmacSha256 = Hmac<Sha256>;

/// The key cursors are signed with.
#[derive(Clone)]
pub struct CursorKey(SecretSlice<u8>);

impl CursorKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(SecretSlice::from(secret.to_vec()))
    }

    /// A fresh key: cursors then last as long as the process.
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self::new(&bytes)
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(self.0.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
    }

    pub fn encode(&self, sort: Sort, filters: &Filters, position: &Position) -> String {
        let payload = Payload {
            v: FORMAT_VERSION,
            sort: sort.as_string(),
            filters: filters.fingerprint(),
            key: match &position.key {
                SortKey::Time(at) => serde_json::Value::from(at.to_rfc3339()),
                SortKey::NoTime => serde_json::Value::Null,
                SortKey::Rank(rank) => serde_json::Value::from(*rank),
                SortKey::Text(text) => serde_json::Value::from(text.as_str()),
            },
            id: position.id,
        };
        // Serialising a struct of strings, numbers and a UUID cannot fail.
        let bytes = serde_json::to_vec(&payload).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The position a cursor names, if we made it for this sort and these filters.
    pub fn decode(
        &self,
        raw: &str,
        sort: Sort,
        filters: &Filters,
    ) -> Result<Position, CursorError> {
        if raw.len() > MAX_CURSOR_LEN {
            return Err(CursorError::Malformed);
        }
        let (payload, tag) = raw.split_once('.').ok_or(CursorError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| CursorError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&payload);
        // Constant-time comparison of the tag.
        mac.verify_slice(&tag)
            .map_err(|_| CursorError::SignatureMismatch)?;
        let payload: Payload =
            serde_json::from_slice(&payload).map_err(|_| CursorError::Malformed)?;
        if payload.v != FORMAT_VERSION {
            return Err(CursorError::Malformed);
        }
        if payload.sort != sort.as_string() {
            return Err(CursorError::OtherSort);
        }
        if payload.filters != filters.fingerprint() {
            return Err(CursorError::OtherFilters);
        }
        let key = sort_key(sort.field, payload.key).ok_or(CursorError::Malformed)?;
        Ok(Position {
            key,
            id: payload.id,
        })
    }
}

/// The sort key of the position, read as the sort's field type. We signed it, so a mismatch
/// means a format change, not an attack; it is refused all the same.
fn sort_key(field: SortField, value: serde_json::Value) -> Option<SortKey> {
    use serde_json::Value;
    match (field, value) {
        (SortField::CreatedAt | SortField::DueAt, Value::String(at)) => {
            let at = DateTime::parse_from_rfc3339(&at).ok()?.with_timezone(&Utc);
            Some(SortKey::Time(to_microseconds(at)))
        }
        (SortField::DueAt, Value::Null) => Some(SortKey::NoTime),
        (SortField::Priority, Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i16::try_from(n).ok())
            .map(SortKey::Rank),
        (SortField::Title, Value::String(text)) => Some(SortKey::Text(text)),
        _ => None,
    }
}

/// Why a cursor is refused; each says so in its own words, for the client's developer.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not two base64url parts, too long, or (signed by us) in a format we no longer read.
    #[error("cursor is not valid: pass back next_cursor unchanged")]
    Malformed,
    /// Well-formed, but not signed by us with this content: edited, or made by a server with
    /// another cursor key.
    #[error(
        "cursor has been changed or was made by another server: pass back next_cursor unchanged"
    )]
    SignatureMismatch,
    #[error("cursor was made for another sort")]
    OtherSort,
    #[error("cursor was made for other filters")]
    OtherFilters,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    v: u8,
    sort: String,
    filters: String,
    key: serde_json::Value,
    id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn position(key: SortKey) -> Position {
        Position {
            key,
            id: Uuid::now_v7(),
        }
    }

    #[test]
    fn round_trips_every_sort_key() {
        let key = CursorKey::random();
        let filters = Filters::default();
        for (sort, at) in [
            ("-created_at", SortKey::Time(to_microseconds(Utc::now()))),
            ("due_at", SortKey::NoTime),
            ("-due_at", SortKey::Time(to_microseconds(Utc::now()))),
            ("priority", SortKey::Rank(3)),
            ("title", SortKey::Text("Grüße \"quoted\" 🎉".into())),
        ] {
            let sort = Sort::parse(sort).unwrap();
            let position = position(at);
            let raw = key.encode(sort, &filters, &position);
            assert_eq!(key.decode(&raw, sort, &filters), Ok(position));
        }
    }

    #[test]
    fn refuses_other_sorts_filters_keys_and_edits() {
        let key = CursorKey::random();
        let sort = Sort::parse("title").unwrap();
        let filters = Filters::default();
        let raw = key.encode(sort, &filters, &position(SortKey::Text("b".into())));

        let other_sort = Sort::parse("-title").unwrap();
        assert_eq!(
            key.decode(&raw, other_sort, &filters),
            Err(CursorError::OtherSort)
        );
        let other_filters = Filters {
            completed: Some(true),
            ..Filters::default()
        };
        assert_eq!(
            key.decode(&raw, sort, &other_filters),
            Err(CursorError::OtherFilters)
        );
        assert_eq!(
            CursorKey::random().decode(&raw, sort, &filters),
            Err(CursorError::SignatureMismatch)
        );

        // Re-sign nothing, just change the payload: the MAC no longer matches.
        let (payload, tag) = raw.split_once('.').unwrap();
        let mut json = URL_SAFE_NO_PAD.decode(payload).unwrap();
        let text = String::from_utf8(json.clone())
            .unwrap()
            .replace("\"b\"", "\"a\"");
        json = text.into_bytes();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(json));
        assert_eq!(
            key.decode(&forged, sort, &filters),
            Err(CursorError::SignatureMismatch)
        );
        assert_eq!(
            key.decode("not a cursor", sort, &filters),
            Err(CursorError::Malformed)
        );
    }

    fn genuine(key: &CursorKey) -> String {
        let sort = Sort::parse("title").unwrap();
        key.encode(
            sort,
            &Filters::default(),
            &position(SortKey::Text("b".into())),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn garbage_is_rejected_without_panicking(raw in "\\PC{0,600}") {
            let key = CursorKey::random();
            // Two base64url parts (within the length limit) reach the MAC check and fail it;
            // anything else is malformed. Nothing gets further.
            let well_formed = raw.len() <= MAX_CURSOR_LEN
                && raw.split_once('.').is_some_and(|(payload, tag)| {
                    URL_SAFE_NO_PAD.decode(payload).is_ok() && URL_SAFE_NO_PAD.decode(tag).is_ok()
                });
            let expected = if well_formed {
                CursorError::SignatureMismatch
            } else {
                CursorError::Malformed
            };
            prop_assert_eq!(
                key.decode(&raw, Sort::DEFAULT, &Filters::default()),
                Err(expected)
            );
        }

        /// Every well-formed cursor we did not sign reaches the MAC check and stops there.
        #[test]
        fn well_formed_forgeries_fail_the_mac(
            payload in proptest::collection::vec(any::<u8>(), 0..300),
            tag in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let key = CursorKey::random();
            let raw = format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag));
            prop_assert_eq!(
                key.decode(&raw, Sort::DEFAULT, &Filters::default()),
                Err(CursorError::SignatureMismatch)
            );
        }

        /// One flipped bit anywhere in a genuine cursor's payload or MAC is caught by the MAC.
        #[test]
        fn any_flipped_bit_is_caught(in_tag in any::<bool>(), index in any::<prop::sample::Index>(), bit in 0u8..8) {
            let key = CursorKey::random();
            let raw = genuine(&key);
            let (payload, tag) = raw.split_once('.').unwrap();
            let mut parts = [URL_SAFE_NO_PAD.decode(payload).unwrap(), URL_SAFE_NO_PAD.decode(tag).unwrap()];
            let part = &mut parts[usize::from(in_tag)];
            let at = index.index(part.len());
            part[at] ^= 1 << bit;
            let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode(&parts[0]), URL_SAFE_NO_PAD.encode(&parts[1]));
            let sort = Sort::parse("title").unwrap();
            prop_assert_eq!(
                key.decode(&forged, sort, &Filters::default()),
                Err(CursorError::SignatureMismatch)
            );
        }
    }
}
