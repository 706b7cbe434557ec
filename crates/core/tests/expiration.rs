//! The expiration manager over a real barrier, with a fake revocation backend: persistence,
//! the timer, renewal limits, revoke-prefix/force, restart, races and tidy.

use async_trait::async_trait;
use coffer_core::barrier::Barrier;
use coffer_core::expiration::{
    EXPIRE_ID_PREFIX, EXPIRE_TOKEN_PREFIX, ExpirationManager, Lease, LeaseBackend, LeaseKind, SecretLeaseRequest,
};
use coffer_core::time::now_unix;
use coffer_core::token::TokenEntry;
use coffer_core::{CoreError, Result};
use coffer_crypto::Keyring;
use coffer_storage::{DynPhysical, memory::MemoryBackend};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Records what the manager asked for; fails revocations of chosen leases.
#[derive(Default)]
struct Fake {
    revoked: parking_lot::Mutex<Vec<String>>,
    renewed: parking_lot::Mutex<Vec<(String, i64)>>,
    failing: parking_lot::Mutex<HashSet<String>>,
    dead_tokens: parking_lot::Mutex<HashSet<String>>,
}

impl Fake {
    fn revoked(&self) -> Vec<String> {
        self.revoked.lock().clone()
    }
}

#[async_trait]
impl LeaseBackend for Fake {
    async fn revoke(&self, lease: &Lease) -> Result<()> {
        if self.failing.lock().contains(&lease.id) {
            return Err(CoreError::Internal("backend unreachable".into()));
        }
        self.revoked.lock().push(lease.id.clone());
        Ok(())
    }

    async fn renew(&self, lease: &Lease, new_expire: i64) -> Result<i64> {
        self.renewed.lock().push((lease.id.clone(), new_expire));
        Ok(new_expire)
    }

    async fn token_exists(&self, token_id: &str) -> Result<bool> {
        Ok(!self.dead_tokens.lock().contains(token_id))
    }
}

fn barrier() -> Arc<Barrier> {
    let physical: DynPhysical = Arc::new(MemoryBackend::new());
    let barrier = Barrier::new(physical);
    barrier.install(Keyring::generate());
    Arc::new(barrier)
}

fn manager(barrier: &Arc<Barrier>) -> (ExpirationManager, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    (ExpirationManager::new(barrier.clone(), fake.clone()), fake)
}

fn secret(path: &str, token: &str, ttl: u64, max_ttl: u64, renewable: bool) -> SecretLeaseRequest {
    SecretLeaseRequest {
        request_path: path.into(),
        mount_path: format!("{}/", path.split('/').next().unwrap()),
        client_token_id: token.into(),
        internal: json!({"username": "v-app-1"}),
        ttl,
        max_ttl,
        renewable,
    }
}

fn token(id: &str, ttl: i64, expire_time: i64) -> TokenEntry {
    serde_json::from_value(json!({
        "id": id, "accessor": format!("acc-{id}"), "parent": "", "policies": ["default"],
        "meta": {}, "display_name": "token", "num_uses": 0, "creation_time": now_unix(),
        "creation_ttl": ttl, "expire_time": expire_time, "explicit_max_ttl": 0, "period": 0,
        "renewable": true, "path": "auth/token/create", "entity_id": "", "type": "service",
    }))
    .expect("token entry")
}

/// Polls `check` every 50 ms for up to `limit`; true once it holds.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

