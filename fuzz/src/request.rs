//! Fuzz body for request decoding: `decode_request`, `percent_decode` and `form_pairs`.
//!
//! Input: an HTTP/1-like message, `<METHOD> <URI>\n<Name>: <value>\n...\n\n<body>`. A method
//! or URI the `http` crate refuses ends the run (axum never hands such a request over); a
//! header line it refuses is skipped.
//!
//! This file is shared: the fuzz target calls [`run`], and `crates/server/tests/fuzz_corpus.rs`
//! includes it with `#[path]` to replay the corpus under `cargo test`. It may use only
//! `coffer_server`, `coffer_core`, `axum`, `serde_json` and std.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use coffer_core::Operation;
use coffer_server::decode::{
    JsonLimits, check_json_limits, decode_request, decode_request_with, form_pairs, percent_decode,
};
use serde_json::Value;

/// Statuses `decode_request` may answer with: all the client's fault.
pub const CLIENT_STATUSES: [StatusCode; 4] = [
    StatusCode::BAD_REQUEST,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
];

/// Runs one input. Panics (a finding) when decoding panics or breaks an invariant.
pub fn run(data: &[u8]) {
    let (head, body) = match find(data, b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let request_line = lines.next().unwrap_or_default();
    let (method, uri) = match request_line.iter().position(|&b| b == b' ') {
        Some(i) => (&request_line[..i], &request_line[i + 1..]),
        None => (request_line, &b"/v1/"[..]),
    };

    // The string helpers take any text, whatever the HTTP types accept.
    if let Ok(s) = std::str::from_utf8(uri) {
        check_percent(s);
        let query = s.split_once('?').map_or("", |(_, q)| q);
        check_form(query);
    }
    if let Ok(s) = std::str::from_utf8(body) {
        check_percent(s);
    }
    check_limits(body);

    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let Ok(uri) = Uri::try_from(uri) else {
        return;
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii_start();
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }

    // Tight JSON limits only ever turn an accepted request into a 400.
    let tight = decode_request_with(&method, &uri, &headers, body, &TIGHT);
    if let Err(err) = &tight {
        assert!(CLIENT_STATUSES.contains(&err.status()), "answered {}", err.status());
    }
    match decode_request(&method, &uri, &headers, body) {
        Ok(req) => {
            let expected_path = percent_decode(
                uri.path().strip_prefix("/v1/").unwrap_or("").trim_start_matches('/'),
                false,
            );
            assert_eq!(req.path, expected_path);
            assert!(!req.path.starts_with('/'), "path {:?} keeps a leading slash", req.path);
            assert!(!req.path.contains('\0'), "NUL in path {:?}", req.path);
            assert!(
                !req.path.split('/').any(|s| s == ".."),
                "dot-dot segment in {:?}",
                req.path
            );
            if let Some(ttl) = req.wrap_ttl {
                assert!(!ttl.is_zero(), "zero wrap TTL accepted");
            }
            let expected_op = match method.as_str() {
                "GET" | "HEAD" => [Operation::Read, Operation::List].contains(&req.operation),
                "LIST" => req.operation == Operation::List,
                "POST" | "PUT" => req.operation == Operation::Update,
                "PATCH" => req.operation == Operation::Patch,
                "DELETE" => req.operation == Operation::Delete,
                _ => false,
            };
            assert!(expected_op, "method {method} decoded as {:?}", req.operation);
        }
        Err(err) => {
            assert!(
                tight.is_err(),
                "accepted under tight JSON limits, refused under the defaults"
            );
            assert!(
                CLIENT_STATUSES.contains(&err.status()),
                "decode_request answered {} (not a client error)",
                err.status()
            );
        }
    }
}

/// Small limits, so that the fuzzer reaches every one of them.
const TIGHT: JsonLimits = JsonLimits {
    max_depth: 3,
    max_string_value_length: 8,
    max_object_entry_count: 3,
    max_array_element_count: 3,
};

/// A body `check_json_limits` lets through, if it is JSON at all, is within the limits.
fn check_limits(body: &[u8]) {
    if check_json_limits(body, &TIGHT).is_err() {
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut stack = vec![(&value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Object(map) => {
                assert!(depth < TIGHT.max_depth, "depth {} passed the limit check", depth + 1);
                assert!(
                    map.len() <= TIGHT.max_object_entry_count,
                    "{} entries passed",
                    map.len()
                );
                for (k, v) in map {
                    assert!(k.len() <= TIGHT.max_string_value_length, "key {k:?} passed");
                    stack.push((v, depth + 1));
                }
            }
            Value::Array(items) => {
                assert!(depth < TIGHT.max_depth, "depth {} passed the limit check", depth + 1);
                assert!(
                    items.len() <= TIGHT.max_array_element_count,
                    "{} elements passed",
                    items.len()
                );
                stack.extend(items.iter().map(|v| (v, depth + 1)));
            }
            Value::String(s) => assert!(s.len() <= TIGHT.max_string_value_length, "string {s:?} passed"),
            _ => {}
        }
    }
}

/// `percent_decode` against a straightforward reference, plus an encode/decode round trip.
fn check_percent(s: &str) {
    for plus in [false, true] {
        assert_eq!(
            percent_decode(s, plus),
            reference_decode(s, plus),
            "percent_decode({s:?}, {plus})"
        );
    }
    let decoded = reference_decode(s, false);
    assert_eq!(percent_decode(&encode(&decoded), true), decoded);
    assert_eq!(percent_decode(&encode(&decoded), false), decoded);
}

/// `form_pairs` keeps every non-empty `&` part, split at its first `=`, both sides decoded.
fn check_form(query: &str) {
    let pairs = form_pairs(query);
    let parts: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    assert_eq!(pairs.len(), parts.len(), "form_pairs({query:?})");
    for ((k, v), part) in pairs.iter().zip(parts) {
        let (rk, rv) = part.split_once('=').unwrap_or((part, ""));
        assert_eq!(k, &reference_decode(rk, true));
        assert_eq!(v, &reference_decode(rv, true));
    }
}

/// RFC 3986 decoding: `%` and exactly two hex digits make a byte; anything else is literal.
fn reference_decode(s: &str, plus_as_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
            i += 3;
        } else {
            out.push(if plus_as_space && b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
