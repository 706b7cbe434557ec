//! Onboarding (`coffer scan PATH --onboard`): moves what the scanner found into KV and
//! replaces it with `coffer://` references. Each distinct value is stored once under
//! `<prefix>/<repo>/<file>/<name>` with `custom_metadata` saying what and where it was;
//! configuration files are rewritten in place (atomically), source files get a
//! `<file>.coffer.patch` suggestion, and the findings go to the discovery inventory.
//! `--dry-run` prints the plan and changes nothing, locally or on the server.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use coffer_client::Client;
use coffer_scan::Finding;
use coffer_scan::rewrite::atomic::write_atomic;
use coffer_scan::rewrite::plan::{Action, Plan, PlanOptions};
use serde_json::{Value, json};

use super::{Ctx, discovery, kv_path};
use crate::format::Format;

/// The onboarding flags of `coffer scan` (`#[command(flatten)]` them into its arguments).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OnboardFlags {
    /// Store each finding in KV and replace it with a `coffer://` reference (needs
    /// COFFER_ADDR and COFFER_TOKEN); also reports the findings to the discovery inventory.
    #[arg(long)]
    pub onboard: bool,
    /// With --onboard: the KV mount to store secrets in.
    #[arg(long, value_name = "MOUNT", default_value = "secret", requires = "onboard")]
    pub mount: String,
    /// With --onboard: the path prefix inside the mount.
    #[arg(long, value_name = "PREFIX", default_value = "discovered", requires = "onboard")]
    pub prefix: String,
    /// With --onboard: print the plan only; change no file and write nothing to the server.
    #[arg(long, requires = "onboard")]
    pub dry_run: bool,
    /// Post the findings (fingerprints and places, never values) to the discovery inventory.
    #[arg(long)]
    pub report_to_server: bool,
}

/// A client for the server named by COFFER_ADDR/VAULT_ADDR, with the usual token lookup
/// (COFFER_TOKEN, VAULT_TOKEN, ~/.coffer-token, ~/.vault-token) and TLS settings.
fn client_from_env() -> Result<Client, String> {
    let env = |n: &str| {
        std::env::var(n)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let first = |names: &[&str]| names.iter().find_map(|n| env(n));
    let address = first(&["COFFER_ADDR", "VAULT_ADDR"]).unwrap_or_else(|| "http://127.0.0.1:8200".into());
    let home = crate::token_helper::home_dir();
    let token = crate::token_helper::resolve_token(&env, home.as_deref()).map(secrecy::SecretString::from);
    let mut config = coffer_client::ClientConfig::new(address, token);
    config.ca_cert = first(&["COFFER_CACERT", "VAULT_CACERT"]).map(PathBuf::from);
    config.tls_skip_verify = first(&["COFFER_SKIP_VERIFY", "VAULT_SKIP_VERIFY"])
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "t" | "yes"));
    config.client_cert = first(&["COFFER_CLIENT_CERT", "VAULT_CLIENT_CERT"]).map(PathBuf::from);
    config.client_key = first(&["COFFER_CLIENT_KEY", "VAULT_CLIENT_KEY"]).map(PathBuf::from);
    Client::from_config(config).map_err(|e| e.to_string())
}

