//! `Core`: owns the barrier, the seal state and everything that exists only while unsealed,
//! and is the one entry point (`handle`) every request goes through.

use crate::backend::{BackendRequest, Caller, MountContext, Registry};
use crate::barrier::{Barrier, BarrierOp};
use crate::identity::{IDENTITY_PREFIX, IdentityStore, MountInfo, ResolvedEntity};
use crate::mfa::{MFA_PREFIX, MfaStore};
use crate::mounts::{
    CUBBYHOLE_KIND, DISCOVERY_KIND, IDENTITY_KIND, MOUNT_TABLE_PATH, MountEntry, MountTable, Route, SYSTEM_KIND,
    TOKEN_KIND,
};
use crate::policy_store::{POLICY_PREFIX, PolicyStore};
use crate::request::{Operation, Request, Response};
use crate::seal::{self, SealConfig, UnsealProgress};
use crate::token::api::{TokenCaller, TtlLimits};
use crate::token::store::{BATCH_KEY_PATH, HMAC_KEY_PATH};
use crate::token::{NewToken, TokenEntry, TokenStore};
use crate::view::{View, to_json};
use crate::{CoreError, Result};
use arc_swap::{ArcSwap, ArcSwapOption};
use coffer_crypto::{Key256, SecretBytes};
use coffer_policy::Capability;
use coffer_storage::DynPhysical;
use secrecy::SecretString;
use std::sync::Arc;

/// Server-wide settings the core needs.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Default TTL of tokens and leases, seconds (Vault: 768h).
    pub default_lease_ttl: u64,
    /// Maximum TTL of tokens and leases, seconds (Vault: 768h).
    pub max_lease_ttl: u64,
    /// Reported in seal-status (`storage_type`).
    pub storage_type: String,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            default_lease_ttl: 768 * 3600,
            max_lease_ttl: 768 * 3600,
            storage_type: "sqlite".into(),
        }
    }
}

/// State that exists only while unsealed; dropped (and its keys zeroized) on seal.
pub struct Unsealed {
    pub(crate) root_key: Key256,
    pub(crate) mounts: ArcSwap<MountTable>,
    pub(crate) tokens: TokenStore,
    pub(crate) policies: PolicyStore,
    pub(crate) identity: IdentityStore,
    pub(crate) expiration: Arc<crate::expiration::ExpirationManager>,
    pub(crate) mfa: MfaStore,
    pub(crate) audit: Arc<crate::audit::AuditBroker>,
    pub(crate) quotas: crate::quotas::Quotas,
}

pub(crate) struct Inner {
    pub(crate) barrier: Arc<Barrier>,
    pub(crate) registry: Registry,
    pub(crate) config: CoreConfig,
    pub(crate) progress: parking_lot::Mutex<UnsealProgress>,
    pub(crate) state: ArcSwapOption<Unsealed>,
    /// Serialises init/unseal/seal/rotate and mount-table changes (never taken by requests).
    pub(crate) admin: tokio::sync::Mutex<()>,
    /// Request counters and latency histograms (`sys/metrics`).
    pub(crate) metrics: crate::metrics::Metrics,
}

/// The secrets server's core. Cheap to clone.
#[derive(Clone)]
pub struct Core(pub(crate) Arc<Inner>);

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("sealed", &self.is_sealed()).finish()
    }
}

/// What `initialize` hands back, once.
pub struct InitOutput {
    /// Unseal key shares.
    pub shares: Vec<SecretBytes>,
    /// The initial root token.
    pub root_token: SecretString,
}

impl Core {
    /// A sealed core over a physical backend.
    pub fn new(physical: DynPhysical, registry: Registry, config: CoreConfig) -> Core {
        Core(Arc::new(Inner {
            barrier: Arc::new(Barrier::new(physical)),
            registry,
            config,
            progress: parking_lot::Mutex::new(UnsealProgress::default()),
            state: ArcSwapOption::empty(),
            admin: tokio::sync::Mutex::new(()),
            metrics: crate::metrics::Metrics::new(),
        }))
    }

