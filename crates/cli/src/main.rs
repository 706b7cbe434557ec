//! The `coffer` binary: glue between the command line, the HTTP client and, for
//! `coffer server`, the in-process server. Vault/OpenBao single-dash flags are accepted.

mod args;
mod commands;
mod format;
mod token_helper;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use coffer_client::{Client, ClientConfig};
use secrecy::SecretString;

use commands::{CliError, Ctx, EXIT_ERROR};
use format::Format;

const EXIT_HELP: &str = "\
Flags may be written Vault-style with one dash: -format=json, -address=URL.

Environment:
  COFFER_ADDR / VAULT_ADDR        server address (default http://127.0.0.1:8200)
  COFFER_TOKEN / VAULT_TOKEN      token; else ~/.coffer-token, then ~/.vault-token
  COFFER_FORMAT / VAULT_FORMAT    table or json
  COFFER_CACERT / VAULT_CACERT    CA certificate (PEM) to trust
  COFFER_CLIENT_CERT / VAULT_CLIENT_CERT, COFFER_CLIENT_KEY / VAULT_CLIENT_KEY
                                  client certificate and key (PEM) for mutual TLS
  COFFER_WRAP_TTL / VAULT_WRAP_TTL   ask for every response wrapped with this TTL
  COFFER_SKIP_VERIFY / VAULT_SKIP_VERIFY   do not verify TLS certificates

Exit codes:
  0  success
  1  the request failed: API error (4xx/5xx), connection or TLS failure, I/O error
  2  usage error; nothing found at the path (read, list, kv get, kv list,
     policy read — as Vault does); `status` when the server is sealed";

/// Coffer: secrets server and client, compatible with Vault/OpenBao clients.
#[derive(Debug, Parser)]
#[command(name = "coffer", version, about, after_help = EXIT_HELP, propagate_version = false)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

/// Connection and output flags accepted by every command.
#[derive(Debug, Args)]
struct GlobalOpts {
    /// Server address [env: COFFER_ADDR, VAULT_ADDR] [default: http://127.0.0.1:8200]
    #[arg(long, global = true, value_name = "URL")]
    address: Option<String>,
    /// Output format [env: COFFER_FORMAT, VAULT_FORMAT] [default: table]
    #[arg(long, global = true, value_enum)]
    format: Option<Format>,
    /// PEM file with the CA certificate to trust [env: COFFER_CACERT, VAULT_CACERT]
    #[arg(long = "ca-cert", global = true, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (insecure)
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    tls_skip_verify: Option<bool>,
    /// PEM client certificate for mutual TLS [env: COFFER_CLIENT_CERT, VAULT_CLIENT_CERT]
    #[arg(long = "client-cert", global = true, value_name = "FILE")]
    client_cert: Option<PathBuf>,
    /// PEM private key of -client-cert [env: COFFER_CLIENT_KEY, VAULT_CLIENT_KEY]
    #[arg(long = "client-key", global = true, value_name = "FILE")]
    client_key: Option<PathBuf>,
    /// Ask the server to wrap the response with this TTL [env: COFFER_WRAP_TTL, VAULT_WRAP_TTL]
    #[arg(long = "wrap-ttl", global = true, value_name = "DURATION")]
    wrap_ttl: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Coffer server.
    Server(coffer_server::ServerArgs),
    /// Show seal status (exit 2 when sealed).
    Status,
    /// Init, unseal, seal and key rotation.
    #[command(subcommand)]
    Operator(commands::operator::OperatorCommand),
    /// Key/value secrets (v1 and v2).
    #[command(subcommand)]
    Kv(commands::kv::KvCommand),
    /// Read any API path.
    Read(commands::generic::ReadArgs),
    /// Write to any API path.
    Write(commands::generic::WriteArgs),
    /// Delete at any API path.
    Delete(commands::generic::DeleteArgs),
    /// List keys at any API path.
    List(commands::generic::ListArgs),
    /// Create, inspect, renew and revoke tokens.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Manage ACL policies.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Manage secrets engines.
    #[command(subcommand)]
    Secrets(commands::secrets::SecretsCommand),
    /// Authenticate and store the token: `login [-method=userpass] [TOKEN | K=V…]`.
    Login(commands::login::LoginArgs),
    /// Manage auth methods.
    #[command(subcommand)]
    Auth(commands::auth::AuthCommand),
    /// Look up, renew and revoke leases.
    #[command(subcommand)]
    Lease(commands::lease::LeaseCommand),
    /// Unwrap a response-wrapped secret: `unwrap [TOKEN]`.
    Unwrap(commands::lease::UnwrapArgs),
    /// Manage audit devices and verify audit logs.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Run a command with the `coffer://` references in its environment resolved.
    Run(commands::run::RunArgs),
    /// Render the `coffer://` references of a template into a file (mode 0600).
    Inject(commands::inject::InjectArgs),
    /// The server's inventory of discovered hardcoded secrets.
    #[command(subcommand)]
    Discovery(commands::discovery::DiscoveryCommand),
    /// Find hardcoded secrets in files, stdin or git history, locally (`coffer scan --help`).
    #[command(disable_help_flag = true)]
    Scan(commands::scan::ScanPassthrough),
}

/// First set, non-empty variable among `names`.
fn first_env(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| env(n))
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

fn parse_bool(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "t" | "yes")
}

