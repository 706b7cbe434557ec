//! Harness for end-to-end tests: starts the real `coffer` binary on a free loopback port,
//! with its data in a temporary directory, and talks to it over HTTP like any client.
//!
//! The binary comes from `$COFFER_BIN`, else `<workspace>/target/debug/coffer`. A missing
//! binary is a failure with instructions, never a silent skip.

#![allow(missing_docs)]

use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first health check.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// `--storage memory`: lost on exit.
    Memory,
    /// `--storage sqlite:<tempdir>/coffer.db`.
    Sqlite,
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Options {
    pub storage: StorageKind,
    /// `--dev`: initialised, unsealed, `secret/` as KV v2.
    pub dev: bool,
    /// `--dev-root-token-id`.
    pub dev_root_token_id: Option<String>,
    /// Contents of a TOML config file passed with `--config`.
    pub config: Option<String>,
}

impl Options {
    pub fn new(storage: StorageKind) -> Self {
        Options {
            storage,
            dev: false,
            dev_root_token_id: None,
            config: None,
        }
    }
}

/// Path of the `coffer` binary under test; panics with instructions if it is missing.
pub fn coffer_bin() -> PathBuf {
    let path = match std::env::var_os("COFFER_BIN") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/coffer"),
    };
    if !path.is_file() {
        panic!(
            "the coffer binary was not found at {}: run `cargo build --bin coffer` first \
             (or point COFFER_BIN at a built binary)",
            path.display()
        );
    }
    path
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A running `coffer server` child process. Killed on drop.
pub struct CofferServer {
    dir: tempfile::TempDir,
    opts: Options,
    child: Option<Child>,
    port: u16,
    client: reqwest::Client,
    /// Root token: from `--dev` output or set by `init`.
    pub root_token: Option<String>,
    /// Unseal keys (hex) from `init`, or the dev unseal key.
    pub keys: Vec<String>,
}

impl CofferServer {
    /// Starts an uninitialised, sealed server.
    pub async fn start(storage: StorageKind) -> CofferServer {
        Self::start_with(Options::new(storage)).await
    }

    /// Starts a `--dev` server (memory storage): initialised, unsealed, root token known.
    pub async fn start_dev() -> CofferServer {
        Self::start_with(Options {
            dev: true,
            ..Options::new(StorageKind::Memory)
        })
        .await
    }

    /// Starts a server, initialises it with one share and unseals it. Root token is set.
    pub async fn start_unsealed(storage: StorageKind) -> CofferServer {
        let mut s = Self::start(storage).await;
        let (keys, _) = s.init(1, 1).await;
        s.unseal(&keys).await;
        s
    }

    pub async fn start_with(opts: Options) -> CofferServer {
        let dir = tempfile::Builder::new()
            .prefix("coffer-e2e-")
            .tempdir()
            .expect("tempdir");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client");
        let mut server = CofferServer {
            dir,
            opts,
            child: None,
            port: 0,
            client,
            root_token: None,
            keys: vec![],
        };
        server.spawn().await;
        server
    }

