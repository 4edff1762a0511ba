//! Checks a service's integration tests run against its OpenAPI document (feature
//! `test-support`): walking the operations, following `$ref`s, and checking a real JSON answer
//! against the schema the document gives it. Shared so both services' `tests/api/openapi.rs`
//! hold their spec to the same rules without copying a checker.

// Panicking is how these report: they run inside tests.
#![allow(clippy::expect_used, clippy::panic)]

use serde_json::Value;

/// The methods an operation can be documented under (OpenAPI 3.1 path item fields we use).
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every (METHOD, path, operation) of the document.
pub fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

/// Follows a local `$ref` (`#/components/...`) to what it names.
pub fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("non-local $ref {reference}"));
            let target = spec
                .pointer(pointer)
                .unwrap_or_else(|| panic!("unresolvable $ref {reference}"));
            resolve(spec, target)
        }
        None => node,
    }
}

/// A small JSON Schema (2020-12 subset, as utoipa emits it) checker: `$ref`, `type` (one or a
/// list), `required`, `properties`, `items`, `oneOf`/`anyOf`/`allOf`, `enum`, `minimum` and
/// `maximum`. Stricter than JSON Schema in one way, on purpose: a member the schema does not
/// list is an error, so a handler cannot grow an undocumented field.
pub fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(spec, schema);
    let mut errors = Vec::new();
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        if !options.iter().any(|o| check(spec, o, value, at).is_empty()) {
            errors.push(format!("{at}: matches none of {options:?}"));
        }
        return errors;
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            errors.extend(check(spec, part, value, at));
        }
    }
    if let Some(types) = match &schema["type"] {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    } {
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: {value} is not {types:?}"));
            return errors;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(number) = value.as_f64()
        && (schema["minimum"].as_f64().is_some_and(|min| number < min)
            || schema["maximum"].as_f64().is_some_and(|max| number > max))
    {
        errors.push(format!("{at}: {number} is out of range"));
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                errors.push(format!("{at}: missing required {name}"));
            }
        }
        if let Some(properties) = properties {
            for (name, member) in object {
                match properties.get(name) {
                    Some(sub) => errors.extend(check(spec, sub, member, &format!("{at}.{name}"))),
                    None => errors.push(format!("{at}: undocumented member {name}")),
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            errors.extend(check(spec, items, item, &format!("{at}[{i}]")));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn the_schema_checker_can_fail() {
        let spec = json!({ "components": { "schemas": { "S": {
            "type": "object", "required": ["a"],
            "properties": { "a": { "type": "integer", "minimum": 1 }, "b": { "type": ["string", "null"] } }
        }}}});
        let schema = json!({ "$ref": "#/components/schemas/S" });
        assert!(check(&spec, &schema, &json!({ "a": 1, "b": null }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "b": "x" }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "a": 0 }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "a": 1, "c": 2 }), "$").is_empty());
        assert!(!check(&spec, &schema, &json!({ "a": "1" }), "$").is_empty());
    }
}
