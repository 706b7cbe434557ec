//! `coffer run [--env-file F] [--watch] -- CMD ARGS…`: starts a command with every
//! `coffer://mount/path#field` reference in its environment (and in env files) resolved,
//! forwards SIGINT, SIGTERM and SIGHUP to it and exits with its exit code (128+signal when a
//! signal ended it). Values live only in the child's environment, never on disk. With
//! `--watch`, the referenced secrets' versions are polled and the command restarted when one
//! changes. [`Resolver`] is shared with `coffer inject`.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use clap::Args;
use coffer_scan::rewrite::{FileKind, Reference};
use serde_json::{Map, Value};
use tokio::process::{Child, Command};
use tokio::signal::unix::{SignalKind, signal};

use super::kv_path::{self, KvPath};
use super::{CliError, CmdResult, Ctx};

/// Arguments of `coffer run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Env file (`KEY=value` lines) added to the command's environment, references resolved;
    /// may be repeated, later files win.
    #[arg(long = "env-file", value_name = "FILE")]
    env_file: Vec<PathBuf>,
    /// Restart the command when a referenced secret gets a new version.
    #[arg(long)]
    watch: bool,
    /// How often `--watch` checks for new versions (e.g. `5s`, `1m`).
    #[arg(long = "watch-interval", value_name = "DURATION", default_value = "5s")]
    watch_interval: String,
    /// The command and its arguments (after `--`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    command: Vec<OsString>,
}

/// One secret read for a reference: its data and what identifies its version.
struct Resolved {
    kv: KvPath,
    data: Map<String, Value>,
    version: Option<u64>,
}

/// Resolves references against the server, reading each secret once.
pub struct Resolver<'a> {
    ctx: &'a Ctx,
    cache: HashMap<String, Resolved>,
}

/// The error for a reference that cannot be resolved: exit 2, naming the reference only.
pub fn resolve_error(r: &Reference, why: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("Error resolving {r}: {why}"))
}

/// A field's value as text: strings as they are, anything else as JSON.
fn field_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Resolver<'a> {
    /// A resolver with an empty cache.
    pub fn new(ctx: &'a Ctx) -> Self {
        Resolver {
            ctx,
            cache: HashMap::new(),
        }
    }

    async fn load(&self, r: &Reference) -> Result<Resolved, CliError> {
        let kv = kv_path::lookup(self.ctx, &r.path, None)
            .await
            .map_err(|e| resolve_error(r, e.message))?;
        let api = kv.api("data");
        let secret = self
            .ctx
            .client
            .read(&api)
            .await
            .map_err(|e| resolve_error(r, e))?
            .ok_or_else(|| resolve_error(r, "no secret at this path"))?;
        let mut data = secret.data.unwrap_or_default();
        let mut version = None;
        if kv.v2() {
            version = data
                .get("metadata")
                .and_then(|m| m.get("version"))
                .and_then(Value::as_u64);
            data = match data.remove("data") {
                Some(Value::Object(inner)) => inner,
                _ => return Err(resolve_error(r, "the secret's latest version is deleted or destroyed")),
            };
        }
        Ok(Resolved { kv, data, version })
    }

    /// The value of one reference.
    pub async fn resolve(&mut self, r: &Reference) -> Result<String, CliError> {
        if !self.cache.contains_key(&r.path) {
            let loaded = self.load(r).await?;
            self.cache.insert(r.path.clone(), loaded);
        }
        let data = &self.cache[&r.path].data;
        data.get(&r.field)
            .map(field_text)
            .ok_or_else(|| resolve_error(r, format!("the secret has no field \"{}\"", r.field)))
    }

    /// Whether any secret read so far has a newer version (KV v2) or other data (KV v1).
    pub async fn changed(&self) -> Result<bool, CliError> {
        for (path, seen) in &self.cache {
            let now = if seen.kv.v2() {
                let meta = self.ctx.client.read(&seen.kv.api("metadata")).await;
                let meta = meta.map_err(|e| CliError::failed(format!("Error checking {path}: {e}")))?;
                meta.and_then(|m| m.data)
                    .and_then(|d| d.get("current_version").and_then(Value::as_u64))
                    != seen.version
            } else {
                let cur = self.ctx.client.read(&seen.kv.api("data")).await;
                let cur = cur.map_err(|e| CliError::failed(format!("Error checking {path}: {e}")))?;
                cur.and_then(|s| s.data).as_ref() != Some(&seen.data)
            };
            if now {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// `KEY=value` pairs of the env files, in order (later files win).
fn read_env_files(files: &[PathBuf]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| CliError::usage(format!("Error reading env file {}: {e}", f.display())))?;
        for e in FileKind::Env.entries(&text) {
            out.insert(e.key, e.value);
        }
    }
    Ok(out)
}

/// The variables to set for the child: env-file values, then every variable (from the
/// process or the files) whose value is a reference, resolved.
async fn child_env(resolver: &mut Resolver<'_>, files: &[PathBuf]) -> Result<Vec<(OsString, String)>, CliError> {
    let mut vars: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(_, v)| v.trim_start().starts_with(coffer_scan::rewrite::reference::SCHEME))
        .collect();
    vars.extend(read_env_files(files)?);
    let mut out = Vec::with_capacity(vars.len());
    for (k, v) in vars {
        let value = if v.trim_start().starts_with(coffer_scan::rewrite::reference::SCHEME) {
            let r = Reference::parse(&v).map_err(|e| CliError::usage(format!("Error resolving ${k}: {e}")))?;
            resolver.resolve(&r).await?
        } else {
            v
        };
        out.push((OsString::from(k), value));
    }
    Ok(out)
}

