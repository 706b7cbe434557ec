//! Front end: HCL or JSON text to a flat list of `path` blocks with literal values.
//!
//! Both syntaxes end up as [`RawBlock`]s whose attribute values are `serde_json::Value`s,
//! so the semantic checks in `policy.rs` are written once.

use crate::error::PolicyError;
use hcl::{BlockLabel, Body, Expression, ObjectKey, Structure};
use serde_json::{Map, Value};

/// One `path "<pattern>" { ... }` block before semantic checks.
#[derive(Debug)]
pub(crate) struct RawBlock {
    /// The pattern exactly as written in the label / JSON key.
    pub path: String,
    /// 1-based line where the block starts.
    pub line: usize,
    /// Attributes in source order (for JSON: key order of the object).
    pub attrs: Vec<(String, Value)>,
}

/// Parses policy text (HCL, or JSON when the first non-blank character is `{`).
pub(crate) fn parse_blocks(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    if text.trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_hcl(text)
    }
}

fn parse_hcl(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    guard_hcl(text)?;
    let body = hcl::parse(text).map_err(|err| match err {
        hcl::Error::Parse(e) => PolicyError::at(e.location().line(), e.message()),
        other => PolicyError::Invalid(other.to_string()),
    })?;
    let mut locator = Locator::new(text, false);
    let mut blocks = Vec::new();
    for structure in body {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str();
                let line = line_of_key(text, key);
                if key != "name" {
                    return Err(PolicyError::at(
                        line,
                        format!("unknown top-level key \"{key}\" (expected path blocks)"),
                    ));
                }
                // Old policies may carry `name = "..."`; the stored name wins, as in Vault.
                if !matches!(attr.expr, Expression::String(_)) {
                    return Err(PolicyError::at(line, "\"name\" must be a string"));
                }
            }
            Structure::Block(block) => {
                let ident = block.identifier.as_str().to_owned();
                if ident != "path" {
                    let line = line_of_key(text, &ident);
                    return Err(PolicyError::at(
                        line,
                        format!("unknown block \"{ident}\" (expected path blocks)"),
                    ));
                }
                let path = match block.labels.as_slice() {
                    [BlockLabel::String(s)] => s.clone(),
                    [BlockLabel::Identifier(i)] => i.as_str().to_owned(),
                    _ => {
                        let line = line_of_key(text, "path");
                        return Err(PolicyError::at(
                            line,
                            "a path block needs exactly one label: path \"<pattern>\" { ... }",
                        ));
                    }
                };
                let line = locator.find(&path);
                let attrs = hcl_body_attrs(block.body, line)?;
                blocks.push(RawBlock { path, line, attrs });
            }
        }
    }
    Ok(blocks)
}

/// Deepest nesting of `(`, `{` and `[` accepted in HCL text. Real policies need 3 to 5
/// (`path "p" { allowed_parameters = { "k" = [...] } }`).
const MAX_NESTING: usize = 8;

