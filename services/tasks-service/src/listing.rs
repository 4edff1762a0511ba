//! What `GET /api/tasks` may ask for: filters, a sort, a page size and a cursor, parsed from
//! the query string into typed values. Every parameter is checked here, and a bad one is a 400
//! that names it; the repository only ever sees a valid [`ListQuery`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::domain::{Priority, task_fields::to_microseconds};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 100;
/// A search longer than the longest title cannot match a title, and is not a real search.
const MAX_QUERY_CHARS: usize = 200;

/// The query string as sent; every value is still untrusted text. Unknown parameters are
/// rejected (400 naming them) by `deny_unknown_fields`. The OpenAPI types say what each one
/// must parse as; each also accepts the empty string, which means the same as leaving the
/// parameter out (`?q=`, as a cleared form field sends; see [`non_empty`]).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only completed (`true`) or open (`false`) tasks.
    #[param(schema_with = documented::completed)]
    pub completed: Option<String>,
    /// Only tasks of this priority.
    #[param(schema_with = documented::priority)]
    pub priority: Option<String>,
    /// Only tasks due strictly before this RFC 3339 date-time.
    #[param(schema_with = documented::date_time)]
    pub due_before: Option<String>,
    /// Only tasks due at or after this RFC 3339 date-time.
    #[param(schema_with = documented::date_time)]
    pub due_after: Option<String>,
    /// Case-insensitive substring of the title or the description (at most 200 characters).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `created_at`, `due_at`, `priority` or `title`, `-` in front for descending; ties by id.
    #[param(
        pattern = "^(-?(created_at|due_at|priority|title))?$",
        example = "-created_at"
    )]
    pub sort: Option<String>,
    /// Page size, 1–100.
    #[param(schema_with = documented::limit, example = 50)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page, unchanged, with the same `sort` and filters.
    pub cursor: Option<String>,
}

/// The OpenAPI schemas of the typed parameters: the type, or the empty string.
mod documented {
    use utoipa::PartialSchema;
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
    use utoipa::openapi::{KnownFormat, RefOr};

    use crate::domain::Priority;

    fn or_empty(schema: impl Into<RefOr<Schema>>) -> Schema {
        AnyOfBuilder::new()
            .item(schema)
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(0)),
            )
            .build()
            .into()
    }

    pub fn completed() -> Schema {
        or_empty(ObjectBuilder::new().schema_type(Type::Boolean))
    }

    pub fn priority() -> Schema {
        or_empty(Priority::schema())
    }

    pub fn date_time() -> Schema {
        or_empty(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
    }

    pub fn limit() -> Schema {
        or_empty(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(100)),
        )
    }
}

/// A query parameter that cannot be used, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidParameter {
    pub name: &'static str,
    pub message: String,
}

fn invalid(name: &'static str, message: impl Into<String>) -> InvalidParameter {
    InvalidParameter {
        name,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    DueAt,
    Priority,
    Title,
}

/// A sort order; ties are always broken by id, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Sort {
    /// Every sort the API accepts, as a client writes it (`-` for descending).
    pub const NAMES: [&str; 8] = [
        "created_at",
        "-created_at",
        "due_at",
        "-due_at",
        "priority",
        "-priority",
        "title",
        "-title",
    ];

    /// Newest first.
    pub const DEFAULT: Self = Self {
        field: SortField::CreatedAt,
        descending: true,
    };

    pub fn parse(raw: &str) -> Option<Self> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let field = match name {
            "created_at" => SortField::CreatedAt,
            "due_at" => SortField::DueAt,
            "priority" => SortField::Priority,
            "title" => SortField::Title,
            _ => return None,
        };
        Some(Self { field, descending })
    }

    pub fn as_string(self) -> String {
        let name = match self.field {
            SortField::CreatedAt => "created_at",
            SortField::DueAt => "due_at",
            SortField::Priority => "priority",
            SortField::Title => "title",
        };
        if self.descending {
            format!("-{name}")
        } else {
            name.to_owned()
        }
    }
}