/// What `coffer scan` calls once it has its findings: onboards them (`--onboard`) or posts
/// them to the inventory (`--report-to-server`). Blocking: runs its own async runtime.
/// Returns the text to print (the plan and a summary), `None` when neither flag is set.
pub fn after_scan(findings: &[Finding], root: &Path, flags: &OnboardFlags) -> Result<Option<String>, String> {
    if !flags.onboard && !flags.report_to_server {
        return Ok(None);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    if flags.onboard {
        let opts = OnboardOptions {
            mount: flags.mount.clone(),
            prefix: flags.prefix.clone(),
            dry_run: flags.dry_run,
            ..OnboardOptions::new(root)
        };
        if flags.dry_run {
            return Ok(Some(plan_only(findings, &opts).1.to_string()));
        }
        let client = client_from_env()?;
        let report = runtime
            .block_on(onboard(findings, &opts, &client))
            .map_err(|e| format!("onboarding failed: {e:#}"))?;
        return Ok(Some(report.to_string()));
    }
    let client = client_from_env()?;
    let sent = runtime
        .block_on(discovery::report(
            &client,
            discovery::DEFAULT_MOUNT,
            findings,
            &HashMap::new(),
        ))
        .map_err(|e| e.message)?;
    Ok(Some(format!(
        "Reported {sent} finding(s) to {}/.\n",
        discovery::DEFAULT_MOUNT
    )))
}

/// How to onboard.
#[derive(Debug, Clone)]
pub struct OnboardOptions {
    /// The scan root (a directory, or the scanned file); finding paths are relative to it.
    pub root: PathBuf,
    /// KV mount (`secret`).
    pub mount: String,
    /// Path prefix in the mount (`discovered`).
    pub prefix: String,
    /// Print the plan only: no file is touched, nothing is sent to the server.
    pub dry_run: bool,
    /// Mount of the discovery inventory (`coffer/discovery`).
    pub discovery_mount: String,
}

impl OnboardOptions {
    /// Defaults: mount `secret`, prefix `discovered`, inventory `coffer/discovery`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        OnboardOptions {
            root: root.into(),
            mount: "secret".into(),
            prefix: "discovered".into(),
            dry_run: false,
            discovery_mount: discovery::DEFAULT_MOUNT.into(),
        }
    }
}

/// What onboarding did (or, on a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct OnboardReport {
    /// The plan as a table (values redacted).
    pub plan: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Secrets written to KV.
    pub stored: usize,
    /// Secrets already in KV with the same value (not written again).
    pub unchanged: usize,
    /// Configuration files rewritten in place.
    pub rewritten: Vec<String>,
    /// Patch suggestions written for source files.
    pub patches: Vec<String>,
    /// Findings sent to the discovery inventory.
    pub reported: usize,
    /// Problems that did not stop onboarding (e.g. no inventory mount).
    pub warnings: Vec<String>,
}

impl fmt::Display for OnboardReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.plan)?;
        if self.dry_run {
            return writeln!(f, "\nDry run: nothing was stored or changed.");
        }
        writeln!(
            f,
            "\nStored {} secret(s) ({} already stored); rewrote {} file(s); wrote {} patch suggestion(s); reported {} finding(s).",
            self.stored,
            self.unchanged,
            self.rewritten.len(),
            self.patches.len(),
            self.reported
        )?;
        for p in &self.patches {
            writeln!(
                f,
                "Review and apply {p} (it holds the old value: delete it afterwards)."
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        Ok(())
    }
}

/// The directory finding paths are relative to, and the repository name.
fn base_and_repo(root: &Path) -> (PathBuf, String) {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let base = if root.is_file() {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        root
    };
    let repo = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    (base, repo)
}

/// Where a reported path is on disk: absolute as is, else under the scan root (or, when
/// nothing is there, relative to the working directory).
fn on_disk(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    let under = base.join(p);
    if p.is_absolute() || under.exists() || !p.exists() {
        under
    } else {
        p.to_path_buf()
    }
}

