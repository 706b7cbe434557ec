//! Shamir secret sharing over GF(256) (wrapping `blahaj`), with Vault's parameter rules.
//!
//! Share encoding: `[x][y_1 .. y_n]` — one byte of x coordinate (1..=255) followed by one
//! byte per secret byte, so every share is self-describing.

use crate::{CryptoError, SecretBytes};
use blahaj::{Share, Sharks};
use std::collections::HashSet;

/// Splits `secret` into `shares` shares, any `threshold` of which reconstruct it.
///
/// Rules (as Vault): `1 <= threshold <= shares`, and `threshold >= 2` when `shares >= 2`.
/// With `shares == 1 && threshold == 1` the single share is the secret itself.
pub fn split(secret: &[u8], shares: u8, threshold: u8) -> Result<Vec<SecretBytes>, CryptoError> {
    if secret.is_empty() {
        return Err(shamir_error("cannot split an empty secret"));
    }
    if shares == 0 {
        return Err(shamir_error("the number of key shares must be at least 1"));
    }
    if threshold == 0 || threshold > shares {
        return Err(shamir_error(format!(
            "the key threshold must be between 1 and the number of shares ({shares}), got {threshold}"
        )));
    }
    if shares >= 2 && threshold < 2 {
        return Err(shamir_error(
            "the key threshold must be at least 2 when there is more than one share",
        ));
    }
    if shares == 1 {
        return Ok(vec![SecretBytes::new(secret.to_vec())]);
    }
    let out = Sharks(threshold)
        .dealer(secret)
        .take(usize::from(shares))
        .map(|share| SecretBytes::new(Vec::from(&share)))
        .collect();
    Ok(out)
}