/// A `-wrap-ttl` value as the whole seconds sent in `X-Vault-Wrap-TTL`.
fn wrap_ttl_secs(ttl: &str) -> Result<String, CliError> {
    let secs = args::parse_duration_secs(ttl).map_err(|e| CliError::usage(format!("-wrap-ttl: {e}")))?;
    if secs == 0 {
        return Err(CliError::usage("-wrap-ttl must be at least one second"));
    }
    Ok(secs.to_string())
}

/// Builds the command context from flags and environment.
fn context(g: &GlobalOpts) -> Result<Ctx, CliError> {
    let env = |n: &str| std::env::var(n).ok();
    let format = match g.format {
        Some(f) => f,
        None => match first_env(&env, &["COFFER_FORMAT", "VAULT_FORMAT"]).as_deref() {
            None | Some("table") => Format::Table,
            Some("json") => Format::Json,
            Some(other) => {
                return Err(CliError::usage(format!(
                    "invalid output format {other:?}: use table or json"
                )));
            }
        },
    };
    let address = g
        .address
        .clone()
        .or_else(|| first_env(&env, &["COFFER_ADDR", "VAULT_ADDR"]))
        .unwrap_or_else(|| "http://127.0.0.1:8200".to_string());
    let home = token_helper::home_dir();
    let token = token_helper::resolve_token(&env, home.as_deref()).map(SecretString::from);
    let mut config = ClientConfig::new(address, token);
    config.ca_cert = g
        .ca_cert
        .clone()
        .or_else(|| first_env(&env, &["COFFER_CACERT", "VAULT_CACERT"]).map(PathBuf::from));
    config.tls_skip_verify = g.tls_skip_verify.unwrap_or_else(|| {
        first_env(&env, &["COFFER_SKIP_VERIFY", "VAULT_SKIP_VERIFY"]).is_some_and(|v| parse_bool(&v))
    });
    config.client_cert = g
        .client_cert
        .clone()
        .or_else(|| first_env(&env, &["COFFER_CLIENT_CERT", "VAULT_CLIENT_CERT"]).map(PathBuf::from));
    config.client_key = g
        .client_key
        .clone()
        .or_else(|| first_env(&env, &["COFFER_CLIENT_KEY", "VAULT_CLIENT_KEY"]).map(PathBuf::from));
    config.wrap_ttl = match g
        .wrap_ttl
        .clone()
        .or_else(|| first_env(&env, &["COFFER_WRAP_TTL", "VAULT_WRAP_TTL"]))
    {
        None => None,
        Some(ttl) => Some(wrap_ttl_secs(&ttl)?),
    };
    let client = Client::from_config(config).map_err(|e| CliError::usage(e.to_string()))?;
    Ok(Ctx { client, format })
}