/// Stores one secret at `path` (or a free `-N` variant when `path` holds another value).
/// Returns the path used and whether it was written.
async fn store(
    client: &Client,
    kv: &kv_path::KvPath,
    mount: &str,
    s: &coffer_scan::rewrite::plan::PlannedSecret,
) -> anyhow::Result<(String, bool)> {
    let value = s.value.expose();
    for n in 1..=50 {
        let path = if n == 1 {
            s.path.clone()
        } else {
            format!("{}-{n}", s.path)
        };
        let (data_path, meta_path) = if kv.v2() {
            (format!("{mount}/data/{path}"), Some(format!("{mount}/metadata/{path}")))
        } else {
            (format!("{mount}/{path}"), None)
        };
        let existing = client
            .read(&data_path)
            .await
            .with_context(|| format!("reading {data_path}"))?;
        let current = existing.and_then(|e| e.data).map(|d| {
            if kv.v2() {
                d.get("data").cloned().unwrap_or(Value::Null)
            } else {
                Value::Object(d)
            }
        });
        match current.as_ref().and_then(|d| d.get(&s.field)) {
            Some(Value::String(v)) if v == value => return Ok((path, false)),
            Some(_) => continue,
            None if current
                .as_ref()
                .is_some_and(|d| d.as_object().is_some_and(|o| !o.is_empty())) =>
            {
                continue;
            }
            None => {}
        }
        let mut fields = serde_json::Map::new();
        fields.insert(s.field.clone(), json!(value));
        let body = if kv.v2() {
            json!({ "data": fields })
        } else {
            Value::Object(fields)
        };
        client
            .write(&data_path, &body)
            .await
            .with_context(|| format!("storing {data_path}"))?;
        if let Some(meta) = meta_path {
            let body = json!({ "custom_metadata": s.custom_metadata() });
            client
                .write(&meta, &body)
                .await
                .with_context(|| format!("writing metadata of {meta}"))?;
        }
        return Ok((path, true));
    }
    Err(anyhow!("no free path for {} (tried 50 variants)", s.path))
}

/// Builds the plan, reading the files but changing nothing; the report holds its table.
pub fn plan_only(findings: &[Finding], opts: &OnboardOptions) -> (Plan, OnboardReport) {
    let (base, repo) = base_and_repo(&opts.root);
    let plan_opts = PlanOptions {
        mount: opts.mount.clone(),
        prefix: opts.prefix.clone(),
        repo,
    };
    let plan = Plan::build(findings, &plan_opts, &mut |p| {
        std::fs::read_to_string(on_disk(&base, p)).ok()
    });
    let report = OnboardReport {
        dry_run: opts.dry_run,
        plan: plan.table(),
        ..Default::default()
    };
    (plan, report)
}

/// Onboards `findings`: stores the secrets, rewrites files, reports to the inventory.
pub async fn onboard(findings: &[Finding], opts: &OnboardOptions, client: &Client) -> anyhow::Result<OnboardReport> {
    let (mut plan, mut report) = plan_only(findings, opts);
    if opts.dry_run {
        return Ok(report);
    }
    let (base, _) = base_and_repo(&opts.root);
    let ctx = Ctx {
        client: client.clone(),
        format: Format::Table,
    };
    let kv = kv_path::lookup(&ctx, &plan.mount, None)
        .await
        .map_err(|e| anyhow!(e.message))?;
    let mount = kv.mount.mount_path.trim_end_matches('/').to_string();
    let mount = if mount.is_empty() { plan.mount.clone() } else { mount };
    for i in 0..plan.secrets.len() {
        let (path, written) = store(client, &kv, &mount, &plan.secrets[i]).await?;
        if written {
            report.stored += 1;
        } else {
            report.unchanged += 1;
        }
        plan.set_path(i, path);
    }
    report.plan = plan.table();
    for change in plan.file_changes() {
        let target = on_disk(&base, &change.path);
        let mode = (change.action == Action::Patch).then_some(0o600);
        write_atomic(&target, change.content.as_bytes(), mode)
            .with_context(|| format!("writing {}", target.display()))?;
        match change.action {
            Action::Patch => report.patches.push(change.path),
            _ => report.rewritten.push(change.path),
        }
    }
    let references: HashMap<String, String> = plan.references();
    match discovery::report(client, &opts.discovery_mount, findings, &references).await {
        Ok(n) => report.reported = n,
        Err(e) => report.warnings.push(format!(
            "{} (is the discovery inventory mounted at {}/?)",
            e.message, opts.discovery_mount
        )),
    }
    Ok(report)
}
