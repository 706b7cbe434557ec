//! Walking the inventory's paths and reading each kind of SSH file: classification by name
//! (`authorized_keys*`, `known_hosts*`, `*.pub`, `ssh_host_*_key`) or, for private keys, by the
//! PEM header; line-oriented files are streamed through reused buffers.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::blob::{KeyInfo, parse_blob};
use super::line::{is_blank, parse_authorized, parse_known_host, split_options};
use super::private::{looks_private, parse_private};
use super::{AuthorizedKey, KnownHost, PrivateKey, Problem, PublicKeyFile, SharedPath, SshInventory, weaknesses};
use crate::ScanError;

/// Private and public key files larger than this are not keys.
const MAX_KEY_FILE: u64 = 1024 * 1024;
/// Unparsable lines reported per file; the rest are counted in one last problem.
const MAX_LINE_PROBLEMS: u64 = 1000;
/// Longest line of an `authorized_keys` or `known_hosts` file that is parsed.
const MAX_LINE: usize = 1024 * 1024;

enum Kind {
    Authorized,
    KnownHosts,
    Public,
    Other,
}

fn kind_of(path: &Path) -> Kind {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    if name.starts_with("authorized_keys") {
        Kind::Authorized
    } else if name.starts_with("known_hosts") || name.starts_with("ssh_known_hosts") {
        Kind::KnownHosts
    } else if name.ends_with(".pub") {
        Kind::Public
    } else {
        Kind::Other
    }
}

fn is_host_key(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let name = name.strip_suffix(".pub").unwrap_or(&name);
    name.starts_with("ssh_host_") && name.ends_with("_key")
}