    /// Whether the barrier is sealed.
    pub fn is_sealed(&self) -> bool {
        self.0.state.load().is_none()
    }

    /// The seal configuration; `None` until initialised.
    pub async fn seal_config(&self) -> Result<Option<SealConfig>> {
        seal::load_config(self.0.barrier.physical()).await
    }

    /// Server settings.
    pub fn config(&self) -> &CoreConfig {
        &self.0.config
    }

    pub(crate) fn barrier(&self) -> &Arc<Barrier> {
        &self.0.barrier
    }

    pub(crate) fn unsealed(&self) -> Result<Arc<Unsealed>> {
        self.0.state.load_full().ok_or(CoreError::Sealed)
    }

    /// Initialises a new server: generates keys, the default mounts, the `default` policy and
    /// a root token. Leaves the server sealed.
    pub async fn initialize(&self, shares: u8, threshold: u8) -> Result<InitOutput> {
        let _admin = self.0.admin.lock().await;
        let physical = self.0.barrier.physical();
        if seal::load_config(physical).await?.is_some() {
            return Err(CoreError::bad("Vault is already initialized"));
        }
        let config = SealConfig {
            secret_shares: shares,
            secret_threshold: threshold,
        };
        let material = seal::generate(physical, &config).await?;
        self.0.barrier.install(material.keyring);
        let result = async {
            let hmac_key = coffer_crypto::random_bytes(32);
            self.0.barrier.put(HMAC_KEY_PATH, &hmac_key).await?;
            let table = default_mount_table();
            self.0.barrier.put(MOUNT_TABLE_PATH, &to_json(&table)?).await?;
            let state = self.build_state(material.root_key, table).await?;
            let (root_token, _) = state
                .tokens
                .create(NewToken {
                    policies: vec!["root".into()],
                    display_name: "root".into(),
                    path: "auth/token/root".into(),
                    ..Default::default()
                })
                .await?;
            Ok::<_, CoreError>(root_token)
        }
        .await;
        self.0.barrier.seal();
        let root_token = result?;
        seal::write_config(physical, &config).await?;
        tracing::info!(shares, threshold, "initialized");
        Ok(InitOutput {
            shares: material.shares,
            root_token,
        })
    }

    /// Submits one unseal share. Returns `true` once unsealed.
    pub async fn submit_unseal_key(&self, key: SecretBytes) -> Result<bool> {
        let _admin = self.0.admin.lock().await;
        if !self.is_sealed() {
            return Ok(true);
        }
        let config = self.seal_config().await?.ok_or(CoreError::NotInitialized)?;
        let shares = {
            let mut progress = self.0.progress.lock();
            if progress.shares.is_empty() {
                progress.nonce = uuid::Uuid::new_v4().to_string();
            }
            if progress.shares.iter().any(|s| s == &key) {
                return Ok(false);
            }
            progress.shares.push(key);
            if progress.shares.len() < config.secret_threshold as usize {
                return Ok(false);
            }
            std::mem::take(&mut *progress).shares
        };
        let (root_key, keyring) = seal::open(self.0.barrier.physical(), &shares).await?;
        self.0.barrier.install(keyring);
        match self.load_state(root_key).await {
            Ok(state) => {
                let state = Arc::new(state);
                self.0.state.store(Some(state.clone()));
                state.expiration.start();
                tracing::info!("unsealed");
                Ok(true)
            }
            Err(e) => {
                self.0.barrier.seal();
                Err(e)
            }
        }
    }

    /// Clears partly submitted unseal shares.
    pub fn reset_unseal(&self) {
        *self.0.progress.lock() = UnsealProgress::default();
    }

    /// Unseal progress: (shares submitted, nonce).
    pub fn unseal_progress(&self) -> (usize, String) {
        let p = self.0.progress.lock();
        (p.shares.len(), p.nonce.clone())
    }

