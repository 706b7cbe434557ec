//! `coffer read|write|delete|list PATH`: raw access to any API path.

use clap::Args;
use serde_json::{Map, Value};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err, print_field, secret_field};
use crate::args::{RealInputs, ensure_trailing_slash, parse_data_args, sanitize_path};

/// `read PATH [k=v…]`: data becomes query parameters.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Print only this field.
    #[arg(long)]
    field: Option<String>,
    /// API path, e.g. `sys/mounts` or `secret/data/foo`.
    path: String,
    /// Optional `k=v` query parameters.
    #[arg(allow_hyphen_values = true)]
    data: Vec<String>,
}

/// `write PATH [k=v…]`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Allow writing with no data.
    #[arg(long, short = 'f')]
    force: bool,
    /// Print only this field of the answer.
    #[arg(long)]
    field: Option<String>,
    /// API path.
    path: String,
    /// Data: `k=v`, `k=@file`, `k=-` (stdin), `-` (JSON object from stdin), `@file.json`.
    #[arg(allow_hyphen_values = true)]
    data: Vec<String>,
}

/// `delete PATH [k=v…]`: data becomes query parameters.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// API path.
    path: String,
    /// Optional `k=v` query parameters.
    #[arg(allow_hyphen_values = true)]
    data: Vec<String>,
}

/// `list PATH`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// API path.
    path: String,
}

/// Turns data arguments into query pairs (arrays repeat the key).
fn query_pairs(data: Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in data {
        match v {
            Value::Array(items) => out.extend(items.iter().map(|i| (k.clone(), crate::format::cell(i)))),
            other => out.push((k, crate::format::cell(&other))),
        }
    }
    out
}

/// Runs `read`.
pub async fn read(ctx: &Ctx, a: ReadArgs) -> CmdResult {
    let path = sanitize_path(&a.path);
    let data = parse_data_args(&a.data, &mut RealInputs).map_err(CliError::usage)?;
    let secret = ctx
        .client
        .read_with_query(&path, &query_pairs(data))
        .await
        .map_err(api_err(format!("Error reading {path}")))?
        .ok_or_else(|| CliError::not_found(format!("No value found at {path}")))?;
    if let Some(field) = &a.field {
        return print_field(ctx, secret_field(&secret, field), field);
    }
    ctx.secret(&secret);
    Ok(EXIT_OK)
}

/// Runs `write`.
pub async fn write(ctx: &Ctx, a: WriteArgs) -> CmdResult {
    let path = sanitize_path(&a.path);
    let data = parse_data_args(&a.data, &mut RealInputs).map_err(CliError::usage)?;
    if data.is_empty() && !a.force {
        return Err(CliError::usage("Must supply data or use -force"));
    }
    let answer = ctx
        .client
        .write(&path, &Value::Object(data))
        .await
        .map_err(api_err(format!("Error writing data to {path}")))?;
    match answer {
        None => ctx.success(&format!("Success! Data written to: {path}")),
        Some(secret) => {
            if let Some(field) = &a.field {
                return print_field(ctx, secret_field(&secret, field), field);
            }
            ctx.secret(&secret);
        }
    }
    Ok(EXIT_OK)
}

/// Runs `delete`.
pub async fn delete(ctx: &Ctx, a: DeleteArgs) -> CmdResult {
    let path = sanitize_path(&a.path);
    let data = parse_data_args(&a.data, &mut RealInputs).map_err(CliError::usage)?;
    ctx.client
        .delete_with_query(&path, &query_pairs(data))
        .await
        .map_err(api_err(format!("Error deleting {path}")))?;
    ctx.success(&format!("Success! Data deleted (if it existed) at: {path}"));
    Ok(EXIT_OK)
}

/// Runs `list`.
pub async fn list(ctx: &Ctx, a: ListArgs) -> CmdResult {
    let path = ensure_trailing_slash(&sanitize_path(&a.path));
    let answer = ctx
        .client
        .list(&path)
        .await
        .map_err(api_err(format!("Error listing {path}")))?;
    ctx.list(answer, &path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_pairs_repeat_array_keys() {
        let m = json!({"a": "1", "b": ["x", "y"]});
        let q = query_pairs(m.as_object().unwrap().clone());
        assert_eq!(
            q,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x".into()),
                ("b".into(), "y".into())
            ]
        );
    }
}