#[tokio::test]
async fn registration_persists_record_and_index() {
    let b = barrier();
    let (m, _) = manager(&b);
    let lease = m
        .register_secret(&secret("db/creds/ro", "tok1", 600, 3600, true))
        .await
        .unwrap();
    assert!(lease.id.starts_with("db/creds/ro/"), "{}", lease.id);
    assert!(
        b.get(&format!("{EXPIRE_ID_PREFIX}{}", lease.id))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(b.list(&format!("{EXPIRE_TOKEN_PREFIX}tok1/")).await.unwrap().len(), 1);
    let suffix = lease.id.rsplit('/').next().unwrap().to_string();
    assert_eq!(m.list("db/creds/ro/").await.unwrap(), vec![suffix.clone()]);
    assert_eq!(m.list("db/creds/ro").await.unwrap(), vec![suffix]);
    assert_eq!(m.list("db/").await.unwrap(), vec!["creds/".to_string()]);

    // A new manager over the same storage sees the same lease.
    let (again, _) = manager(&b);
    let found = again.lookup(&lease.id).await.unwrap().expect("persisted");
    assert_eq!(found, lease);
    assert!(matches!(&found.kind, LeaseKind::Secret { mount_path, .. } if mount_path == "db/"));
    let data = found.lookup_data(now_unix());
    assert_eq!(data["id"], json!(lease.id));
    assert!(data["ttl"].as_u64().is_some_and(|t| t > 590 && t <= 600), "{data}");
    assert_eq!(data["last_renewal"], json!(null));
    assert_eq!(data["renewable"], json!(true));
}

#[tokio::test]
async fn token_leases_are_named_after_the_creating_path() {
    let b = barrier();
    let (m, _) = manager(&b);
    let now = now_unix();
    let lease = m
        .register_token(&token("abc", 60, now + 60), 120)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.id, "auth/token/create/abc");
    assert_eq!(lease.max_expire, now + 120);
    assert_eq!(m.list("auth/token/create/").await.unwrap(), vec!["abc".to_string()]);
    // Root tokens (no expiry) and batch tokens have no lease.
    assert!(m.register_token(&token("root", 0, 0), 120).await.unwrap().is_none());
    let mut batch = token("batch", 60, now + 60);
    batch.kind = "batch".into();
    assert!(m.register_token(&batch, 120).await.unwrap().is_none());
    assert_eq!(m.scheduled(), 1);
}

#[tokio::test]
async fn timer_revokes_an_expired_lease_on_time() {
    let b = barrier();
    let (m, fake) = manager(&b);
    m.start();
    // A long lease first, so the timer is asleep on a far deadline when the short one comes.
    m.register_secret(&secret("db/creds/long", "t", 3600, 0, true))
        .await
        .unwrap();
    let short = m
        .register_secret(&secret("db/creds/ro", "t", 1, 0, true))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(4), || fake.revoked().contains(&short.id)).await,
        "the timer did not revoke a 1s lease: {:?}",
        fake.revoked()
    );
    assert!(m.lookup(&short.id).await.unwrap().is_none());
    assert_eq!(fake.revoked(), vec![short.id.clone()], "only the expired lease");
    assert_eq!(m.scheduled(), 1);
    m.stop();
}

#[tokio::test]
async fn renew_extends_and_caps_at_the_maximum() {
    let b = barrier();
    let (m, fake) = manager(&b);
    let lease = m
        .register_secret(&secret("db/creds/ro", "t", 10, 30, true))
        .await
        .unwrap();
    let now = now_unix();
    let r = m.renew(&lease.id, Some(20)).await.unwrap();
    assert!(!r.capped);
    assert!((19..=20).contains(&r.ttl), "{}", r.ttl);
    let r = m.renew(&lease.id, Some(1000)).await.unwrap();
    assert!(r.capped, "capped by max_ttl");
    assert!(r.ttl <= 30, "{}", r.ttl);
    assert_eq!(r.lease.expire_time, lease.issue_time + 30);
    let stored = m.lookup(&lease.id).await.unwrap().unwrap();
    assert_eq!(stored.expire_time, lease.issue_time + 30);
    assert!(stored.last_renewal >= now);
    assert_eq!(m.scheduled_at(&lease.id), Some(lease.issue_time + 30));
    assert_eq!(fake.renewed.lock().len(), 2);

    let fixed = m
        .register_secret(&secret("db/creds/ro", "t", 10, 0, false))
        .await
        .unwrap();
    let err = m.renew(&fixed.id, None).await.unwrap_err();
    assert!(
        matches!(&err, CoreError::BadRequest(msg) if msg.contains("not renewable")),
        "{err:?}"
    );
    let err = m.renew("db/creds/ro/missing", None).await.unwrap_err();
    assert!(matches!(err, CoreError::BadRequest(_)), "{err:?}");
}

