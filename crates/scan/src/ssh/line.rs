//! Splitting one `authorized_keys` or `known_hosts` line into its fields, without regexes or
//! allocation: `[options] keytype base64 [comment]` (sshd(8) AUTHORIZED_KEYS FILE FORMAT) and
//! `[@marker] hostnames keytype base64 [comment]`.

use super::blob::is_key_type;

/// The fields of an `authorized_keys` line, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizedLine<'a> {
    /// The raw options field (`from="…",no-pty`), empty when there is none.
    pub options: &'a [u8],
    /// The key type token.
    pub key_type: &'a [u8],
    /// The base64 key blob.
    pub base64: &'a [u8],
    /// The comment (rest of the line, trimmed), possibly empty.
    pub comment: &'a [u8],
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s
        && (is_space(*first) || *first == b'\r' || *first == b'\n')
    {
        s = rest;
    }
    while let [rest @ .., last] = s
        && (is_space(*last) || *last == b'\r' || *last == b'\n')
    {
        s = rest;
    }
    s
}

/// Splits off the next whitespace-delimited token; returns (token, rest without leading space).
fn token(s: &[u8]) -> (&[u8], &[u8]) {
    let end = memchr::memchr2(b' ', b'\t', s).unwrap_or(s.len());
    let (tok, mut rest) = s.split_at(end);
    while let [first, tail @ ..] = rest
        && is_space(*first)
    {
        rest = tail;
    }
    (tok, rest)
}

/// Length of an options field: up to the first whitespace outside double quotes (a backslash
/// escapes the next character inside quotes). `None` when a quote is left open.
fn options_len(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        // Outside quotes: the next space ends the field, the next quote opens a value.
        let Some(at) = memchr::memchr3(b' ', b'\t', b'"', &s[i..]) else {
            return Some(s.len());
        };
        i += at;
        if s[i] != b'"' {
            return Some(i);
        }
        // Inside quotes: skip to the closing quote, stepping over backslash escapes.
        i += 1;
        loop {
            let at = memchr::memchr2(b'"', b'\\', &s[i..])?;
            i += at;
            if s[i] == b'"' {
                break;
            }
            i += 2;
            if i > s.len() {
                return None;
            }
        }
        i += 1;
    }
}

/// Whether a line is blank or a comment.
pub fn is_blank(line: &[u8]) -> bool {
    matches!(trim(line).first(), None | Some(b'#'))
}

/// Parses a non-blank `authorized_keys` line.
pub fn parse_authorized(line: &[u8]) -> Result<AuthorizedLine<'_>, &'static str> {
    let line = trim(line);
    let (first, _) = token(line);
    let (options, rest) = if is_key_type(first) {
        (&b""[..], line)
    } else {
        let len = options_len(line).ok_or("unterminated quote in options")?;
        let (options, rest) = line.split_at(len);
        (options, token(rest).1)
    };
    let (key_type, rest) = token(rest);
    let (base64, comment) = token(rest);
    if key_type.is_empty() || base64.is_empty() {
        return Err("missing key type or key");
    }
    Ok(AuthorizedLine {
        options,
        key_type,
        base64,
        comment: trim(comment),
    })
}

/// Splits an options field on the commas outside double quotes.
pub fn split_options(options: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                out.push(String::from_utf8_lossy(&options[start..i]).into_owned());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < options.len() {
        out.push(String::from_utf8_lossy(&options[start..]).into_owned());
    }
    out
}

/// The fields of a `known_hosts` line.
#[derive(Debug, PartialEq, Eq)]
pub struct KnownHostLine<'a> {
    /// `@cert-authority` or `@revoked` without the `@`, empty when absent.
    pub marker: &'a [u8],
    /// The comma-separated host patterns (or a hashed `|1|…` entry).
    pub hosts: &'a [u8],
    /// The key type token.
    pub key_type: &'a [u8],
    /// The base64 key blob.
    pub base64: &'a [u8],
    /// The comment, possibly empty.
    pub comment: &'a [u8],
}

/// Parses a non-blank `known_hosts` line.
pub fn parse_known_host(line: &[u8]) -> Result<KnownHostLine<'_>, &'static str> {
    let line = trim(line);
    let (first, rest) = token(line);
    let (marker, rest) = match first.strip_prefix(b"@") {
        Some(marker) => (marker, rest),
        None => (&b""[..], line),
    };
    let (hosts, rest) = token(rest);
    let (key_type, rest) = token(rest);
    let (base64, comment) = token(rest);
    if hosts.is_empty() || key_type.is_empty() || base64.is_empty() {
        return Err("missing host, key type or key");
    }
    Ok(KnownHostLine {
        marker,
        hosts,
        key_type,
        base64,
        comment: trim(comment),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_optioned_lines() {
        let l = parse_authorized(b"ssh-ed25519 AAAAC3 alice@laptop\n").unwrap();
        assert_eq!(
            (l.options, l.key_type, l.base64, l.comment),
            (&b""[..], &b"ssh-ed25519"[..], &b"AAAAC3"[..], &b"alice@laptop"[..])
        );
        let l = parse_authorized(
            br#"from="10.0.0.1, *.example.com",command="echo \"hi there\"",no-pty ssh-rsa AAAAB3 deploy key  "#,
        )
        .unwrap();
        assert_eq!(
            l.options,
            &br#"from="10.0.0.1, *.example.com",command="echo \"hi there\"",no-pty"#[..]
        );
        assert_eq!(
            (l.key_type, l.base64, l.comment),
            (&b"ssh-rsa"[..], &b"AAAAB3"[..], &b"deploy key"[..])
        );
        assert_eq!(
            split_options(l.options),
            [
                r#"from="10.0.0.1, *.example.com""#,
                r#"command="echo \"hi there\"""#,
                "no-pty"
            ]
        );
        let l = parse_authorized(b"  restrict\tecdsa-sha2-nistp256 AAAAE2").unwrap();
        assert_eq!((l.options, l.comment), (&b"restrict"[..], &b""[..]));
    }

    #[test]
    fn malformed_lines() {
        assert!(parse_authorized(b"ssh-ed25519").is_err());
        assert!(parse_authorized(br#"command="unterminated ssh-rsa AAAA"#).is_err());
        assert!(is_blank(b"   # a comment"));
        assert!(is_blank(b"\r\n"));
        assert!(!is_blank(b"ssh-rsa AAAA"));
    }

    #[test]
    fn known_hosts_lines() {
        let l = parse_known_host(b"github.com,140.82.1.1 ssh-ed25519 AAAAC3").unwrap();
        assert_eq!(
            (l.marker, l.hosts, l.key_type),
            (&b""[..], &b"github.com,140.82.1.1"[..], &b"ssh-ed25519"[..])
        );
        let l = parse_known_host(b"@cert-authority *.corp ssh-rsa AAAAB3 ca").unwrap();
        assert_eq!(
            (l.marker, l.hosts, l.comment),
            (&b"cert-authority"[..], &b"*.corp"[..], &b"ca"[..])
        );
    }
}
