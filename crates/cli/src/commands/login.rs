//! `coffer login`: authenticate with an auth method, finish login MFA, unwrap a wrapped
//! answer, store the token with the token helper and print Vault's auth table.

use std::fmt;
use std::io::IsTerminal;

use clap::Args;
use coffer_client::{Client, Secret};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::login_method::{LoginRequest, Method, Prompter, TtyPrompter, login_request};
use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err, mfa, print_field, secret_field};
use crate::args::RealInputs;
use crate::format::Format;
use crate::token_helper;

/// `login [flags] [TOKEN | K=V…]`.
#[derive(Args)]
pub struct LoginArgs {
    /// Auth method type.
    #[arg(long, value_enum, default_value = "token")]
    method: Method,
    /// Mount path of the auth method (defaults to the method name).
    #[arg(long)]
    path: Option<String>,
    /// Do not store the token with the token helper.
    #[arg(long)]
    no_store: bool,
    /// Do not print the token (it is still stored).
    #[arg(long)]
    no_print: bool,
    /// Print only the token, and do not store it.
    #[arg(long)]
    token_only: bool,
    /// Print only this field of the answer.
    #[arg(long)]
    field: Option<String>,
    /// Passcode for login MFA (TOTP); repeat for several methods [env: COFFER_MFA_PASSCODE].
    #[arg(long)]
    mfa_passcode: Vec<String>,
    /// Never prompt: missing values are errors.
    #[arg(long)]
    non_interactive: bool,
    /// `TOKEN` for -method=token, else `K=V` pairs (`k=@file`, `k=-` read files or stdin).
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
}

impl fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginArgs")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("no_store", &self.no_store)
            .field("token_only", &self.token_only)
            .field("args", &format_args!("[{} redacted]", self.args.len()))
            .finish_non_exhaustive()
    }
}

/// A prompter that refuses (for `-non-interactive`).
struct NoPrompt;

impl Prompter for NoPrompt {
    fn secret(&mut self, label: &str) -> Result<String, String> {
        Err(format!(
            "{} is missing and -non-interactive is set",
            label.split(" (").next().unwrap_or(label)
        ))
    }
}

/// Runs `login`.
pub async fn run(ctx: &Ctx, a: LoginArgs) -> CmdResult {
    let env = |n: &str| std::env::var(n).ok();
    let mut prompter: Box<dyn Prompter> = if a.non_interactive {
        Box::new(NoPrompt)
    } else {
        Box::new(TtyPrompter)
    };
    let request = login_request(
        a.method,
        a.path.as_deref(),
        &a.args,
        &mut RealInputs,
        prompter.as_mut(),
        &env,
    )
    .map_err(CliError::usage)?;
    let mut client = ctx.client.clone();
    let secret = match request {
        LoginRequest::Token(token) => {
            client.set_token(Some(token.clone()));
            client.set_wrap_ttl(None).map_err(|e| CliError::usage(e.to_string()))?;
            let lookup = client
                .read("auth/token/lookup-self")
                .await
                .map_err(api_err("Error authenticating"))?
                .ok_or_else(|| CliError::failed("Error authenticating: the token lookup returned nothing"))?;
            token_secret(&token, &lookup)
        }
        LoginRequest::Post { path, body } => {
            client.set_token(None);
            client
                .post(&path, &Value::Object(body))
                .await
                .map_err(api_err("Error authenticating"))?
                .ok_or_else(|| CliError::failed("Error authenticating: empty response from the server"))?
        }
    };
    let secret = match &secret.wrap_info {
        Some(w) if a.token_only => {
            ctx.field(&json!(w.token));
            return Ok(EXIT_OK);
        }
        Some(_) if a.no_store => {
            ctx.secret(&secret);
            return Ok(EXIT_OK);
        }
        Some(w) => unwrap_login(&client, &w.token).await?,
        None => secret,
    };
    let secret = match mfa::requirement(&secret.raw) {
        None => secret,
        Some(req) => {
            let req = req.map_err(CliError::failed)?;
            let mut codes = a.mfa_passcode.clone();
            if codes.is_empty()
                && let Some(c) = crate::first_env(&env, &["COFFER_MFA_PASSCODE", "VAULT_MFA_PASSCODE"])
            {
                codes.push(c);
            }
            validate_mfa(
                &client,
                &req,
                &codes,
                a.non_interactive || !std::io::stdin().is_terminal(),
            )
            .await?
        }
    };
    finish(ctx, &a, &secret)
}