/// Refuses, before `hcl::parse` sees them, the inputs on which that parser (hcl-rs 0.20 /
/// hcl-edit 0.10) backtracks exponentially, about 2x per nesting level: deeply nested
/// parentheses or objects inside binary expressions (`n = x*(a*(a*(a*…` then a newline: 124
/// bytes take 16 s; `n = {a/b*{a/b*{…`), and `${`/`%{` templates, whose interpolations nest
/// the same way. Templates and heredocs are refused after parsing anyway (`hcl_to_json`);
/// this refuses them sooner.
/// Found by `fuzz/fuzz_targets/policy_parse.rs`; reproducers in `fuzz/regressions/policy_parse/`.
///
/// A lexical scan: quoted strings (which cannot span lines in HCL) and comments are skipped.
fn guard_hcl(text: &str) -> Result<(), PolicyError> {
    let bytes = text.as_bytes();
    let (mut line, mut depth, mut i) = (1, 0usize, 0);
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match b {
            b'\n' => {
                line += 1;
                in_string = false;
            }
            b'$' | b'%' if next == Some(b) => i += 1, // `$${` and `%%{` are escapes
            // Heredocs too: their text is a template, and the scan below cannot follow it.
            b'<' if next == Some(b'<') && !in_string => {
                return Err(PolicyError::at(
                    line,
                    "string templates (${...}, %{...}, heredocs) are not supported",
                ));
            }
            b'$' | b'%' if next == Some(b'{') => {
                return Err(PolicyError::at(
                    line,
                    "string templates (${...}, %{...}, heredocs) are not supported",
                ));
            }
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            _ if in_string => {}
            b'#' => {
                while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'/' if next == Some(b'/') => {
                while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'/' if next == Some(b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 1; // onto the closing `/`
            }
            b'(' | b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(PolicyError::at(
                        line,
                        format!("brackets nested more than {MAX_NESTING} deep (policies take only literal values)"),
                    ));
                }
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Attributes of a path block; nested label-less blocks (`allowed_parameters { ... }`,
/// HCL1 style) become objects.
fn hcl_body_attrs(body: Body, line: usize) -> Result<Vec<(String, Value)>, PolicyError> {
    let mut attrs = Vec::new();
    for structure in body {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str().to_owned();
                let value = hcl_to_json(attr.expr).map_err(|m| PolicyError::at(line, format!("in \"{key}\": {m}")))?;
                attrs.push((key, value));
            }
            Structure::Block(block) => {
                let key = block.identifier.as_str().to_owned();
                if !block.labels.is_empty() {
                    return Err(PolicyError::at(
                        line,
                        format!("unexpected labelled block \"{key}\" inside a path block"),
                    ));
                }
                let mut object = Map::new();
                for (k, v) in hcl_body_attrs(block.body, line)? {
                    object.insert(k, v);
                }
                attrs.push((key, Value::Object(object)));
            }
        }
    }
    Ok(attrs)
}

/// Converts a literal HCL expression; anything needing evaluation is refused.
fn hcl_to_json(expr: Expression) -> Result<Value, String> {
    Ok(match expr {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(b),
        Expression::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or("number out of range")?
            }
        }
        Expression::String(s) => Value::String(s),
        Expression::Array(items) => Value::Array(items.into_iter().map(hcl_to_json).collect::<Result<_, _>>()?),
        Expression::Object(object) => {
            let mut map = Map::new();
            for (key, value) in object {
                let key = match key {
                    ObjectKey::Identifier(i) => i.as_str().to_owned(),
                    ObjectKey::Expression(Expression::String(s)) => s,
                    _ => {
                        return Err("object keys must be names or quoted strings".into());
                    }
                };
                map.insert(key, hcl_to_json(value)?);
            }
            Value::Object(map)
        }
        Expression::Parenthesis(inner) => hcl_to_json(*inner)?,
        Expression::TemplateExpr(_) => {
            return Err("string templates (${...}, %{...}, heredocs) are not supported".into());
        }
        _ => return Err("only literal values are allowed (strings, numbers, lists, maps)".into()),
    })
}

fn parse_json(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    let root: Value = serde_json::from_str(text).map_err(|e| PolicyError::at(e.line().max(1), json_message(&e)))?;
    let Value::Object(top) = root else {
        return Err(PolicyError::at(1, "a JSON policy must be an object"));
    };
    let mut locator = Locator::new(text, true);
    let mut blocks = Vec::new();
    for (key, value) in top {
        match key.as_str() {
            "name" => {}
            "path" => {
                // Accept {"path": {...}} and HCL1-JSON's {"path": [{...}, ...]}.
                let groups = match value {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                for group in groups {
                    let Value::Object(paths) = group else {
                        let line = line_of_key(text, "\"path\"");
                        return Err(PolicyError::at(line, "\"path\" must map patterns to rule objects"));
                    };
                    for (path, body) in paths {
                        let line = locator.find(&path);
                        let bodies = match body {
                            Value::Array(items) => items,
                            other => vec![other],
                        };
                        let mut attrs = Vec::new();
                        for body in bodies {
                            let Value::Object(fields) = body else {
                                return Err(PolicyError::at(
                                    line,
                                    format!("the rules for path \"{path}\" must be an object"),
                                ));
                            };
                            attrs.extend(fields);
                        }
                        blocks.push(RawBlock { path, line, attrs });
                    }
                }
            }
            other => {
                let line = line_of_key(text, &format!("\"{other}\""));
                return Err(PolicyError::at(
                    line,
                    format!("unknown top-level key \"{other}\" (expected \"path\")"),
                ));
            }
        }
    }
    Ok(blocks)
}

fn json_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line X column Y"; the line is reported separately.
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// Finds the 1-based line where each successive `path` block starts by scanning the text.
///
/// HCL blocks are found in order (so repeated patterns get their own lines); JSON object
/// keys may be reordered by the parser, so JSON lookups start from the top each time.
struct Locator<'a> {
    text: &'a str,
    json: bool,
    cursor: usize,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str, json: bool) -> Self {
        Locator { text, json, cursor: 0 }
    }

    fn find(&mut self, path: &str) -> usize {
        let needle = serde_json::to_string(path).unwrap_or_else(|_| format!("\"{path}\""));
        let start = if self.json { 0 } else { self.cursor };
        let mut from = start;
        while let Some(rel) = self.text[from..].find(&needle) {
            let at = from + rel;
            let end = at + needle.len();
            if self.is_block_start(at, end) {
                self.cursor = end;
                return line_at(self.text, at);
            }
            from = end;
        }
        line_at(self.text, start)
    }

    fn is_block_start(&self, at: usize, end: usize) -> bool {
        if self.json {
            self.text[end..].trim_start().starts_with(':')
        } else {
            let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
            self.text[line_start..at].trim_end().ends_with("path")
        }
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Line of the first line whose trimmed text starts with `key` (best effort; 1 if absent).
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map_or(1, |i| i + 1)
}
