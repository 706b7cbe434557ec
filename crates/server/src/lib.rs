//! Coffer's HTTP server: the Vault wire format over axum, TLS through rustls.

pub mod config;
pub mod decode;
pub mod hardening;
pub mod http;
pub mod listener;
pub mod tls;

use anyhow::Context;
use coffer_core::{Core, CoreConfig, Registry};
use coffer_storage::{DynPhysical, cache::CachedPhysical, memory::MemoryBackend, sqlite::SqliteBackend};
use config::{Settings, Storage};
use std::path::PathBuf;
use std::sync::Arc;

/// `coffer server` flags. Flags override the config file; with no config file and no flags
/// the server keeps its data in SQLite under the data directory and listens on 127.0.0.1:8200.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// Path to a TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Listener address, e.g. 127.0.0.1:8200.
    #[arg(long)]
    pub listen: Option<String>,
    /// Storage: `memory` or `sqlite:PATH`.
    #[arg(long)]
    pub storage: Option<String>,
    /// Development mode: in-memory unless --storage is given, initialised and unsealed at
    /// start, `secret/` mounted as KV v2; prints the root token and unseal key.
    #[arg(long)]
    pub dev: bool,
    /// Root token to use in dev mode instead of a random one.
    #[arg(long, env = "COFFER_DEV_ROOT_TOKEN_ID")]
    pub dev_root_token_id: Option<String>,
    /// Log level: error, warn, info, debug, trace.
    #[arg(long)]
    pub log_level: Option<String>,
}

/// The engines every server mounts from.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    coffer_engines::register_all(&mut registry);
    registry
}

/// Opens the configured storage, behind the read cache.
pub fn open_storage(settings: &Settings) -> anyhow::Result<DynPhysical> {
    let inner: DynPhysical = match &settings.storage {
        Storage::Memory => Arc::new(MemoryBackend::new()),
        Storage::Sqlite(path) => Arc::new(
            SqliteBackend::open(path).with_context(|| format!("cannot open SQLite storage at {}", path.display()))?,
        ),
    };
    Ok(Arc::new(CachedPhysical::new(inner, settings.cache_size)))
}

/// Builds a sealed core for the settings.
pub fn build_core(settings: &Settings) -> anyhow::Result<Core> {
    let storage_type = match settings.storage {
        Storage::Memory => "inmem",
        Storage::Sqlite(_) => "sqlite",
    };
    Ok(Core::new(
        open_storage(settings)?,
        registry(),
        CoreConfig {
            default_lease_ttl: settings.default_lease_ttl,
            max_lease_ttl: settings.max_lease_ttl,
            storage_type: storage_type.into(),
        },
    ))
}

/// The axum application.
pub fn app(core: Core, settings: &Settings) -> axum::Router {
    use axum::routing::any;
    axum::Router::new()
        .route("/v1/{*path}", any(http::handle))
        .with_state(http::AppState {
            core,
            max_request_size: settings.max_request_size,
            read_timeout: settings.limits.http_read_timeout,
            json_limits: settings.limits.json,
        })
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "warn,coffer_core={level},coffer_server={level},coffer_engines={level},coffer_storage={level}"
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Dev mode: initialise with one share, unseal, mount `secret/` as KV v2, print credentials.
async fn bootstrap_dev(core: &Core, root_token_id: Option<&str>, settings: &Settings) -> anyhow::Result<()> {
    use base64::Engine as _;
    use secrecy::ExposeSecret;
    let out = core.initialize(1, 1).await?;
    let key = out.shares[0].clone();
    core.submit_unseal_key(key.clone()).await?;
    let mut root = out.root_token;
    if let Some(id) = root_token_id {
        let req = coffer_core::Request::new(coffer_core::Operation::Update, "auth/token/create")
            .with_token(root.expose_secret())
            .with_data(
                serde_json::json!({ "id": id, "policies": ["root"], "no_parent": true, "display_name": "root" }),
            );
        core.handle(req).await.context("cannot create the dev root token")?;
        root = secrecy::SecretString::from(id.to_string());
    }
    let mount = coffer_core::Request::new(coffer_core::Operation::Update, "sys/mounts/secret")
        .with_token(root.expose_secret())
        .with_data(serde_json::json!({ "type": "kv", "options": { "version": "2" }, "description": "key/value secret storage" }));
    core.handle(mount).await.context("cannot mount secret/")?;
    let scheme = if settings.tls.is_some() { "https" } else { "http" };
    println!(
        "WARNING! dev mode is enabled! In this mode, Coffer runs entirely unsealed with a single\n\
         unseal key and prints its root token. Do not run dev mode in production.\n\n\
         You may need to set the following environment variables:\n\n    \
         export COFFER_ADDR='{scheme}://{}'\n\n\
         Unseal Key: {}\nRoot Token: {}\n",
        settings.listen,
        base64::engine::general_purpose::STANDARD.encode(key.expose()),
        root.expose_secret()
    );
    Ok(())
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let settings = config::resolve(&args)?;
    init_logging(&settings.log_level);
    hardening::disable_core_dumps().context("cannot disable core dumps")?;
    let core = build_core(&settings)?;
    if settings.dev {
        bootstrap_dev(&core, args.dev_root_token_id.as_deref(), &settings).await?;
    }
    let app = app(core.clone(), &settings).into_make_service_with_connect_info::<std::net::SocketAddr>();
    #[cfg(unix)]
    {
        // SIGHUP reopens audit files, for log rotation.
        let core = core.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reopening audit files");
                core.audit_reopen();
            }
        });
    }
    let handle = axum_server::Handle::<listener::PeerAddr>::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let limits = &settings.limits;
    let listener = listener::LimitedListener::bind(settings.listen, limits.max_connections)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let mut server = axum_server::Server::from_listener(listener)
        .handle(handle)
        // Also bounds hyper's protocol detection, which its header timeout does not cover.
        .first_request_timeout(limits.http_read_header_timeout);
    let http = server.http_builder();
    // The head of a request must fit in the read buffer: a larger one is answered 431.
    http.http1()
        .max_buf_size(limits.max_header_bytes)
        .header_read_timeout(limits.http_read_header_timeout);
    http.http2()
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    tracing::info!(address = %settings.listen, tls = settings.tls.is_some(), "listening");
    match &settings.tls {
        Some((cert, key)) => {
            let tls = tls::server_config(cert, key)?;
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls);
            server.acceptor(acceptor).serve(app).await?;
        }
        None => server.serve(app).await?,
    }
    core.seal().await.ok();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    ctrl_c.await.ok();
}
