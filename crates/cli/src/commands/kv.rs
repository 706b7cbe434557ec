//! `coffer kv …`: the KV secrets engine, v1 and v2, with Vault's path rules and output.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::kv_metadata::MetadataCommand;
use super::kv_path::{self, KvPath};
use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err, print_field};
use crate::args::{RealInputs, ensure_trailing_slash, parse_data_args};
use crate::format::{self, Format};

/// KV subcommands. Paths are `mount/path` or, with `-mount=M`, relative to mount `M`;
/// the KV version is detected through `sys/internal/ui/mounts/<path>`.
#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Read a secret (exit 2 when there is none).
    Get(GetArgs),
    /// Create or replace a secret: `kv put PATH k=v k2=@file k3=-`.
    Put(PutArgs),
    /// Update some keys of a v2 secret, keeping the others.
    Patch(PatchArgs),
    /// List keys under a path.
    List(PathArgs),
    /// Delete the latest version (or `-versions=…` on v2).
    Delete(DeleteArgs),
    /// Undelete versions of a v2 secret.
    Undelete(VersionsArgs),
    /// Permanently destroy versions of a v2 secret.
    Destroy(VersionsArgs),
    /// Read and write v2 metadata.
    #[command(subcommand)]
    Metadata(MetadataCommand),
}

/// A KV path and optional mount.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// Mount path of the KV engine; PATH is then relative to it.
    #[arg(long)]
    pub mount: Option<String>,
    /// Secret path.
    pub path: String,
}

/// `kv get` flags.
#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    path: PathArgs,
    /// Version to read (v2); latest when omitted.
    #[arg(long)]
    version: Option<u64>,
    /// Print only this key's value.
    #[arg(long)]
    field: Option<String>,
}

/// `kv put` flags.
#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    path: PathArgs,
    /// Check-and-set: write only if the current version is N (0 = only if absent).
    #[arg(long)]
    cas: Option<i64>,
    /// Print only this field of the answer.
    #[arg(long)]
    field: Option<String>,
    /// Data: `k=v`, `k=@file`, `k=-` (stdin), `-` (JSON object from stdin).
    #[arg(required = true, allow_hyphen_values = true)]
    data: Vec<String>,
}

/// `kv patch` flags.
#[derive(Debug, Args)]
pub struct PatchArgs {
    #[command(flatten)]
    path: PathArgs,
    /// Check-and-set version.
    #[arg(long)]
    cas: Option<i64>,
    /// `patch` (HTTP PATCH, default) or `rw` (read, merge, write back with cas).
    #[arg(long, default_value = "patch", value_parser = ["patch", "rw"])]
    method: String,
    /// Print only this field of the answer.
    #[arg(long)]
    field: Option<String>,
    /// Data to merge in.
    #[arg(required = true, allow_hyphen_values = true)]
    data: Vec<String>,
}

/// `kv delete` flags.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    path: PathArgs,
    /// Versions to delete (v2), comma separated; latest when omitted.
    #[arg(long, value_delimiter = ',')]
    versions: Vec<u64>,
}

/// Flags for commands that need `-versions`.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    #[command(flatten)]
    path: PathArgs,
    /// Versions, comma separated (required).
    #[arg(long, value_delimiter = ',', required = true)]
    versions: Vec<u64>,
}

/// Runs one `kv` subcommand.
pub async fn run(ctx: &Ctx, cmd: KvCommand) -> CmdResult {
    match cmd {
        KvCommand::Get(a) => get(ctx, a).await,
        KvCommand::Put(a) => put(ctx, a).await,
        KvCommand::Patch(a) => patch(ctx, a).await,
        KvCommand::List(a) => list(ctx, a).await,
        KvCommand::Delete(a) => delete(ctx, a).await,
        KvCommand::Undelete(a) => versions_op(ctx, a, "undelete").await,
        KvCommand::Destroy(a) => versions_op(ctx, a, "destroy").await,
        KvCommand::Metadata(m) => super::kv_metadata::run(ctx, m).await,
    }
}

async fn resolve(ctx: &Ctx, p: &PathArgs) -> Result<KvPath, CliError> {
    kv_path::lookup(ctx, &p.path, p.mount.as_deref()).await
}

async fn get(ctx: &Ctx, a: GetArgs) -> CmdResult {
    let kp = resolve(ctx, &a.path).await?;
    let full = kp.api("data");
    let query: Vec<(String, String)> = match a.version {
        Some(v) if kp.v2() => vec![("version".into(), v.to_string())],
        _ => Vec::new(),
    };
    let secret = ctx
        .client
        .read_with_query(&full, &query)
        .await
        .map_err(api_err(format!("Error reading {full}")))?
        .ok_or_else(|| CliError::not_found(format!("No value found at {full}")))?;
    let data = secret.data_or_empty();
    let payload = if kp.v2() {
        data.get("data").and_then(Value::as_object).cloned()
    } else {
        Some(data.clone())
    };
    if let Some(field) = &a.field {
        let Some(payload) = payload else {
            return Err(CliError::not_found(format!("No data found at {full}")));
        };
        return print_field(ctx, payload.get(field).cloned(), field);
    }
    if ctx.format == Format::Json || secret.wrap_info.is_some() {
        ctx.secret(&secret);
        return Ok(EXIT_OK);
    }
    ctx.warnings(&secret);
    let mut out = String::new();
    if kp.v2() {
        out.push_str(&format::path_block("Secret Path", &full));
        if let Some(meta) = data.get("metadata").and_then(Value::as_object) {
            out.push_str(&format::header_for_map("Metadata", meta));
            out.push('\n');
            out.push_str(&format::data_table(meta));
            out.push('\n');
        }
    }
    if let Some(payload) = payload {
        out.push_str(&format::header_for_map("Data", &payload));
        out.push('\n');
        out.push_str(&format::data_table(&payload));
    }
    ctx.out(&out);
    Ok(EXIT_OK)
}

