//! HMAC-ing audit values: every string becomes `hmac-sha256:<hex>` under the device's key,
//! so an entry can be matched to a known value (`sys/audit-hash`) but never read back.

use serde_json::{Map, Value};

/// The HMAC-SHA256 of `input` under `key`, as audit entries print it: `hmac-sha256:<hex>`.
pub fn hash_string(key: &[u8], input: &str) -> String {
    let mac = coffer_crypto::hmac_sha256(key, input.as_bytes());
    let mut out = String::with_capacity(12 + 64);
    out.push_str("hmac-sha256:");
    out.push_str(&hex32(&mac));
    out
}

/// Lowercase hex of 32 bytes (without the allocation-per-char of `hex::encode`).
pub(crate) fn hex32(bytes: &[u8; 32]) -> String {
    let mut buf = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the input.
    let _ = hex::encode_to_slice(bytes, &mut buf);
    buf.iter().map(|&b| b as char).collect()
}

/// `hash_string`, except that an empty string stays empty (it hides nothing and tells the
/// reader "there was no token").
pub(crate) fn hash_token(key: &[u8], input: &str) -> String {
    if input.is_empty() {
        String::new()
    } else {
        hash_string(key, input)
    }
}

/// A copy of `value` with every string (at any depth) HMAC'd, except the values of map keys
/// listed in `keep` (Vault's `audit_non_hmac_*_keys`), which are copied as they are.
pub(crate) fn hash_value(key: &[u8], value: &Value, keep: &[String]) -> Value {
    match value {
        Value::String(s) => Value::String(hash_string(key, s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| hash_value(key, v, keep)).collect()),
        Value::Object(map) => Value::Object(hash_map(key, map, keep)),
        other => other.clone(),
    }
}

/// `hash_value` for a map.
pub(crate) fn hash_map(key: &[u8], map: &Map<String, Value>, keep: &[String]) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| {
            let v = if keep.iter().any(|n| n == k) {
                v.clone()
            } else {
                hash_value(key, v, keep)
            };
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_hashed_at_any_depth_except_kept_keys() {
        let key = b"k";
        let v = json!({"a": "x", "n": 3, "b": [true, "y"], "c": {"d": "z", "keep": "plain"}});
        let out = hash_value(key, &v, &["keep".to_string()]);
        assert_eq!(out["a"], json!(hash_string(key, "x")));
        assert_eq!(out["n"], json!(3));
        assert_eq!(out["b"][0], json!(true));
        assert_eq!(out["b"][1], json!(hash_string(key, "y")));
        assert_eq!(out["c"]["d"], json!(hash_string(key, "z")));
        assert_eq!(out["c"]["keep"], json!("plain"));
        assert!(hash_string(key, "x").starts_with("hmac-sha256:"));
        assert_ne!(hash_string(b"other", "x"), hash_string(key, "x"));
        assert_eq!(hash_token(key, ""), "");
    }
}
