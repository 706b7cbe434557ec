//! Walking files and directories in parallel (the `ignore` crate), reading each file once into
//! a per-thread buffer, and scanning it; plus stdin. Hidden and git-ignored files are scanned
//! by default; `.git/`, binaries, archives/media, minified bundles and big files are skipped.
//!
//! A file is read whole when it fits in [`CHUNK`] plus twice the scanner's margin (almost every
//! file), otherwise in chunks that overlap by that margin (see `engine::Stream`), so that a
//! thread's buffer never grows past about 340 KiB whatever the file sizes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};
use serde::Serialize;

use crate::{Finding, ScanError, Scanner};

/// Bytes at the start of a file searched for a NUL (binary detection).
const BINARY_PROBE: usize = 8 * 1024;
/// A line longer than this marks a script or stylesheet as a minified bundle.
const MINIFIED_LINE: usize = 16 * 1024;
/// Bytes of new input scanned per piece of a big file or of stdin.
const CHUNK: usize = 256 << 10;

/// Extensions of files that never hold scannable text.
const SKIP_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "psd", "heic", "avif", "zip", "gz", "tgz", "bz2",
    "xz", "7z", "rar", "tar", "zst", "lz4", "jar", "war", "ear", "whl", "egg", "nupkg", "apk", "ipa", "deb", "rpm",
    "dmg", "iso", "img", "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "m4a", "avi", "mov", "mkv", "wav", "flac",
    "ogg", "webm", "exe", "dll", "so", "dylib", "a", "o", "obj", "lib", "class", "pyc", "pyo", "wasm", "bin", "pdf",
    "doc", "docx", "xls", "xlsx", "ppt", "pptx", "sqlite", "db", "parquet", "avro", "map", "svgz", "rlib", "rmeta",
];

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Skip files ignored by `.gitignore`/`.ignore`/git excludes (default: scan them).
    pub respect_gitignore: bool,
    /// Files larger than this many bytes are skipped (and reported as skipped).
    pub max_file_size: u64,
    /// Worker threads (0 = available parallelism).
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            respect_gitignore: false,
            max_file_size: 10 * 1024 * 1024,
            threads: 0,
        }
    }
}

/// A file that was not scanned, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// Path as reported for findings.
    pub path: String,
    /// Why: `larger than N bytes`, `binary`, `minified`, or a read error.
    pub reason: String,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Findings, sorted by path, line and column.
    pub findings: Vec<Finding>,
    /// Files not scanned (too large, binary, minified, unreadable).
    pub skipped: Vec<Skipped>,
    /// Files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
}

/// Scans every file under `roots` (files or directories). `progress` is called after each
/// file with its size in bytes. Fails only when a root does not exist.
pub fn scan_paths(
    scanner: &Scanner,
    roots: &[PathBuf],
    options: &WalkOptions,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<ScanOutcome, ScanError> {
    let Some(first) = roots.first() else {
        return Ok(ScanOutcome::default());
    };
    for root in roots {
        std::fs::metadata(root).map_err(|source| ScanError::Io {
            path: root.display().to_string(),
            source,
        })?;
    }
    let mut builder = WalkBuilder::new(first);
    for root in &roots[1..] {
        builder.add(root);
    }
    let respect = options.respect_gitignore;
    builder
        .hidden(false)
        .parents(respect)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .require_git(false)
        .follow_links(false)
        .threads(threads(options.threads))
        .filter_entry(|e| e.file_name() != ".git");
    // With one directory root, report paths relative to it.
    let base = (roots.len() == 1 && first.is_dir()).then_some(first.as_path());
    let findings = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let (files, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    let max = options.max_file_size;
    builder.build_parallel().run(|| {
        let mut buf: Vec<u8> = Vec::new();
        let (findings, skipped, files, bytes) = (&findings, &skipped, &files, &bytes);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    lock(skipped).push(Skipped {
                        path: String::new(),
                        reason: e.to_string(),
                    });
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) || skip_by_name(entry.path()) {
                return WalkState::Continue;
            }
            let label = display_path(entry.path(), base);
            let scanned = std::fs::File::open(entry.path()).and_then(|mut file| {
                let len = file.metadata()?.len();
                if len > max {
                    return Ok(Err(format!("larger than {max} bytes")));
                }
                let bundle = is_bundle(entry.path());
                scan_source(scanner, &label, &mut file, len, Some(max), bundle, &mut buf)
            });
            match scanned {
                Ok(Ok((found, len))) => {
                    if !found.is_empty() {
                        lock(findings).extend(found);
                    }
                    files.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(len, Ordering::Relaxed);
                    if let Some(p) = progress {
                        p(len);
                    }
                }
                Ok(Err(reason)) => lock(skipped).push(Skipped { path: label, reason }),
                Err(e) => lock(skipped).push(Skipped {
                    path: label,
                    reason: format!("cannot read: {e}"),
                }),
            }
            WalkState::Continue
        })
    });
    scanner.release_caches();
    let mut findings = findings.into_inner().unwrap_or_else(|e| e.into_inner());
    sort_findings(&mut findings);
    let mut skipped = skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ScanOutcome {
        findings,
        skipped,
        files: files.into_inner(),
        bytes: bytes.into_inner(),
    })
}