fn spawn(command: &[OsString], env: &[(OsString, String)]) -> Result<Child, CliError> {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(true);
    cmd.spawn()
        .map_err(|e| CliError::failed(format!("Error starting {}: {e}", command[0].to_string_lossy())))
}

/// Exit code of a finished child: its code, or 128+signal.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(sig)) => (128 + sig).min(255) as u8,
        _ => 1,
    }
}

fn forward(child: &Child, sig: rustix::process::Signal) {
    if let Some(pid) = child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// Stops a child for a restart: SIGTERM, then SIGKILL after ten seconds.
async fn stop(child: &mut Child) {
    forward(child, rustix::process::Signal::TERM);
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// Runs `coffer run`.
pub async fn run(ctx: &Ctx, args: RunArgs) -> CmdResult {
    let interval = crate::args::parse_duration_secs(&args.watch_interval)
        .map_err(|e| CliError::usage(format!("--watch-interval: {e}")))?
        .max(1);
    let sig_err = |e: std::io::Error| CliError::failed(format!("Error installing signal handlers: {e}"));
    let mut sigint = signal(SignalKind::interrupt()).map_err(sig_err)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(sig_err)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(sig_err)?;
    let mut resolver = Resolver::new(ctx);
    let env = child_env(&mut resolver, &args.env_file).await?;
    let mut child = spawn(&args.command, &env)?;
    drop(env);
    let mut ticker = tokio::time::interval(Duration::from_secs(interval));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|e| CliError::failed(format!("Error waiting for the command: {e}")))?;
                return Ok(exit_code(status));
            }
            Some(()) = sigint.recv() => forward(&child, rustix::process::Signal::INT),
            Some(()) = sigterm.recv() => forward(&child, rustix::process::Signal::TERM),
            Some(()) = sighup.recv() => forward(&child, rustix::process::Signal::HUP),
            _ = ticker.tick(), if args.watch => {
                match resolver.changed().await {
                    Ok(true) => {
                        eprintln!("coffer run: a referenced secret changed; restarting the command");
                        let mut fresh = Resolver::new(ctx);
                        let env = child_env(&mut fresh, &args.env_file).await?;
                        resolver = fresh;
                        stop(&mut child).await;
                        child = spawn(&args.command, &env)?;
                    }
                    Ok(false) => {}
                    Err(e) => eprintln!("coffer run: {}", e.message),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(field_text(&serde_json::json!("s")), "s");
        assert_eq!(field_text(&serde_json::json!(5)), "5");
    }

    #[test]
    fn env_files_later_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.env"), dir.path().join("b.env"));
        std::fs::write(&a, "X=1\nY=\"two words\" # c\n").unwrap();
        std::fs::write(&b, "export X=coffer://secret/x#value\n").unwrap();
        let vars = read_env_files(&[a, b]).unwrap();
        assert_eq!(vars["X"], "coffer://secret/x#value");
        assert_eq!(vars["Y"], "two words");
        assert!(read_env_files(&[dir.path().join("missing")]).is_err());
    }
}
