//! Typed access to request fields, with Vault's lenient encodings (query strings arrive as
//! strings; lists may be comma-separated). Shared by the core and every engine.

use crate::{CoreError, Result};
use serde_json::{Map, Value};

/// A string field; `None` when absent or null, an error for other types.
pub fn str_field<'a>(data: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a string"))),
    }
}

/// A boolean field (JSON bool, or "true"/"false"/"1"/"0" as query strings send them).
pub fn bool_field(data: &Map<String, Value>, name: &str) -> Result<Option<bool>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match s.as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" | "" => Ok(Some(false)),
            _ => Err(CoreError::bad(format!("field \"{name}\" must be a boolean"))),
        },
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a boolean"))),
    }
}

/// A non-negative integer field (JSON number or numeric string).
pub fn u64_field(data: &Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| CoreError::bad(format!("field \"{name}\" must be a non-negative integer"))),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| CoreError::bad(format!("field \"{name}\" must be a non-negative integer"))),
        Some(_) => Err(CoreError::bad(format!(
            "field \"{name}\" must be a non-negative integer"
        ))),
    }
}

/// A list of strings given as a JSON array or a comma-separated string.
pub fn string_list(data: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>> {
    let err = || CoreError::bad(format!("field \"{name}\" must be a list of strings"));
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        )),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_string()).ok_or_else(err))
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(err()),
    }
}

/// A map of strings (metadata); `None` when absent or null.
pub fn string_map(data: &Map<String, Value>, name: &str) -> Result<Option<Map<String, Value>>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(Some(m.clone())),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a map of strings"))),
    }
}

/// A map whose values are strings, numbers or booleans, as strings (mount and audit
/// `options`); empty when absent or null.
pub fn options_map(data: &Map<String, Value>, name: &str) -> Result<std::collections::HashMap<String, String>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(Default::default()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                _ => Err(CoreError::bad(format!("option \"{k}\" must be a string"))),
            })
            .collect(),
        Some(_) => Err(CoreError::bad(format!("\"{name}\" must be a map of strings"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_encodings() {
        let d = json!({"b": "true", "n": "7", "l": "a, b,,c", "a": ["x", "y"], "m": {"k": "v"}, "bad": 1.5});
        let d = d.as_object().unwrap();
        assert_eq!(bool_field(d, "b").unwrap(), Some(true));
        assert_eq!(u64_field(d, "n").unwrap(), Some(7));
        assert_eq!(string_list(d, "l").unwrap().unwrap(), vec!["a", "b", "c"]);
        assert_eq!(string_list(d, "a").unwrap().unwrap(), vec!["x", "y"]);
        assert!(string_map(d, "m").unwrap().is_some());
        assert!(u64_field(d, "bad").is_err());
        assert!(str_field(d, "bad").is_err());
        assert_eq!(str_field(d, "missing").unwrap(), None);
    }
}