/// Stores and prints a successful login.
fn finish(ctx: &Ctx, a: &LoginArgs, secret: &Secret) -> CmdResult {
    let token = secret
        .auth
        .as_ref()
        .map(|au| au.client_token.clone())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CliError::failed("Error authenticating: the server returned no token"))?;
    if a.token_only {
        ctx.field(&json!(token));
        return Ok(EXIT_OK);
    }
    if !a.no_store {
        let home = token_helper::home_dir()
            .ok_or_else(|| CliError::failed("Error storing the token: HOME is not set (use -no-store)"))?;
        token_helper::store_token(&home, &token).map_err(CliError::failed)?;
    }
    let env = |n: &str| std::env::var(n).ok();
    if ctx.format == Format::Table
        && let Some(var) = token_helper::TOKEN_ENV
            .iter()
            .find(|v| env(v).is_some_and(|t| !t.trim().is_empty()))
    {
        eprintln!(
            "WARNING! The {var} environment variable is set! It takes precedence over the \
             token stored by this login; unset it or update its value.\n"
        );
    }
    if let Some(field) = &a.field {
        return print_field(ctx, secret_field(secret, field), field);
    }
    if a.no_store {
        ctx.success(
            "Success! You are now authenticated. The token information displayed below is NOT\n\
             stored in the token helper: set COFFER_TOKEN or pass the token with each request.\n",
        );
    } else if a.no_print {
        ctx.success(
            "Success! You are now authenticated. The token was stored in the token helper;\n\
             future Coffer requests will use it automatically.",
        );
        return Ok(EXIT_OK);
    } else {
        ctx.success(
            "Success! You are now authenticated. The token information displayed below\n\
             is already stored in the token helper. You do NOT need to run \"coffer login\"\n\
             again. Future Coffer requests will automatically use this token.\n",
        );
    }
    ctx.secret(secret);
    Ok(EXIT_OK)
}

/// Unwraps a wrapped login answer with the wrapping token as the request token.
async fn unwrap_login(client: &Client, wrapping_token: &str) -> Result<Secret, CliError> {
    let mut c = client.clone();
    c.set_wrap_ttl(None).map_err(|e| CliError::usage(e.to_string()))?;
    c.set_token(Some(SecretString::from(wrapping_token.to_string())));
    c.post("sys/wrapping/unwrap", &json!({}))
        .await
        .map_err(api_err("Error unwrapping the login response"))?
        .ok_or_else(|| CliError::failed("Error unwrapping the login response: nothing was wrapped"))
}

/// Completes login MFA with `sys/mfa/validate`; its answer carries the token.
async fn validate_mfa(
    client: &Client,
    req: &mfa::MfaRequirement,
    codes: &[String],
    no_tty: bool,
) -> Result<Secret, CliError> {
    let mut ask = |m: &mfa::MfaMethod| -> Result<String, String> {
        if no_tty {
            return Err(format!(
                "login MFA needs a passcode for {}: give -mfa-passcode=CODE, or validate request \
                 {} yourself with `coffer write sys/mfa/validate`",
                m.label(),
                req.request_id
            ));
        }
        rpassword::prompt_password(format!(
            "Enter the passcode for MFA method {} (will be hidden): ",
            m.label()
        ))
        .map_err(|e| format!("error reading from the terminal: {e}"))
    };
    let body = mfa::validate_body(req, codes, &mut ask).map_err(CliError::usage)?;
    let mut c = client.clone();
    c.set_token(None);
    c.set_wrap_ttl(None).map_err(|e| CliError::usage(e.to_string()))?;
    c.post("sys/mfa/validate", &body)
        .await
        .map_err(api_err("Error validating the login MFA"))?
        .ok_or_else(|| CliError::failed("Error validating the login MFA: empty response from the server"))
}

