//! Offline checks of a candidate's structure: check digits (GitHub, npm, age, Coffer), JWT
//! shape, Luhn, PEM framing. A candidate that fails is not a real secret and is dropped.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde::Deserialize;

/// A structure check named by a rule's `validate` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validator {
    /// `gh[pousr]_` + 30 base62 + 6-character base62 CRC32 of those 30.
    Github,
    /// `npm_` + 30 base62 + 6-character base62 CRC32 of those 30.
    Npm,
    /// Coffer's own tokens (`coffer_crypto::token::verify`).
    Coffer,
    /// `AGE-SECRET-KEY-1…` with a valid bech32 checksum.
    Age,
    /// Three base64url parts whose header is JSON naming an `alg`.
    Jwt,
    /// Digits passing the Luhn check.
    Luhn,
    /// Matching BEGIN/END labels and a body that decodes as base64.
    Pem,
}

impl Validator {
    /// True when `secret` passes this check.
    pub fn check(self, secret: &str) -> bool {
        match self {
            Validator::Github => {
                let ok_prefix = secret.len() == 40
                    && secret.starts_with("gh")
                    && matches!(secret.as_bytes()[2], b'p' | b'o' | b'u' | b's' | b'r')
                    && secret.as_bytes()[3] == b'_';
                ok_prefix && base62_crc_ok(&secret[4..])
            }
            Validator::Npm => secret.len() == 40 && secret.starts_with("npm_") && base62_crc_ok(&secret[4..]),
            Validator::Coffer => coffer_crypto::token::verify(secret),
            Validator::Age => age_ok(secret),
            Validator::Jwt => jwt_ok(secret),
            Validator::Luhn => luhn_ok(secret),
            Validator::Pem => pem_ok(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// 36 base62 characters whose last 6 encode (big-endian base62) the CRC32 of the first 30.
fn base62_crc_ok(body: &str) -> bool {
    let b = body.as_bytes();
    if b.len() != 36 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut value = u64::from(crc32fast::hash(&b[..30]));
    let mut expected = [b'0'; 6];
    for slot in expected.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    b[30..] == expected
}

fn age_ok(secret: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = lower.rfind('1') else { return false };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp != "age-secret-key-" || data.len() < 7 {
        return false;
    }
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    for c in data.bytes() {
        match CHARSET.iter().position(|&x| x == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// base64url, with or without padding.
const URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn jwt_ok(secret: &str) -> bool {
    let parts: Vec<&str> = secret.split('.').collect();
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
        return false;
    }
    let json_object = |part: &str| {
        URL_LENIENT
            .decode(part)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(serde_json::Value::is_object)
    };
    let header_ok = json_object(parts[0]).is_some_and(|h| h.get("alg").is_some_and(|a| a.is_string()));
    header_ok && json_object(parts[1]).is_some() && (parts[2].is_empty() || URL_LENIENT.decode(parts[2]).is_ok())
}

fn luhn_ok(secret: &str) -> bool {
    let digits: Vec<u32> = secret
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if digits.len() < 12 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// One line of a PEM body as it may sit in source code — in a comment (`//! MIIB…`, `# MIIB…`,
/// ` * MIIB…`) or a string literal (`"MIIB…\n",`) — reduced to its text. A comment marker is
/// removed only when a space follows it: base64 text never holds one, and may begin with `//`.
fn source_line(line: &str) -> &str {
    let mut line = line.trim();
    for marker in ["//!", "///", "//", "#", "*", ";"] {
        if let Some(rest) = line.strip_prefix(marker)
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            line = rest.trim_start();
            break;
        }
    }
    // After a closing quote: `,` `;` `+` `)` (a `+` may also end a base64 line, so only there).
    let unquoted = line.trim_end_matches([',', ';', '+', ')', ' ', '\t']);
    if unquoted.ends_with(['"', '\'']) {
        line = unquoted;
    }
    line.trim_matches(['"', '\''])
}

fn pem_ok(secret: &str) -> bool {
    let Some(begin) = secret.find("-----BEGIN ") else {
        return false;
    };
    let rest = &secret[begin + 11..];
    let Some(label_end) = rest.find("-----") else {
        return false;
    };
    let label = &rest[..label_end];
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let Some(end) = body_and_end.find(&end_marker) else {
        return false;
    };
    let body = &body_and_end[..end];
    let mut b64 = String::with_capacity(body.len());
    for line in body.lines().map(source_line) {
        // Armor/encryption headers (`Proc-Type:`, `Version:`) and PGP's `=CRC` line are not body.
        if line.is_empty() || line.contains(':') || (line.starts_with('=') && line.len() == 5) {
            continue;
        }
        // Escaped newlines (a key inside a JSON string) separate lines too.
        for piece in line.split("\\n") {
            b64.push_str(piece.trim());
        }
    }
    b64.len() >= 16 && general_purpose::STANDARD.decode(b64.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_bodies_in_source_code_are_read_through_comments_and_string_literals() {
        let body = [
            "//8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywt",
            "Li8wMTIzNDU2Nzg5",
        ];
        let wrap = |line: &dyn Fn(&str) -> String| {
            let lines: Vec<String> = body.iter().map(|l| line(l)).collect();
            format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
                lines.join("\n")
            )
        };
        // Raw, including a line that starts with `//` (base64 text, not a comment).
        assert!(pem_ok(&wrap(&|l| l.to_string())));
        // A raw line may end in `+`, which is base64 text too.
        let plus = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA14Dxmxb9VquZ5F90MS0AiZFnzm4sg3ShX8OrzcyPrLjI1L5+\nb3EIj7acAZl3Y+5Z\n-----END RSA PRIVATE KEY-----";
        assert!(pem_ok(plus));
        assert!(pem_ok(
            &plus.replace("\nMIIE", "\n\"MIIE").replace("L5+\n", "L5+\\n\" +\n")
        ));
        assert!(pem_ok(&wrap(&|l| format!("//! {l}"))));
        assert!(pem_ok(&wrap(&|l| format!("    # {l}"))));
        assert!(pem_ok(&wrap(&|l| format!(" * {l}"))));
        assert!(pem_ok(&wrap(&|l| format!("    \"{l}\\n\""))));
        assert!(pem_ok(&wrap(&|l| format!("    \"{l}\\n\",  "))));
        // Prose between the markers is not a key, whatever surrounds it.
        assert!(!pem_ok(&wrap(&|_| "// paste your key here".to_string())));
        assert!(!pem_ok(&wrap(&|_| "\"replace me with the real key\\n\"".to_string())));
    }

    fn github_token(prefix: &str, random: &str) -> String {
        let mut value = u64::from(crc32fast::hash(random.as_bytes()));
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = BASE62[(value % 62) as usize];
            value /= 62;
        }
        format!("{prefix}{random}{}", String::from_utf8_lossy(&check))
    }

    #[test]
    fn github_and_npm_checksums() {
        let t = github_token("ghp_", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1");
        assert!(Validator::Github.check(&t));
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'x' { b'y' } else { b'x' };
        assert!(!Validator::Github.check(&String::from_utf8(bad).unwrap()));
        assert!(!Validator::Github.check("ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        let n = github_token("npm_", "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0");
        assert!(Validator::Npm.check(&n));
        assert!(!Validator::Github.check(&n));
    }

    #[test]
    fn coffer_tokens() {
        let t = coffer_crypto::token::generate(coffer_crypto::SERVICE_TOKEN_PREFIX);
        assert!(Validator::Coffer.check(&t));
        assert!(!Validator::Coffer.check(&t.replace("cfs_", "cfx_")));
    }

    /// An age secret key for 32 bytes of data, with its bech32 checksum.
    fn age_key(data: &[u8; 32]) -> String {
        const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
        let hrp = "age-secret-key-";
        let mut five = Vec::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for &b in data {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                five.push(((acc >> bits) & 31) as u8);
            }
        }
        if bits > 0 {
            five.push(((acc << (5 - bits)) & 31) as u8);
        }
        let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
        values.push(0);
        values.extend(hrp.bytes().map(|c| c & 31));
        values.extend(&five);
        values.extend([0u8; 6]);
        let pm = bech32_polymod(&values) ^ 1;
        five.extend((0..6).map(|i| ((pm >> (5 * (5 - i))) & 31) as u8));
        let body: String = five.iter().map(|&v| char::from(CHARSET[usize::from(v)])).collect();
        format!("{hrp}1{body}").to_ascii_uppercase()
    }

    #[test]
    fn age_bech32() {
        let key = age_key(&[7u8; 32]);
        assert!(key.starts_with("AGE-SECRET-KEY-1"), "{key}");
        assert!(Validator::Age.check(&key), "{key}");
        let mut bad = key.clone().into_bytes();
        let i = bad.len() - 10;
        bad[i] = if bad[i] == b'Q' { b'P' } else { b'Q' };
        assert!(!Validator::Age.check(&String::from_utf8(bad).unwrap()));
        assert!(!Validator::Age.check("AGE-SECRET-KEY-1QQQQ"));
    }

    #[test]
    fn jwt_structure() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl";
        assert!(Validator::Jwt.check(jwt));
        assert!(!Validator::Jwt.check("eyJub3QiOiJhbGcifQ.eyJzdWIiOiI0MiJ9.c2ln"));
        assert!(!Validator::Jwt.check("a.b.c"));
    }

    #[test]
    fn luhn_and_pem() {
        assert!(Validator::Luhn.check("4111 1111 1111 1111"));
        assert!(!Validator::Luhn.check("4111 1111 1111 1112"));
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";
        assert!(Validator::Pem.check(pem));
        assert!(!Validator::Pem.check(&pem.replace("END RSA", "END EC")));
        assert!(!Validator::Pem.check(&pem.replace("MIIBOgIBAAJB", "MII%%gIBAAJB")));
    }
}
