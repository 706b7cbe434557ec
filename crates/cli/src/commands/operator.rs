//! `coffer status` and `coffer operator init|unseal|seal|rotate|key-status`.

use std::io::IsTerminal;

use clap::{Args, Subcommand};
use coffer_client::sys::{InitResponse, SealStatus};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, EXIT_USAGE, api_err, read_stdin_line};
use crate::format::{self, Format};

/// Operator subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Initialise a new server: create the unseal key shares and the root token.
    Init(InitArgs),
    /// Supply one unseal key share (prompted without echo when KEY is omitted).
    Unseal(UnsealArgs),
    /// Seal the server.
    Seal,
    /// Rotate the barrier encryption key (a new keyring term).
    Rotate,
    /// Show the current keyring term.
    KeyStatus,
}

/// `operator init` flags.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Number of unseal key shares.
    #[arg(long, default_value_t = 5)]
    key_shares: u32,
    /// Shares needed to unseal.
    #[arg(long, default_value_t = 3)]
    key_threshold: u32,
    /// Only report whether the server is initialised (exit 0 yes, 2 no).
    #[arg(long)]
    status: bool,
}

/// `operator unseal` flags.
#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// Discard the shares given so far.
    #[arg(long)]
    reset: bool,
    /// The key share; read from the terminal (hidden) or a line of stdin when omitted.
    key: Option<String>,
}

/// `coffer status`: seal status table or JSON; exit 2 when sealed.
pub async fn status(ctx: &Ctx) -> CmdResult {
    let st = ctx
        .client
        .sys_seal_status()
        .await
        .map_err(api_err("Error checking seal status"))?;
    print_seal_status(ctx, &st);
    Ok(if st.sealed { EXIT_USAGE } else { EXIT_OK })
}

/// Seal status rows in Vault's order.
pub fn seal_status_rows(st: &SealStatus) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    row("Seal Type", st.seal_type.clone());
    row("Initialized", st.initialized.to_string());
    row("Sealed", st.sealed.to_string());
    row("Total Shares", st.n.to_string());
    row("Threshold", st.t.to_string());
    if st.sealed {
        row("Unseal Progress", format!("{}/{}", st.progress, st.t));
        row("Unseal Nonce", st.nonce.clone());
    }
    if st.migration {
        row("Seal Migration in Progress", "true".into());
    }
    row("Version", st.version.clone());
    row("Build Date", st.build_date.clone());
    row("Storage Type", st.storage_type.clone());
    if !st.cluster_name.is_empty() && !st.cluster_id.is_empty() {
        row("Cluster Name", st.cluster_name.clone());
        row("Cluster ID", st.cluster_id.clone());
    }
    rows
}

fn print_seal_status(ctx: &Ctx, st: &SealStatus) {
    match ctx.format {
        Format::Json => ctx.out(&format::json_pretty(&st.raw)),
        Format::Table => ctx.out(&format::kv_table(seal_status_rows(st))),
    }
}

/// Runs one operator subcommand.
pub async fn run(ctx: &Ctx, cmd: OperatorCommand) -> CmdResult {
    match cmd {
        OperatorCommand::Init(a) => init(ctx, a).await,
        OperatorCommand::Unseal(a) => unseal(ctx, a).await,
        OperatorCommand::Seal => {
            ctx.client.sys_seal().await.map_err(api_err("Error sealing"))?;
            ctx.success("Success! Coffer is sealed.");
            Ok(EXIT_OK)
        }
        OperatorCommand::Rotate => {
            ctx.client
                .write("sys/rotate", &json!({}))
                .await
                .map_err(api_err("Error rotating key"))?;
            ctx.success("Success! Rotated key\n");
            key_status(ctx).await
        }
        OperatorCommand::KeyStatus => key_status(ctx).await,
    }
}

/// The text `operator init` prints: the shares, the root token and what to do with them.
pub fn init_text(init: &InitResponse, threshold: u32) -> String {
    let mut out = String::new();
    let keys = if init.keys_base64.is_empty() {
        &init.keys
    } else {
        &init.keys_base64
    };
    for (i, k) in keys.iter().enumerate() {
        out.push_str(&format!("Unseal Key {}: {}\n", i + 1, k.expose_secret()));
    }
    out.push_str(&format!(
        "\nInitial Root Token: {}\n\n",
        init.root_token.expose_secret()
    ));
    out.push_str(&format!(
        "Coffer initialized with {} key shares and a key threshold of {threshold}. Please\n\
         securely distribute the key shares printed above. When the server is re-sealed,\n\
         restarted, or stopped, you must supply at least {threshold} of these keys to unseal it\n\
         before it can start servicing requests.\n\n\
         Coffer does not store the generated root key. Without at least {threshold} keys to\n\
         reconstruct the root key, Coffer will remain permanently sealed!\n",
        keys.len()
    ));
    out
}

/// The JSON `operator init` prints, in the shape Vault's CLI uses (scripts read
/// `unseal_keys_b64` and `root_token`).
pub fn init_json(init: &InitResponse, shares: u32, threshold: u32) -> Value {
    let expose = |v: &[SecretString]| v.iter().map(|k| k.expose_secret().to_string()).collect::<Vec<_>>();
    json!({
        "unseal_keys_b64": expose(&init.keys_base64),
        "unseal_keys_hex": expose(&init.keys),
        "unseal_shares": shares,
        "unseal_threshold": threshold,
        "recovery_keys_b64": [],
        "recovery_keys_hex": [],
        "recovery_keys_shares": 0,
        "recovery_keys_threshold": 0,
        "root_token": init.root_token.expose_secret(),
    })
}

