//! Known non-secrets: placeholders, documented example keys, hashes, UUIDs, lockfile integrity
//! strings, inline images, encrypted blobs, and (for generic rules) values shaped like words,
//! paths, URLs, calls or variable references.

use std::collections::HashSet;
use std::sync::LazyLock;

use memchr::memmem;

/// Documented example credentials (`data/example-keys.txt`).
static EXAMPLE_KEYS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("data/example-keys.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Values that are placeholders when they are the whole value (compared lowercased, with `-`
/// and `_` removed).
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "changeit",
    "example",
    "dummy",
    "test",
    "testing",
    "sample",
    "placeholder",
    "redacted",
    "null",
    "nil",
    "none",
    "true",
    "false",
    "undefined",
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "yourapikey",
    "yourtoken",
    "yoursecret",
    "yourpassword",
    "foo",
    "bar",
    "foobar",
    "todo",
    "tbd",
    "fixme",
    "replaceme",
    "default",
    "empty",
    "string",
    "value",
    "notset",
    "unset",
    "hidden",
    "masked",
    "secretkey",
    "accesskey",
    "privatekey",
    "mypassword",
    "mysecret",
    "letmein",
    "admin",
    "qwerty",
    "pass",
    "pwd",
    "pw",
    "opensesame",
    "hunter2",
    "s3cr3t",
    "secret123",
    "password123",
    "password1",
    "pass123",
    "p@ssw0rd",
    "passw0rd",
    "topsecret",
    "supersecret",
    "abc123",
    "123456",
    "12345678",
    "root",
    "guest",
];

/// Substrings (lowercase) that mark a value as a placeholder for any rule.
const PLACEHOLDER_PARTS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "xxxx",
    "****",
    "${",
    "{{",
    "}}",
    "<%",
    "%>",
    "...",
    "…",
    "dummy",
    "replace_me",
    "replace-me",
    "insert_",
    "insert-",
    "fake",
    "notreal",
    "not_real",
    "not-a-real",
];

/// Markers of encrypted or encoded blobs shortly before a value.
const BLOB_CONTEXT: &[&[u8]] = &[
    b"data:image/",
    b"ENC[AES256_GCM",
    b"$ANSIBLE_VAULT",
    b"!vault",
    b"base64,",
];

/// True when `secret` is a known non-secret for every rule. `before` is the text just before the
/// secret (a bounded slice of its line or window).
pub(crate) fn is_non_secret(secret: &str, before: &[u8]) -> bool {
    if EXAMPLE_KEYS.contains(secret) || is_placeholder(secret) || is_crypt_hash(secret) {
        return true;
    }
    if ["sha512-", "sha384-", "sha256-", "sha1-"]
        .iter()
        .any(|p| secret.starts_with(p))
    {
        return true;
    }
    if secret.starts_with("ENC[") || secret.starts_with("$ANSIBLE_VAULT;") || secret.starts_with("data:") {
        return true;
    }
    let tail = &before[before.len().saturating_sub(96)..];
    BLOB_CONTEXT.iter().any(|m| memmem::find(tail, m).is_some())
}

/// Bytes after a secret that [`documentation_host_follows`] looks at.
pub(crate) const AFTER_LIMIT: usize = 256;

/// True when the secret is the password of a URI's user information whose host is reserved
/// for documentation (RFC 2606, RFC 6761): `example.com`, `example.net`, `example.org`, or a
/// name under the `.example` or `.invalid` top-level domains. `after` is the text just after
/// the secret: `@host` then a port, path or the end of the URI. No service answers there, so
/// `https://user:pass@example.com/` is an illustration, never a working credential. Real
/// hosts that merely contain the word (`db.corp.example.net`, `example.com.evil.io`) still
/// count.
pub(crate) fn documentation_host_follows(after: &[u8]) -> bool {
    let Some(rest) = after.strip_prefix(b"@") else {
        return false;
    };
    let len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        .count();
    if rest.get(len).is_some_and(|b| !b":/?#\\\"'`<>)]},; \t\r\n".contains(b)) {
        return false;
    }
    let host = String::from_utf8_lossy(&rest[..len]).to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    matches!(
        host,
        "example.com" | "example.net" | "example.org" | "example" | "invalid"
    ) || host.ends_with(".example")
        || host.ends_with(".invalid")
}

