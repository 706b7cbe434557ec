//! Rate limit quotas (Vault's `sys/quotas/rate-limit` and `sys/quotas/config`).
//!
//! A quota allows `rate` requests per `interval` to each client address (a token bucket of
//! `rate` tokens refilled continuously), on every path (empty `path`), on a mount
//! (`auth/userpass/`), or on a path under a mount and everything below it
//! (`auth/userpass/login`; a trailing `*` matches any path starting with what precedes it).
//! The most specific quota that matches a request is the one applied. A client over the limit
//! is refused with `CoreError::RateLimited` (429) — and with a `block_interval`, refused for
//! that long whatever its bucket holds.
//!
//! The check runs at the top of `Core::handle`, before any token lookup, so a login flood
//! costs one hash-map lookup per request. With no quota it is one `ArcSwap` load.
//!
//! Buckets live in a fixed number of shards, each capped: when a shard is full, buckets that
//! have refilled completely (they hold nothing a fresh bucket would not) are dropped first,
//! then the one nearest to refilled, so a flood of client addresses cannot grow memory.
//! IPv6 clients are bucketed per /64 (one host usually owns a whole /64).

use crate::audit::{AuditBroker, AuditRecord};
use crate::request::Request;
use crate::view::View;
use crate::{CoreError, Result};
use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Storage prefix (through the barrier) of the quota configuration and rules.
pub const QUOTA_PREFIX: &str = "sys/quotas/";
const CONFIG_KEY: &str = "config";
const RATE_LIMIT_DIR: &str = "rate-limit/";

/// Bucket shards (each behind its own lock).
const SHARDS: usize = 64;
/// Buckets per shard: 64 × 1024 = 65 536 (quota, client) pairs at most, a few MiB.
const SHARD_CAPACITY: usize = 1024;
/// Longest `interval` or `block_interval` accepted: ten years, in seconds.
pub const MAX_INTERVAL: u64 = 10 * 365 * 86_400;

/// A stored rate limit quota, in Vault's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitQuota {
    /// Identifier.
    pub name: String,
    /// `""` (global), a mount (`auth/userpass/`), a path under a mount, or a prefix ending in `*`.
    pub path: String,
    /// Requests allowed per interval (and the burst size).
    pub rate: f64,
    /// Interval in seconds.
    pub interval: u64,
    /// Seconds a client is refused after exceeding the limit (0: only until a token refills).
    pub block_interval: u64,
    /// Login role the quota is restricted to (not supported: always empty).
    #[serde(default)]
    pub role: String,
}

/// `sys/quotas/config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// Record refused requests in the audit log.
    #[serde(default)]
    pub enable_rate_limit_audit_logging: bool,
    /// Answer 429s with `Retry-After` and `X-Ratelimit-*` headers.
    #[serde(default)]
    pub enable_rate_limit_response_headers: bool,
    /// Paths no quota applies to (exact, or a prefix ending in `*`).
    #[serde(default)]
    pub rate_limit_exempt_paths: Vec<String>,
}

/// What a 429 tells the client when `enable_rate_limit_response_headers` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `X-Ratelimit-Limit`: the quota's rate.
    pub limit: u64,
    /// `X-Ratelimit-Remaining`: requests left now (0 when refused).
    pub remaining: u64,
    /// `X-Ratelimit-Reset` and `Retry-After`: seconds until a request may succeed.
    pub reset: u64,
}

/// A quota ready for matching.
#[derive(Debug)]
struct Rule {
    /// Bucket namespace: new for every write of the quota, so a changed quota starts afresh.
    id: u64,
    quota: RateLimitQuota,
    /// The path without a trailing `/` or `*`.
    prefix: String,
    /// Trailing `*`: plain string prefix.
    glob: bool,
    per_sec: f64,
    capacity: f64,
    block: Duration,
}

impl Rule {
    fn new(id: u64, quota: RateLimitQuota) -> Rule {
        let (prefix, glob) = match quota.path.strip_suffix('*') {
            Some(p) => (p.to_string(), true),
            None => (quota.path.trim_end_matches('/').to_string(), false),
        };
        Rule {
            id,
            prefix,
            glob,
            per_sec: (quota.rate / quota.interval.clamp(1, MAX_INTERVAL) as f64).max(1e-9),
            capacity: quota.rate.max(1.0),
            block: Duration::from_secs(quota.block_interval.min(MAX_INTERVAL)),
            quota,
        }
    }