async fn init(ctx: &Ctx, a: InitArgs) -> CmdResult {
    if a.status {
        let answer = ctx
            .client
            .read("sys/init")
            .await
            .map_err(api_err("Error checking init status"))?;
        let done = answer
            .and_then(|s| s.raw.get("initialized").and_then(Value::as_bool))
            .unwrap_or(false);
        if done {
            ctx.line("Coffer is initialized");
            return Ok(EXIT_OK);
        }
        ctx.line("Coffer is not initialized");
        return Ok(EXIT_USAGE);
    }
    if a.key_threshold == 0 || a.key_threshold > a.key_shares {
        return Err(CliError::usage("-key-threshold must be between 1 and -key-shares"));
    }
    let init = ctx
        .client
        .sys_init(a.key_shares, a.key_threshold)
        .await
        .map_err(api_err("Error initializing"))?;
    match ctx.format {
        Format::Json => ctx.out(&format::json_pretty(&init_json(&init, a.key_shares, a.key_threshold))),
        Format::Table => ctx.out(&init_text(&init, a.key_threshold)),
    }
    Ok(EXIT_OK)
}

async fn unseal(ctx: &Ctx, a: UnsealArgs) -> CmdResult {
    let st = if a.reset {
        ctx.client
            .sys_unseal_reset()
            .await
            .map_err(api_err("Error resetting unseal process"))?
    } else {
        let key = match a.key {
            Some(k) => SecretString::from(k),
            None if std::io::stdin().is_terminal() => rpassword::prompt_password("Unseal Key (will be hidden): ")
                .map(SecretString::from)
                .map_err(|e| CliError::failed(format!("error reading the unseal key: {e}")))?,
            None => SecretString::from(read_stdin_line()?),
        };
        if key.expose_secret().trim().is_empty() {
            return Err(CliError::usage("an unseal key is required"));
        }
        ctx.client.sys_unseal(&key).await.map_err(api_err("Error unsealing"))?
    };
    print_seal_status(ctx, &st);
    Ok(EXIT_OK)
}

/// Key status rows (`sys/key-status`): term, install time, encryption count when known.
pub fn key_status_rows(v: &Value) -> Vec<Vec<String>> {
    let src = v.get("data").filter(|d| d.is_object()).unwrap_or(v);
    let mut rows = vec![
        vec![
            "Key Term".to_string(),
            src.get("term").map(format::cell).unwrap_or_default(),
        ],
        vec![
            "Install Time".to_string(),
            src.get("install_time").map(format::cell).unwrap_or_default(),
        ],
    ];
    if let Some(n) = src.get("encryptions") {
        rows.push(vec!["Encryption Count".to_string(), format::cell(n)]);
    }
    rows
}

async fn key_status(ctx: &Ctx) -> CmdResult {
    let answer = ctx
        .client
        .read("sys/key-status")
        .await
        .map_err(api_err("Error reading key status"))?
        .ok_or_else(|| CliError::failed("Error reading key status: empty answer"))?;
    match ctx.format {
        Format::Json => ctx.out(&format::json_pretty(&answer.raw)),
        Format::Table => ctx.out(&format::plain_columns(&key_status_rows(&answer.raw))),
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_fixture() -> InitResponse {
        InitResponse {
            keys: vec![SecretString::from("aa"), SecretString::from("bb")],
            keys_base64: vec![SecretString::from("qg=="), SecretString::from("uw==")],
            root_token: SecretString::from("s.root"),
        }
    }

    #[test]
    fn init_text_prints_base64_keys_and_token() {
        let t = init_text(&init_fixture(), 2);
        assert!(
            t.starts_with("Unseal Key 1: qg==\nUnseal Key 2: uw==\n\nInitial Root Token: s.root\n"),
            "{t}"
        );
        assert!(t.contains("2 key shares and a key threshold of 2"), "{t}");
    }

    #[test]
    fn init_json_uses_vault_field_names() {
        let j = init_json(&init_fixture(), 2, 2);
        assert_eq!(j["unseal_keys_b64"], json!(["qg==", "uw=="]));
        assert_eq!(j["unseal_keys_hex"], json!(["aa", "bb"]));
        assert_eq!(j["root_token"], "s.root");
        assert_eq!(j["unseal_threshold"], 2);
    }

    #[test]
    fn seal_status_rows_show_progress_only_when_sealed() {
        let mut st = SealStatus {
            seal_type: "shamir".into(),
            initialized: true,
            sealed: true,
            t: 3,
            n: 5,
            progress: 1,
            ..Default::default()
        };
        let rows = seal_status_rows(&st);
        assert!(rows.contains(&("Unseal Progress".into(), "1/3".into())));
        st.sealed = false;
        let rows = seal_status_rows(&st);
        assert!(!rows.iter().any(|(k, _)| k == "Unseal Progress"));
        assert_eq!(rows[0], ("Seal Type".into(), "shamir".into()));
    }

    #[test]
    fn key_status_reads_enveloped_or_plain() {
        let rows = key_status_rows(&json!({"data": {"term": 3, "install_time": "t"}}));
        assert_eq!(rows[0], vec!["Key Term".to_string(), "3".to_string()]);
        let rows = key_status_rows(&json!({"term": 4, "install_time": "t", "encryptions": 9}));
        assert_eq!(rows[0][1], "4");
        assert_eq!(rows[2], vec!["Encryption Count".to_string(), "9".to_string()]);
    }
}