/// Placeholders: template references, angle-bracket prompts, masked or repeated characters,
/// and placeholder words.
pub(crate) fn is_placeholder(secret: &str) -> bool {
    let s = secret.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    if s.is_empty() {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    if (s.starts_with('<') && s.ends_with('>')) || s.starts_with("$(") || s.starts_with("#{") || s.starts_with("%(") {
        return true;
    }
    if is_variable(s) {
        return true;
    }
    let squashed: String = lower.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).collect();
    if PLACEHOLDER_WORDS.contains(&squashed.as_str()) {
        return true;
    }
    // Low diversity: `aaaaaaaa`, `00000000`, `abababab`, `********`.
    let mut distinct: Vec<char> = s.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    s.len() >= 6 && distinct.len() <= 3
}

/// `$VAR`, `${VAR}`, `%VAR%`, `$env:VAR`.
fn is_variable(s: &str) -> bool {
    let ident = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(rest) = s.strip_prefix('$') {
        let rest = rest.strip_prefix("env:").unwrap_or(rest);
        return ident(rest) || (rest.starts_with('{') && rest.ends_with('}'));
    }
    s.len() > 2 && s.starts_with('%') && s.ends_with('%') && ident(&s[1..s.len() - 1])
}

/// bcrypt, argon2, scrypt and sha-crypt password hashes.
fn is_crypt_hash(s: &str) -> bool {
    [
        "$2a$", "$2b$", "$2y$", "$argon2", "$scrypt$", "$1$", "$5$", "$6$", "$y$", "$7$", "$pbkdf2",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// Extra non-secret shapes for generic (key-name based) rules: hashes, UUIDs, words,
/// identifiers, paths, URLs without credentials, calls and references.
pub(crate) fn generic_value_rejected(s: &str) -> bool {
    if impossible_checksummed_token(s) {
        return true;
    }
    let n = s.len();
    let hex = s.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && matches!(n, 32 | 40 | 64 | 128) {
        return true;
    }
    // Whitespace, also percent-encoded (`secure%20password`): words or a phrase, not a key.
    if is_uuid(s) || s.bytes().all(|b| b.is_ascii_digit()) || s.contains(char::is_whitespace) || s.contains("%20") {
        return true;
    }
    if s.contains("://") {
        // A URL with credentials is for the URL rules; without, it is not a secret.
        return true;
    }
    if s.starts_with(['/', '~', '@', '&', '*', '!', '.']) || s.contains('\\') || s.starts_with("www.") {
        return true;
    }
    if s.contains('(') || s.contains(')') || s.contains('[') || s.contains('{') || s.contains("%s") {
        return true;
    }
    // Percent-encoded test data (`pass%5B%7F`, `%00%01`).
    let escapes = s
        .as_bytes()
        .windows(3)
        .filter(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        .count();
    if escapes >= 2 {
        return true;
    }
    if has_file_extension(s) || is_identifier_like(s) || is_identifier_expression(s) {
        return true;
    }
    // Only letters: a word or camelCase words (`SuperSecret`), unless case noise (`qZxWvT…`).
    if s.bytes().all(|b| b.is_ascii_alphabetic()) {
        let segs = camel_segments(s);
        return n < 16 || segs.iter().map(|g| g.len()).sum::<usize>() >= 3 * segs.len();
    }
    // Code identifiers and constants: mostly made of words (`X509EnrollmentAuthFlags`,
    // `kSecAttrAccessibleWhenUnlocked`, `x25519_generate_private_key`).
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') && word_coverage(s) * 10 >= n * 7 {
        return true;
    }
    false
}

/// Characters of `s` inside word-like runs: `[A-Z]?[a-z]{2,}` or `[A-Z]{2,}` (acronyms
/// followed by a separator, digit or end).
fn word_coverage(s: &str) -> usize {
    let b = s.as_bytes();
    let (mut i, mut covered) = (0, 0);
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_uppercase() {
            i += 1;
            let lower = b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
            if lower >= 2 {
                i += lower;
                covered += i - start;
                continue;
            }
            let upper = 1 + b[i..].iter().take_while(|c| c.is_ascii_uppercase()).count();
            let next = b.get(start + upper);
            if upper >= 3 && next.is_none_or(|c| !c.is_ascii_lowercase()) {
                covered += upper;
                i = start + upper;
            }
            continue;
        }
        let lower = b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        if lower >= 3 {
            covered += lower;
            i += lower;
        } else {
            i += lower.max(1);
        }
    }
    covered
}

/// `someWordsHere` → `some`, `Words`, `Here`; a run of capitals stays one segment.
fn camel_segments(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..b.len() {
        if b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase() {
            out.push(&s[start..i]);
            start = i;
        }
    }
    out.push(&s[start..]);
    out
}

/// `8-4-4-4-12` hex.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// `config.yaml`, `keys/server.pem`.
fn has_file_extension(s: &str) -> bool {
    const EXT: &[&str] = &[
        "json",
        "yaml",
        "yml",
        "toml",
        "txt",
        "pem",
        "key",
        "crt",
        "cer",
        "p12",
        "pfx",
        "jks",
        "env",
        "ini",
        "cfg",
        "conf",
        "xml",
        "properties",
        "js",
        "ts",
        "py",
        "rb",
        "go",
        "rs",
        "java",
        "sh",
        "html",
        "png",
        "jpg",
        "svg",
        "log",
        "csv",
        "db",
        "sqlite",
    ];
    s.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXT.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Words joined by `_`, `-`, `.` or `:` (`db.password`, `SECRET_KEY_BASE`, `my-token-name`),
/// and dotted references (`process.env.TOKEN`, `settings.API_KEY2`).
fn is_identifier_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['_', '-', '.', ':', '/']).collect();
    let wordy = |p: &str| {
        let letters = p.bytes().take_while(u8::is_ascii_alphabetic).count();
        // A word, optionally followed by digits (`key2`, `x25519`).
        letters > 0 && p.bytes().skip(letters).all(|b| b.is_ascii_digit())
    };
    parts.len() >= 2 && parts.iter().all(|p| p.is_empty() || wordy(p))
}