    /// Seals: drops every key from memory. Requests get 503 until unsealed again.
    pub async fn seal(&self) -> Result<()> {
        let _admin = self.0.admin.lock().await;
        if let Some(state) = self.0.state.load_full() {
            state.expiration.stop();
            state.audit.shutdown().await;
        }
        self.0.state.store(None);
        self.0.barrier.seal();
        self.reset_unseal();
        tracing::info!("sealed");
        Ok(())
    }

    /// Adds a keyring term; new writes use it, older terms stay for reading.
    pub async fn rotate(&self) -> Result<u32> {
        let _admin = self.0.admin.lock().await;
        let state = self.unsealed()?;
        let rotated = self.0.barrier.keyring()?.rotate();
        seal::store_keyring(self.0.barrier.physical(), &state.root_key, &rotated).await?;
        let term = rotated.active_term();
        self.0.barrier.install(rotated);
        tracing::info!(term, "keyring rotated");
        Ok(term)
    }

    /// The keyring's active term and its install time (unix seconds).
    pub fn key_status(&self) -> Result<(u32, u64)> {
        let keyring = self.0.barrier.keyring()?;
        let term = keyring.active_term();
        Ok((term, keyring.install_time(term).unwrap_or(0)))
    }

    async fn load_state(&self, root_key: Key256) -> Result<Unsealed> {
        let mut table: Vec<MountEntry> = match self.0.barrier.get(MOUNT_TABLE_PATH).await? {
            Some(bytes) => serde_json::from_slice(bytes.expose())
                .map_err(|_| CoreError::Internal("mount table is corrupt".into()))?,
            None => default_mount_table(),
        };
        // Built-in mounts added by later versions appear on the next unseal.
        for builtin in default_mount_table() {
            if !table.iter().any(|e| e.path == builtin.path) {
                table.push(builtin);
            }
        }
        let state = self.build_state(root_key, table).await?;
        state.policies.ensure_default().await?;
        state.expiration.load().await?;
        Ok(state)
    }

    async fn build_state(&self, root_key: Key256, table: Vec<MountEntry>) -> Result<Unsealed> {
        let barrier = &self.0.barrier;
        let hmac_key = barrier
            .get(HMAC_KEY_PATH)
            .await?
            .ok_or_else(|| CoreError::Internal("token HMAC key is missing".into()))?;
        let routes = table
            .into_iter()
            .map(|e| self.instantiate(e))
            .collect::<Result<Vec<_>>>()?;
        let mounts = MountTable::new(routes);
        let cubbyhole_prefix = mounts
            .by_kind(CUBBYHOLE_KIND)
            .map(|r| r.view.prefix().to_string())
            .unwrap_or_default();
        let batch_key = match barrier.get(BATCH_KEY_PATH).await? {
            Some(bytes) => Key256::from_slice(bytes.expose())?,
            None => {
                let key = Key256::generate();
                barrier.put(BATCH_KEY_PATH, key.as_bytes()).await?;
                key
            }
        };
        let expiration = Arc::new(crate::expiration::ExpirationManager::new(
            barrier.clone(),
            Arc::new(crate::expiration::CoreLeaseBackend::new(self)),
        ));
        let tokens = TokenStore::new(
            barrier.clone(),
            hmac_key,
            batch_key,
            cubbyhole_prefix,
            expiration.clone(),
        );
        let policies = PolicyStore::new(View::new(barrier.clone(), POLICY_PREFIX));
        policies.ensure_default().await?;
        let identity = IdentityStore::new(View::new(barrier.clone(), IDENTITY_PREFIX));
        let mfa = MfaStore::new(View::new(barrier.clone(), MFA_PREFIX));
        let quotas = crate::quotas::Quotas::load(View::new(barrier.clone(), crate::quotas::QUOTA_PREFIX)).await?;
        let audit =
            Arc::new(crate::audit::AuditBroker::load(barrier.clone(), crate::audit::BrokerOptions::default()).await?);
        Ok(Unsealed {
            root_key,
            expiration,
            mounts: ArcSwap::from_pointee(mounts),
            tokens,
            policies,
            identity,
            mfa,
            audit,
            quotas,
        })
    }

