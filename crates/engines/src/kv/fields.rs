//! Typed access to request fields, with Vault's lenient decoding (query parameters arrive as
//! strings) and 400 errors that name the field.

use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};

fn type_error(name: &str, what: &str) -> CoreError {
    CoreError::bad(format!("field \"{name}\" must be {what}"))
}

/// Decodes one JSON value as an integer: a whole number, or a string holding one.
pub fn as_int(name: &str, value: &Value) -> Result<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| type_error(name, "an integer")),
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| type_error(name, "an integer")),
        _ => Err(type_error(name, "an integer")),
    }
}

/// An optional integer field; `None` when absent or null.
pub fn int(data: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_int(name, v).map(Some),
    }
}

/// An optional non-negative integer field.
pub fn uint(data: &Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match int(data, name)? {
        None => Ok(None),
        Some(i) if i >= 0 => Ok(Some(i as u64)),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must not be negative"))),
    }
}

/// An optional boolean field: a JSON bool, or a string as Go's `strconv.ParseBool` reads it.
pub fn boolean(data: &Map<String, Value>, name: &str) -> Result<Option<bool>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match s.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Some(true)),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Some(false)),
            _ => Err(type_error(name, "a boolean")),
        },
        Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Ok(Some(n.as_i64() == Some(1))),
        Some(_) => Err(type_error(name, "a boolean")),
    }
}

/// An optional JSON object field.
pub fn object<'a>(data: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Map<String, Value>>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(type_error(name, "a JSON object")),
    }
}

/// A list of non-negative integers given as a JSON array (of numbers or numeric strings), a
/// comma-separated string, or a single number (Vault's `TypeCommaIntSlice`). Absent → empty.
pub fn int_list(data: &Map<String, Value>, name: &str) -> Result<Vec<u64>> {
    let items: Vec<Value> = match data.get(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_string()))
            .collect(),
        Some(n @ Value::Number(_)) => vec![n.clone()],
        Some(_) => return Err(type_error(name, "a list of integers")),
    };
    items
        .iter()
        .map(|v| match as_int(name, v) {
            Ok(i) if i >= 0 => Ok(i as u64),
            Ok(_) => Err(CoreError::bad(format!(
                "field \"{name}\" must not hold negative numbers"
            ))),
            Err(_) => Err(type_error(name, "a list of integers")),
        })
        .collect()
}

/// The secret key named by a request path: 400 when empty or ending with `/`.
pub fn secret_key(path: &str) -> Result<&str> {
    if path.is_empty() {
        return Err(CoreError::bad("missing path"));
    }
    if path.ends_with('/') {
        return Err(CoreError::bad("path must not end with \"/\""));
    }
    if path.contains('\0') || path.split('/').any(|s| s == "..") {
        return Err(CoreError::bad("invalid path"));
    }
    Ok(path)
}

/// A folder prefix for LIST: `""` for the root, otherwise the path with a trailing `/`.
pub fn folder(path: &str) -> String {
    if path.is_empty() || path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn ints_from_numbers_and_strings() {
        let m = map(json!({"a": 3, "b": "4", "c": "x", "d": -1, "e": 2.0, "f": 2.5}));
        assert_eq!(int(&m, "a").unwrap(), Some(3));
        assert_eq!(int(&m, "b").unwrap(), Some(4));
        assert!(int(&m, "c").is_err());
        assert!(uint(&m, "d").is_err());
        assert_eq!(int(&m, "e").unwrap(), Some(2));
        assert!(int(&m, "f").is_err());
        assert_eq!(int(&m, "zz").unwrap(), None);
    }

    #[test]
    fn int_lists() {
        let m = map(json!({"a": [1, "2"], "b": "3, 4", "c": 5, "d": [-1], "e": {"x": 1}, "f": ["x"]}));
        assert_eq!(int_list(&m, "a").unwrap(), vec![1, 2]);
        assert_eq!(int_list(&m, "b").unwrap(), vec![3, 4]);
        assert_eq!(int_list(&m, "c").unwrap(), vec![5]);
        assert!(int_list(&m, "d").is_err());
        assert!(int_list(&m, "e").is_err());
        assert!(int_list(&m, "f").is_err());
        assert!(int_list(&m, "none").unwrap().is_empty());
    }

    #[test]
    fn booleans() {
        let m = map(json!({"a": true, "b": "false", "c": "maybe", "d": 1}));
        assert_eq!(boolean(&m, "a").unwrap(), Some(true));
        assert_eq!(boolean(&m, "b").unwrap(), Some(false));
        assert!(boolean(&m, "c").is_err());
        assert_eq!(boolean(&m, "d").unwrap(), Some(true));
    }

    #[test]
    fn keys_and_folders() {
        assert!(secret_key("").is_err());
        assert!(secret_key("a/").is_err());
        assert!(secret_key("a/../b").is_err());
        assert_eq!(secret_key("a/b").unwrap(), "a/b");
        assert_eq!(folder(""), "");
        assert_eq!(folder("a"), "a/");
        assert_eq!(folder("a/"), "a/");
    }
}