/// Prints a v2 write answer (path + metadata table) or v1's success line.
fn print_write(ctx: &Ctx, full: &str, secret: Option<coffer_client::Secret>, field: Option<&str>) -> CmdResult {
    let Some(secret) = secret else {
        ctx.success(&format!("Success! Data written to: {full}"));
        return Ok(EXIT_OK);
    };
    if let Some(field) = field {
        return print_field(ctx, super::secret_field(&secret, field), field);
    }
    if ctx.format == Format::Json {
        ctx.secret(&secret);
        return Ok(EXIT_OK);
    }
    ctx.warnings(&secret);
    let meta = secret.data_or_empty();
    let mut out = format::path_block("Secret Path", full);
    out.push_str(&format::header_for_map("Metadata", &meta));
    out.push('\n');
    out.push_str(&format::data_table(&meta));
    ctx.out(&out);
    Ok(EXIT_OK)
}

fn v2_body(data: Map<String, Value>, cas: Option<i64>) -> Value {
    let mut body = json!({ "data": data });
    if let Some(cas) = cas {
        body["options"] = json!({ "cas": cas });
    }
    body
}

async fn put(ctx: &Ctx, a: PutArgs) -> CmdResult {
    let data = parse_data_args(&a.data, &mut RealInputs).map_err(CliError::usage)?;
    if data.is_empty() {
        return Err(CliError::usage("Must supply data"));
    }
    let kp = resolve(ctx, &a.path).await?;
    let full = kp.api("data");
    let body = if kp.v2() {
        v2_body(data, a.cas)
    } else {
        Value::Object(data)
    };
    let answer = ctx
        .client
        .write(&full, &body)
        .await
        .map_err(api_err(format!("Error writing data to {full}")))?;
    print_write(ctx, &full, answer, a.field.as_deref())
}

async fn patch(ctx: &Ctx, a: PatchArgs) -> CmdResult {
    let data = parse_data_args(&a.data, &mut RealInputs).map_err(CliError::usage)?;
    if data.is_empty() {
        return Err(CliError::usage("Must supply data"));
    }
    let kp = resolve(ctx, &a.path).await?;
    kv_path::require_v2(&kp, "kv patch")?;
    let full = kp.api("data");
    let answer = if a.method == "rw" {
        let current = ctx
            .client
            .read(&full)
            .await
            .map_err(api_err(format!("Error reading {full}")))?
            .ok_or_else(|| CliError::not_found(format!("No value found at {full}")))?;
        let cur = current.data_or_empty();
        let mut merged = cur.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
        merged.extend(data);
        let version = cur
            .get("metadata")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_i64);
        ctx.client
            .write(&full, &v2_body(merged, a.cas.or(version)))
            .await
            .map_err(api_err(format!("Error writing data to {full}")))?
    } else {
        ctx.client
            .patch(&full, &v2_body(data, a.cas))
            .await
            .map_err(api_err(format!("Error writing data to {full}")))?
    };
    print_write(ctx, &full, answer, a.field.as_deref())
}

async fn list(ctx: &Ctx, a: PathArgs) -> CmdResult {
    let kp = resolve(ctx, &a).await?;
    let full = ensure_trailing_slash(&kp.api("metadata"));
    let answer = ctx
        .client
        .list(&full)
        .await
        .map_err(api_err(format!("Error listing {full}")))?;
    ctx.list(answer, &full)
}

async fn delete(ctx: &Ctx, a: DeleteArgs) -> CmdResult {
    let kp = resolve(ctx, &a.path).await?;
    let full = if kp.v2() && !a.versions.is_empty() {
        let full = kp.api("delete");
        ctx.client
            .post(&full, &json!({ "versions": a.versions }))
            .await
            .map_err(api_err(format!("Error deleting {full}")))?;
        full
    } else {
        if !a.versions.is_empty() {
            return Err(CliError::usage("-versions is only supported on KV version 2 mounts"));
        }
        let full = kp.api("data");
        ctx.client
            .delete(&full)
            .await
            .map_err(api_err(format!("Error deleting {full}")))?;
        full
    };
    ctx.success(&format!("Success! Data deleted (if it existed) at: {full}"));
    Ok(EXIT_OK)
}

async fn versions_op(ctx: &Ctx, a: VersionsArgs, op: &str) -> CmdResult {
    let kp = resolve(ctx, &a.path).await?;
    kv_path::require_v2(&kp, &format!("kv {op}"))?;
    let full = kp.api(op);
    let body = json!({ "versions": a.versions });
    let result = if op == "destroy" {
        ctx.client.write(&full, &body).await
    } else {
        ctx.client.post(&full, &body).await
    };
    result.map_err(api_err(format!("Error writing data to {full}")))?;
    ctx.success(&format!("Success! Data written to: {full}"));
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_bodies_carry_cas_only_when_given() {
        let mut d = Map::new();
        d.insert("k".into(), json!("v"));
        assert_eq!(v2_body(d.clone(), None), json!({"data": {"k": "v"}}));
        assert_eq!(v2_body(d, Some(0)), json!({"data": {"k": "v"}, "options": {"cas": 0}}));
    }
}
