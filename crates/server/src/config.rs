//! Server configuration: a TOML file, overridden by command-line flags.

use crate::ServerArgs;
use anyhow::{Context, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default listener address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8200";
/// Default body limit: 32 MiB.
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 32 * 1024 * 1024;
/// Default `listener.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default `listener.max_header_bytes`: 64 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// Smallest `listener.max_header_bytes` (hyper's minimum read buffer).
pub const MIN_MAX_HEADER_BYTES: usize = 8192;
/// Default `listener.http_read_header_timeout`, seconds.
pub const DEFAULT_HTTP_READ_HEADER_TIMEOUT: u64 = 30;
/// Default `listener.http_read_timeout`, seconds.
pub const DEFAULT_HTTP_READ_TIMEOUT: u64 = 30;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listener settings.
    #[serde(default)]
    pub listener: ListenerConfig,
    /// Storage settings.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Seal settings.
    #[serde(default)]
    pub seal: SealSettings,
    /// error | warn | info | debug | trace.
    pub log_level: Option<String>,
    /// Default token/lease TTL (e.g. "768h").
    pub default_lease_ttl: Option<String>,
    /// Maximum token/lease TTL.
    pub max_lease_ttl: Option<String>,
    /// Largest accepted request body in bytes (413 above).
    pub max_request_size: Option<usize>,
    /// Entries kept in the storage read cache.
    pub cache_size: Option<usize>,
}

/// `[listener]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// Address to bind, e.g. `127.0.0.1:8200`.
    pub address: Option<String>,
    /// PEM certificate chain; with `tls_key_file` enables TLS.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key.
    pub tls_key_file: Option<PathBuf>,
    /// Allow plaintext HTTP on a non-loopback address (refused unless set).
    #[serde(default)]
    pub allow_plaintext_non_loopback: bool,
    /// Most connections served at once; further ones wait in the kernel's accept queue.
    pub max_connections: Option<usize>,
    /// Largest request line + headers in bytes (431 above).
    pub max_header_bytes: Option<usize>,
    /// Time allowed to receive a request's headers; also how long an idle keep-alive
    /// connection is kept. `"0"` disables.
    pub http_read_header_timeout: Option<String>,
    /// Time allowed to receive a request's body once its headers are in (408 above).
    /// `"0"` disables.
    pub http_read_timeout: Option<String>,
    /// Deepest JSON nesting accepted in a request body (400 above; at most 128).
    pub max_json_depth: Option<usize>,
    /// Longest JSON string accepted in a request body, in bytes.
    pub max_json_string_value_length: Option<usize>,
    /// Most entries of one JSON object in a request body.
    pub max_json_object_entry_count: Option<usize>,
    /// Most elements of one JSON array in a request body.
    pub max_json_array_element_count: Option<usize>,
}

/// Listener limits after validation (see `ListenerConfig`).
#[derive(Debug, Clone)]
pub struct ListenerLimits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Request line + headers, bytes.
    pub max_header_bytes: usize,
    /// Header read timeout (`None`: none).
    pub http_read_header_timeout: Option<std::time::Duration>,
    /// Body read timeout (`None`: none).
    pub http_read_timeout: Option<std::time::Duration>,
    /// JSON body limits.
    pub json: crate::decode::JsonLimits,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            http_read_header_timeout: Some(std::time::Duration::from_secs(DEFAULT_HTTP_READ_HEADER_TIMEOUT)),
            http_read_timeout: Some(std::time::Duration::from_secs(DEFAULT_HTTP_READ_TIMEOUT)),
            json: crate::decode::JsonLimits::default(),
        }
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite` (default) or `memory`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// SQLite file.
    pub path: Option<PathBuf>,
}

/// `[seal]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SealSettings {
    /// Only `shamir` for now.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Where data lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    /// Lost on exit.
    Memory,
    /// One SQLite file.
    Sqlite(PathBuf),
}

/// Configuration after merging file and flags, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listener address.
    pub listen: SocketAddr,
    /// TLS certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Storage.
    pub storage: Storage,
    /// Log filter.
    pub log_level: String,
    /// Default TTL seconds.
    pub default_lease_ttl: u64,
    /// Max TTL seconds.
    pub max_lease_ttl: u64,
    /// Body limit.
    pub max_request_size: usize,
    /// Read cache entries.
    pub cache_size: usize,
    /// Connection, header, timeout and JSON limits of the listener.
    pub limits: ListenerLimits,
    /// Dev mode.
    pub dev: bool,
}

