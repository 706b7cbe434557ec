//! Token format: a fixed prefix, 30 random base62 characters and a 6-character CRC32 checksum,
//! so a scanner can recognise a leaked Coffer token with no false positives.

use crate::secret::fill_random;

/// Prefix of service tokens.
pub const SERVICE_TOKEN_PREFIX: &str = "cfs_";
/// Prefix of batch tokens.
pub const BATCH_TOKEN_PREFIX: &str = "cfb_";

/// Prefixes [`verify`] accepts.
const KNOWN_PREFIXES: [&str; 2] = [SERVICE_TOKEN_PREFIX, BATCH_TOKEN_PREFIX];
/// Random characters after the prefix.
const RANDOM_CHARS: usize = 30;
/// Characters of the base62-encoded checksum (62^6 > 2^32).
const CHECKSUM_CHARS: usize = 6;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new token: `prefix`, 30 random base62 characters, then 6 base62 characters encoding the
/// CRC32 of everything before them.
pub fn generate(prefix: &str) -> String {
    let mut token = String::with_capacity(prefix.len() + RANDOM_CHARS + CHECKSUM_CHARS);
    token.push_str(prefix);
    token.push_str(&random_base62(RANDOM_CHARS));
    let checksum = encode_checksum(crc32fast::hash(token.as_bytes()));
    token.push_str(&checksum);
    token
}

/// True only for a well-formed token: a service token with the exact length, base62
/// characters and a correct checksum, or a batch token whose checksum verifies.
pub fn verify(token: &str) -> bool {
    if let Some(body) = token.strip_prefix(BATCH_TOKEN_PREFIX) {
        let (signed, checksum) = token.split_at(token.len().saturating_sub(CHECKSUM_CHARS));
        return body.len() > CHECKSUM_CHARS
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && checksum == encode_checksum(crc32fast::hash(signed.as_bytes()));
    }
    let Some(prefix) = KNOWN_PREFIXES.iter().find(|p| token.starts_with(**p)) else {
        return false;
    };
    if token.len() != prefix.len() + RANDOM_CHARS + CHECKSUM_CHARS {
        return false;
    }
    let body = &token.as_bytes()[prefix.len()..];
    if !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (signed, checksum) = token.split_at(token.len() - CHECKSUM_CHARS);
    checksum == encode_checksum(crc32fast::hash(signed.as_bytes()))
}

/// A batch token: `cfb_`, the payload in unpadded base64url, then the 6-character checksum of
/// everything before it. Batch tokens carry their own (encrypted) state, so their length varies.
pub fn encode_batch(payload: &[u8]) -> String {
    use base64::Engine;
    let mut token = String::from(BATCH_TOKEN_PREFIX);
    token.push_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload));
    let checksum = encode_checksum(crc32fast::hash(token.as_bytes()));
    token.push_str(&checksum);
    token
}

/// The payload of a well-formed batch token (prefix, base64url body, correct checksum).
pub fn decode_batch(token: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body = token.strip_prefix(BATCH_TOKEN_PREFIX)?;
    if body.len() <= CHECKSUM_CHARS {
        return None;
    }
    let (signed, checksum) = token.split_at(token.len() - CHECKSUM_CHARS);
    if checksum != encode_checksum(crc32fast::hash(signed.as_bytes())) {
        return None;
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&body[..body.len() - CHECKSUM_CHARS])
        .ok()
}

/// `n` characters drawn uniformly from `[0-9A-Za-z]` (rejection sampling: no modulo bias).
pub fn random_base62(n: usize) -> String {
    // 248 = 4 * 62: bytes below it map uniformly onto the alphabet.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        fill_random(&mut buf);
        for &b in buf.iter().filter(|&&b| b < LIMIT) {
            if out.len() == n {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    out
}

/// Big-endian base62, zero-padded to 6 characters.
fn encode_checksum(crc: u32) -> String {
    let mut value = u64::from(crc);
    let mut chars = [b'0'; CHECKSUM_CHARS];
    for slot in chars.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    chars.iter().map(|&c| char::from(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_tokens_round_trip_and_verify() {
        let payload = b"\x00\x01sealed bytes\xff";
        let token = encode_batch(payload);
        assert!(token.starts_with(BATCH_TOKEN_PREFIX));
        assert!(verify(&token));
        assert_eq!(decode_batch(&token).unwrap(), payload);
        let mut tampered = token.clone().into_bytes();
        let mid = tampered.len() / 2;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(!verify(&tampered));
        assert!(decode_batch(&tampered).is_none());
        assert!(decode_batch("cfb_").is_none());
    }

    #[test]
    fn generated_tokens_verify() {
        for prefix in [SERVICE_TOKEN_PREFIX, BATCH_TOKEN_PREFIX] {
            for _ in 0..100 {
                let token = generate(prefix);
                assert!(token.starts_with(prefix));
                assert_eq!(token.len(), 40);
                assert!(verify(&token), "{token}");
            }
        }
        assert_ne!(generate(SERVICE_TOKEN_PREFIX), generate(SERVICE_TOKEN_PREFIX));
    }

    #[test]
    fn any_single_character_change_fails() {
        let token = generate(SERVICE_TOKEN_PREFIX);
        let replacements: Vec<char> = ALPHABET
            .iter()
            .map(|&c| char::from(c))
            .chain(['_', '-', 'é', ' '])
            .collect();
        let chars: Vec<char> = token.chars().collect();
        for i in 0..chars.len() {
            for &r in &replacements {
                if r == chars[i] {
                    continue;
                }
                let mut changed = chars.clone();
                changed[i] = r;
                let changed: String = changed.into_iter().collect();
                assert!(!verify(&changed), "change at {i} to {r:?} verified: {changed}");
            }
        }
    }

    #[test]
    fn wrong_prefix_length_or_charset_fails() {
        let token = generate(SERVICE_TOKEN_PREFIX);
        let body = &token[4..];
        assert!(!verify(&format!("hvs_{body}")));
        assert!(!verify(&format!("cf_{body}")));
        assert!(!verify(body));
        assert!(!verify(&token[..39]));
        assert!(!verify(&format!("{token}0")));
        assert!(!verify(""));
        // A token of another prefix with a checksum computed over its own prefix.
        let other = generate("xyz_");
        assert!(!verify(&other));
    }

    #[test]
    fn checksum_encoding() {
        assert_eq!(encode_checksum(0), "000000");
        assert_eq!(encode_checksum(61), "00000z");
        assert_eq!(encode_checksum(62), "000010");
        assert_eq!(encode_checksum(u32::MAX), "4gfFC3");
    }

    #[test]
    fn random_base62_is_uniform_enough() {
        assert_eq!(random_base62(0), "");
        let sample = random_base62(62_000);
        assert_eq!(sample.len(), 62_000);
        let mut counts = [0u32; 62];
        for b in sample.bytes() {
            let i = ALPHABET.iter().position(|&c| c == b).expect("base62 character");
            counts[i] += 1;
        }
        // Expected 1000 each; a 6-sigma band (sd ~31.4) never fails by chance in practice.
        assert!(counts.iter().all(|&c| (810..=1190).contains(&c)), "{counts:?}");
    }
}
