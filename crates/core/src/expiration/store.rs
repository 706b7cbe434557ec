//! Where leases live in the barrier: one record per lease at `sys/expire/id/<lease id>`, and
//! an index `sys/expire/token/<token id>/<lease id, base64url>` of the leases each token holds.

use super::lease::Lease;
use crate::barrier::{Barrier, BarrierOp};
use crate::view::to_json;
use crate::{CoreError, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Barrier prefix of the lease records.
pub const EXPIRE_ID_PREFIX: &str = "sys/expire/id/";
/// Barrier prefix of the by-token index.
pub const EXPIRE_TOKEN_PREFIX: &str = "sys/expire/token/";

pub(super) fn id_key(id: &str) -> String {
    format!("{EXPIRE_ID_PREFIX}{id}")
}

fn index_key(token_id: &str, lease_id: &str) -> String {
    format!("{EXPIRE_TOKEN_PREFIX}{token_id}/{}", URL_SAFE_NO_PAD.encode(lease_id))
}

/// The lease id an index key names; `None` for a key that is not one of ours.
fn decode_index_name(name: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(name).ok()?;
    String::from_utf8(bytes).ok()
}

/// Writes of a new lease: its record and its index entry.
pub(super) fn put_ops(lease: &Lease) -> Result<Vec<BarrierOp>> {
    let mut ops = vec![BarrierOp::Put(id_key(&lease.id), to_json(lease)?)];
    if !lease.client_token_id.is_empty() {
        ops.push(BarrierOp::Put(index_key(&lease.client_token_id, &lease.id), Vec::new()));
    }
    Ok(ops)
}

/// Deletes of a lease: its record and its index entry.
pub(super) fn delete_ops(lease: &Lease) -> Vec<BarrierOp> {
    let mut ops = vec![BarrierOp::Delete(id_key(&lease.id))];
    if !lease.client_token_id.is_empty() {
        ops.push(BarrierOp::Delete(index_key(&lease.client_token_id, &lease.id)));
    }
    ops
}

/// Reads one lease record.
pub(super) async fn load(barrier: &Barrier, id: &str) -> Result<Option<Lease>> {
    match barrier.get(&id_key(id)).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(bytes.expose()).map(Some).map_err(|e| {
            CoreError::Internal(format!(
                "corrupt lease record (line {}, column {})",
                e.line(),
                e.column()
            ))
        }),
    }
}

/// Rewrites a lease record (renewal); the index does not change.
pub(super) async fn put(barrier: &Barrier, lease: &Lease) -> Result<()> {
    barrier.put(&id_key(&lease.id), &to_json(lease)?).await
}

/// Every lease id under `dir` (a lease-id prefix that is empty or ends with `/`), walking
/// the tree depth first.
pub(super) async fn walk(barrier: &Barrier, dir: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_string()];
    while let Some(dir) = pending.pop() {
        for child in barrier.list(&id_key(&dir)).await? {
            let full = format!("{dir}{child}");
            if child.ends_with('/') {
                pending.push(full);
            } else {
                out.push(full);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Lease ids indexed under a token.
pub(super) async fn by_token(barrier: &Barrier, token_id: &str) -> Result<Vec<String>> {
    let names = barrier.list(&format!("{EXPIRE_TOKEN_PREFIX}{token_id}/")).await?;
    Ok(names
        .iter()
        .filter(|n| !n.ends_with('/'))
        .filter_map(|n| decode_index_name(n))
        .collect())
}

/// Token ids that have index entries.
pub(super) async fn indexed_tokens(barrier: &Barrier) -> Result<Vec<String>> {
    Ok(barrier
        .list(EXPIRE_TOKEN_PREFIX)
        .await?
        .into_iter()
        .filter_map(|n| n.strip_suffix('/').map(str::to_string))
        .collect())
}

/// Deletes one index entry.
pub(super) async fn delete_index(barrier: &Barrier, token_id: &str, lease_id: &str) -> Result<()> {
    barrier.delete(&index_key(token_id, lease_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_round_trip_and_have_no_slash() {
        let id = "auth/token/create/ab+c==";
        let key = index_key("tok", id);
        let name = key.rsplit('/').next().unwrap();
        assert_eq!(key, format!("{EXPIRE_TOKEN_PREFIX}tok/{name}"));
        assert_eq!(decode_index_name(name).as_deref(), Some(id));
    }
}
