//! `coffer kv metadata get|put|delete`: KV v2 metadata (versions, limits, custom metadata).

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::kv::PathArgs;
use super::kv_path::{self, KvPath};
use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err};
use crate::args::{parse_duration_secs, parse_pairs};
use crate::format::{self, Format};

/// Metadata subcommands (KV v2 only).
#[derive(Debug, Subcommand)]
pub enum MetadataCommand {
    /// Show metadata and every version's state.
    Get(PathArgs),
    /// Set max versions, check-and-set requirement, auto-delete, custom metadata.
    Put(MetadataPutArgs),
    /// Delete the metadata and all versions of a secret.
    Delete(PathArgs),
}

/// `kv metadata put` flags; only the given ones are sent.
#[derive(Debug, Args)]
pub struct MetadataPutArgs {
    #[command(flatten)]
    path: PathArgs,
    /// Versions to keep (0 = the mount's default).
    #[arg(long)]
    max_versions: Option<u64>,
    /// Require `-cas` on every write (`-cas-required=false` to turn off).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    cas_required: Option<bool>,
    /// Delete versions this long after they are written (e.g. `1h`; `0s` = never).
    #[arg(long)]
    delete_version_after: Option<String>,
    /// Custom metadata `k=v`, repeatable.
    #[arg(long)]
    custom_metadata: Vec<String>,
}

/// Runs one `kv metadata` subcommand.
pub async fn run(ctx: &Ctx, cmd: MetadataCommand) -> CmdResult {
    match cmd {
        MetadataCommand::Get(a) => get(ctx, a).await,
        MetadataCommand::Put(a) => put(ctx, a).await,
        MetadataCommand::Delete(a) => delete(ctx, a).await,
    }
}

async fn resolve(ctx: &Ctx, p: &PathArgs) -> Result<KvPath, CliError> {
    let kp = kv_path::lookup(ctx, &p.path, p.mount.as_deref()).await?;
    kv_path::require_v2(&kp, "kv metadata")?;
    Ok(kp)
}

/// Vault's metadata layout: path block, metadata table, then one table per version.
pub fn metadata_table(full: &str, data: &Map<String, Value>) -> String {
    let mut meta = data.clone();
    let versions = meta.remove("versions");
    let mut out = format::path_block("Metadata Path", full);
    out.push_str(&format::header_for_map("Metadata", &meta));
    out.push('\n');
    out.push_str(&format::data_table(&meta));
    if let Some(Value::Object(versions)) = versions {
        let mut nums: Vec<(u64, &Value)> = versions
            .iter()
            .filter_map(|(k, v)| k.parse::<u64>().ok().map(|n| (n, v)))
            .collect();
        nums.sort_by_key(|(n, _)| *n);
        for (n, v) in nums {
            let empty = Map::new();
            let vmap = v.as_object().unwrap_or(&empty);
            out.push('\n');
            out.push_str(&format::header_for_map(&format!("Version {n}"), vmap));
            out.push('\n');
            out.push_str(&format::data_table(vmap));
        }
    }
    out
}

async fn get(ctx: &Ctx, a: PathArgs) -> CmdResult {
    let kp = resolve(ctx, &a).await?;
    let full = kp.api("metadata");
    let secret = ctx
        .client
        .read(&full)
        .await
        .map_err(api_err(format!("Error reading {full}")))?
        .ok_or_else(|| CliError::not_found(format!("No value found at {full}")))?;
    if ctx.format == Format::Json || secret.wrap_info.is_some() {
        ctx.secret(&secret);
    } else {
        ctx.warnings(&secret);
        ctx.out(&metadata_table(&full, &secret.data_or_empty()));
    }
    Ok(EXIT_OK)
}

async fn put(ctx: &Ctx, a: MetadataPutArgs) -> CmdResult {
    let mut body = Map::new();
    if let Some(n) = a.max_versions {
        body.insert("max_versions".into(), json!(n));
    }
    if let Some(b) = a.cas_required {
        body.insert("cas_required".into(), json!(b));
    }
    if let Some(d) = &a.delete_version_after {
        parse_duration_secs(d).map_err(CliError::usage)?;
        body.insert("delete_version_after".into(), json!(d));
    }
    if !a.custom_metadata.is_empty() {
        let m = parse_pairs(&a.custom_metadata, "custom-metadata").map_err(CliError::usage)?;
        body.insert("custom_metadata".into(), Value::Object(m));
    }
    let kp = resolve(ctx, &a.path).await?;
    let full = kp.api("metadata");
    ctx.client
        .post(&full, &Value::Object(body))
        .await
        .map_err(api_err(format!("Error writing data to {full}")))?;
    ctx.success(&format!("Success! Data written to: {full}"));
    Ok(EXIT_OK)
}

async fn delete(ctx: &Ctx, a: PathArgs) -> CmdResult {
    let kp = resolve(ctx, &a).await?;
    let full = kp.api("metadata");
    ctx.client
        .delete(&full)
        .await
        .map_err(api_err(format!("Error deleting {full}")))?;
    ctx.success(&format!("Success! Data deleted (if it existed) at: {full}"));
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_layout_lists_versions_in_order() {
        let data = json!({
            "current_version": 2, "max_versions": 0, "cas_required": false,
            "versions": {
                "10": {"created_time": "t10", "deletion_time": "", "destroyed": false},
                "2": {"created_time": "t2", "deletion_time": "", "destroyed": true}
            }
        });
        let out = metadata_table("secret/metadata/foo", data.as_object().unwrap());
        assert!(out.starts_with("== Metadata Path ==\nsecret/metadata/foo\n\n"), "{out}");
        let v2 = out.find("Version 2 =").unwrap();
        let v10 = out.find("Version 10 =").unwrap();
        assert!(v2 < v10, "{out}");
        assert!(out.contains("current_version    2\n"), "{out}");
        assert!(!out.contains("versions    map["), "{out}");
        assert!(out.contains("deletion_time    n/a\n"), "{out}");
    }
}
