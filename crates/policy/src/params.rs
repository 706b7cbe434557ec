//! Request-parameter constraints: `allowed_parameters`, `denied_parameters`, `required_parameters`.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// Parameter constraints of one path rule (names are stored lower-case, as Vault does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamRules {
    pub(crate) allowed: HashMap<String, Vec<Value>>,
    pub(crate) denied: HashMap<String, Vec<Value>>,
    pub(crate) required: Vec<String>,
}

impl ParamRules {
    /// Allowed parameter name -> allowed values (empty list: any value; key `"*"`: any other parameter).
    pub fn allowed(&self) -> &HashMap<String, Vec<Value>> {
        &self.allowed
    }

    /// Denied parameter name -> denied values (empty list: any value; key `"*"`: every parameter).
    pub fn denied(&self) -> &HashMap<String, Vec<Value>> {
        &self.denied
    }

    /// Parameters that must be present.
    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// Whether the rule puts no constraint on parameters.
    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty() && self.denied.is_empty() && self.required.is_empty()
    }

    /// Merges another rule for the same pattern the way Vault does: per parameter the value
    /// lists are concatenated, and an empty list (any value) absorbs the other side.
    pub(crate) fn merge(&mut self, other: &ParamRules) {
        merge_lists(&mut self.allowed, &other.allowed);
        merge_lists(&mut self.denied, &other.denied);
        for name in &other.required {
            if !self.required.contains(name) {
                self.required.push(name.clone());
            }
        }
    }

    /// Checks request parameters. `Err` holds a reason that names the parameter, never its value.
    pub(crate) fn check(&self, params: &Map<String, Value>) -> Result<(), String> {
        for name in &self.required {
            if !params.contains_key(name) {
                return Err(format!("missing required parameter \"{name}\""));
            }
        }
        if params.is_empty() {
            return Ok(());
        }
        if !self.denied.is_empty() {
            if self.denied.contains_key("*") {
                return Err("parameters are not allowed on this path".into());
            }
            for (name, value) in params {
                if let Some(list) = self.denied.get(lower(name).as_ref())
                    && any_element_in(value, list)
                {
                    return Err(if list.is_empty() {
                        format!("parameter \"{name}\" is denied")
                    } else {
                        format!("a value of parameter \"{name}\" is denied")
                    });
                }
            }
        }
        if self.allowed.is_empty() {
            return Ok(());
        }
        let allow_any = self.allowed.contains_key("*");
        if allow_any && self.allowed.len() == 1 {
            return Ok(());
        }
        for (name, value) in params {
            match self.allowed.get(lower(name).as_ref()) {
                None if allow_any => {}
                None => return Err(format!("parameter \"{name}\" is not allowed")),
                Some(list) if !all_elements_in(value, list) => {
                    return Err(format!("a value of parameter \"{name}\" is not allowed"));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

pub(crate) fn merge_lists(into: &mut HashMap<String, Vec<Value>>, from: &HashMap<String, Vec<Value>>) {
    for (name, values) in from {
        match into.get_mut(name) {
            None => {
                into.insert(name.clone(), values.clone());
            }
            Some(existing) if existing.is_empty() => {}
            Some(existing) if values.is_empty() => existing.clear(),
            Some(existing) => existing.extend(values.iter().cloned()),
        }
    }
}

fn lower(name: &str) -> Cow<'_, str> {
    if name.chars().any(char::is_uppercase) {
        Cow::Owned(name.to_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Denied check: the value, or for a list any of its elements, is in `list`.
fn any_element_in(value: &Value, list: &[Value]) -> bool {
    if in_list(value, list) {
        return true;
    }
    match value {
        Value::Array(items) => items.iter().any(|v| in_list(v, list)),
        _ => false,
    }
}

/// Allowed check: the value, or for a list every one of its elements, is in `list`.
fn all_elements_in(value: &Value, list: &[Value]) -> bool {
    if in_list(value, list) {
        return true;
    }
    match value {
        Value::Array(items) => items.iter().all(|v| in_list(v, list)),
        _ => false,
    }
}

/// An empty list means "any value".
fn in_list(value: &Value, list: &[Value]) -> bool {
    list.is_empty() || list.iter().any(|item| value_matches(item, value))
}

/// Policy value `item` against request value `value`: strings glob-match (`*` as prefix
/// and/or suffix), other scalars compare by their string form, compound values by equality.
fn value_matches(item: &Value, value: &Value) -> bool {
    match (item, scalar_form(value)) {
        (Value::String(pattern), Some(form)) => glob_match(pattern, &form),
        (item, Some(form)) => scalar_form(item).is_some_and(|f| f == form),
        (item, None) => item == value,
    }
}

fn scalar_form(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Vault's `GlobbedStringsMatch`: `*x*` contains, `*x` suffix, `x*` prefix, else equality.
/// Patterns shorter than two characters (including a lone `"*"`) compare literally.
pub(crate) fn glob_match(pattern: &str, value: &str) -> bool {
    if pattern.len() < 2 {
        return pattern == value;
    }
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(_), Some(_)) => value.contains(&pattern[1..pattern.len() - 1]),
        (Some(suffix), None) => value.ends_with(suffix),
        (None, Some(prefix)) => value.starts_with(prefix),
        (None, None) => pattern == value,
    }
}

#[cfg(test)]
mod tests;