    /// Creates the live route (backend + view) for a mount entry.
    pub(crate) fn instantiate(&self, entry: MountEntry) -> Result<Arc<Route>> {
        let view = View::new(self.0.barrier.clone(), entry.storage_prefix());
        let backend = match entry.kind.as_str() {
            SYSTEM_KIND | TOKEN_KIND | IDENTITY_KIND => None,
            kind => {
                let factory = self
                    .0
                    .registry
                    .get(kind)
                    .ok_or_else(|| CoreError::bad(format!("plugin not found in the catalog: {kind}")))?;
                Some(factory(MountContext {
                    view: view.clone(),
                    mount_point: entry.path.clone(),
                    kind: entry.kind.clone(),
                    options: entry.options.clone(),
                })?)
            }
        };
        Ok(Arc::new(Route { entry, backend, view }))
    }

    /// Adds a mount and persists the table.
    pub async fn mount(&self, entry: MountEntry) -> Result<()> {
        let _admin = self.0.admin.lock().await;
        let state = self.unsealed()?;
        let current = state.mounts.load_full();
        current.check_free(&entry.path)?;
        let route = self.instantiate(entry)?;
        let mut routes: Vec<_> = current.routes().cloned().collect();
        routes.push(route);
        self.persist_routes(&state, routes, vec![]).await
    }

    /// Removes a mount, revokes the leases it issued and deletes its data.
    pub async fn unmount(&self, path: &str) -> Result<()> {
        let _admin = self.0.admin.lock().await;
        let state = self.unsealed()?;
        let current = state.mounts.load_full();
        let Some(route) = current.get(path) else {
            return Ok(());
        };
        if matches!(
            route.entry.kind.as_str(),
            SYSTEM_KIND | TOKEN_KIND | CUBBYHOLE_KIND | IDENTITY_KIND | DISCOVERY_KIND
        ) {
            return Err(CoreError::bad(format!("cannot unmount \"{path}\"")));
        }
        // Leases issued through the mount die with it: for an auth method, every token it
        // issued (their lease ids start with the mount path).
        state.expiration.revoke_prefix(path, true).await?;
        let prefix = route.view.prefix().to_string();
        let routes = current.routes().filter(|r| r.entry.path != path).cloned().collect();
        self.persist_routes(&state, routes, vec![BarrierOp::DeletePrefix(prefix)])
            .await
    }

    /// Replaces a mount's entry (tune); the backend is re-created when its options change.
    pub async fn retune(&self, path: &str, change: impl FnOnce(&mut MountEntry) -> Result<()>) -> Result<()> {
        let _admin = self.0.admin.lock().await;
        let state = self.unsealed()?;
        let current = state.mounts.load_full();
        let route = current
            .get(path)
            .ok_or_else(|| CoreError::bad(format!("no mount at \"{path}\"")))?;
        let mut entry = route.entry.clone();
        change(&mut entry)?;
        let new_route = if entry.options == route.entry.options {
            Arc::new(Route {
                entry,
                backend: route.backend.clone(),
                view: route.view.clone(),
            })
        } else {
            self.instantiate(entry)?
        };
        let mut routes: Vec<_> = current.routes().filter(|r| r.entry.path != path).cloned().collect();
        routes.push(new_route);
        self.persist_routes(&state, routes, vec![]).await
    }

    async fn persist_routes(&self, state: &Unsealed, routes: Vec<Arc<Route>>, mut extra: Vec<BarrierOp>) -> Result<()> {
        let mut entries: Vec<&MountEntry> = routes.iter().map(|r| &r.entry).collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        extra.insert(0, BarrierOp::Put(MOUNT_TABLE_PATH.into(), to_json(&entries)?));
        self.0.barrier.batch(extra).await?;
        state.mounts.store(Arc::new(MountTable::new(routes)));
        Ok(())
    }

    /// The current mount table.
    pub fn mounts(&self) -> Result<Arc<MountTable>> {
        Ok(self.unsealed()?.mounts.load_full())
    }

    /// Resolves a token to its entry (for callers outside the request path, e.g. tests).
    pub async fn lookup_token(&self, token: &SecretString) -> Result<Option<Arc<TokenEntry>>> {
        self.unsealed()?.tokens.lookup(token).await
    }