/// Which of the user's tasks to list. Every filter narrows the list; none widens it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub completed: Option<bool>,
    pub priority: Option<Priority>,
    /// Due strictly before this instant.
    pub due_before: Option<DateTime<Utc>>,
    /// Due at or after this instant.
    pub due_after: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the title or the description, already lowercased.
    pub text: Option<String>,
}

impl Filters {
    /// A short digest of the filters, carried in a cursor so that it is refused under any
    /// other filter set (its position would mean nothing there).
    pub fn fingerprint(&self) -> String {
        let canonical = format!(
            "completed={:?}\npriority={:?}\ndue_before={:?}\ndue_after={:?}\nq={:?}",
            self.completed,
            self.priority.map(Priority::as_str),
            self.due_before.map(|t| t.timestamp_micros()),
            self.due_after.map(|t| t.timestamp_micros()),
            self.text,
        );
        let digest = Sha256::digest(canonical.as_bytes());
        digest[..12].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where the previous page ended, in the order of the sort: the last row's sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub key: SortKey,
    pub id: Uuid,
}

/// A row's value of the sort field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Time(DateTime<Utc>),
    /// A task without a due date, under the `due_at` sort.
    NoTime,
    Rank(i16),
    Text(String),
}

/// A valid list request, ready for the repository.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filters: Filters,
    pub sort: Sort,
    pub limit: u64,
    pub after: Option<Position>,
}

impl ListParams {
    /// Everything but the cursor, which needs the cursor key to read (see `cursor.rs`).
    pub fn parse(&self) -> Result<(Filters, Sort, u64), InvalidParameter> {
        let completed = match non_empty(&self.completed) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(invalid("completed", "completed must be true or false")),
        };
        let priority = non_empty(&self.priority)
            .map(|raw| {
                Priority::parse(raw)
                    .ok_or_else(|| invalid("priority", "priority must be low, medium or high"))
            })
            .transpose()?;
        let due_before = parse_instant("due_before", &self.due_before)?;
        let due_after = parse_instant("due_after", &self.due_after)?;
        if let (Some(before), Some(after)) = (due_before, due_after)
            && after >= before
        {
            return Err(invalid(
                "due_after",
                "due_after must be earlier than due_before",
            ));
        }
        let text = parse_search(&self.q)?;
        let sort = match non_empty(&self.sort) {
            None => Sort::DEFAULT,
            Some(raw) => Sort::parse(raw).ok_or_else(|| {
                invalid(
                    "sort",
                    "sort must be created_at, due_at, priority or title, \
                     optionally prefixed with - for descending",
                )
            })?,
        };
        let limit = match non_empty(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| invalid("limit", "limit must be a whole number from 1 to 100"))?,
        };
        let filters = Filters {
            completed,
            priority,
            due_before,
            due_after,
            text,
        };
        Ok((filters, sort, limit))
    }
}

/// An empty parameter (`?q=`, as a cleared search box sends) is the same as an absent one.
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn parse_instant(
    name: &'static str,
    value: &Option<String>,
) -> Result<Option<DateTime<Utc>>, InvalidParameter> {
    non_empty(value)
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| to_microseconds(t.with_timezone(&Utc)))
                .map_err(|_| {
                    invalid(
                        name,
                        format!("{name} must be an RFC 3339 date-time, e.g. 2030-01-31T09:00:00Z"),
                    )
                })
        })
        .transpose()
}

