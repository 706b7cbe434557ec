//! Private key files: OpenSSH `openssh-key-v1` (cipher name → encrypted or not, embedded public
//! key → fingerprint) and PEM (PKCS#1 RSA, DSA, SEC1 EC, PKCS#8 plain or encrypted,
//! `Proc-Type: 4,ENCRYPTED`). Only public parts and the comment are ever extracted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::blob::{KeyInfo, Reader, build_blob, parse_blob};

/// What a private key file says about itself.
#[derive(Debug)]
pub struct ParsedPrivate {
    /// `openssh`, `pem-rsa`, `pem-dsa`, `pem-ec`, `pkcs8` or `pkcs8-encrypted`.
    pub format: &'static str,
    /// Whether the key is protected by a passphrase.
    pub encrypted: bool,
    /// The cipher (`aes256-ctr`, `AES-128-CBC`…) when encrypted.
    pub cipher: Option<String>,
    /// The public half, when the file holds it in the clear.
    pub key: Option<KeyInfo>,
    /// The key's comment (unencrypted OpenSSH keys only).
    pub comment: Option<String>,
}

/// Whether a file's first bytes look like a PEM private key (any `… PRIVATE KEY` label).
pub fn looks_private(head: &[u8]) -> bool {
    let head = head.trim_ascii_start();
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    head.starts_with(b"-----BEGIN ") && first_line.trim_ascii_end().ends_with(b"PRIVATE KEY-----")
}

/// Parses a private key file's text.
pub fn parse_private(text: &[u8]) -> Result<ParsedPrivate, &'static str> {
    let (label, headers, der) = pem(text)?;
    match label.as_str() {
        "OPENSSH PRIVATE KEY" => openssh(&der),
        "RSA PRIVATE KEY" | "DSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            let format = match label.as_bytes()[0] {
                b'R' => "pem-rsa",
                b'D' => "pem-dsa",
                _ => "pem-ec",
            };
            let encrypted = headers.iter().any(|(k, v)| k == "Proc-Type" && v.contains("ENCRYPTED"));
            let cipher = headers
                .iter()
                .find(|(k, _)| k == "DEK-Info")
                .map(|(_, v)| v.split(',').next().unwrap_or_default().to_string());
            let key = if encrypted {
                None
            } else {
                match format {
                    "pem-rsa" => pkcs1_rsa(&der),
                    "pem-dsa" => dsa(&der),
                    _ => sec1_ec(&der, None),
                }
            };
            Ok(ParsedPrivate {
                format,
                encrypted,
                cipher: cipher.filter(|_| encrypted),
                key,
                comment: None,
            })
        }
        "PRIVATE KEY" => Ok(ParsedPrivate {
            format: "pkcs8",
            encrypted: false,
            cipher: None,
            key: pkcs8(&der),
            comment: None,
        }),
        "ENCRYPTED PRIVATE KEY" => Ok(ParsedPrivate {
            format: "pkcs8-encrypted",
            encrypted: true,
            cipher: None,
            key: None,
            comment: None,
        }),
        _ => Err("unsupported private key format"),
    }
}

type Pem = (String, Vec<(String, String)>, Vec<u8>);

/// Splits PEM armour into its label, RFC 1421 headers and decoded body.
fn pem(text: &[u8]) -> Result<Pem, &'static str> {
    let text = std::str::from_utf8(text).map_err(|_| "not text")?;
    let mut lines = text.lines().map(str::trim).skip_while(|l| l.is_empty());
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .ok_or("no PEM header")?
        .to_string();
    let mut headers = Vec::new();
    let mut body = String::new();
    for line in lines {
        if line.starts_with("-----END ") {
            let der = STANDARD
                .decode(body.as_bytes())
                .map_err(|_| "invalid base64 in PEM body")?;
            return Ok((label, headers, der));
        }
        match line.split_once(": ") {
            Some((k, v)) if body.is_empty() => headers.push((k.to_string(), v.to_string())),
            _ => body.push_str(line),
        }
    }
    Err("no PEM footer")
}

fn openssh(data: &[u8]) -> Result<ParsedPrivate, &'static str> {
    let rest = data
        .strip_prefix(b"openssh-key-v1\0")
        .ok_or("not an openssh-key-v1 key")?;
    let mut r = Reader(rest);
    let bad = "truncated openssh-key-v1 key";
    let cipher = String::from_utf8_lossy(r.string().ok_or(bad)?).into_owned();
    r.skip(2).ok_or(bad)?; // kdf name, kdf options
    let count = r.u32().ok_or(bad)?;
    if count == 0 {
        return Err("openssh-key-v1 key holds no keys");
    }
    let public = r.string().ok_or(bad)?;
    r.skip(count as usize - 1).ok_or(bad)?;
    let encrypted = cipher != "none";
    let comment = if encrypted {
        None
    } else {
        r.string().and_then(openssh_comment)
    };
    Ok(ParsedPrivate {
        format: "openssh",
        encrypted,
        cipher: encrypted.then_some(cipher),
        key: parse_blob(public),
        comment,
    })
}