/// Default SQLite file: `$COFFER_DATA_DIR/coffer.db`, else `$XDG_DATA_HOME/coffer/coffer.db`,
/// else `~/.local/share/coffer/coffer.db`.
pub fn default_sqlite_path() -> PathBuf {
    let dir = std::env::var_os("COFFER_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_DATA_HOME").map(|d| PathBuf::from(d).join("coffer")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/coffer")))
        .unwrap_or_else(|| PathBuf::from("coffer-data"));
    dir.join("coffer.db")
}

fn parse_storage(spec: &str) -> anyhow::Result<Storage> {
    match spec.split_once(':') {
        _ if spec == "memory" => Ok(Storage::Memory),
        Some(("sqlite", path)) if !path.is_empty() => Ok(Storage::Sqlite(PathBuf::from(path))),
        _ if spec == "sqlite" => Ok(Storage::Sqlite(default_sqlite_path())),
        _ => bail!("invalid --storage \"{spec}\": use \"memory\" or \"sqlite:PATH\""),
    }
}

fn ttl(value: &Option<String>, name: &str, default: u64) -> anyhow::Result<u64> {
    match value {
        None => Ok(default),
        Some(s) => coffer_core::duration::parse(s).with_context(|| format!("{name}: invalid duration \"{s}\"")),
    }
}

/// Parses the text of a config file (TOML). Pure, so it is fuzzed on its own (fuzz/).
pub fn parse(text: &str) -> anyhow::Result<Config> {
    Ok(toml::from_str(text)?)
}

fn timeout(value: &Option<String>, name: &str, default: u64) -> anyhow::Result<Option<std::time::Duration>> {
    let secs = ttl(value, name, default)?;
    Ok((secs > 0).then(|| std::time::Duration::from_secs(secs)))
}

fn at_least_one(value: Option<usize>, name: &str, default: usize) -> anyhow::Result<usize> {
    match value {
        None => Ok(default),
        Some(0) => bail!("listener.{name} must be at least 1"),
        Some(v) => Ok(v),
    }
}

fn listener_limits(l: &ListenerConfig) -> anyhow::Result<ListenerLimits> {
    use crate::decode::{self, JsonLimits};
    let max_header_bytes = l.max_header_bytes.unwrap_or(DEFAULT_MAX_HEADER_BYTES);
    if max_header_bytes < MIN_MAX_HEADER_BYTES {
        bail!("listener.max_header_bytes must be at least {MIN_MAX_HEADER_BYTES}");
    }
    let max_depth = at_least_one(l.max_json_depth, "max_json_depth", decode::DEFAULT_MAX_JSON_DEPTH)?;
    if max_depth > decode::MAX_JSON_DEPTH_LIMIT {
        bail!("listener.max_json_depth cannot exceed {}", decode::MAX_JSON_DEPTH_LIMIT);
    }
    Ok(ListenerLimits {
        max_connections: at_least_one(l.max_connections, "max_connections", DEFAULT_MAX_CONNECTIONS)?,
        max_header_bytes,
        http_read_header_timeout: timeout(
            &l.http_read_header_timeout,
            "listener.http_read_header_timeout",
            DEFAULT_HTTP_READ_HEADER_TIMEOUT,
        )?,
        http_read_timeout: timeout(
            &l.http_read_timeout,
            "listener.http_read_timeout",
            DEFAULT_HTTP_READ_TIMEOUT,
        )?,
        json: JsonLimits {
            max_depth,
            max_string_value_length: at_least_one(
                l.max_json_string_value_length,
                "max_json_string_value_length",
                decode::DEFAULT_MAX_JSON_STRING_VALUE_LENGTH,
            )?,
            max_object_entry_count: at_least_one(
                l.max_json_object_entry_count,
                "max_json_object_entry_count",
                decode::DEFAULT_MAX_JSON_OBJECT_ENTRY_COUNT,
            )?,
            max_array_element_count: at_least_one(
                l.max_json_array_element_count,
                "max_json_array_element_count",
                decode::DEFAULT_MAX_JSON_ARRAY_ELEMENT_COUNT,
            )?,
        },
    })
}

/// Reads a config file.
pub fn load(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    parse(&text).with_context(|| format!("invalid config file {}", path.display()))
}

/// Merges the config file (if any) and flags into validated settings.
pub fn resolve(args: &ServerArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => load(path)?,
        None => Config::default(),
    };
    let address = args
        .listen
        .clone()
        .or(file.listener.address.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen: SocketAddr = address
        .parse()
        .with_context(|| format!("invalid listener address \"{address}\" (expected IP:PORT)"))?;
    let tls = match (&file.listener.tls_cert_file, &file.listener.tls_key_file) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => bail!("listener: tls_cert_file and tls_key_file must be given together"),
    };
    if tls.is_none() && !listen.ip().is_loopback() && !file.listener.allow_plaintext_non_loopback {
        bail!(
            "refusing to listen on {listen} without TLS: set listener.tls_cert_file and tls_key_file, \
             or listener.allow_plaintext_non_loopback = true in the config file"
        );
    }
    let storage = match (&args.storage, &file.storage.kind) {
        (Some(spec), _) => parse_storage(spec)?,
        (None, Some(kind)) if kind == "memory" => Storage::Memory,
        (None, Some(kind)) if kind == "sqlite" => {
            Storage::Sqlite(file.storage.path.clone().unwrap_or_else(default_sqlite_path))
        }
        (None, Some(kind)) => bail!("storage.type \"{kind}\" is not supported (use \"sqlite\" or \"memory\")"),
        (None, None) if args.dev => Storage::Memory,
        (None, None) => Storage::Sqlite(file.storage.path.clone().unwrap_or_else(default_sqlite_path)),
    };
    if let Some(kind) = &file.seal.kind
        && kind != "shamir"
    {
        bail!("seal.type \"{kind}\" is not supported (only \"shamir\")");
    }
    let default_lease_ttl = ttl(&file.default_lease_ttl, "default_lease_ttl", 768 * 3600)?;
    let max_lease_ttl = ttl(&file.max_lease_ttl, "max_lease_ttl", 768 * 3600)?;
    if default_lease_ttl > max_lease_ttl {
        bail!("default_lease_ttl cannot be greater than max_lease_ttl");
    }
    let limits = listener_limits(&file.listener)?;
    Ok(Settings {
        listen,
        tls,
        storage,
        log_level: args
            .log_level
            .clone()
            .or(file.log_level)
            .unwrap_or_else(|| "info".into()),
        default_lease_ttl,
        max_lease_ttl,
        max_request_size: file.max_request_size.unwrap_or(DEFAULT_MAX_REQUEST_SIZE),
        cache_size: file.cache_size.unwrap_or(100_000),
        limits,
        dev: args.dev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(listen: &str, storage: Option<&str>) -> ServerArgs {
        ServerArgs {
            listen: Some(listen.into()),
            storage: storage.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn flags_pick_storage() {
        let s = resolve(&args("127.0.0.1:0", Some("memory"))).unwrap();
        assert_eq!(s.storage, Storage::Memory);
        let s = resolve(&args("127.0.0.1:0", Some("sqlite:/tmp/x.db"))).unwrap();
        assert_eq!(s.storage, Storage::Sqlite("/tmp/x.db".into()));
        assert!(resolve(&args("127.0.0.1:0", Some("redis"))).is_err());
    }

    #[test]
    fn plaintext_non_loopback_is_refused() {
        let err = resolve(&args("0.0.0.0:8200", Some("memory"))).unwrap_err();
        assert!(err.to_string().contains("without TLS"), "{err}");
    }

    #[test]
    fn config_file_is_read_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coffer.toml");
        std::fs::write(
            &path,
            "log_level = \"debug\"\n[listener]\naddress = \"127.0.0.1:9999\"\n[storage]\ntype = \"memory\"\n",
        )
        .unwrap();
        let mut a = ServerArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let s = resolve(&a).unwrap();
        assert_eq!(s.listen.port(), 9999);
        assert_eq!(s.storage, Storage::Memory);
        assert_eq!(s.log_level, "debug");
        a.listen = Some("127.0.0.1:7777".into());
        assert_eq!(resolve(&a).unwrap().listen.port(), 7777);
        std::fs::write(&path, "[listener]\nadress = \"x\"\n").unwrap();
        assert!(resolve(&a).is_err(), "unknown keys are rejected");
    }

    #[test]
    fn listener_limits_have_defaults_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coffer.toml");
        let a = ServerArgs {
            config: Some(path.clone()),
            ..args("127.0.0.1:0", Some("memory"))
        };
        std::fs::write(&path, "").unwrap();
        let l = resolve(&a).unwrap().limits;
        assert_eq!(l.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(l.max_header_bytes, DEFAULT_MAX_HEADER_BYTES);
        assert_eq!(l.http_read_timeout, Some(std::time::Duration::from_secs(30)));
        assert_eq!(l.json, crate::decode::JsonLimits::default());
        std::fs::write(
            &path,
            "[listener]\nmax_connections = 2\nmax_header_bytes = 9000\nhttp_read_timeout = \"1s\"\n\
             http_read_header_timeout = \"0\"\nmax_json_depth = 5\nmax_json_string_value_length = 10\n\
             max_json_object_entry_count = 3\nmax_json_array_element_count = 4\n",
        )
        .unwrap();
        let l = resolve(&a).unwrap().limits;
        assert_eq!(l.max_connections, 2);
        assert_eq!(l.max_header_bytes, 9000);
        assert_eq!(l.http_read_timeout, Some(std::time::Duration::from_secs(1)));
        assert_eq!(l.http_read_header_timeout, None, "0 disables");
        assert_eq!(
            (
                l.json.max_depth,
                l.json.max_string_value_length,
                l.json.max_object_entry_count,
                l.json.max_array_element_count
            ),
            (5, 10, 3, 4)
        );
        for bad in [
            "max_connections = 0",
            "max_header_bytes = 100",
            "max_json_depth = 129",
            "max_json_depth = 0",
            "http_read_timeout = \"soon\"",
        ] {
            std::fs::write(&path, format!("[listener]\n{bad}\n")).unwrap();
            assert!(resolve(&a).is_err(), "{bad} is refused");
        }
    }
}
