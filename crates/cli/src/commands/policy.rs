//! `coffer policy write|read|list|delete`: ACL policies at `sys/policies/acl/<name>`.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err};
use crate::args::Inputs;
use crate::format::{self, Format};

/// Policy subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Upload a policy from FILE, or from stdin with `-`.
    Write(WriteArgs),
    /// Print a policy's rules.
    Read(NameArgs),
    /// List policy names.
    List,
    /// Delete a policy.
    Delete(NameArgs),
}

/// A policy name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// Policy name.
    name: String,
}

/// `policy write NAME FILE|-`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Policy name.
    name: String,
    /// HCL file, or `-` for stdin.
    #[arg(allow_hyphen_values = true)]
    file: String,
}

fn policy_path(name: &str) -> Result<String, CliError> {
    let name = name.trim().to_lowercase();
    if name.is_empty() || name.contains('/') {
        return Err(CliError::usage(format!("invalid policy name {name:?}")));
    }
    Ok(format!("sys/policies/acl/{name}"))
}

/// Runs one policy subcommand.
pub async fn run(ctx: &Ctx, cmd: PolicyCommand) -> CmdResult {
    match cmd {
        PolicyCommand::Write(a) => {
            let path = policy_path(&a.name)?;
            let mut inputs = crate::args::RealInputs;
            let rules = if a.file == "-" {
                inputs.read_stdin()
            } else {
                inputs.read_file(&a.file)
            }
            .map_err(CliError::failed)?;
            ctx.client
                .write(&path, &json!({ "policy": rules }))
                .await
                .map_err(api_err(format!("Error uploading policy {}", a.name)))?;
            ctx.success(&format!("Success! Uploaded policy: {}", a.name));
            Ok(EXIT_OK)
        }
        PolicyCommand::Read(a) => {
            let path = policy_path(&a.name)?;
            let secret = ctx
                .client
                .read(&path)
                .await
                .map_err(api_err(format!("Error reading policy named {}", a.name)))?
                .ok_or_else(|| CliError::not_found(format!("No policy named: {}", a.name)))?;
            if ctx.wrapped(Some(&secret)) {
                return Ok(EXIT_OK);
            }
            match ctx.format {
                Format::Json => ctx.secret(&secret),
                Format::Table => {
                    let rules = secret
                        .data_or_empty()
                        .get("policy")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    ctx.line(rules.trim());
                }
            }
            Ok(EXIT_OK)
        }
        PolicyCommand::List => {
            let answer = ctx
                .client
                .list("sys/policies/acl")
                .await
                .map_err(api_err("Error listing policies"))?;
            let keys = answer
                .and_then(|s| s.data)
                .and_then(|d| d.get("keys").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            match ctx.format {
                Format::Json => ctx.out(&format::json_pretty(&Value::Array(keys))),
                Format::Table => keys.iter().for_each(|k| ctx.line(&format::cell(k))),
            }
            Ok(EXIT_OK)
        }
        PolicyCommand::Delete(a) => {
            let path = policy_path(&a.name)?;
            ctx.client
                .delete(&path)
                .await
                .map_err(api_err(format!("Error deleting {}", a.name)))?;
            ctx.success(&format!("Success! Deleted policy: {}", a.name));
            Ok(EXIT_OK)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths() {
        assert_eq!(policy_path("Admin").unwrap(), "sys/policies/acl/admin");
        assert!(policy_path("a/b").is_err());
        assert!(policy_path(" ").is_err());
    }
}