fn io_err(path: &Path, source: std::io::Error) -> ScanError {
    ScanError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Inventories one path: a file (any name; unrecognised ones become a problem) or a directory
/// walked recursively, hidden files included, ignore files ignored.
pub fn visit(path: &Path, inv: &mut SshInventory) -> Result<(), ScanError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_file() {
        if !classify(path, meta.len(), inv)? {
            inv.problems.push(Problem {
                path: SharedPath::new(path),
                line: None,
                message: "not a recognised SSH key file".into(),
            });
        }
        return Ok(());
    }
    let walk = ignore::WalkBuilder::new(path)
        .standard_filters(false)
        .sort_by_file_name(Ord::cmp)
        .build();
    // Inside a directory, an unreadable entry (a root-only host key…) is a problem, not a failure.
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                inv.problems.push(Problem {
                    path: SharedPath::new(path),
                    line: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        if entry.file_type().is_some_and(|t| t.is_file()) {
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if let Err(e) = classify(entry.path(), len, inv) {
                inv.problems.push(Problem {
                    path: SharedPath::new(entry.path()),
                    line: None,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Reads one file by kind; `false` when it is no SSH file we know.
fn classify(path: &Path, len: u64, inv: &mut SshInventory) -> Result<bool, ScanError> {
    match kind_of(path) {
        Kind::Authorized => authorized_keys(path, inv)?,
        Kind::KnownHosts => known_hosts(path, inv)?,
        Kind::Public if len <= MAX_KEY_FILE => public_key(path, inv)?,
        Kind::Other if len <= MAX_KEY_FILE => {
            let mut head = [0u8; 128];
            let mut file = File::open(path).map_err(|e| io_err(path, e))?;
            let n = file.read(&mut head).map_err(|e| io_err(path, e))?;
            if !looks_private(&head[..n]) {
                return Ok(false);
            }
            private_key(path, inv)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Decodes a base64 key blob into `blob` and checks it names the same type as the text.
fn decode_key(key_type: &[u8], base64: &[u8], blob: &mut Vec<u8>) -> Result<KeyInfo, &'static str> {
    blob.clear();
    STANDARD.decode_vec(base64, blob).map_err(|_| "invalid base64 key")?;
    let info = parse_blob(blob).ok_or("malformed key blob")?;
    if info.key_type.as_bytes() != key_type {
        return Err("key type does not match the key");
    }
    Ok(info)
}

fn text(bytes: &[u8]) -> Option<String> {
    (!bytes.is_empty()).then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// Streams a line-oriented file through one reused buffer (lines are parsed in place, never
/// copied), calling `each(line number, line)` for non-blank lines; lines it rejects become
/// (capped) problems, as do lines longer than [`MAX_LINE`].
fn stream_lines(
    path: &Path,
    inv: &mut SshInventory,
    mut each: impl FnMut(&mut SshInventory, u64, &[u8]) -> Result<(), &'static str>,
) -> Result<(), ScanError> {
    let mut file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut buf = vec![0u8; 256 * 1024];
    let (mut start, mut end) = (0usize, 0usize);
    let (mut number, mut rejected) = (0u64, 0u64);
    let mut skipping = false;
    let mut handle = |inv: &mut SshInventory, number: u64, line: &[u8], skipped: bool| {
        let result = if skipped {
            Err("line too long")
        } else if is_blank(line) {
            Ok(())
        } else {
            each(inv, number, line)
        };
        if let Err(message) = result {
            rejected += 1;
            if rejected <= MAX_LINE_PROBLEMS {
                inv.problems.push(Problem {
                    path: SharedPath::new(path),
                    line: Some(number),
                    message: message.into(),
                });
            }
        }
    };
    loop {
        while let Some(nl) = memchr::memchr(b'\n', &buf[start..end]) {
            number += 1;
            handle(inv, number, &buf[start..start + nl], skipping);
            skipping = false;
            start += nl + 1;
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        if end == buf.len() {
            if buf.len() >= MAX_LINE {
                skipping = true; // keep reading to the line's end, dropping its bytes
                end = 0;
            } else {
                buf.resize(buf.len() * 2, 0);
            }
        }
        let n = file.read(&mut buf[end..]).map_err(|e| io_err(path, e))?;
        if n == 0 {
            if end > 0 || skipping {
                number += 1;
                handle(inv, number, &buf[..end], skipping);
            }
            break;
        }
        end += n;
    }
    if rejected > MAX_LINE_PROBLEMS {
        inv.problems.push(Problem {
            path: SharedPath::new(path),
            line: None,
            message: format!("{} more unparsable lines", rejected - MAX_LINE_PROBLEMS),
        });
    }
    Ok(())
}

fn authorized_keys(path: &Path, inv: &mut SshInventory) -> Result<(), ScanError> {
    let file = SharedPath::new(path);
    let mut blob = Vec::with_capacity(1024);
    stream_lines(path, inv, |inv, line, bytes| {
        let entry = parse_authorized(bytes)?;
        let key = decode_key(entry.key_type, entry.base64, &mut blob)?;
        inv.authorized_keys.push(AuthorizedKey {
            file: file.clone(),
            line,
            options: split_options(entry.options),
            weaknesses: weaknesses(Some(&key), false),
            key,
            comment: text(entry.comment),
        });
        Ok(())
    })
}

fn known_hosts(path: &Path, inv: &mut SshInventory) -> Result<(), ScanError> {
    let file = SharedPath::new(path);
    let mut blob = Vec::with_capacity(1024);
    stream_lines(path, inv, |inv, line, bytes| {
        let entry = parse_known_host(bytes)?;
        let key = decode_key(entry.key_type, entry.base64, &mut blob)?;
        inv.known_hosts.push(KnownHost {
            file: file.clone(),
            line,
            marker: text(entry.marker),
            hosts: String::from_utf8_lossy(entry.hosts).into_owned(),
            key,
        });
        Ok(())
    })
}

/// Parses a `.pub` file: its first non-blank line, `keytype base64 [comment]`.
fn read_public(path: &Path) -> Result<(KeyInfo, Option<String>), String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let line = data
        .split(|b| *b == b'\n')
        .find(|l| !is_blank(l))
        .ok_or("empty public key file")?;
    let entry = parse_authorized(line)?;
    let key = decode_key(entry.key_type, entry.base64, &mut Vec::new())?;
    Ok((key, text(entry.comment)))
}

fn public_key(path: &Path, inv: &mut SshInventory) -> Result<(), ScanError> {
    match read_public(path) {
        Ok((key, comment)) => inv.public_keys.push(PublicKeyFile {
            path: SharedPath::new(path),
            weaknesses: weaknesses(Some(&key), false),
            key,
            comment,
            host_key: is_host_key(path),
        }),
        Err(message) => inv.problems.push(Problem {
            path: SharedPath::new(path),
            line: None,
            message,
        }),
    }
    Ok(())
}

fn private_key(path: &Path, inv: &mut SshInventory) -> Result<(), ScanError> {
    let data = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let parsed = match parse_private(&data) {
        Ok(parsed) => parsed,
        Err(message) => {
            inv.problems.push(Problem {
                path: SharedPath::new(path),
                line: None,
                message: message.into(),
            });
            return Ok(());
        }
    };
    let (mut key, mut comment) = (parsed.key, parsed.comment);
    // Encrypted PEM keys hide their public half; `ssh-keygen` writes it beside them.
    let mut sibling = path.as_os_str().to_owned();
    sibling.push(".pub");
    if let Ok((pub_key, pub_comment)) = read_public(Path::new(&sibling))
        && key.as_ref().is_none_or(|k| k.fingerprint == pub_key.fingerprint)
    {
        key = Some(pub_key);
        comment = comment.or(pub_comment);
    }
    inv.private_keys.push(PrivateKey {
        path: SharedPath::new(path),
        format: parsed.format,
        weaknesses: weaknesses(key.as_ref(), !parsed.encrypted),
        key,
        encrypted: parsed.encrypted,
        cipher: parsed.cipher,
        comment,
        host_key: is_host_key(path),
    });
    Ok(())
}