/// Code: snake_case identifiers or lowercase words joined by operators, as in a formula in a
/// comment (`shared_secret = client_pk^server_sk`, `nonce_len+tag_len`). A password that
/// uses the same symbols has operands that are not identifiers (`Zq8vN3k^Lp2Xr7Tw`).
fn is_identifier_expression(s: &str) -> bool {
    const OPERATORS: &[char] = &['^', '*', '+', '|', '&', '%'];
    if !s.contains(OPERATORS) {
        return false;
    }
    let operand = |p: &str| {
        let b = p.as_bytes();
        let ident = !b.is_empty()
            && (b[0].is_ascii_lowercase() || b[0] == b'_')
            && b.iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
        let letters = b.iter().filter(|c| c.is_ascii_lowercase()).count();
        ident && letters >= 2 && (p.contains('_') || letters == b.len())
    };
    let parts: Vec<&str> = s.split(OPERATORS).collect();
    parts.len() >= 2 && parts.iter().all(|p| operand(p))
}

/// A key name that says "secret": password, token, key, credential… and not an id, name,
/// path or other public companion.
pub(crate) fn secret_key_name(key: &str) -> bool {
    const SECRETISH: &[&str] = &[
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "auth",
        "cred",
        "private",
        "signature",
        "salt",
        "session",
        "cookie",
        "bearer",
        "jwt",
        "pat",
    ];
    const PUBLIC_SUFFIX: &[&str] = &[
        "id",
        "name",
        "file",
        "path",
        "url",
        "uri",
        "length",
        "len",
        "size",
        "type",
        "format",
        "env",
        "header",
        "field",
        "prefix",
        "count",
        "label",
        "hint",
        "policy",
        "expiry",
        "expires",
        "ttl",
        "version",
        "algorithm",
        "alg",
        "dir",
        "location",
        "mode",
        "index",
        "ref",
        "placeholder",
        "pattern",
        "regex",
        "min",
        "max",
        "timeout",
        "hash",
        "digest",
        "checksum",
        "hashed",
        "encrypted",
    ];
    let lower = key.to_ascii_lowercase();
    if !SECRETISH.iter().any(|w| lower.contains(w)) {
        return false;
    }
    if lower.contains("public") || lower.contains("publishable") || lower.contains("pubkey") {
        return false;
    }
    let last = lower
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .find(|p| !p.is_empty())
        .unwrap_or(&lower);
    let camel_tail = camel_tail(key).to_ascii_lowercase();
    !PUBLIC_SUFFIX.iter().any(|s| last == *s || camel_tail == *s)
}

/// The last camelCase hump of `key` (`apiKeyId` → `Id`).
fn camel_tail(key: &str) -> &str {
    let start = key
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(0, |(i, _)| i);
    &key[start..]
}