    fn matches(&self, path: &str) -> bool {
        if self.glob {
            return path.starts_with(&self.prefix);
        }
        match path.strip_prefix(&self.prefix) {
            Some(rest) => self.prefix.is_empty() || rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// The immutable set of quotas (swapped as a whole on every change).
#[derive(Debug, Default)]
struct Table {
    config: QuotaConfig,
    /// Most specific first.
    rules: Vec<Arc<Rule>>,
}

impl Table {
    fn new(config: QuotaConfig, mut rules: Vec<Arc<Rule>>) -> Table {
        rules.sort_by(|a, b| b.prefix.len().cmp(&a.prefix.len()).then(a.glob.cmp(&b.glob)));
        Table { config, rules }
    }

    fn exempt(&self, path: &str) -> bool {
        self.config
            .rate_limit_exempt_paths
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == p.trim_end_matches('/'),
            })
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
    blocked_until: Option<Instant>,
    /// When the bucket is full again and unblocked: from then on it is the same as no bucket.
    idle_at: Instant,
}

impl Bucket {
    fn new(rule: &Rule, now: Instant) -> Bucket {
        Bucket {
            tokens: rule.capacity,
            last: now,
            blocked_until: None,
            idle_at: now,
        }
    }

    /// Takes one token, or says how long until the client may try again.
    fn take(&mut self, rule: &Rule, now: Instant) -> std::result::Result<u64, Duration> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(until - now);
            }
            self.blocked_until = None;
            self.tokens = rule.capacity;
            self.last = now;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rule.per_sec).min(rule.capacity);
        self.last = now;
        let result = if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(self.tokens as u64)
        } else if !rule.block.is_zero() {
            self.blocked_until = Some(now + rule.block);
            Err(rule.block)
        } else {
            Err(seconds((1.0 - self.tokens) / rule.per_sec))
        };
        let refill = seconds((rule.capacity - self.tokens) / rule.per_sec);
        self.idle_at = self.blocked_until.map_or(now, |b| b.max(now)) + refill;
        result
    }
}

/// A non-negative number of seconds as a `Duration`, capped (never panics).
fn seconds(secs: f64) -> Duration {
    Duration::from_secs_f64(if secs.is_finite() {
        secs.clamp(0.0, MAX_INTERVAL as f64)
    } else {
        0.0
    })
}

type Key = (u64, IpAddr);