#[tokio::test]
async fn revoke_prefix_stays_inside_the_prefix() {
    let b = barrier();
    let (m, fake) = manager(&b);
    let mut inside = Vec::new();
    for _ in 0..3 {
        inside.push(
            m.register_secret(&secret("db/creds/ro", "t", 600, 0, true))
                .await
                .unwrap()
                .id,
        );
    }
    let sibling = m
        .register_secret(&secret("db/creds/rox", "t", 600, 0, true))
        .await
        .unwrap();
    let other = m.register_secret(&secret("kv/x", "t", 600, 0, true)).await.unwrap();
    assert_eq!(m.revoke_prefix("db/creds/ro", false).await.unwrap(), 3);
    let mut revoked = fake.revoked();
    revoked.sort();
    inside.sort();
    assert_eq!(revoked, inside);
    assert!(m.lookup(&sibling.id).await.unwrap().is_some());
    assert!(m.lookup(&other.id).await.unwrap().is_some());
    // An exact lease id is a prefix of one.
    assert_eq!(m.revoke_prefix(&other.id, false).await.unwrap(), 1);
    assert!(m.revoke_prefix("../x", false).await.is_err());
}

#[tokio::test]
async fn revoke_force_removes_leases_whose_backend_revocation_fails() {
    let b = barrier();
    let (m, fake) = manager(&b);
    let stuck = m
        .register_secret(&secret("db/creds/ro", "t", 600, 0, true))
        .await
        .unwrap();
    fake.failing.lock().insert(stuck.id.clone());
    assert!(m.revoke(&stuck.id).await.is_err());
    assert!(m.revoke_prefix("db/", false).await.is_err());
    assert!(
        m.lookup(&stuck.id).await.unwrap().is_some(),
        "kept after a failed revocation"
    );
    assert_eq!(m.revoke_prefix("db/", true).await.unwrap(), 1);
    assert!(m.lookup(&stuck.id).await.unwrap().is_none());
    assert_eq!(m.scheduled(), 0);
}