    /// Handles one request: seal check, token, routing, ACL, backend. See ARCHITECTURE.md.
    pub async fn handle(&self, req: Request) -> Result<Response> {
        let (start, op, sys) = (std::time::Instant::now(), req.operation, req.path.starts_with("sys/"));
        let mut route = None;
        let result = self.handle_routed(req, &mut route).await;
        let mount = route
            .as_ref()
            .map_or(if sys { "sys/" } else { "" }, |r| r.entry.path.as_str());
        self.0.metrics.record(mount, op, &result, start.elapsed());
        result
    }

    /// `handle` without the metrics: leaves the route it found in `route_seen`.
    async fn handle_routed(&self, req: Request, route_seen: &mut Option<Arc<Route>>) -> Result<Response> {
        check_path(&req.path)?;
        // Quotas come first (before the token lookup, and before sys/mfa/validate), so floods
        // are cut cheaply; the seal and health endpoints are never limited.
        if let Ok(state) = self.unsealed()
            && !crate::sys::never_rate_limited(&req.path)
        {
            state.quotas.enforce(&req, &state.audit).await?;
        }
        if let Some(resp) = crate::sys::handle_unauthenticated(self, &req).await? {
            return Ok(resp);
        }
        let state = self.unsealed()?;
        let mounts = state.mounts.load_full();
        let routed = mounts
            .route(&req.path)
            .map(|(route, rel)| (&*route_seen.insert(route), rel));
        if let Some((route, rel)) = &routed
            && let Some(backend) = &route.backend
            && is_unauthenticated(backend.unauthenticated_paths(), rel)
        {
            let breq = backend_request(&req, req.operation, rel, None, &route.entry);
            let record = audit_record(&req, &route.entry, req.operation, None);
            state.audit.log_request(&record, None).await?;
            let result = async {
                let resp = backend.handle(&breq).await?;
                crate::login::complete(self, &state, route, resp, &req).await
            }
            .await;
            state.audit.log_response(&record, result.as_ref()).await?;
            return result;
        }
        let token = req.token.as_ref().ok_or(CoreError::PermissionDenied)?;
        let entry = state.tokens.lookup(token).await?.ok_or(CoreError::PermissionDenied)?;
        if !crate::cidr::allowed(&entry.bound_cidrs, req.client_addr) {
            return Err(CoreError::PermissionDenied);
        }
        let resolved = match entry.entity_id.as_str() {
            "" => None,
            id => Some(state.identity.resolve(id).await?),
        };
        if resolved.as_ref().is_some_and(|r| r.disabled) {
            return Err(CoreError::PermissionDenied);
        }
        let policies = effective_policies(&entry, resolved.as_deref());
        let acl = if crate::wrapping::is_wrapping_token(&entry) {
            crate::wrapping::acl()
        } else if let Some(data) = resolved.as_ref().and_then(|r| r.template.as_ref()) {
            state.policies.acl_for_entity(&policies, data).await?
        } else {
            state.policies.acl(&policies).await?
        };
        let caller = Caller {
            token_id: entry.id.clone(),
            accessor: entry.accessor.clone(),
            policies,
            display_name: entry.display_name.clone(),
            entity_id: entry.entity_id.clone(),
            is_root: entry.is_root(),
        };
        let mut op = req.operation;
        if let (Some((route, rel)), Operation::Update) = (&routed, op)
            && let Some(backend) = &route.backend
        {
            let probe = backend_request(&req, op, rel, Some(&caller), &route.entry);
            if backend.exists(&probe).await? == Some(false) {
                op = Operation::Create;
            }
        }
        let decision = acl.check(&req.path, capability(op), Some(&req.data));
        if !decision.allowed {
            if let Some(reason) = decision.reason {
                tracing::debug!(path = %req.path, %reason, "denied by policy parameters");
            }
            return Err(CoreError::PermissionDenied);
        }
        let wrap_ttl = req.wrap_ttl.map(|d| d.as_secs());
        acl.wrapping_bounds(&req.path, capability(op))
            .check(req.wrap_ttl)
            .map_err(CoreError::BadRequest)?;
        let Some((route, rel)) = routed else {
            return Err(CoreError::NoRoute(req.path.clone()));
        };
        // The request is on record before anything changes (fail closed). One that changes
        // nothing (a read the backend vouches for, with no use count and no wrapping) has its
        // entry written while it runs; its answer still waits for both entries.
        let audit_auth = crate::audit::AuditAuth::from_token(&entry, &caller.policies);
        let audit_rec = audit_record(&req, &route.entry, op, Some(&audit_auth));
        let reads_only = entry.num_uses == 0
            && wrap_ttl.is_none()
            && match route.entry.kind.as_str() {
                TOKEN_KIND => crate::token::api::reads_only(rel),
                _ => route.backend.as_ref().is_some_and(|b| b.reads_only(op, rel)),
            };
        let request_on_record = if reads_only {
            Some(state.audit.submit_request(&audit_rec))
        } else {
            state.audit.log_request(&audit_rec, None).await?;
            None
        };
        let (entry, last_use) = state.tokens.use_once(entry).await?;
        let result = match route.entry.kind.as_str() {
            SYSTEM_KIND if crate::sys::needs_sudo(rel) && !decision.sudo => Err(CoreError::PermissionDenied),
            SYSTEM_KIND => crate::sys::handle(self, &state, &acl, &entry, op, rel, &req).await,
            TOKEN_KIND if crate::token::api::needs_sudo(rel) && !decision.sudo => Err(CoreError::PermissionDenied),
            TOKEN_KIND => {
                let caller = TokenCaller {
                    entry: &entry,
                    token,
                    sudo: decision.sudo,
                };
                let limits = self.token_limits(&route.entry);
                crate::token::api::handle(&state.tokens, &caller, limits, op, rel, &req.data).await
            }
            IDENTITY_KIND if rel.starts_with("mfa/") => state.mfa.handle(op, rel, &req.data, &entry.entity_id).await,
            IDENTITY_KIND => {
                let lookup = |accessor: &str| {
                    mounts
                        .routes()
                        .find(|r| r.entry.accessor == accessor)
                        .map(|r| MountInfo {
                            kind: r.entry.kind.clone(),
                            path: r.entry.path.clone(),
                        })
                };
                state
                    .identity
                    .handle_with_mounts(op, rel, &req.data, Some(&lookup))
                    .await
            }
            CUBBYHOLE_KIND if crate::token::batch::is_batch(&entry) => {
                Err(CoreError::bad("cubbyhole is not available to batch tokens"))
            }
            _ => {
                let backend = route
                    .backend
                    .as_ref()
                    .ok_or_else(|| CoreError::Internal("mount has no backend".into()))?;
                let breq = backend_request(&req, op, rel, Some(&caller), &route.entry);
                backend.handle(&breq).await
            }
        };
        if last_use {
            state.tokens.revoke_tree(&entry.id).await?;
        }
        let result = async {
            let mut resp = result?;
            if resp.mount_type.is_empty() {
                resp.mount_type = route.entry.kind.clone();
            }
            match wrap_ttl {
                Some(ttl) => crate::wrapping::wrap(self, &state, resp, ttl, &req.path).await,
                None => Ok(resp),
            }
        }
        .await;
        state.audit.log_response(&audit_rec, result.as_ref()).await?;
        if let Some(pending) = request_on_record {
            pending.wait().await?;
        }
        result
    }

