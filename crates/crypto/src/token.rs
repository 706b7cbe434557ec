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

/// True only for a token with a known prefix, the exact length, base62 characters and a
/// correct checksum.
pub fn verify(token: &str) -> bool {
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