#[tokio::test]
async fn restart_revokes_leases_that_expired_while_down() {
    let b = barrier();
    let now = now_unix();
    {
        let (before, _) = manager(&b);
        // Expired 10 s ago: as if the server had been down since.
        before.register_token(&token("short", 1, now - 10), 3600).await.unwrap();
        before
            .register_token(&token("long", 3600, now + 3600), 7200)
            .await
            .unwrap();
        before
            .register_secret(&secret("db/creds/ro", "long", 3600, 0, true))
            .await
            .unwrap();
    }
    let (after, fake) = manager(&b);
    let report = after.load().await.unwrap();
    assert_eq!((report.total, report.expired), (3, 1));
    after.start();
    assert!(
        eventually(Duration::from_secs(2), || fake.revoked()
            == vec!["auth/token/create/short".to_string()])
        .await,
        "expired lease not revoked at start: {:?}",
        fake.revoked()
    );
    assert!(after.lookup("auth/token/create/short").await.unwrap().is_none());
    assert!(after.lookup("auth/token/create/long").await.unwrap().is_some());
    assert_eq!(after.scheduled(), 2);
    after.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_idempotent_and_wins_races_with_renewal() {
    let b = barrier();
    let (m, fake) = manager(&b);
    let m = Arc::new(m);
    for _ in 0..20 {
        let lease = m
            .register_secret(&secret("db/creds/ro", "t", 600, 0, true))
            .await
            .unwrap();
        let (m1, m2, m3) = (m.clone(), m.clone(), m.clone());
        let (id1, id2, id3) = (lease.id.clone(), lease.id.clone(), lease.id.clone());
        let renew = tokio::spawn(async move { m1.renew(&id1, Some(60)).await });
        let revoke = tokio::spawn(async move { m2.revoke(&id2).await });
        let revoke_again = tokio::spawn(async move { m3.revoke(&id3).await });
        let _ = renew.await.unwrap();
        let a = revoke.await.unwrap().unwrap();
        let b = revoke_again.await.unwrap().unwrap();
        assert!(a ^ b, "exactly one of two revocations does the work");
        assert!(m.lookup(&lease.id).await.unwrap().is_none(), "ends revoked");
        assert_eq!(m.scheduled_at(&lease.id), None);
        assert_eq!(fake.revoked().iter().filter(|id| **id == lease.id).count(), 1);
    }
    assert!(!m.revoke("db/creds/ro/never-existed").await.unwrap());
}

#[tokio::test]
async fn revoking_a_token_revokes_its_secrets_and_drops_its_own_lease() {
    let b = barrier();
    let (m, fake) = manager(&b);
    let now = now_unix();
    let own = m
        .register_token(&token("tokA", 600, now + 600), 3600)
        .await
        .unwrap()
        .unwrap();
    let created = m
        .register_secret(&secret("db/creds/ro", "tokA", 600, 0, true))
        .await
        .unwrap();
    let others = m
        .register_secret(&secret("db/creds/ro", "tokB", 600, 0, true))
        .await
        .unwrap();
    m.revoke_by_token("tokA").await.unwrap();
    assert_eq!(
        fake.revoked(),
        vec![created.id.clone()],
        "the token itself is the caller's to revoke"
    );
    assert!(m.lookup(&own.id).await.unwrap().is_none());
    assert!(m.lookup(&created.id).await.unwrap().is_none());
    assert!(m.lookup(&others.id).await.unwrap().is_some());
    assert!(b.list(&format!("{EXPIRE_TOKEN_PREFIX}tokA/")).await.unwrap().is_empty());
    assert_eq!(m.scheduled(), 1);
}

#[tokio::test]
async fn token_renewal_moves_its_lease() {
    let b = barrier();
    let (m, _) = manager(&b);
    let now = now_unix();
    let mut entry = token("tokR", 60, now + 60);
    m.register_token(&entry, 3600).await.unwrap();
    entry.expire_time = now + 900;
    m.token_renewed(&entry).await.unwrap();
    let lease = m.lookup("auth/token/create/tokR").await.unwrap().unwrap();
    assert_eq!(lease.expire_time, now + 900);
    assert!(lease.last_renewal >= now);
    assert_eq!(m.scheduled_at(&lease.id), Some(now + 900));
    // A token without a lease is left alone.
    m.token_renewed(&token("legacy", 60, now + 60)).await.unwrap();
    assert!(m.lookup("auth/token/create/legacy").await.unwrap().is_none());
}

#[tokio::test]
async fn tidy_removes_dangling_index_entries_and_orphaned_leases() {
    let b = barrier();
    let (m, fake) = manager(&b);
    let dangling = m
        .register_secret(&secret("db/creds/ro", "tok1", 600, 0, true))
        .await
        .unwrap();
    b.delete(&format!("{EXPIRE_ID_PREFIX}{}", dangling.id)).await.unwrap();
    let orphan = m
        .register_secret(&secret("db/creds/ro", "gone", 600, 0, true))
        .await
        .unwrap();
    let kept = m
        .register_secret(&secret("db/creds/ro", "alive", 600, 0, true))
        .await
        .unwrap();
    fake.dead_tokens.lock().insert("gone".into());

    let report = m.tidy().await.unwrap();
    assert_eq!(report.scanned, 3);
    assert_eq!(report.dangling_removed, 1);
    assert_eq!(report.orphans_revoked, 1);
    assert!(b.list(&format!("{EXPIRE_TOKEN_PREFIX}tok1/")).await.unwrap().is_empty());
    assert!(m.lookup(&orphan.id).await.unwrap().is_none());
    assert_eq!(fake.revoked(), vec![orphan.id.clone()]);
    assert!(m.lookup(&kept.id).await.unwrap().is_some());
    assert_eq!(
        m.tidy().await.unwrap().scanned,
        1,
        "a second pass finds only the live lease"
    );
}