    /// Reopens audit files (after log rotation; the server calls it on SIGHUP).
    pub fn audit_reopen(&self) {
        if let Ok(state) = self.unsealed() {
            state.audit.reopen();
        }
    }

    /// How far behind each audit device is.
    pub fn audit_lag(&self) -> Vec<crate::audit::DeviceLag> {
        self.unsealed().map(|s| s.audit.lag()).unwrap_or_default()
    }

    pub(crate) fn token_limits(&self, entry: &MountEntry) -> TtlLimits {
        let pick = |v: u64, d: u64| if v == 0 { d } else { v };
        TtlLimits {
            default_ttl: pick(entry.config.default_lease_ttl, self.0.config.default_lease_ttl),
            max_ttl: pick(entry.config.max_lease_ttl, self.0.config.max_lease_ttl),
        }
    }
}

/// What the audit devices record about a request routed to `mount`.
fn audit_record<'a>(
    req: &'a Request,
    mount: &'a MountEntry,
    op: Operation,
    auth: Option<&'a crate::audit::AuditAuth>,
) -> crate::audit::AuditRecord<'a> {
    crate::audit::AuditRecord {
        operation: op,
        auth,
        mount_type: &mount.kind,
        mount_accessor: &mount.accessor,
        non_hmac_request_keys: &mount.config.audit_non_hmac_request_keys,
        non_hmac_response_keys: &mount.config.audit_non_hmac_response_keys,
        ..crate::audit::AuditRecord::new(req)
    }
}