    fn log_file(&self, name: &str) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(name))
            .expect("log file")
    }

    /// Process id of the running server, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The tempdir holding the database, config and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite database file (only meaningful with `StorageKind::Sqlite`).
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("coffer.db")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT/v1/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v1/{}", self.addr(), path.trim_start_matches('/'))
    }

    /// A plain HTTP client (no proxy) for requests the helpers do not cover.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The root token; panics if unknown.
    pub fn root(&self) -> String {
        self.root_token
            .clone()
            .expect("root token not known: call init() or start in dev mode")
    }

    /// Server stdout and stderr so far (for panic messages).
    pub fn logs(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            read("stdout.log"),
            read("stderr.log")
        )
    }

    async fn spawn(&mut self) {
        let bin = coffer_bin();
        self.port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.arg("server")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port));
        match self.opts.storage {
            StorageKind::Memory => cmd.arg("--storage").arg("memory"),
            StorageKind::Sqlite => cmd.arg("--storage").arg(format!("sqlite:{}", self.db_path().display())),
        };
        if let Some(config) = &self.opts.config {
            let path = self.dir.path().join("coffer.toml");
            std::fs::write(&path, config).expect("write config");
            cmd.arg("--config").arg(path);
        }
        if self.opts.dev {
            cmd.arg("--dev");
            if let Some(id) = &self.opts.dev_root_token_id {
                cmd.arg("--dev-root-token-id").arg(id);
            }
        }
        cmd.env_remove("COFFER_DEV_ROOT_TOKEN_ID")
            .stdin(Stdio::null())
            .stdout(self.log_file("stdout.log"))
            .stderr(self.log_file("stderr.log"));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        self.child = Some(child);
        self.wait_ready().await;
        if self.opts.dev {
            self.read_dev_credentials();
        }
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("coffer server exited early with {status}\n{}", self.logs());
            }
            if let Ok(resp) = self
                .client
                .get(self.url("sys/health"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                // Any HTTP answer (200, 429, 501, 503…) means the listener is up.
                let _ = resp.bytes().await;
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "coffer server did not answer sys/health within {START_TIMEOUT:?}\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn read_dev_credentials(&mut self) {
        let out = std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default();
        let find = |label: &str| {
            out.lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
        };
        let root =
            find("Root Token:").unwrap_or_else(|| panic!("dev server printed no `Root Token:` line\n{}", self.logs()));
        let key =
            find("Unseal Key:").unwrap_or_else(|| panic!("dev server printed no `Unseal Key:` line\n{}", self.logs()));
        self.root_token = Some(root);
        self.keys = vec![key];
    }

    /// SIGKILL the server (no chance to flush or clean up), and reap it.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM the server and wait (bounded) for it to exit; SIGKILL if it does not.
    pub fn stop_graceful(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the child process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGKILL, then start again on the same storage (a new port). The server comes back
    /// sealed (unless in dev mode).
    pub async fn restart(&mut self) {
        self.kill_hard();
        self.spawn().await;
    }

    /// Graceful stop (SIGTERM), then start again on the same storage.
    pub async fn restart_graceful(&mut self) {
        self.stop_graceful();
        self.spawn().await;
    }

    /// One request. `method` may be any token, including `LIST`. Returns the status and the
    /// JSON body (`Value::Null` for an empty body; a non-JSON body becomes a JSON string).
    pub async fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.header("X-Vault-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}\n{}", self.logs()));
        split(resp).await
    }

    /// A request with the root token.
    pub async fn root_req(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request(method, path, Some(&self.root()), body).await
    }

    /// `PUT sys/init`; remembers the keys and root token. Panics unless 200.
    pub async fn init(&mut self, shares: u8, threshold: u8) -> (Vec<String>, String) {
        let (status, body) = self
            .request(
                "PUT",
                "sys/init",
                None,
                Some(serde_json::json!({ "secret_shares": shares, "secret_threshold": threshold })),
            )
            .await;
        assert_eq!(status, 200, "init failed: {body}\n{}", self.logs());
        let keys: Vec<String> = body["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k.as_str().expect("key").to_string())
            .collect();
        let root = body["root_token"].as_str().expect("root_token").to_string();
        self.keys = keys.clone();
        self.root_token = Some(root.clone());
        (keys, root)
    }

    /// Submits keys until unsealed; panics if still sealed after all of them.
    pub async fn unseal(&self, keys: &[String]) {
        let mut last = Value::Null;
        for key in keys {
            let (status, body) = self
                .request("PUT", "sys/unseal", None, Some(serde_json::json!({ "key": key })))
                .await;
            assert_eq!(status, 200, "unseal failed: {body}\n{}", self.logs());
            if body["sealed"] == Value::Bool(false) {
                return;
            }
            last = body;
        }
        panic!("still sealed after {} keys: {last}\n{}", keys.len(), self.logs());
    }

    /// Unseals with the keys remembered from `init` (or dev mode).
    pub async fn unseal_again(&self) {
        let keys = self.keys.clone();
        self.unseal(&keys).await;
    }

    /// Runs the `coffer` CLI against this server with `COFFER_ADDR` / `COFFER_TOKEN` set.
    pub fn cli(&self, args: &[&str], token: Option<&str>) -> CliOutput {
        let mut cmd = Command::new(coffer_bin());
        cmd.args(args)
            .env("COFFER_ADDR", self.addr())
            .env_remove("COFFER_TOKEN")
            .stdin(Stdio::null());
        for var in [
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "BAO_ADDR",
            "BAO_TOKEN",
            "COFFER_DEV_ROOT_TOKEN_ID",
        ] {
            cmd.env_remove(var);
        }
        if let Some(t) = token {
            cmd.env("COFFER_TOKEN", t);
        }
        let out = cmd.output().expect("run coffer cli");
        CliOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for CofferServer {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// Status and JSON body of a response.
pub async fn split(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Result of one CLI run.
#[derive(Debug)]
pub struct CliOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Panics with the output unless the exit code is 0.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "CLI failed: {self:#?}");
        &self.stdout
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("CLI output is not JSON ({e}): {self:#?}"))
    }
}

/// The `errors` array of an error body; panics if the body is not `{"errors":[...]}`.
pub fn errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected an {{\"errors\": [...]}} body, got {body}"))
        .iter()
        .map(|e| e.as_str().unwrap_or_default().to_string())
        .collect()
}

/// A random-looking unique string (for values that must not collide with anything).
pub fn unique(label: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{label}-{:x}-{}-{}",
        nanos,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl CofferServer {
    /// Sends `head` (request line and headers, without the final blank line) and `body`
    /// verbatim over a fresh TCP connection, bypassing URL normalisation. Returns the status
    /// and the response body text.
    pub async fn raw_http(&self, head: &str, body: &[u8]) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to coffer server");
        let mut req = head.trim_end().replace('\n', "\r\n").replace("\r\r", "\r").into_bytes();
        req.extend_from_slice(
            format!(
                "\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                self.port,
                body.len()
            )
            .as_bytes(),
        );
        req.extend_from_slice(body);
        stream.write_all(&req).await.expect("write request");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in response {text:?}\n{}", self.logs()));
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}