/// Buckets per (quota, client), in capped shards.
struct Buckets {
    shards: Vec<parking_lot::Mutex<HashMap<Key, Bucket>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Buckets {
    fn new() -> Buckets {
        Buckets {
            shards: (0..SHARDS).map(|_| parking_lot::Mutex::new(HashMap::new())).collect(),
            hasher: Default::default(),
        }
    }

    fn take(&self, rule: &Rule, client: IpAddr, now: Instant) -> std::result::Result<u64, Duration> {
        let key = (rule.id, client);
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut map = shard.lock();
        if map.len() >= SHARD_CAPACITY && !map.contains_key(&key) {
            map.retain(|_, b| b.idle_at > now);
            if map.len() >= SHARD_CAPACITY
                && let Some(victim) = map.iter().min_by_key(|(_, b)| b.idle_at).map(|(k, _)| *k)
            {
                map.remove(&victim);
            }
        }
        map.entry(key).or_insert_with(|| Bucket::new(rule, now)).take(rule, now)
    }

    /// Drops the buckets of a quota that changed or went away.
    fn forget(&self, id: u64) {
        for shard in &self.shards {
            shard.lock().retain(|k, _| k.0 != id);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

/// The rate limit quotas of an unsealed core.
pub struct Quotas {
    view: View,
    table: ArcSwap<Table>,
    buckets: Buckets,
    next_id: AtomicU64,
    /// Serialises changes (never taken by requests).
    write: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas")
            .field("rules", &self.table.load().rules.len())
            .finish()
    }
}

/// The bucket key of a client: its IPv4 address, or its IPv6 /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Quotas {
    /// Loads the configuration and every quota stored under `view`.
    pub async fn load(view: View) -> Result<Quotas> {
        let config: QuotaConfig = view.get_json(CONFIG_KEY).await?.unwrap_or_default();
        let quotas = Quotas {
            table: ArcSwap::from_pointee(Table::default()),
            buckets: Buckets::new(),
            next_id: AtomicU64::new(1),
            write: tokio::sync::Mutex::new(()),
            view,
        };
        let mut rules = Vec::new();
        for name in quotas.view.list(RATE_LIMIT_DIR).await? {
            if let Some(quota) = quotas
                .view
                .get_json::<RateLimitQuota>(&format!("{RATE_LIMIT_DIR}{name}"))
                .await?
            {
                rules.push(Arc::new(Rule::new(quotas.new_id(), quota)));
            }
        }
        quotas.table.store(Arc::new(Table::new(config, rules)));
        Ok(quotas)
    }

    fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Refuses the request if a quota says so (and records the refusal in the audit log when
    /// `enable_rate_limit_audit_logging` is set).
    pub(crate) async fn enforce(&self, req: &Request, audit: &AuditBroker) -> Result<()> {
        let Err(err) = self.check(&req.path, req.client_addr, Instant::now()) else {
            return Ok(());
        };
        if self.table.load().config.enable_rate_limit_audit_logging {
            audit
                .log_request(&AuditRecord::new(req), Some(&err.to_string()))
                .await?;
        }
        Err(err)
    }

    /// The rate limit decision for one request from `client` at `now`. Requests without a
    /// client address (in-process callers) are never limited.
    pub fn check(&self, path: &str, client: Option<IpAddr>, now: Instant) -> Result<()> {
        let table = self.table.load();
        if table.rules.is_empty() {
            return Ok(());
        }
        let Some(ip) = client else {
            return Ok(());
        };
        if table.exempt(path) {
            return Ok(());
        }
        let Some(rule) = table.rules.iter().find(|r| r.matches(path)) else {
            return Ok(());
        };
        match self.buckets.take(rule, client_key(ip), now) {
            Ok(_) => Ok(()),
            Err(wait) => Err(CoreError::RateLimited {
                path: path.to_string(),
                headers: table
                    .config
                    .enable_rate_limit_response_headers
                    .then(|| RateLimitHeaders {
                        limit: rule.quota.rate.ceil() as u64,
                        remaining: 0,
                        reset: wait.as_secs_f64().ceil().max(1.0) as u64,
                    }),
            }),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> QuotaConfig {
        self.table.load().config.clone()
    }

    /// Replaces the configuration.
    pub async fn set_config(&self, config: QuotaConfig) -> Result<()> {
        let _write = self.write.lock().await;
        self.view.put_json(CONFIG_KEY, &config).await?;
        let rules = self.table.load().rules.clone();
        self.table.store(Arc::new(Table::new(config, rules)));
        Ok(())
    }

    /// A quota by name.
    pub fn get(&self, name: &str) -> Option<RateLimitQuota> {
        let table = self.table.load();
        table
            .rules
            .iter()
            .find(|r| r.quota.name == name)
            .map(|r| r.quota.clone())
    }

    /// Every quota name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.table.load().rules.iter().map(|r| r.quota.name.clone()).collect();
        names.sort();
        names
    }

    /// Creates or replaces a quota (already validated by the caller).
    pub async fn put(&self, quota: RateLimitQuota) -> Result<()> {
        let _write = self.write.lock().await;
        let table = self.table.load_full();
        let rule = Rule::new(self.new_id(), quota);
        if let Some(other) = table
            .rules
            .iter()
            .find(|r| r.prefix == rule.prefix && r.glob == rule.glob && r.quota.name != rule.quota.name)
        {
            return Err(CoreError::bad(format!(
                "quota rule with similar properties exists under the name \"{}\"",
                other.quota.name
            )));
        }
        self.view
            .put_json(&format!("{RATE_LIMIT_DIR}{}", rule.quota.name), &rule.quota)
            .await?;
        let mut rules = Vec::with_capacity(table.rules.len() + 1);
        for r in &table.rules {
            if r.quota.name == rule.quota.name {
                self.buckets.forget(r.id);
            } else {
                rules.push(r.clone());
            }
        }
        rules.push(Arc::new(rule));
        self.table.store(Arc::new(Table::new(table.config.clone(), rules)));
        Ok(())
    }

    /// Deletes a quota (absent: nothing happens).
    pub async fn delete(&self, name: &str) -> Result<()> {
        let _write = self.write.lock().await;
        self.view.delete(&format!("{RATE_LIMIT_DIR}{name}")).await?;
        let table = self.table.load_full();
        let mut rules = Vec::with_capacity(table.rules.len());
        for r in &table.rules {
            if r.quota.name == name {
                self.buckets.forget(r.id);
            } else {
                rules.push(r.clone());
            }
        }
        self.table.store(Arc::new(Table::new(table.config.clone(), rules)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::barrier::Barrier;
    use coffer_storage::memory::MemoryBackend;

    fn quota(name: &str, path: &str, rate: f64, interval: u64, block: u64) -> RateLimitQuota {
        RateLimitQuota {
            name: name.into(),
            path: path.into(),
            rate,
            interval,
            block_interval: block,
            role: String::new(),
        }
    }

    fn view() -> View {
        let barrier = Barrier::new(Arc::new(MemoryBackend::new()));
        barrier.install(coffer_crypto::Keyring::generate());
        View::new(Arc::new(barrier), QUOTA_PREFIX)
    }

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));

    fn allowed(q: &Quotas, path: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        match q.check(path, ip, now) {
            Ok(()) => true,
            Err(CoreError::RateLimited { path: p, .. }) => {
                assert_eq!(p, path);
                false
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[tokio::test]
    async fn no_quota_allows_everything() {
        let q = Quotas::load(view()).await.unwrap();
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(allowed(&q, "auth/userpass/login/bob", A, now));
        }
        assert_eq!(q.buckets.len(), 0, "no bucket is created without a quota");
    }

    #[tokio::test]
    async fn bucket_limits_per_client_and_refills() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("login", "auth/userpass/login", 3.0, 10, 0)).await.unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(allowed(&q, "auth/userpass/login/bob", A, t0));
        }
        assert!(
            !allowed(&q, "auth/userpass/login/bob", A, t0),
            "the fourth request is refused"
        );
        assert!(
            allowed(&q, "auth/userpass/login/bob", B, t0),
            "another client has its own bucket"
        );
        assert!(allowed(&q, "secret/data/x", A, t0), "other paths are not limited");
        assert!(
            allowed(&q, "auth/userpass/loginx", A, t0),
            "a path only sharing a prefix is not limited"
        );
        // One token every 10/3 s.
        assert!(!allowed(&q, "auth/userpass/login/bob", A, t0 + Duration::from_secs(3)));
        assert!(allowed(&q, "auth/userpass/login/bob", A, t0 + Duration::from_secs(4)));
        assert!(!allowed(&q, "auth/userpass/login/bob", A, t0 + Duration::from_secs(4)));
    }

    #[tokio::test]
    async fn most_specific_quota_wins() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("global", "", 1.0, 60, 0)).await.unwrap();
        q.put(quota("mount", "auth/userpass/", 100.0, 1, 0)).await.unwrap();
        let now = Instant::now();
        assert!(allowed(&q, "secret/data/a", A, now));
        assert!(
            !allowed(&q, "secret/data/b", A, now),
            "the global quota applies elsewhere"
        );
        for _ in 0..50 {
            assert!(
                allowed(&q, "auth/userpass/login/bob", A, now),
                "the mount quota is larger"
            );
        }
        q.put(quota("glob", "auth/userpass/log*", 1.0, 60, 0)).await.unwrap();
        assert!(allowed(&q, "auth/userpass/login/bob", A, now));
        assert!(
            !allowed(&q, "auth/userpass/login/bob", A, now),
            "the glob is more specific than the mount"
        );
        assert!(
            allowed(&q, "auth/userpass/users/bob", A, now),
            "the mount quota still covers the rest"
        );
    }

    #[tokio::test]
    async fn block_interval_refuses_until_it_ends() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("b", "", 1.0, 1, 30)).await.unwrap();
        let t0 = Instant::now();
        assert!(allowed(&q, "x", A, t0));
        assert!(!allowed(&q, "x", A, t0));
        assert!(
            !allowed(&q, "x", A, t0 + Duration::from_secs(20)),
            "still blocked although refilled"
        );
        assert!(allowed(&q, "x", A, t0 + Duration::from_secs(31)));
    }