/// Reconstructs a secret from shares made by [`split`].
///
/// Errors on no shares, shares of different lengths, malformed or duplicate shares.
/// A single share is returned as is (the `shares == 1` case of [`split`]). Given fewer
/// shares than the threshold, the result is an unrelated value, not an error: the caller
/// checks it (e.g. by decrypting something with it).
pub fn combine(shares: &[&[u8]]) -> Result<SecretBytes, CryptoError> {
    match shares {
        [] => return Err(shamir_error("no key shares were given")),
        [single] => return Ok(SecretBytes::new(single.to_vec())),
        _ => {}
    }
    let len = shares[0].len();
    if len < 2 {
        return Err(shamir_error("a key share is too short"));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(shares.len());
    for share in shares {
        if share.len() != len {
            return Err(shamir_error("key shares have different lengths"));
        }
        if share[0] == 0 {
            return Err(shamir_error("malformed key share"));
        }
        if !seen.insert(share[0]) {
            return Err(shamir_error("the same key share was given twice"));
        }
        parsed.push(Share::try_from(*share).map_err(|_| shamir_error("malformed key share"))?);
    }
    let threshold = u8::try_from(parsed.len()).map_err(|_| shamir_error("too many key shares"))?;
    let secret = Sharks(threshold)
        .recover(&parsed)
        .map_err(|e| shamir_error(e.to_string()))?;
    Ok(SecretBytes::new(secret))
}

fn shamir_error(message: impl Into<String>) -> CryptoError {
    CryptoError::Shamir(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn refs(shares: &[SecretBytes]) -> Vec<&[u8]> {
        shares.iter().map(SecretBytes::expose).collect()
    }

    #[test]
    fn parameter_rules() {
        let s = b"secret";
        assert!(split(s, 0, 0).is_err());
        assert!(split(s, 3, 0).is_err());
        assert!(split(s, 3, 4).is_err());
        assert!(split(s, 3, 1).is_err(), "threshold 1 with several shares is refused");
        assert!(split(b"", 3, 2).is_err());
        let err = split(s, 3, 4).unwrap_err().to_string();
        assert!(err.contains("threshold"), "{err}");
        assert_eq!(split(s, 2, 2).unwrap().len(), 2);
        assert_eq!(split(s, 255, 255).unwrap().len(), 255);
    }

    #[test]
    fn one_share_is_the_secret() {
        let shares = split(b"root key", 1, 1).unwrap();
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].expose(), b"root key");
        assert_eq!(combine(&refs(&shares)).unwrap().expose(), b"root key");
    }

    #[test]
    fn shares_are_self_describing() {
        let shares = split(&[9; 32], 5, 3).unwrap();
        let xs: HashSet<u8> = shares.iter().map(|s| s.expose()[0]).collect();
        assert_eq!(xs.len(), 5);
        assert!(shares.iter().all(|s| s.len() == 33));
    }

    #[test]
    fn combine_rejects_bad_input() {
        let shares = split(&[1, 2, 3, 4], 3, 2).unwrap();
        let r = refs(&shares);
        assert!(combine(&[]).is_err());
        assert!(combine(&[r[0], r[0]]).is_err(), "duplicate share");
        assert!(combine(&[r[0], &r[1][..4]]).is_err(), "length mismatch");
        assert!(combine(&[&[0, 1, 2, 3, 4][..], r[1]]).is_err(), "x = 0");
        assert!(combine(&[&[1][..], &[2][..]]).is_err(), "too short");
    }

    /// A share set made once with `split(b"coffer known vector", 5, 3)` and frozen here, so a
    /// change of share encoding or field arithmetic is caught.
    #[test]
    fn known_vector() {
        let shares: [&[u8]; 3] = [&KNOWN_SHARES[0], &KNOWN_SHARES[2], &KNOWN_SHARES[4]];
        assert_eq!(combine(&shares).unwrap().expose(), b"coffer known vector");
        let others: [&[u8]; 3] = [&KNOWN_SHARES[3], &KNOWN_SHARES[1], &KNOWN_SHARES[0]];
        assert_eq!(combine(&others).unwrap().expose(), b"coffer known vector");
    }

    #[rustfmt::skip]
    const KNOWN_SHARES: [[u8; 20]; 5] = [
        [1, 22, 157, 39, 180, 166, 44, 49, 215, 131, 23, 104, 79, 112, 196, 125, 62, 10, 238, 41],
        [2, 18, 50, 197, 123, 65, 24, 34, 178, 177, 225, 72, 12, 110, 233, 73, 85, 117, 87, 115],
        [3, 103, 192, 132, 169, 130, 70, 51, 14, 92, 153, 87, 45, 62, 91, 81, 8, 11, 214, 40],
        [4, 215, 127, 185, 246, 235, 217, 164, 14, 173, 139, 13, 42, 35, 234, 77, 5, 165, 131, 150],
        [5, 162, 141, 248, 36, 40, 135, 181, 178, 64, 243, 18, 11, 115, 88, 85, 88, 219, 2, 205],
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_threshold_subset_reconstructs(
            secret in proptest::collection::vec(any::<u8>(), 1..64),
            (shares, threshold) in (2u8..12).prop_flat_map(|n| (Just(n), 2..=n)),
            seed in any::<u64>(),
        ) {
            let all = split(&secret, shares, threshold).unwrap();
            prop_assert_eq!(all.len(), usize::from(shares));
            // Pick a pseudo-random subset of exactly `threshold` shares, in shuffled order.
            let mut idx: Vec<usize> = (0..all.len()).collect();
            shuffle(&mut idx, seed);
            let subset: Vec<&[u8]> =
                idx[..usize::from(threshold)].iter().map(|&i| all[i].expose()).collect();
            prop_assert_eq!(combine(&subset).unwrap().expose().to_vec(), secret.clone());
            // More than the threshold also works.
            prop_assert_eq!(combine(&refs(&all)).unwrap().expose().to_vec(), secret);
        }

        #[test]
        fn fewer_than_threshold_do_not_reconstruct(
            secret in proptest::collection::vec(any::<u8>(), 16..64),
            (shares, threshold) in (3u8..12).prop_flat_map(|n| (Just(n), 3..=n)),
            seed in any::<u64>(),
        ) {
            let all = split(&secret, shares, threshold).unwrap();
            let mut idx: Vec<usize> = (0..all.len()).collect();
            shuffle(&mut idx, seed);
            let subset: Vec<&[u8]> =
                idx[..usize::from(threshold) - 1].iter().map(|&i| all[i].expose()).collect();
            // With >= 16 secret bytes a false match has probability 2^-128.
            prop_assert_ne!(combine(&subset).unwrap().expose().to_vec(), secret);
        }

        #[test]
        fn order_does_not_matter(
            secret in proptest::collection::vec(any::<u8>(), 1..48),
            seed in any::<u64>(),
        ) {
            let all = split(&secret, 5, 3).unwrap();
            let forward: Vec<&[u8]> = all[..3].iter().map(SecretBytes::expose).collect();
            let mut shuffled = forward.clone();
            shuffle(&mut shuffled, seed);
            shuffled.reverse();
            prop_assert_eq!(combine(&forward).unwrap(), combine(&shuffled).unwrap());
        }
    }

    /// Fisher–Yates with a small xorshift generator, so proptest controls the permutation.
    fn shuffle<T>(items: &mut [T], seed: u64) {
        let mut state = seed | 1;
        for i in (1..items.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            items.swap(i, (state % (i as u64 + 1)) as usize);
        }
    }
}