fn parse_search(value: &Option<String>) -> Result<Option<String>, InvalidParameter> {
    // Counted as sent, before trimming: the documented limit is on the parameter.
    if value
        .as_deref()
        .is_some_and(|raw| raw.chars().count() > MAX_QUERY_CHARS)
    {
        return Err(invalid("q", "q must be at most 200 characters"));
    }
    let Some(raw) = value.as_deref().map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().any(char::is_control) {
        return Err(invalid("q", "q must not contain control characters"));
    }
    Ok(Some(raw.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        actix_web::web::Query::<ListParams>::from_query(&query)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn defaults() {
        let (filters, sort, limit) = ListParams::default().parse().unwrap();
        assert_eq!(filters, Filters::default());
        assert_eq!(sort, Sort::DEFAULT);
        assert_eq!(limit, 50);
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (name, value) in [
            ("completed", "yes"),
            ("priority", "urgent"),
            ("due_before", "tomorrow"),
            ("due_after", "2030-13-01T00:00:00Z"),
            ("sort", "-id"),
            ("sort", "--title"),
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "-1"),
            ("limit", "ten"),
        ] {
            let error = params(&[(name, value)]).parse().unwrap_err();
            assert_eq!(error.name, name, "{name}={value}");
        }
        let error = params(&[
            ("due_before", "2030-01-01T00:00:00Z"),
            ("due_after", "2030-02-01T00:00:00Z"),
        ])
        .parse()
        .unwrap_err();
        assert_eq!(
            (error.name, error.message.as_str()),
            ("due_after", "due_after must be earlier than due_before")
        );
        let long = "x".repeat(201);
        let error = params(&[("q", &long)]).parse().unwrap_err();
        assert_eq!(
            (error.name, error.message.as_str()),
            ("q", "q must be at most 200 characters")
        );
        // The limit is on the parameter as sent, as documented, even if trimming shortens it.
        let padded = format!("{}milk{}", "%20".repeat(100), "%20".repeat(100));
        let error = params(&[("q", &padded)]).parse().unwrap_err();
        assert_eq!(error.name, "q");
    }

    #[test]
    fn search_is_trimmed_and_lowercased() {
        let (filters, _, _) = params(&[("q", "%20Straße%20")]).parse().unwrap();
        assert_eq!(filters.text.as_deref(), Some("straße"));
        let (filters, _, _) = params(&[("q", "")]).parse().unwrap();
        assert_eq!(filters.text, None);
    }

    #[test]
    fn fingerprints_differ_by_filter() {
        let a = params(&[("completed", "true")]).parse().unwrap().0;
        let b = params(&[("completed", "false")]).parse().unwrap().0;
        let c = params(&[("q", "milk")]).parse().unwrap().0;
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
    }

    #[test]
    fn sorts_round_trip() {
        for raw in Sort::NAMES {
            assert_eq!(Sort::parse(raw).unwrap().as_string(), raw);
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(
            completed in "\\PC{0,20}", priority in "\\PC{0,20}", due in "\\PC{0,40}",
            q in "\\PC{0,300}", sort in "\\PC{0,20}", limit in "\\PC{0,20}",
        ) {
            let params = ListParams {
                completed: Some(completed), priority: Some(priority),
                due_before: Some(due.clone()), due_after: Some(due), q: Some(q),
                sort: Some(sort), limit: Some(limit), cursor: None,
            };
            let _ = params.parse();
        }

        /// The raw query string, as a client may send it (any percent-encoding, repeated or
        /// unknown names): read into parameters or refused, then parsed or refused by name.
        #[test]
        fn any_query_string_is_read_or_refused(
            query in proptest::collection::vec(
                (prop_oneof![
                    proptest::sample::select(&["completed", "priority", "due_before", "due_after", "q", "sort", "limit", "cursor"][..]).prop_map(str::to_owned),
                    "[a-z%_]{0,8}",
                ], "[ -~]{0,30}"),
                0..8,
            )
        ) {
            let raw = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            if let Ok(params) = actix_web::web::Query::<ListParams>::from_query(&raw)
                && let Err(invalid) = params.into_inner().parse()
            {
                prop_assert!(!invalid.message.is_empty(), "{}", invalid.name);
            }
        }
    }
}