/// Shannon entropy in bits per character.
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A value in a format that carries a checksum (GitHub, npm, Coffer tokens) whose checksum is
/// wrong: not a real token, so no rule — generic ones included — may report it.
fn impossible_checksummed_token(s: &str) -> bool {
    use crate::validate::Validator;
    let b = s.as_bytes();
    let validator =
        if b.len() > 4 && b.starts_with(b"gh") && b[3] == b'_' && matches!(b[2], b'p' | b'o' | b'u' | b's' | b'r') {
            Validator::Github
        } else if s.starts_with("npm_") {
            Validator::Npm
        } else if s.starts_with("cfs_") || s.starts_with("cfb_") {
            Validator::Coffer
        } else {
            return false;
        };
    !validator.check(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "{{ .Values.password }}",
            "${{ secrets.TOKEN }}",
            "<your-token>",
            "<token>",
            "changeme",
            "change_me",
            "xxxxxxxxxxxx",
            "********",
            "your_api_key",
            "example",
            "dummy",
            "test",
            "sample",
            "placeholder",
            "REDACTED",
            "null",
            "None",
            "true",
            "false",
            "%API_KEY%",
            "$(cat /run/secret)",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in ["sk_test_51Hx2aQ8vJ3kT", "hunter2!x", "AKIAZ3MQ2Y7EXAMQLE12"] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn documented_examples_hashes_blobs() {
        assert!(is_non_secret("AKIAIOSFODNN7EXAMPLE", b""));
        assert!(is_non_secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", b""));
        assert!(is_non_secret(
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            b""
        ));
        assert!(is_non_secret("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", b""));
        assert!(is_non_secret("sha512-Q2xvd25zIGFyZSBmdW5ueQ==", b"\"integrity\": \""));
        assert!(is_non_secret(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
            b"src=\"data:image/png;base64,"
        ));
        assert!(is_non_secret("ENC[AES256_GCM,data:abc,iv:def]", b"password: "));
        assert!(is_non_secret("6231366134363461", b"$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(!is_non_secret("q8Zt3LmX9vB2nR7kW4pY", b"password = \""));
    }

    #[test]
    fn generic_shapes() {
        assert!(
            generic_value_rejected("ghp_0123456789abcdefghijABCDEFGHIJzzzzzz"),
            "bad checksum"
        );
        for no in [
            "5d41402abc4b2a76b9719d911017c592",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "123e4567-e89b-12d3-a456-426614174000",
            "/etc/secrets/db",
            "./config/token.json",
            "https://example.org/login",
            "os.getenv(\"X\")",
            "process.env.API_TOKEN",
            "settings.SECRET_KEY",
            "SuperSecret",
            "my-secret-name",
            "SpApplyControlTokenFn",
            "X509EnrollmentAuthFlags",
            "kSecAttrAccessibleWhenUnlocked",
            "x25519_generate_private_key",
            "BCRYPT_DESTROY_SECRET",
            "pass%5B%7F",
            "12345678",
            "ENV['TOKEN']",
            // Seen in crate sources (aws-lc's dh_test.cc, axum's raw_form.rs tests).
            "client_pk^server_sk",
            "nonce_len+tag_len",
            "secure%20password",
        ] {
            assert!(generic_value_rejected(no), "{no}");
        }
        for yes in [
            "hunter2!x",
            "Tr0ub4dor&3",
            "q8Zt3LmX9vB2nR7kW4pY",
            "qZxWvTpLmNbVcXrT",
            // Near misses of the shapes above: operands that are not identifiers, a `%` that
            // encodes no space.
            "Zq8vN3k^Lp2Xr7Tw",
            "L67II17S*Eab34RO",
            "kq8_zt3*Lmx9_vb2",
            "x9%2Fk3LmQ7vB2nR",
        ] {
            assert!(!generic_value_rejected(yes), "{yes}");
        }
    }

    #[test]
    fn documentation_hosts() {
        for doc in [
            &b"@example.com/repo"[..],
            b"@example.com",
            b"@EXAMPLE.ORG:8080/x",
            b"@example.net\"",
            b"@db.example/app",
            b"@host.invalid?x=1",
        ] {
            assert!(documentation_host_follows(doc), "{}", String::from_utf8_lossy(doc));
        }
        for real in [
            &b"@db.internal:5432/app"[..],
            b"@mysql-01.corp.example.net:3306/shop",
            b"@example.com.evil.io/x",
            b"@examples.com/x",
            b"example.com",
            b"@example.com_x",
        ] {
            assert!(!documentation_host_follows(real), "{}", String::from_utf8_lossy(real));
        }
    }

    #[test]
    fn key_names() {
        for k in [
            "DB_PASSWORD",
            "apiKey",
            "client_secret",
            "AUTH_TOKEN",
            "passwd",
            "secretKey",
        ] {
            assert!(secret_key_name(k), "{k}");
        }
        for k in [
            "client_id",
            "apiKeyId",
            "token_url",
            "password_length",
            "publicKey",
            "username",
            "KEY_NAME",
        ] {
            assert!(!secret_key_name(k), "{k}");
        }
    }

    #[test]
    fn entropy_values() {
        assert!(entropy("aaaa") < 0.01);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