/// The auth answer for a token login, built from its `lookup-self` (as Vault's CLI does):
/// the token, its accessor, remaining TTL, renewability and policies.
pub fn token_secret(token: &SecretString, lookup: &Secret) -> Secret {
    let data = lookup.data_or_empty();
    let strings = |key: &str| -> Vec<String> {
        data.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let token_policies = strings("policies");
    let identity_policies = strings("identity_policies");
    let mut policies: Vec<String> = token_policies.iter().chain(&identity_policies).cloned().collect();
    policies.sort();
    policies.dedup();
    let raw = json!({
        "request_id": lookup.request_id, "lease_id": "", "lease_duration": 0, "renewable": false,
        "data": null, "wrap_info": null, "warnings": null,
        "auth": {
            "client_token": token.expose_secret(),
            "accessor": data.get("accessor").cloned().unwrap_or(json!("")),
            "policies": policies,
            "token_policies": token_policies,
            "identity_policies": identity_policies,
            "metadata": data.get("meta").cloned().unwrap_or(Value::Null),
            "lease_duration": data.get("ttl").and_then(Value::as_i64).unwrap_or(0),
            "renewable": data.get("renewable").and_then(Value::as_bool).unwrap_or(false),
            "entity_id": data.get("entity_id").cloned().unwrap_or(json!("")),
            "token_type": data.get("type").cloned().unwrap_or(json!("service")),
            "orphan": data.get("orphan").and_then(Value::as_bool).unwrap_or(false),
        }
    });
    Secret::from_value(raw).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_login_answer_comes_from_the_lookup() {
        let lookup = Secret::from_value(json!({"request_id": "r", "data": {
            "accessor": "acc1", "policies": ["default", "dev"], "identity_policies": ["ops", "dev"],
            "ttl": 3600, "renewable": true, "meta": {"team": "a"}, "type": "service"
        }}))
        .unwrap();
        let s = token_secret(&SecretString::from("cfs_tok"), &lookup);
        let auth = s.auth.as_ref().unwrap();
        assert_eq!(auth.client_token, "cfs_tok");
        assert_eq!(auth.accessor, "acc1");
        assert_eq!(auth.lease_duration, 3600);
        assert!(auth.renewable);
        assert_eq!(auth.token_policies, ["default", "dev"]);
        assert_eq!(auth.identity_policies, ["ops", "dev"]);
        assert_eq!(auth.policies, ["default", "dev", "ops"]);
        let table = crate::format::secret_table(&s);
        assert!(table.contains("token_duration       1h\n"), "{table}");
        assert!(table.contains("token_meta_team      a\n"), "{table}");
    }

    #[test]
    fn parses_vault_style_flags_and_hides_arguments() {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            a: LoginArgs,
        }
        let argv = crate::args::rewrite_single_dash(
            [
                "x",
                "-method=userpass",
                "-path=corp",
                "-no-store",
                "username=a",
                "password=hunter2",
            ]
            .iter()
            .map(std::ffi::OsString::from),
        );
        let w = Wrap::try_parse_from(argv).unwrap();
        assert_eq!(w.a.method, Method::Userpass);
        assert_eq!(w.a.path.as_deref(), Some("corp"));
        assert!(w.a.no_store && !w.a.token_only);
        assert_eq!(w.a.args, ["username=a", "password=hunter2"]);
        assert!(!format!("{:?}", w.a).contains("hunter2"));
        assert!(Wrap::try_parse_from(["x", "--method=ldap"]).is_err());
    }
}
