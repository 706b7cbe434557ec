//! The hash chain: every line a device writes starts with `"seq"` (per device, +1 per line)
//! and `"prev_hash"` (hex SHA-256 of the previous line's exact bytes, without its newline).
//! The chain state is recovered at start from the log's last line, else from a small state
//! file next to it, so restarts and rotations continue the chain.

use serde::Deserialize;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// `prev_hash` of a device's very first line.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where a device's chain stands: the last line's `seq` and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainState {
    /// `seq` of the last line written (0 before the first).
    pub seq: u64,
    /// Hex SHA-256 of the last line written.
    pub hash: String,
}

impl Default for ChainState {
    fn default() -> Self {
        ChainState {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// The chain fields of a line (and the gap marker's count), as `verify` and recovery read them.
#[derive(Debug, Deserialize)]
pub(crate) struct Head {
    pub seq: u64,
    pub prev_hash: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub dropped: u64,
}

/// Hex SHA-256 of a line's bytes.
pub(crate) fn line_hash(line: &[u8]) -> String {
    super::hash::hex32(&coffer_crypto::sha256(line))
}

impl ChainState {
    /// Appends `body` (a JSON object) to `out` as the next chained line, newline included.
    pub fn stamp(&mut self, body: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let seq = self.seq + 1;
        out.extend_from_slice(b"{\"seq\":");
        out.extend_from_slice(seq.to_string().as_bytes());
        out.extend_from_slice(b",\"prev_hash\":\"");
        out.extend_from_slice(self.hash.as_bytes());
        out.push(b'"');
        match body.strip_prefix(b"{") {
            Some(b"}") | None => out.push(b'}'),
            Some(rest) => {
                out.push(b',');
                out.extend_from_slice(rest);
            }
        }
        self.hash = line_hash(&out[start..]);
        self.seq = seq;
        out.push(b'\n');
    }

    /// The state after `line` (its `seq` when it is a chained line).
    pub fn after_line(line: &[u8]) -> Option<ChainState> {
        let head: Head = serde_json::from_slice(line).ok()?;
        Some(ChainState {
            seq: head.seq,
            hash: line_hash(line),
        })
    }
}

/// The last complete line of `file` and the length up to its newline. A torn last line (no
/// newline: a crash mid-write) is not counted; the caller truncates it away.
pub(crate) fn last_line(file: &mut File) -> io::Result<(Option<Vec<u8>>, u64)> {
    const CHUNK: u64 = 64 * 1024;
    let len = file.metadata()?.len();
    // `buf` holds the file's bytes from `pos` to `len`; `newline` is the last '\n' (absolute).
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = len;
    let mut newline: Option<u64> = None;
    loop {
        if newline.is_none() {
            newline = buf.iter().rposition(|&b| b == b'\n').map(|i| pos + i as u64);
        }
        match newline {
            Some(n) => {
                let upto = (n - pos) as usize;
                if let Some(j) = buf[..upto].iter().rposition(|&b| b == b'\n') {
                    return Ok((Some(buf[j + 1..upto].to_vec()), n + 1));
                }
                if pos == 0 {
                    return Ok((Some(buf[..upto].to_vec()), n + 1));
                }
            }
            None if pos == 0 => return Ok((None, 0)),
            None => {}
        }
        let start = pos.saturating_sub(CHUNK);
        let mut chunk = vec![0u8; (pos - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        pos = start;
    }
}

/// A small file (`{"seq":…,"hash":"…"}`) that remembers the chain state when the log itself
/// cannot tell (an empty file after a rotation, or a socket/syslog device).
pub(crate) struct StateFile {
    path: PathBuf,
    file: Option<File>,
}

#[derive(serde::Serialize, Deserialize)]
struct Saved {
    seq: u64,
    hash: String,
}

impl StateFile {
    /// A state file at `path` (opened on first save).
    pub fn new(path: PathBuf) -> StateFile {
        StateFile { path, file: None }
    }

    /// The saved state, if the file exists and parses.
    pub fn load(&self) -> Option<ChainState> {
        let text = std::fs::read(&self.path).ok()?;
        let saved: Saved = serde_json::from_slice(&text).ok()?;
        Some(ChainState {
            seq: saved.seq,
            hash: saved.hash,
        })
    }

    /// Overwrites the saved state in place (fixed-size record; `sync` forces it to disk).
    pub fn save(&mut self, state: &ChainState, sync: bool) {
        if let Err(e) = self.try_save(state, sync) {
            self.file = None;
            tracing::warn!(path = %self.path.display(), error = %e, "cannot save the audit chain state");
        }
    }

    fn try_save(&mut self, state: &ChainState, sync: bool) -> io::Result<()> {
        if self.file.is_none() {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&self.path)?;
            self.file = Some(file);
        }
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| io::Error::other("state file not open"))?;
        let mut record = serde_json::to_vec(&Saved {
            seq: state.seq,
            hash: state.hash.clone(),
        })
        .map_err(io::Error::other)?;
        record.resize(127, b' ');
        record.push(b'\n');
        file.write_all_at(&record, 0)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn stamped_lines_link() {
        let mut chain = ChainState::default();
        let mut out = Vec::new();
        chain.stamp(br#"{"type":"request"}"#, &mut out);
        chain.stamp(b"{}", &mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!(r#"{{"seq":1,"prev_hash":"{GENESIS_HASH}","type":"request"}}"#)
        );
        assert_eq!(
            lines[1],
            format!(r#"{{"seq":2,"prev_hash":"{}"}}"#, line_hash(lines[0].as_bytes()))
        );
        assert_eq!(chain, ChainState::after_line(lines[1].as_bytes()).unwrap());
    }

    #[test]
    fn last_line_skips_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let long = "x".repeat(100_000);
        let mut f = File::create(&path).unwrap();
        write!(f, "a\n{long}\npartial").unwrap();
        let mut f = File::open(&path).unwrap();
        let (line, len) = last_line(&mut f).unwrap();
        assert_eq!(line.unwrap(), long.as_bytes());
        assert_eq!(len, 2 + long.len() as u64 + 1);
        std::fs::write(&path, "only\n").unwrap();
        let (line, len) = last_line(&mut File::open(&path).unwrap()).unwrap();
        assert_eq!((line.unwrap(), len), (b"only".to_vec(), 5));
        std::fs::write(&path, "").unwrap();
        assert_eq!(last_line(&mut File::open(&path).unwrap()).unwrap(), (None, 0));
    }
}