/// The comment of the first key of an unencrypted private section (skipping, unread, the
/// private fields of the types whose layout is known).
fn openssh_comment(section: &[u8]) -> Option<String> {
    let mut r = Reader(section);
    r.u32()?;
    r.u32()?;
    let fields = match r.string()? {
        b"ssh-ed25519" => 2,
        b"ssh-rsa" => 6,
        b"ssh-dss" => 5,
        t if t.starts_with(b"ecdsa-sha2-") => 3,
        _ => return None,
    };
    r.skip(fields)?;
    let comment = r.string()?;
    (!comment.is_empty()).then(|| String::from_utf8_lossy(comment).into_owned())
}

/// A minimal DER reader: (tag, contents) pairs.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return None;
        }
        let (content, rest) = rest.split_at(len);
        self.0 = rest;
        Some((tag, content))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.next().filter(|(t, _)| *t == tag).map(|(_, c)| c)
    }

    fn sequence(data: &'a [u8]) -> Option<Der<'a>> {
        Der(data).expect(0x30).map(Der)
    }
}

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn curve(oid: &[u8]) -> Option<(&'static str, &'static str)> {
    match oid {
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => Some(("ecdsa-sha2-nistp256", "nistp256")),
        [0x2b, 0x81, 0x04, 0x00, 0x22] => Some(("ecdsa-sha2-nistp384", "nistp384")),
        [0x2b, 0x81, 0x04, 0x00, 0x23] => Some(("ecdsa-sha2-nistp521", "nistp521")),
        _ => None,
    }
}

/// PKCS#1 `RSAPrivateKey`: version, n, e, … — DER integers are already SSH mpints.
fn pkcs1_rsa(der: &[u8]) -> Option<KeyInfo> {
    let mut seq = Der::sequence(der)?;
    seq.expect(INTEGER)?;
    let n = seq.expect(INTEGER)?;
    let e = seq.expect(INTEGER)?;
    parse_blob(&build_blob("ssh-rsa", &[e, n]))
}

/// OpenSSL's `DSAPrivateKey`: version, p, q, g, y, x.
fn dsa(der: &[u8]) -> Option<KeyInfo> {
    let mut seq = Der::sequence(der)?;
    seq.expect(INTEGER)?;
    let p = seq.expect(INTEGER)?;
    let q = seq.expect(INTEGER)?;
    let g = seq.expect(INTEGER)?;
    let y = seq.expect(INTEGER)?;
    parse_blob(&build_blob("ssh-dss", &[p, q, g, y]))
}

/// SEC 1 `ECPrivateKey`: version, d, [0] curve, [1] public point.
fn sec1_ec<'a>(der: &'a [u8], mut curve_oid: Option<&'a [u8]>) -> Option<KeyInfo> {
    let mut seq = Der::sequence(der)?;
    seq.expect(INTEGER)?;
    seq.expect(OCTET_STRING)?;
    let mut point = None;
    while let Some((tag, content)) = seq.next() {
        match tag {
            0xa0 => curve_oid = Der(content).expect(OID),
            0xa1 => point = Der(content).expect(0x03).and_then(|bits| bits.strip_prefix(&[0])),
            _ => {}
        }
    }
    let (key_type, curve_name) = curve(curve_oid?)?;
    parse_blob(&build_blob(key_type, &[curve_name.as_bytes(), point?]))
}

/// PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey`: the algorithm decides the inner format.
fn pkcs8(der: &[u8]) -> Option<KeyInfo> {
    let mut seq = Der::sequence(der)?;
    seq.expect(INTEGER)?;
    let mut alg = Der(seq.expect(SEQUENCE)?);
    let oid = alg.expect(OID)?;
    let params = alg.next();
    let inner = seq.expect(OCTET_STRING)?;
    match oid {
        OID_RSA => pkcs1_rsa(inner),
        OID_EC => sec1_ec(inner, params.filter(|(t, _)| *t == OID).map(|(_, c)| c)),
        OID_ED25519 => {
            // Only v2 keys carry the public key ([1], a BIT STRING); v1 keys need the `.pub`.
            while let Some((tag, content)) = seq.next() {
                if tag == 0x81 {
                    return parse_blob(&build_blob("ssh-ed25519", &[content.strip_prefix(&[0])?]));
                }
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_private_keys() {
        assert!(looks_private(b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"));
        assert!(looks_private(
            b"\n-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED"
        ));
        assert!(!looks_private(b"-----BEGIN CERTIFICATE-----\n"));
        assert!(!looks_private(b"ssh-rsa AAAA"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(
            parse_private(b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n").is_err()
        );
        assert!(parse_private(b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n").is_err());
        let pem = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let parsed = parse_private(pem).unwrap();
        assert_eq!(
            (parsed.format, parsed.encrypted, parsed.key.is_none()),
            ("pem-rsa", false, true)
        );
    }
}
