//! A parsed policy: its name, raw text and validated path rules.

use crate::capability::{Capabilities, Capability};
use crate::duration::parse_duration;
use crate::error::PolicyError;
use crate::params::ParamRules;
use crate::pattern::Pattern;
use crate::source::{RawBlock, parse_blocks};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

const KNOWN_KEYS: &str = "capabilities, policy, allowed_parameters, denied_parameters, \
required_parameters, min_wrapping_ttl, max_wrapping_ttl, subscribe_event_types";

const KNOWN_CAPS: &str = "create, read, update, patch, delete, list, sudo, deny, subscribe";

/// A named ACL policy: the text as submitted plus its parsed rules.
#[derive(Clone, Debug)]
pub struct Policy {
    name: String,
    raw: String,
    rules: Vec<PathRule>,
}

impl Policy {
    /// Parses HCL (or JSON) policy text. An empty policy, or one without path blocks, is valid.
    pub fn parse(name: &str, text: &str) -> Result<Policy, PolicyError> {
        let rules = parse_blocks(text)?
            .into_iter()
            .map(PathRule::from_raw)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            name: name.to_owned(),
            raw: text.to_owned(),
            rules,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text the policy was parsed from, unchanged.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The path rules in source order (repeated patterns are not merged here).
    pub fn rules(&self) -> &[PathRule] {
        &self.rules
    }

    /// The same policy with other rules (used by identity templating).
    pub(crate) fn with_rules(&self, rules: Vec<PathRule>) -> Policy {
        Policy {
            name: self.name.clone(),
            raw: self.raw.clone(),
            rules,
        }
    }
}

/// One `path "<pattern>" { ... }` block after validation.
#[derive(Clone, Debug)]
pub struct PathRule {
    pub(crate) pattern: Pattern,
    pub(crate) capabilities: Capabilities,
    pub(crate) params: ParamRules,
    pub(crate) min_wrapping_ttl: Option<Duration>,
    pub(crate) max_wrapping_ttl: Option<Duration>,
    pub(crate) subscribe_event_types: Vec<String>,
}

impl PathRule {
    /// The pattern as written, without a leading `/` (e.g. `secret/+/config*`).
    pub fn path(&self) -> String {
        self.pattern.text()
    }

    /// Granted capabilities (the legacy `policy` shorthand already folded in).
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// `allowed_parameters`, `denied_parameters` and `required_parameters`.
    pub fn parameters(&self) -> &ParamRules {
        &self.params
    }

    /// `min_wrapping_ttl`, if set.
    pub fn min_wrapping_ttl(&self) -> Option<Duration> {
        self.min_wrapping_ttl
    }

    /// `max_wrapping_ttl`, if set.
    pub fn max_wrapping_ttl(&self) -> Option<Duration> {
        self.max_wrapping_ttl
    }

    /// `subscribe_event_types`, if any.
    pub fn subscribe_event_types(&self) -> &[String] {
        &self.subscribe_event_types
    }

    fn from_raw(block: RawBlock) -> Result<PathRule, PolicyError> {
        let line = block.line;
        let err = |m: String| PolicyError::at(line, m);
        let pattern = Pattern::parse(&block.path).map_err(err)?;
        let mut rule = PathRule {
            pattern,
            capabilities: Capabilities::EMPTY,
            params: ParamRules::default(),
            min_wrapping_ttl: None,
            max_wrapping_ttl: None,
            subscribe_event_types: Vec::new(),
        };
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in &block.attrs {
            if seen.contains(&key.as_str()) {
                return Err(err(format!("duplicate key \"{key}\" in path \"{}\"", block.path)));
            }
            seen.push(key);
            let ctx = |m: String| err(format!("path \"{}\": {key}: {m}", block.path));
            match key.as_str() {
                "capabilities" => {
                    for name in strings(value).map_err(ctx)? {
                        let cap = Capability::from_name(&name).ok_or_else(|| {
                            err(format!("unknown capability \"{name}\" (expected one of {KNOWN_CAPS})"))
                        })?;
                        rule.capabilities = rule.capabilities.with(cap);
                    }
                }
                "policy" => {
                    let Value::String(old) = value else {
                        return Err(ctx("expected a string".into()));
                    };
                    rule.capabilities = rule.capabilities.union(legacy(old).ok_or_else(|| {
                        err(format!(
                            "unknown policy \"{old}\" (expected one of read, write, deny, sudo)"
                        ))
                    })?);
                }
                "allowed_parameters" => rule.params.allowed = param_map(value).map_err(ctx)?,
                "denied_parameters" => rule.params.denied = param_map(value).map_err(ctx)?,
                "required_parameters" => {
                    rule.params.required = strings(value)
                        .map_err(ctx)?
                        .into_iter()
                        .map(|s| s.to_lowercase())
                        .collect();
                }
                "min_wrapping_ttl" => {
                    rule.min_wrapping_ttl = Some(parse_duration(value).map_err(ctx)?);
                }
                "max_wrapping_ttl" => {
                    rule.max_wrapping_ttl = Some(parse_duration(value).map_err(ctx)?);
                }
                "subscribe_event_types" => rule.subscribe_event_types = strings(value).map_err(ctx)?,
                "mfa_methods" | "control_group" => {
                    return Err(err(format!("\"{key}\" (a Vault Enterprise feature) is not supported")));
                }
                _ => {
                    return Err(err(format!(
                        "unknown key \"{key}\" in path \"{}\" (expected one of {KNOWN_KEYS})",
                        block.path
                    )));
                }
            }
        }
        if let (Some(min), Some(max)) = (rule.min_wrapping_ttl, rule.max_wrapping_ttl)
            && max < min
        {
            return Err(err(format!(
                "path \"{}\": max_wrapping_ttl cannot be less than min_wrapping_ttl",
                block.path
            )));
        }
        Ok(rule)
    }
}

/// The deprecated `policy = "..."` shorthand, mapped as Vault maps it.
fn legacy(old: &str) -> Option<Capabilities> {
    use Capability::*;
    Some(match old {
        "deny" => Capabilities::DENY,
        "read" => Capabilities::from_caps([Read, List]),
        "write" => Capabilities::from_caps([Create, Read, Update, Delete, List]),
        "sudo" => Capabilities::from_caps([Create, Read, Update, Delete, List, Sudo]),
        _ => return None,
    })
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("expected a list of strings, found {other}")),
            })
            .collect(),
        _ => Err("expected a list of strings".into()),
    }
}

/// `{ name = [values...] }`; HCL1-JSON's list-of-objects form is accepted too.
fn param_map(value: &Value) -> Result<HashMap<String, Vec<Value>>, String> {
    let mut out = HashMap::new();
    let objects: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for object in objects {
        let Value::Object(map) = object else {
            return Err("expected a map of parameter names to lists of values".into());
        };
        for (name, values) in map {
            let list = match values {
                Value::Array(items) => items.clone(),
                _ => {
                    return Err(format!(
                        "the value for \"{name}\" must be a list (use [] to allow any value)"
                    ));
                }
            };
            let mut one = HashMap::new();
            one.insert(name.to_lowercase(), list);
            crate::params::merge_lists(&mut out, &one);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
