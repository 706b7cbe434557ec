//! Key rules shared by every backend: validation and the prefix arithmetic behind `list`.

use crate::{Op, StorageError};

/// Rejects a key or prefix that no backend can store (one containing a NUL byte).
pub fn check_key(key: &str) -> Result<(), StorageError> {
    if key.contains('\0') {
        return Err(StorageError::Backend("invalid key".to_owned()));
    }
    Ok(())
}

/// Checks every key and prefix of a batch, before any of it is applied.
pub fn check_ops(ops: &[Op]) -> Result<(), StorageError> {
    ops.iter().try_for_each(|op| match op {
        Op::Put { key, .. } | Op::Delete { key } => check_key(key),
        Op::DeletePrefix { prefix } => check_key(prefix),
    })
}

/// The smallest string greater than every string that starts with `prefix`, or `None` when
/// there is none (empty prefix, or one made only of `U+10FFFF`). UTF-8 byte order is code
/// point order, so this bound works for byte-ordered stores (SQLite `BINARY`, `BTreeMap`).
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// How a key found under `prefix` shows in `list(prefix)`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Child<'a> {
    /// The key is `prefix` itself: not listed.
    Itself,
    /// A leaf directly under the prefix: listed as is.
    Leaf(&'a str),
    /// A key inside sub-directory `dir` (ends with `/`): listed once as `dir`.
    /// `resume` is the first key after every key under that directory.
    Dir {
        /// The child as listed, ending with `/`.
        dir: &'a str,
        /// Where to resume the scan: `prefix + dir` with its final `/` replaced by `0`.
        resume: String,
    },
}

/// Classifies `key`, which must start with `prefix`.
pub(crate) fn child<'a>(prefix: &str, key: &'a str) -> Child<'a> {
    let rest = &key[prefix.len()..];
    if rest.is_empty() {
        return Child::Itself;
    }
    match rest.find('/') {
        None => Child::Leaf(rest),
        Some(i) => {
            // '0' is the byte right after '/', so "d0" sorts after every "d/…".
            let mut resume = String::with_capacity(prefix.len() + i + 1);
            resume.push_str(prefix);
            resume.push_str(&rest[..i]);
            resume.push('0');
            Child::Dir {
                dir: &rest[..=i],
                resume,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_keys_are_rejected() {
        assert!(check_key("a/b").is_ok());
        let err = check_key("a\0b").unwrap_err();
        assert_eq!(err.to_string(), "invalid key");
        assert!(check_ops(&[Op::Delete { key: "ok".into() }]).is_ok());
        assert!(check_ops(&[Op::DeletePrefix { prefix: "\0".into() }]).is_err());
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
        let end = prefix_end("é/").unwrap();
        for key in ["é/", "é/x", "é/\u{10FFFF}\u{10FFFF}"] {
            assert!(key < end.as_str(), "{key}");
        }
        assert!("é0" >= end.as_str());
    }

    #[test]
    fn children() {
        assert_eq!(child("a/", "a/"), Child::Itself);
        assert_eq!(child("a/", "a/b"), Child::Leaf("b"));
        assert_eq!(
            child("a/", "a/b/c/d"),
            Child::Dir {
                dir: "b/",
                resume: "a/b0".into()
            }
        );
        assert_eq!(
            child("", "x/"),
            Child::Dir {
                dir: "x/",
                resume: "x0".into()
            }
        );
    }
}