    #[tokio::test]
    async fn headers_exemptions_and_no_client() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("g", "", 2.0, 10, 0)).await.unwrap();
        q.set_config(QuotaConfig {
            enable_rate_limit_response_headers: true,
            rate_limit_exempt_paths: vec!["sys/quotas*".into(), "auth/token/lookup-self".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let now = Instant::now();
        assert!(allowed(&q, "a", A, now));
        assert!(allowed(&q, "a", A, now));
        match q.check("a", A, now) {
            Err(CoreError::RateLimited { headers: Some(h), .. }) => {
                assert_eq!(h.limit, 2);
                assert_eq!(h.remaining, 0);
                assert_eq!(h.reset, 5, "one token refills in 5 s");
            }
            other => panic!("expected a rate limit with headers, got {other:?}"),
        }
        assert!(allowed(&q, "sys/quotas/config", A, now), "exempt prefix");
        assert!(allowed(&q, "auth/token/lookup-self", A, now), "exempt path");
        assert!(allowed(&q, "a", None, now), "in-process requests are not limited");
    }

    #[tokio::test]
    async fn ipv6_clients_share_their_64() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("g", "", 1.0, 60, 0)).await.unwrap();
        let now = Instant::now();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(allowed(&q, "a", ip("2001:db8:1:2::1"), now));
        assert!(!allowed(&q, "a", ip("2001:db8:1:2:ffff::9"), now), "same /64");
        assert!(allowed(&q, "a", ip("2001:db8:1:3::1"), now), "another /64");
        assert!(allowed(&q, "a", ip("::ffff:10.0.0.9"), now));
        assert!(
            !allowed(&q, "a", ip("10.0.0.9"), now),
            "a v4-mapped address is its IPv4 address"
        );
    }

    #[tokio::test]
    async fn bucket_table_is_bounded() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("g", "", 5.0, 3600, 0)).await.unwrap();
        let now = Instant::now();
        for i in 0..(SHARDS * SHARD_CAPACITY + 5000) as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            assert!(allowed(&q, "a", Some(ip), now));
        }
        assert!(
            q.buckets.len() <= SHARDS * SHARD_CAPACITY,
            "{} buckets",
            q.buckets.len()
        );
    }

    #[tokio::test]
    async fn idle_buckets_are_evicted_before_busy_ones() {
        let q = Quotas::load(view()).await.unwrap();
        q.put(quota("g", "", 1.0, 10, 600)).await.unwrap();
        let t0 = Instant::now();
        assert!(allowed(&q, "a", A, t0));
        assert!(!allowed(&q, "a", A, t0), "A is now blocked for 10 minutes");
        let later = t0 + Duration::from_secs(60);
        for i in 0..(SHARDS * SHARD_CAPACITY + 5000) as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0b00_0000 + i));
            q.check("a", Some(ip), later).ok();
        }
        assert!(
            !allowed(&q, "a", A, later),
            "a blocked client survives a flood of new addresses"
        );
    }

    #[tokio::test]
    async fn quotas_persist_and_changes_reset_buckets() {
        let v = view();
        let q = Quotas::load(v.clone()).await.unwrap();
        q.put(quota("login", "auth/userpass/", 1.0, 60, 0)).await.unwrap();
        q.put(quota("other", "secret/", 2.0, 1, 5)).await.unwrap();
        let err = q.put(quota("dup", "auth/userpass", 1.0, 1, 0)).await.unwrap_err();
        assert!(err.to_string().contains("similar properties"), "{err}");
        q.set_config(QuotaConfig {
            enable_rate_limit_audit_logging: true,
            ..Default::default()
        })
        .await
        .unwrap();
        let now = Instant::now();
        assert!(allowed(&q, "auth/userpass/login/x", A, now));
        assert!(!allowed(&q, "auth/userpass/login/x", A, now));
        q.put(quota("login", "auth/userpass/", 2.0, 60, 0)).await.unwrap();
        assert!(
            allowed(&q, "auth/userpass/login/x", A, now),
            "a rewritten quota starts afresh"
        );

        let reloaded = Quotas::load(v).await.unwrap();
        assert_eq!(reloaded.names(), vec!["login".to_string(), "other".to_string()]);
        assert_eq!(reloaded.get("login").unwrap().rate, 2.0);
        assert_eq!(reloaded.get("other").unwrap().block_interval, 5);
        assert!(reloaded.config().enable_rate_limit_audit_logging);
        reloaded.delete("login").await.unwrap();
        assert!(reloaded.get("login").is_none());
        assert_eq!(
            Quotas::load(reloaded.view.clone()).await.unwrap().names(),
            vec!["other".to_string()]
        );
    }
}
