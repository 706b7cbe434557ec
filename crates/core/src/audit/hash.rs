//! HMAC-ing audit values: every string becomes `hmac-sha256:<hex>` under the device's key,
//! so an entry can be matched to a known value (`sys/audit-hash`) but never read back.

use coffer_crypto::HmacKey;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

/// The HMAC-SHA256 of `input` under `key`, as audit entries print it: `hmac-sha256:<hex>`.
pub fn hash_string(key: &HmacKey, input: &str) -> String {
    let mac = key.sign(input.as_bytes());
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
    // Hex digits are ASCII.
    std::str::from_utf8(&buf).unwrap_or_default().to_owned()
}

/// `hash_string`, except that an empty string stays empty (it hides nothing and tells the
/// reader "there was no token").
pub(crate) fn hash_token(key: &HmacKey, input: &str) -> String {
    if input.is_empty() {
        String::new()
    } else {
        hash_string(key, input)
    }
}

/// A JSON value as an audit entry writes it: every string (at any depth) HMAC'd under `key`,
/// except the values of map keys listed in `keep` (Vault's `audit_non_hmac_*_keys`), which are
/// written as they are; with no key (`log_raw`), everything as it is. Serialized in place,
/// without copying the value.
pub(crate) struct Hashed<'a> {
    pub key: Option<&'a HmacKey>,
    pub value: Node<'a>,
    pub keep: &'a [String],
}

/// What [`Hashed`] writes: any value, or a map (request and response data).
#[derive(Clone, Copy)]
pub(crate) enum Node<'a> {
    Value(&'a Value),
    Map(&'a Map<String, Value>),
}

impl<'a> Hashed<'a> {
    fn at(&self, value: &'a Value) -> Hashed<'a> {
        Hashed {
            value: Node::Value(value),
            ..*self
        }
    }

    fn map<S: Serializer>(&self, map: &'a Map<String, Value>, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(map.len()))?;
        for (k, v) in map {
            if self.keep.iter().any(|n| n == k) {
                out.serialize_entry(k, v)?;
            } else {
                out.serialize_entry(k, &self.at(v))?;
            }
        }
        out.end()
    }
}

impl Serialize for Hashed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(key) = self.key else {
            return match self.value {
                Node::Value(v) => v.serialize(s),
                Node::Map(m) => m.serialize(s),
            };
        };
        match self.value {
            Node::Map(m) | Node::Value(Value::Object(m)) => self.map(m, s),
            Node::Value(Value::String(v)) => s.serialize_str(&hash_string(key, v)),
            Node::Value(Value::Array(items)) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&self.at(v))?;
                }
                seq.end()
            }
            Node::Value(other) => other.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_hashed_at_any_depth_except_kept_keys() {
        let key = &HmacKey::new(b"k");
        let v = json!({"a": "x", "n": 3, "b": [true, "y"], "c": {"d": "z", "keep": "plain"}});
        let keep = ["keep".to_string()];
        let hashed = |key: Option<&HmacKey>| {
            let h = Hashed {
                key,
                value: Node::Value(&v),
                keep: &keep,
            };
            serde_json::to_value(&h).unwrap()
        };
        let out = hashed(Some(key));
        assert_eq!(out["a"], json!(hash_string(key, "x")));
        assert_eq!(out["n"], json!(3));
        assert_eq!(out["b"][0], json!(true));
        assert_eq!(out["b"][1], json!(hash_string(key, "y")));
        assert_eq!(out["c"]["d"], json!(hash_string(key, "z")));
        assert_eq!(out["c"]["keep"], json!("plain"));
        assert_eq!(hashed(None), v);
        assert!(hash_string(key, "x").starts_with("hmac-sha256:"));
        assert_ne!(hash_string(&HmacKey::new(b"other"), "x"), hash_string(key, "x"));
        assert_eq!(hash_token(key, ""), "");
    }
}
