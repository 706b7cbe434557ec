//! Request decoding: method, path, query, headers and body bytes → a core `Request`.
//! Pure (no I/O), so it is unit-tested and fuzzed on its own (fuzz/).

use crate::http::ApiError;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use coffer_core::{Operation, Request};
use secrecy::SecretString;
use serde_json::{Map, Value};

/// Structural limits on a JSON request body (Vault's listener options of the same names),
/// checked in one pass over the bytes before the body is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Deepest nesting of objects and arrays (at most [`MAX_JSON_DEPTH_LIMIT`]).
    pub max_depth: usize,
    /// Longest string (key or value), in bytes as sent (escapes count as written).
    pub max_string_value_length: usize,
    /// Most entries in one object.
    pub max_object_entry_count: usize,
    /// Most elements in one array.
    pub max_array_element_count: usize,
}

/// Default `max_json_depth`. Vault's is 500, but serde_json refuses anything deeper than 128.
pub const DEFAULT_MAX_JSON_DEPTH: usize = 64;
/// The deepest `max_json_depth` accepted: serde_json's own recursion limit.
pub const MAX_JSON_DEPTH_LIMIT: usize = 128;
/// Default `max_json_string_value_length`: 1 MiB (Vault's).
pub const DEFAULT_MAX_JSON_STRING_VALUE_LENGTH: usize = 1024 * 1024;
/// Default `max_json_object_entry_count` (Vault's).
pub const DEFAULT_MAX_JSON_OBJECT_ENTRY_COUNT: usize = 10_000;
/// Default `max_json_array_element_count` (Vault's).
pub const DEFAULT_MAX_JSON_ARRAY_ELEMENT_COUNT: usize = 10_000;

impl Default for JsonLimits {
    fn default() -> Self {
        JsonLimits {
            max_depth: DEFAULT_MAX_JSON_DEPTH,
            max_string_value_length: DEFAULT_MAX_JSON_STRING_VALUE_LENGTH,
            max_object_entry_count: DEFAULT_MAX_JSON_OBJECT_ENTRY_COUNT,
            max_array_element_count: DEFAULT_MAX_JSON_ARRAY_ELEMENT_COUNT,
        }
    }
}

/// Checks `body` against `limits` in one pass, without allocating: nesting depth, string
/// lengths and entries per container, counted outside strings. Only limits are checked;
/// whether the JSON is well formed is the parser's business (a malformed body passes here and
/// fails there). The message says which limit was exceeded.
pub fn check_json_limits(body: &[u8], limits: &JsonLimits) -> Result<(), String> {
    let max_depth = limits.max_depth.min(MAX_JSON_DEPTH_LIMIT);
    // Per open container: its kind and the commas seen at its level.
    let mut kinds = [0u8; MAX_JSON_DEPTH_LIMIT + 1];
    let mut commas = [0usize; MAX_JSON_DEPTH_LIMIT + 1];
    let mut depth = 0usize;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                loop {
                    match body.get(i) {
                        None => return Ok(()),
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                if i - start > limits.max_string_value_length {
                    return Err(format!(
                        "JSON string value exceeds allowed length of {} bytes",
                        limits.max_string_value_length
                    ));
                }
            }
            open @ (b'{' | b'[') => {
                depth += 1;
                if depth > max_depth {
                    return Err(format!("JSON nesting depth exceeds {max_depth}"));
                }
                kinds[depth] = open;
                commas[depth] = 0;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth > 0 => {
                commas[depth] += 1;
                let entries = commas[depth] + 1;
                if kinds[depth] == b'{' && entries > limits.max_object_entry_count {
                    return Err(format!(
                        "JSON object exceeds allowed entry count of {}",
                        limits.max_object_entry_count
                    ));
                }
                if kinds[depth] == b'[' && entries > limits.max_array_element_count {
                    return Err(format!(
                        "JSON array exceeds allowed element count of {}",
                        limits.max_array_element_count
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Decodes one HTTP request to `/v1/...` into a core request (without the peer address and
/// client certificates, which the caller adds), with the default JSON limits.
pub fn decode_request(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Request, ApiError> {
    decode_request_with(method, uri, headers, body, &JsonLimits::default())
}

/// [`decode_request`] with the listener's JSON limits. Errors are the client's: 400, 405 or 415.
pub fn decode_request_with(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    json_limits: &JsonLimits,
) -> Result<Request, ApiError> {
    let raw_path = uri.path().strip_prefix("/v1/").unwrap_or("");
    let path = percent_decode(raw_path.trim_start_matches('/'), false);
    if path.contains('\0') || path.split('/').any(|s| s == "..") {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid request path"));
    }
    let query = query_map(uri);
    let op = operation(method, &query)?;
    if op == Operation::Patch {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.starts_with("application/merge-patch+json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "PATCH requires Content-Type: application/merge-patch+json",
            ));
        }
    }
    let data = match op {
        Operation::Update | Operation::Patch | Operation::Create if !body.is_empty() => {
            check_json_limits(body, json_limits).map_err(|msg| ApiError::new(StatusCode::BAD_REQUEST, msg))?;
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => map,
                Ok(Value::Null) => Map::new(),
                Ok(_) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "request body must be a JSON object",
                    ));
                }
                Err(e) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("failed to parse JSON input: line {} column {}", e.line(), e.column()),
                    ));
                }
            }
        }
        Operation::Update | Operation::Patch | Operation::Create => Map::new(),
        _ => {
            let mut q = query;
            q.remove("list");
            q
        }
    };
    let wrap_ttl = match headers.get("x-vault-wrap-ttl").map(|v| v.to_str().unwrap_or("")) {
        None => None,
        Some(v) => match coffer_core::duration::parse(v) {
            Some(secs) if secs > 0 => Some(std::time::Duration::from_secs(secs)),
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid X-Vault-Wrap-TTL \"{v}\""),
                ));
            }
        },
    };
    let mut req = Request::new(op, path);
    req.data = data;
    req.token = token_of(headers);
    req.wrap_ttl = wrap_ttl;
    Ok(req)
}