fn backend_request<'a>(
    req: &'a Request,
    op: Operation,
    rel: &'a str,
    caller: Option<&'a Caller>,
    mount: &'a MountEntry,
) -> BackendRequest<'a> {
    BackendRequest {
        operation: op,
        path: rel,
        data: &req.data,
        caller,
        mount_point: &mount.path,
        request_id: &req.id,
        mount_accessor: &mount.accessor,
        client_addr: req.client_addr,
        client_certs: &req.client_certs,
    }
}

/// Whether `rel` matches one of a backend's unauthenticated paths (`login`, `login/*`).
pub(crate) fn is_unauthenticated(paths: &[&str], rel: &str) -> bool {
    paths.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => rel.starts_with(prefix),
        None => rel == *p,
    })
}

/// The ACL capability an operation needs.
pub fn capability(op: Operation) -> Capability {
    match op {
        Operation::Read => Capability::Read,
        Operation::Create => Capability::Create,
        Operation::Update => Capability::Update,
        Operation::Patch => Capability::Patch,
        Operation::Delete => Capability::Delete,
        Operation::List => Capability::List,
    }
}

/// Rejects paths with `..` segments or control characters.
pub fn check_path(path: &str) -> Result<()> {
    if path.split('/').any(|s| s == "..") || path.chars().any(|c| c == '\0' || c.is_control()) {
        return Err(CoreError::bad("invalid request path"));
    }
    Ok(())
}

fn default_mount_table() -> Vec<MountEntry> {
    let mut sys = MountEntry::new(
        "sys/",
        SYSTEM_KIND,
        "system endpoints used for control, policy and debugging",
    );
    sys.accessor = format!("system_{}", &sys.uuid[..8]);
    vec![
        MountEntry::new("cubbyhole/", CUBBYHOLE_KIND, "per-token private secret storage"),
        sys,
        MountEntry::new("identity/", IDENTITY_KIND, "identity store"),
        MountEntry::new(
            "coffer/discovery/",
            DISCOVERY_KIND,
            "inventory of secrets found by `coffer scan`",
        ),
        MountEntry::new("auth/token/", TOKEN_KIND, "token based credentials"),
    ]
}

/// Normalises a mount request's type and options (`kv-v2` → `kv` with version 2).
pub fn normalize_kind(kind: &str, options: &mut std::collections::HashMap<String, String>) -> String {
    match kind {
        "kv-v2" => {
            options.insert("version".into(), "2".into());
            "kv".into()
        }
        "kv-v1" => {
            options.insert("version".into(), "1".into());
            "kv".into()
        }
        other => other.to_string(),
    }
}

/// A token's policies plus those of its entity and the entity's groups, sorted.
fn effective_policies(entry: &TokenEntry, resolved: Option<&ResolvedEntity>) -> Vec<String> {
    let Some(resolved) = resolved else {
        return entry.policies.clone();
    };
    let mut policies = entry.policies.clone();
    policies.extend(resolved.policies.iter().cloned());
    policies.sort();
    policies.dedup();
    policies
}
