//! What every command shares: the connection context, exit-code carrying errors and the
//! output helpers that pick between table and JSON.

pub mod audit;
pub mod auth;
pub mod discovery;
pub mod generic;
pub mod inject;
pub mod kv;
pub mod kv_metadata;
pub mod kv_path;
pub mod lease;
pub mod login;
pub mod login_method;
pub mod mfa;
pub mod onboard;
pub mod operator;
pub mod policy;
pub mod run;
pub mod scan;
pub mod secrets;
pub mod token;

use std::io::{IsTerminal, Write};

use coffer_client::{Client, ClientError, Secret};
use serde_json::Value;

use crate::format::{self, Format};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a failed request, transport error or I/O error.
pub const EXIT_ERROR: u8 = 1;
/// Exit code for usage errors, "no value found" and a sealed server (`status`).
pub const EXIT_USAGE: u8 = 2;

/// A command failure: the message goes to standard error, the code becomes the exit status.
#[derive(Debug)]
pub struct CliError {
    /// Process exit code.
    pub code: u8,
    /// What went wrong, for the user.
    pub message: String,
}

impl CliError {
    /// A usage error (bad arguments the parser could not catch): exit 2.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// Nothing at the requested path: exit 2, as Vault's `read`/`kv get` do.
    pub fn not_found(message: impl Into<String>) -> CliError {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// Any other failure: exit 1.
    pub fn failed(message: impl Into<String>) -> CliError {
        CliError {
            code: EXIT_ERROR,
            message: message.into(),
        }
    }
}

/// Wraps a client error with what we were doing: `Error reading x: …`.
pub fn api_err(doing: impl Into<String>) -> impl FnOnce(ClientError) -> CliError {
    let doing = doing.into();
    move |e| CliError::failed(format!("{doing}: {e}"))
}

/// Result of a command: the exit code to use on success paths (e.g. 2 for "sealed").
pub type CmdResult = Result<u8, CliError>;

/// The connection and output settings every command gets.
pub struct Ctx {
    /// Client for the configured server and token.
    pub client: Client,
    /// Requested output format.
    pub format: Format,
}

impl Ctx {
    /// Prints to standard output.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Prints a line to standard output.
    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    /// Prints `Success! …`-style messages: table format only, as Vault does.
    pub fn success(&self, text: &str) {
        if self.format == Format::Table {
            self.line(text);
        }
    }

    /// Prints warnings to standard error (table format only; JSON carries them).
    pub fn warnings(&self, secret: &Secret) {
        if self.format == Format::Table {
            eprint!("{}", format::warnings_text(&secret.warnings));
        }
    }

    /// Prints a whole response: the envelope JSON, or Vault's secret table.
    pub fn secret(&self, secret: &Secret) {
        match self.format {
            Format::Json => self.out(&format::json_pretty(&secret.raw)),
            Format::Table => {
                self.warnings(secret);
                self.out(&format::secret_table(secret));
            }
        }
    }

    /// Prints one value for `-field`: raw, with a newline only when stdout is a terminal.
    pub fn field(&self, value: &Value) {
        let mut text = format::raw_field(value, self.format);
        if std::io::stdout().is_terminal() {
            text.push('\n');
        }
        self.out(&text);
    }

    /// Prints a wrapped answer (`-wrap-ttl`) as a whole and returns true; false (printing
    /// nothing) for an ordinary answer. For commands that otherwise show only part of one.
    pub fn wrapped(&self, secret: Option<&Secret>) -> bool {
        match secret {
            Some(s) if s.wrap_info.is_some() => {
                self.secret(s);
                true
            }
            _ => false,
        }
    }

    /// Prints the `keys` of a LIST answer; "no value found" when there are none.
    pub fn list(&self, secret: Option<Secret>, path: &str) -> CmdResult {
        let Some(secret) = secret else {
            return Err(CliError::not_found(format!("No value found at {path}")));
        };
        if self.wrapped(Some(&secret)) {
            return Ok(EXIT_OK);
        }
        let keys = secret
            .data
            .as_ref()
            .and_then(|d| d.get("keys"))
            .and_then(Value::as_array)
            .cloned();
        let Some(keys) = keys else {
            return Err(CliError::not_found(format!("No entries found at {path}")));
        };
        match self.format {
            Format::Json => self.out(&format::json_pretty(&Value::Array(keys))),
            Format::Table => {
                self.warnings(&secret);
                self.out(&format::list_table(&keys));
            }
        }
        Ok(EXIT_OK)
    }
}

/// Looks up `-field` in a response the way Vault's CLI does: lease, token and wrapping
/// names first (when the response has those blocks), then the data keys.
pub fn secret_field(secret: &Secret, field: &str) -> Option<Value> {
    use serde_json::json;
    if let Some(a) = &secret.auth {
        let v = match field {
            "token" => Some(json!(a.client_token)),
            "token_accessor" => Some(json!(a.accessor)),
            "token_duration" => Some(json!(format::human_duration(a.lease_duration))),
            "token_renewable" => Some(json!(a.renewable)),
            "token_policies" => Some(json!(a.token_policies)),
            "identity_policies" => Some(json!(a.identity_policies)),
            "policies" => Some(json!(a.policies)),
            _ => None,
        };
        if v.is_some() {
            return v;
        }
    }
    if let Some(w) = &secret.wrap_info {
        let v = match field {
            "wrapping_token" => Some(json!(w.token)),
            "wrapping_accessor" => Some(json!(w.accessor)),
            "wrapping_token_ttl" => Some(json!(w.ttl)),
            "wrapping_token_creation_path" => Some(json!(w.creation_path)),
            _ => None,
        };
        if v.is_some() {
            return v;
        }
    }
    match field {
        "lease_id" if !secret.lease_id.is_empty() => return Some(json!(secret.lease_id)),
        "lease_duration" | "refresh_interval" if secret.lease_duration > 0 => {
            return Some(json!(format::human_duration(secret.lease_duration)));
        }
        _ => {}
    }
    secret.data.as_ref().and_then(|d| d.get(field)).cloned()
}

/// Prints `-field` of a response, or fails with Vault's "not present" message.
pub fn print_field(ctx: &Ctx, value: Option<Value>, field: &str) -> CmdResult {
    match value {
        Some(v) => {
            ctx.field(&v);
            Ok(EXIT_OK)
        }
        None => Err(CliError::failed(format!("Field \"{field}\" not present in secret"))),
    }
}

/// Reads one line from standard input without the line ending.
pub fn read_stdin_line() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::failed(format!("error reading standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