fn operation(method: &Method, query: &Map<String, Value>) -> Result<Operation, ApiError> {
    Ok(match method.as_str() {
        "GET" | "HEAD" if query.get("list").and_then(Value::as_str) == Some("true") => Operation::List,
        "GET" | "HEAD" => Operation::Read,
        "LIST" => Operation::List,
        "POST" | "PUT" => Operation::Update,
        "PATCH" => Operation::Patch,
        "DELETE" => Operation::Delete,
        _ => return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "unsupported method")),
    })
}

fn query_map(uri: &Uri) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(q) = uri.query() {
        for (k, v) in form_pairs(q) {
            map.insert(k, Value::String(v));
        }
    }
    map
}

/// Decodes `application/x-www-form-urlencoded` pairs.
pub fn form_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decodes `s` (invalid escapes stay as they are); `+` becomes a space in query strings.
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_as_space => out.push(b' '),
            // Exactly two hex digits (`u8::from_str_radix` alone also takes "+1": fuzz/regressions).
            b'%' if i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() => {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn token_of(headers: &HeaderMap) -> Option<SecretString> {
    if let Some(t) = headers.get("x-vault-token").and_then(|v| v.to_str().ok())
        && !t.is_empty()
    {
        return Some(SecretString::from(t.to_string()));
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then(|| SecretString::from(token.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(depth: usize, string: usize, entries: usize, elements: usize) -> JsonLimits {
        JsonLimits {
            max_depth: depth,
            max_string_value_length: string,
            max_object_entry_count: entries,
            max_array_element_count: elements,
        }
    }

    #[test]
    fn json_limits_count_outside_strings() {
        let l = limits(3, 5, 2, 3);
        assert_eq!(check_json_limits(br#"{"a":{"b":[1,2,3]}}"#, &l), Ok(()));
        assert_eq!(
            check_json_limits(br#"{"a":{"b":[[1]]}}"#, &l),
            Err("JSON nesting depth exceeds 3".into())
        );
        // Brackets, commas and escaped quotes inside strings are not structure.
        assert_eq!(check_json_limits(br#"{"a":"[[[,","b":""{{"}"#, &l), Ok(()));
        assert_eq!(
            check_json_limits(br#"{"k":"abcdef"}"#, &l),
            Err("JSON string value exceeds allowed length of 5 bytes".into())
        );
        assert_eq!(
            check_json_limits(br#"{"abcdef":1}"#, &l),
            Err("JSON string value exceeds allowed length of 5 bytes".into()),
            "keys are strings too"
        );
        assert_eq!(
            check_json_limits(br#"{"a":1,"b":2,"c":3}"#, &l),
            Err("JSON object exceeds allowed entry count of 2".into())
        );
        assert_eq!(
            check_json_limits(br#"{"a":[1,2,3,4]}"#, &l),
            Err("JSON array exceeds allowed element count of 3".into())
        );
        // Counts are per container: siblings do not add up.
        assert_eq!(check_json_limits(br#"{"a":[1,2,3],"b":[1,2,3]}"#, &l), Ok(()));
        // Malformed input is the parser's business, never a panic here.
        for bad in [&b"{\"a\":\"\\"[..], b"]]]]", b"\"", b"{\"a\":\"x"] {
            let _ = check_json_limits(bad, &l);
        }
    }

    #[test]
    fn depth_is_capped_at_serde_json_limit() {
        let body = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = check_json_limits(body.as_bytes(), &limits(1000, 10, 10, 10)).unwrap_err();
        assert_eq!(err, format!("JSON nesting depth exceeds {MAX_JSON_DEPTH_LIMIT}"));
    }

    #[test]
    fn decode_refuses_deep_bodies_with_400() {
        let body = format!("{{\"a\":{}{}}}", "[".repeat(70), "]".repeat(70));
        let Err(err) = decode_request(
            &Method::PUT,
            &"/v1/secret/x".parse().unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        ) else {
            panic!("a body nested 71 deep was accepted");
        };
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%2Fb+c", true), "a/b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz", true), "%zz");
        assert_eq!(
            form_pairs("version=2&list=true"),
            vec![("version".into(), "2".into()), ("list".into(), "true".into())]
        );
    }
}
