//! Test support for the services' integration tests (feature `test-support`):
//! - [`eventually`]: wait for a condition, with a deadline, instead of sleeping a fixed time;
//! - [`gauge`]: one value of a service's `/metrics`;
//! - [`assert_request_limits`]: the request limits every service holds, probed over raw TCP;
//! - [`assert_sigterm_drains`]: a service binary's drain on SIGTERM;
//! - [`assert_example_matches_defaults`]: the check behind each service's test of
//!   `config/<service>.example.toml`, which names every setting with its built-in default, so
//!   it cannot drift from the code.
//!
//! The example file's convention: prose comments start with `# `; a setting with no default (a secret,
//! a URL to fill in) or a table that is empty by default (`[[clients]]`) is written commented
//! out with the `#` right against it (`#master_key = "…"`), ready to uncomment.

mod drain;
mod request_limits;

pub use drain::{DRAIN_DELAY_SECS, DrainProbe, assert_sigterm_drains, free_port};
pub use request_limits::{LimitsProbe, assert_request_limits};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Polls `check` every 10 ms until it holds, and returns how long that took; panics with
/// `what` if it still does not hold after `limit`.
pub async fn eventually(
    limit: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> bool,
) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

/// The value of the Prometheus gauge `name` that `GET {base_url}/metrics` serves now.
pub async fn gauge(base_url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{base_url}/metrics"))
        .await
        .and_then(reqwest::Response::error_for_status)
        .unwrap_or_else(|e| panic!("GET {base_url}/metrics: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading {base_url}/metrics: {e}"));
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} is not in {base_url}/metrics:\n{text}"))
        .parse()
        .unwrap_or_else(|e| panic!("{name} is not a number: {e}"))
}

/// Panics, naming what differs, unless the example at `path`:
/// 1. loads as it is and equals `T::default()`;
/// 2. still loads with its commented-out settings uncommented (so they are real settings with
///    well-formed values, not stale names);
/// 3. names every setting `T` has, and nothing else.
#[track_caller]
pub fn assert_example_matches_defaults<T>(path: &Path)
where
    T: Serialize + DeserializeOwned + Default,
{
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));

    let as_written: T = crate::settings::load_file(path)
        .unwrap_or_else(|e| panic!("{} does not load: {e:#}", path.display()));
    let (written, default) = (
        leaves(&to_json(&as_written)),
        leaves(&to_json(&T::default())),
    );
    let differing: Vec<String> = default
        .iter()
        .filter(|(name, value)| written.get(*name) != Some(value))
        .map(|(name, value)| format!("{name}: example {:?}, code {value}", written.get(name)))
        .collect();
    assert!(
        differing.is_empty(),
        "{}: values differ from the code's defaults: {differing:#?}",
        path.display()
    );

    let uncommented = uncomment(&text);
    if let Err(e) = crate::settings::load_str::<T>(&uncommented) {
        panic!(
            "{} with its commented-out settings uncommented does not load: {e:#}",
            path.display()
        );
    }

    let written: Value = toml::from_str(&uncommented)
        .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()));
    let in_example = setting_names(&written);
    let in_code = setting_names(&to_json(&T::default()));
    let missing: Vec<_> = in_code.difference(&in_example).collect();
    let unknown: Vec<_> = in_example.difference(&in_code).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "{}: settings missing from the example: {missing:?}; in the example but not in the \
         code: {unknown:?}",
        path.display()
    );
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("serialising settings: {e}"))
}

/// `#name = …` and `#[table]` lines lose their `#`; `# prose` stays a comment.
fn uncomment(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '[') => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Dotted paths of every setting: tables are walked into, anything else (a value, a list, a
/// list of tables, an unset option) is one setting.
fn setting_names(value: &Value) -> BTreeSet<String> {
    leaves(value).into_keys().collect()
}

/// Every setting's dotted path with its value.
fn leaves(value: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, leaves: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(table) => {
                for (key, inner) in table {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, inner, leaves);
                }
            }
            _ => {
                leaves.insert(prefix.to_owned(), value.clone());
            }
        }
    }
    let mut leaves = BTreeMap::new();
    walk("", value, &mut leaves);
    leaves
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settings_are_uncommented() {
        let text = "# prose = not a setting\n#url = \"x\"\n#[[clients]]\nport = 1\n";
        assert_eq!(
            uncomment(text),
            "# prose = not a setting\nurl = \"x\"\n[[clients]]\nport = 1"
        );
    }

    #[test]
    fn names_are_dotted_paths_to_leaves() {
        let value = serde_json::json!({"a": {"b": 1, "c": null}, "d": [{"e": 1}]});
        let names: Vec<String> = setting_names(&value).into_iter().collect();
        assert_eq!(names, ["a.b", "a.c", "d"]);
    }
}