async fn run(cli: Cli) -> u8 {
    use commands::{auth, generic, kv, lease, login, operator, policy, secrets, token};
    if let Command::Scan(p) = cli.command {
        return commands::scan::main(p.argv());
    }
    if let Command::Server(args) = cli.command {
        return match coffer_server::run(args).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Error: {e:#}");
                EXIT_ERROR
            }
        };
    }
    let ctx = match context(&cli.global) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.message);
            return e.code;
        }
    };
    let result = match cli.command {
        Command::Server(_) | Command::Scan(_) => unreachable!("handled above"),
        Command::Status => operator::status(&ctx).await,
        Command::Operator(c) => operator::run(&ctx, c).await,
        Command::Kv(c) => kv::run(&ctx, c).await,
        Command::Read(a) => generic::read(&ctx, a).await,
        Command::Write(a) => generic::write(&ctx, a).await,
        Command::Delete(a) => generic::delete(&ctx, a).await,
        Command::List(a) => generic::list(&ctx, a).await,
        Command::Token(c) => token::run(&ctx, c).await,
        Command::Policy(c) => policy::run(&ctx, c).await,
        Command::Secrets(c) => secrets::run(&ctx, c).await,
        Command::Login(a) => login::run(&ctx, a).await,
        Command::Auth(c) => auth::run(&ctx, c).await,
        Command::Lease(c) => lease::run(&ctx, c).await,
        Command::Unwrap(a) => lease::unwrap(&ctx, a).await,
        Command::Audit(c) => commands::audit::run(&ctx, c).await,
        Command::Run(a) => commands::run::run(&ctx, a).await,
        Command::Inject(a) => commands::inject::run(&ctx, a).await,
        Command::Discovery(c) => commands::discovery::run(&ctx, c).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", e.message);
            e.code
        }
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let argv = args::rewrite_single_dash(std::env::args_os());
    if commands::scan::is_scan(&argv) {
        return ExitCode::from(commands::scan::main(argv));
    }
    let cli = Cli::parse_from(argv);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn vault_style_flags_parse() {
        let argv = [
            "coffer",
            "kv",
            "get",
            "-format=json",
            "-mount=secret",
            "-version=2",
            "-field=pw",
            "app",
        ];
        let cli = Cli::try_parse_from(args::rewrite_single_dash(argv.iter().map(std::ffi::OsString::from))).unwrap();
        assert_eq!(cli.global.format, Some(Format::Json));
        assert!(matches!(cli.command, Command::Kv(_)));
        let argv = ["coffer", "-address=http://x:1", "status", "-tls-skip-verify"];
        let cli = Cli::try_parse_from(args::rewrite_single_dash(argv.iter().map(std::ffi::OsString::from))).unwrap();
        assert_eq!(cli.global.address.as_deref(), Some("http://x:1"));
        assert_eq!(cli.global.tls_skip_verify, Some(true));
    }

    #[test]
    fn wrap_ttl_and_client_cert_flags() {
        let argv = [
            "coffer",
            "-wrap-ttl=5m",
            "read",
            "-client-cert=/c.pem",
            "-client-key=/k.pem",
            "sys/mounts",
        ];
        let cli = Cli::try_parse_from(args::rewrite_single_dash(argv.iter().map(std::ffi::OsString::from))).unwrap();
        assert_eq!(cli.global.wrap_ttl.as_deref(), Some("5m"));
        assert_eq!(cli.global.client_cert, Some(PathBuf::from("/c.pem")));
        assert_eq!(cli.global.client_key, Some(PathBuf::from("/k.pem")));
        assert_eq!(wrap_ttl_secs("5m").unwrap(), "300");
        assert_eq!(wrap_ttl_secs("90").unwrap(), "90");
        assert!(wrap_ttl_secs("0s").is_err());
        assert!(wrap_ttl_secs("soon").is_err());
        let argv = ["coffer", "login", "-method=approle", "role_id=r", "secret_id=s"];
        let cli = Cli::try_parse_from(args::rewrite_single_dash(argv.iter().map(std::ffi::OsString::from))).unwrap();
        assert!(matches!(cli.command, Command::Login(_)));
    }
}
