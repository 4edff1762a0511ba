use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The owner of the data a query touches. Every repository function takes one, so no code
/// path can read tasks without saying whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserId(pub Uuid);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldError {
    #[error("title must not be empty")]
    TitleEmpty,
    #[error("title must be at most 200 characters")]
    TitleTooLong,
    #[error("description must be at most 10000 characters")]
    DescriptionTooLong,
    #[error("{0} must not contain control characters")]
    ControlCharacters(&'static str),
}

/// 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::TitleEmpty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::TitleTooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::ControlCharacters("title"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// At most 10,000 characters; newlines and tabs allowed, other control characters not.
/// An empty (or all-blank) description is stored as none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        let Some(text) = raw.filter(|t| !t.trim().is_empty()) else {
            return Ok(Self(None));
        };
        if text.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::DescriptionTooLong);
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FieldError::ControlCharacters("description"));
        }
        Ok(Self(Some(text.to_owned())))
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// The stored form: a number, so that sorting by priority sorts by meaning.
    pub fn rank(self) -> i16 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
        }
    }

    /// Reads a stored value; anything unexpected is reported, not guessed.
    pub fn from_rank(rank: i16) -> Option<Self> {
        match rank {
            1 => Some(Self::Low),
            2 => Some(Self::Medium),
            3 => Some(Self::High),
            _ => None,
        }
    }
}

/// Timestamps are kept to the microsecond, Postgres' precision, so a value reads back exactly
/// as written on both backends and compares the same way in both.
pub fn to_microseconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(
            TaskTitle::parse("  Buy milk \n").unwrap().into_inner(),
            "Buy milk"
        );
        assert_eq!(TaskTitle::parse("   "), Err(FieldError::TitleEmpty));
        let longest = "é".repeat(200);
        assert_eq!(TaskTitle::parse(&longest).unwrap().into_inner(), longest);
        assert_eq!(
            TaskTitle::parse(&"x".repeat(201)),
            Err(FieldError::TitleTooLong)
        );
        assert_eq!(
            TaskTitle::parse("a\u{0}b"),
            Err(FieldError::ControlCharacters("title"))
        );
    }

    #[test]
    fn description_allows_newlines_and_empties_to_none() {
        assert_eq!(Description::parse(Some("  ")).unwrap().into_inner(), None);
        assert_eq!(
            Description::parse(Some("line\r\nline\ttab"))
                .unwrap()
                .into_inner()
                .as_deref(),
            Some("line\r\nline\ttab")
        );
        assert_eq!(
            Description::parse(Some(&"x".repeat(10_001))),
            Err(FieldError::DescriptionTooLong)
        );
        assert_eq!(
            Description::parse(Some("bell\u{7}")),
            Err(FieldError::ControlCharacters("description"))
        );
    }

    proptest! {
        #[test]
        fn title_accepts_exactly_trimmed_lengths(raw in "[a-z ]{0,260}") {
            let n = raw.trim().chars().count();
            let expected = match n {
                0 => Err(FieldError::TitleEmpty),
                1..=200 => Ok(raw.trim().to_owned()),
                _ => Err(FieldError::TitleTooLong),
            };
            prop_assert_eq!(TaskTitle::parse(&raw).map(TaskTitle::into_inner), expected);
        }

        #[test]
        fn title_never_panics(raw in "\\PC{0,300}") {
            let _ = TaskTitle::parse(&raw);
        }
    }
}
