//! Walking files and directories in parallel (the `ignore` crate), reading each file once into
//! a per-thread buffer, and scanning it; plus stdin. Hidden and git-ignored files are scanned
//! by default; `.git/`, binaries, archives/media, minified bundles and big files are skipped.

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
/// A per-thread buffer larger than this is released after use.
const KEEP_BUFFER: usize = 1 << 20;

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
            match read_file(entry.path(), options.max_file_size, &mut buf) {
                Ok(Some(())) => {}
                Ok(None) => {
                    let reason = format!("larger than {} bytes", options.max_file_size);
                    lock(skipped).push(Skipped { path: label, reason });
                    return WalkState::Continue;
                }
                Err(e) => {
                    lock(skipped).push(Skipped {
                        path: label,
                        reason: format!("cannot read: {e}"),
                    });
                    return WalkState::Continue;
                }
            }
            if let Some(reason) = skip_by_content(entry.path(), &buf) {
                lock(skipped).push(Skipped {
                    path: label,
                    reason: reason.into(),
                });
            } else {
                let found = scanner.scan_bytes(&label, &buf);
                if !found.is_empty() {
                    lock(findings).extend(found);
                }
                files.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
                if let Some(p) = progress {
                    p(buf.len() as u64);
                }
            }
            if buf.capacity() > KEEP_BUFFER {
                buf = Vec::new();
            }
            WalkState::Continue
        })
    });
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
    let mut buf = Vec::new();
    reader.read_to_end(&mut buf).map_err(|source| ScanError::Io {
        path: label.to_string(),
        source,
    })?;
    let mut outcome = ScanOutcome {
        files: 1,
        bytes: buf.len() as u64,
        ..ScanOutcome::default()
    };
    if memchr::memchr(0, &buf[..buf.len().min(BINARY_PROBE)]).is_some() {
        outcome.skipped.push(Skipped {
            path: label.to_string(),
            reason: "binary".into(),
        });
        outcome.files = 0;
    } else {
        outcome.findings = scanner.scan_bytes(label, &buf);
    }
    Ok(outcome)
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

/// Binary content (a NUL early on) or a minified script/stylesheet (a very long line).
fn skip_by_content(path: &Path, data: &[u8]) -> Option<&'static str> {
    if memchr::memchr(0, &data[..data.len().min(BINARY_PROBE)]).is_some() {
        return Some("binary");
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let bundle = matches!(ext.as_deref(), Some("js" | "mjs" | "cjs" | "css"));
    if bundle && data.len() > MINIFIED_LINE {
        let mut prev = 0;
        for i in memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len())) {
            if i - prev > MINIFIED_LINE {
                return Some("minified");
            }
            prev = i + 1;
        }
    }
    None
}

/// Reads the whole file into `buf` (sized once, no doubling); `Ok(None)` when it is larger
/// than `max`.
fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Option<()>> {
    buf.clear();
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(None);
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    buf.resize(len, 0);
    let mut filled = 0;
    while filled < len {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    // The file may have grown since the metadata call: read the rest, within the limit.
    let mut probe = [0u8; 1];
    if filled == len && file.read(&mut probe)? == 1 {
        buf.push(probe[0]);
        (&mut file).take(max).read_to_end(buf)?;
        if buf.len() as u64 > max {
            buf.clear();
            return Ok(None);
        }
    }
    Ok(Some(()))
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
