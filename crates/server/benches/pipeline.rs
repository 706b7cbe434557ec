//! The request pipeline without HTTP: `Core::handle` for a KV v2 read and write and a token
//! lookup, over in-memory storage, with a root token and with a policy token.

use coffer_core::{Core, CoreConfig, Operation, Request};
use coffer_storage::{DynPhysical, cache::CachedPhysical, memory::MemoryBackend};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::sync::Arc;

async fn setup() -> (Core, String, String) {
    let physical: DynPhysical = Arc::new(CachedPhysical::new(Arc::new(MemoryBackend::new()), 100_000));
    let core = Core::new(physical, coffer_server::registry(), CoreConfig::default());
    let out = core.initialize(1, 1).await.unwrap();
    core.submit_unseal_key(out.shares[0].clone()).await.unwrap();
    let root = secrecy::ExposeSecret::expose_secret(&out.root_token).to_string();
    let call = |op, path: &str, body: serde_json::Value| {
        let core = core.clone();
        let req = Request::new(op, path).with_token(root.clone()).with_data(body);
        async move { core.handle(req).await.unwrap() }
    };
    call(
        Operation::Update,
        "sys/mounts/secret",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await;
    call(
        Operation::Update,
        "secret/data/app",
        json!({"data": {"password": "hunter2"}}),
    )
    .await;
    call(
        Operation::Update,
        "sys/policies/acl/reader",
        json!({"policy": "path \"secret/data/*\" { capabilities = [\"read\", \"create\", \"update\"] }"}),
    )
    .await;
    let created = call(Operation::Update, "auth/token/create", json!({"policies": ["reader"]})).await;
    let policy_token = created.auth.unwrap().client_token;
    (core, root, policy_token)
}

fn pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (core, root, policy_token) = rt.block_on(setup());
    for (label, token) in [("root", root.clone()), ("policy", policy_token)] {
        c.bench_function(&format!("kv2_read_{label}"), |b| {
            b.to_async(&rt).iter(|| {
                let req = Request::new(Operation::Read, "secret/data/app").with_token(token.clone());
                let core = core.clone();
                async move { core.handle(req).await.unwrap() }
            })
        });
    }
    c.bench_function("kv2_write_root_memory", |b| {
        b.to_async(&rt).iter(|| {
            let req = Request::new(Operation::Update, "secret/data/bench")
                .with_token(root.clone())
                .with_data(json!({"data": {"v": "x"}}));
            let core = core.clone();
            async move { core.handle(req).await.unwrap() }
        })
    });
    c.bench_function("token_lookup_self", |b| {
        b.to_async(&rt).iter(|| {
            let req = Request::new(Operation::Read, "auth/token/lookup-self").with_token(root.clone());
            let core = core.clone();
            async move { core.handle(req).await.unwrap() }
        })
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