/// Scans everything `reader` yields (stdin), reported under `label` (`-`).
pub fn scan_reader(scanner: &Scanner, label: &str, mut reader: impl Read) -> Result<ScanOutcome, ScanError> {
    let io_err = |source| ScanError::Io {
        path: label.to_string(),
        source,
    };
    let mut buf = Vec::new();
    let scanned = scan_source(scanner, label, &mut reader, CHUNK as u64, None, false, &mut buf).map_err(io_err)?;
    scanner.release_caches();
    Ok(match scanned {
        Ok((findings, bytes)) => ScanOutcome {
            findings,
            files: 1,
            bytes,
            ..ScanOutcome::default()
        },
        Err(reason) => {
            // Binary: the rest is not scanned, only counted.
            let rest = std::io::copy(&mut reader, &mut std::io::sink()).map_err(io_err)?;
            ScanOutcome {
                skipped: vec![Skipped {
                    path: label.to_string(),
                    reason,
                }],
                bytes: buf.len() as u64 + rest,
                ..ScanOutcome::default()
            }
        }
    })
}

/// Orders findings by path, line, column, rule.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id)));
}

fn threads(n: usize) -> usize {
    if n > 0 {
        n
    } else {
        std::thread::available_parallelism().map_or(2, usize::from)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `path` relative to `base` (when given and possible), `/`-separated, without `./`.
fn display_path(path: &Path, base: Option<&Path>) -> String {
    let rel = base
        .and_then(|b| path.strip_prefix(b).ok())
        .filter(|r| !r.as_os_str().is_empty());
    let shown = rel.unwrap_or(path).to_string_lossy().replace('\\', "/");
    shown.strip_prefix("./").map(str::to_string).unwrap_or(shown)
}

/// Archives, media, compiled objects and minified assets, by name.
pub fn skip_by_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".min.js") || name.ends_with(".min.css") || name.ends_with(".min.mjs") {
        return true;
    }
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| SKIP_EXTENSIONS.contains(&ext))
}

/// A script or stylesheet, which is skipped when minified (a line longer than [`MINIFIED_LINE`]).
fn is_bundle(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("js" | "mjs" | "cjs" | "css"))
}

/// Reads `source` (`len` bytes expected) piece by piece into `buf` and scans it. `Ok(Err(why))`
/// when it is not scanned: `binary` (a NUL in the first [`BINARY_PROBE`] bytes), `minified`
/// (a `bundle` with a very long line) or larger than `max` (it grew while being read). Returns
/// the findings and the number of bytes. `buf` keeps at most one chunk and two margins.
fn scan_source(
    scanner: &Scanner,
    label: &str,
    source: &mut impl Read,
    len: u64,
    max: Option<u64>,
    bundle: bool,
    buf: &mut Vec<u8>,
) -> std::io::Result<Result<(Vec<Finding>, u64), String>> {
    let room = CHUNK + 2 * scanner.margin();
    // One more byte than expected: a file read whole sees its end in the first read.
    let mut want = usize::try_from(len.saturating_add(1)).map_or(room, |n| n.min(room));
    let mut stream = scanner.stream(label);
    let mut total = 0u64;
    let mut line = 0usize;
    buf.clear();
    loop {
        let old = buf.len();
        let eof = fill(source, buf, want)?;
        let new = &buf[old..];
        total += new.len() as u64;
        if let Some(max) = max.filter(|&m| total > m) {
            return Ok(Err(format!("larger than {max} bytes")));
        }
        if total == new.len() as u64 && memchr::memchr(0, &new[..new.len().min(BINARY_PROBE)]).is_some() {
            return Ok(Err("binary".into()));
        }
        if bundle && long_line(&mut line, new) {
            return Ok(Err("minified".into()));
        }
        let used = stream.feed(buf, eof);
        if eof {
            return Ok(Ok((stream.finish(), total)));
        }
        buf.drain(..used);
        want = room;
    }
}

/// Reads into `buf` until it holds `want` bytes or the input ends (then returns true).
fn fill(source: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let mut filled = buf.len();
    buf.resize(want.max(filled), 0);
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => {
                buf.truncate(filled);
                return Ok(true);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    Ok(false)
}

/// True when `bytes`, which continue a text whose last line is `line` bytes long so far, make
/// a line longer than [`MINIFIED_LINE`]; `line` becomes the length of the new last line.
fn long_line(line: &mut usize, bytes: &[u8]) -> bool {
    let mut prev = 0;
    for i in memchr::memchr_iter(b'\n', bytes) {
        if *line + i - prev > MINIFIED_LINE {
            return true;
        }
        *line = 0;
        prev = i + 1;
    }
    *line += bytes.len() - prev;
    *line > MINIFIED_LINE
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
