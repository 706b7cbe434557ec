//! Identity over a real (in-memory) barrier: entities and aliases made at login, groups and
//! their nested policies, cycles, and ACL path templating rendered per entity.

use coffer_core::barrier::Barrier;
use coffer_core::identity::{IDENTITY_PREFIX, IdentityStore, MountInfo};
use coffer_core::policy_store::{POLICY_PREFIX, PolicyStore};
use coffer_core::{AliasInfo, CoreError, Operation, Response, View};
use coffer_crypto::Keyring;
use coffer_policy::Capability;
use coffer_storage::{DynPhysical, memory::MemoryBackend};
use serde_json::{Map, Value, json};
use std::sync::Arc;

struct Env {
    barrier: Arc<Barrier>,
    identity: IdentityStore,
    policies: PolicyStore,
}

fn setup() -> Env {
    let physical: DynPhysical = Arc::new(MemoryBackend::new());
    let barrier = Arc::new(Barrier::new(physical));
    barrier.install(Keyring::generate());
    Env {
        identity: IdentityStore::new(View::new(barrier.clone(), IDENTITY_PREFIX)),
        policies: PolicyStore::new(View::new(barrier.clone(), POLICY_PREFIX)),
        barrier,
    }
}

fn alias(name: &str) -> AliasInfo {
    AliasInfo {
        name: name.into(),
        metadata: Map::new(),
    }
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn data(resp: Response) -> Map<String, Value> {
    resp.data.expect("response has data")
}

impl Env {
    async fn call(&self, op: Operation, path: &str, v: Value) -> Result<Response, CoreError> {
        let lookup = |acc: &str| {
            acc.starts_with("auth_userpass_").then(|| MountInfo {
                kind: "userpass".into(),
                path: "auth/userpass/".into(),
            })
        };
        self.identity
            .handle_with_mounts(op, path, &body(v), Some(&lookup))
            .await
    }

    async fn write(&self, path: &str, v: Value) -> Map<String, Value> {
        data(self.call(Operation::Update, path, v).await.unwrap())
    }

    /// An update of an existing record: Vault answers 204 for entities.
    async fn update(&self, path: &str, v: Value) {
        let resp = self.call(Operation::Update, path, v).await.unwrap();
        assert!(resp.data.is_none(), "{resp:?}");
    }

    async fn read(&self, path: &str) -> Map<String, Value> {
        data(self.call(Operation::Read, path, json!({})).await.unwrap())
    }

    async fn group(&self, name: &str, policies: &[&str], entities: &[&str], groups: &[&str]) -> String {
        let resp = self
            .write(
                "group",
                json!({"name": name, "policies": policies, "member_entity_ids": entities, "member_group_ids": groups}),
            )
            .await;
        resp["id"].as_str().unwrap().to_string()
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn login_creates_entity_and_alias_once() {
    let env = setup();
    let acc = "auth_userpass_1234abcd";
    let first = env
        .identity
        .entity_for_login(acc, "userpass", &alias("alice"))
        .await
        .unwrap();
    let again = env
        .identity
        .entity_for_login(acc, "userpass", &alias("alice"))
        .await
        .unwrap();
    assert_eq!(first, again);
    let bob = env
        .identity
        .entity_for_login(acc, "userpass", &alias("bob"))
        .await
        .unwrap();
    assert_ne!(first, bob);
    // The same name on another mount is another principal.
    let other = env
        .identity
        .entity_for_login("auth_userpass_99999999", "userpass", &alias("alice"))
        .await
        .unwrap();
    assert_ne!(first, other);

    let entity = env.read(&format!("entity/id/{first}")).await;
    assert!(entity["name"].as_str().unwrap().starts_with("entity_"), "{entity:?}");
    assert_eq!(entity["name"].as_str().unwrap().len(), "entity_".len() + 8);
    assert_eq!(entity["namespace_id"], "root");
    let aliases = entity["aliases"].as_array().unwrap();
    assert_eq!(aliases.len(), 1);
    assert_eq!(aliases[0]["name"], "alice");
    assert_eq!(aliases[0]["mount_accessor"], acc);
    assert_eq!(aliases[0]["mount_path"], "auth/userpass/");
    assert_eq!(aliases[0]["canonical_id"], first.as_str());

    // Concurrent first logins of one user still make one entity.
    let carol = alias("carol");
    let login = || env.identity.entity_for_login(acc, "userpass", &carol);
    let (a, b, c, d) = tokio::join!(login(), login(), login(), login());
    let ids = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");

    // Changed alias metadata is recorded on the next login, same entity.
    let mut info = alias("alice");
    info.metadata.insert("team".into(), json!("blue"));
    assert_eq!(
        env.identity.entity_for_login(acc, "userpass", &info).await.unwrap(),
        first
    );
    let read = env.read(&format!("entity/id/{first}")).await;
    assert_eq!(read["aliases"][0]["metadata"]["team"], "blue");

    // A fresh store over the same barrier (a restart) finds the same entity.
    let reopened = IdentityStore::new(View::new(env.barrier.clone(), IDENTITY_PREFIX));
    assert_eq!(
        reopened
            .entity_for_login(acc, "userpass", &alias("alice"))
            .await
            .unwrap(),
        first
    );
}

#[tokio::test]
async fn group_policies_are_inherited_through_nesting() {
    let env = setup();
    let created = env
        .write(
            "entity",
            json!({"name": "alice", "policies": ["Own"], "metadata": {"team": "blue"}}),
        )
        .await;
    let eid = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "alice");
    let a = env.group("a", &["pa"], &[&eid], &[]).await;
    let b = env.group("b", &["pb", "pa"], &[], &[&a]).await;
    let c = env.group("c", &["pc"], &[], &[&b]).await;
    let _unrelated = env.group("d", &["pd"], &[], &[]).await;

    let policies = env.identity.policies_for_entity(&eid).await.unwrap();
    assert_eq!(policies, ["own", "pa", "pb", "pc"]);

    let entity = env.read(&format!("entity/id/{eid}")).await;
    assert_eq!(strings(&entity["direct_group_ids"]), [a.as_str()]);
    let mut inherited = vec![b.clone(), c.clone()];
    inherited.sort();
    assert_eq!(strings(&entity["inherited_group_ids"]), inherited);
    assert_eq!(entity["group_ids"].as_array().unwrap().len(), 3);
    let group_b = env.read(&format!("group/id/{b}")).await;
    assert_eq!(strings(&group_b["parent_group_ids"]), [c.as_str()]);
    assert_eq!(strings(&group_b["member_group_ids"]), [a.as_str()]);
    assert_eq!(group_b["type"], "internal");

    // Removing the nesting removes the inherited policies (cache invalidated by the write).
    env.write(&format!("group/id/{c}"), json!({"member_group_ids": []}))
        .await;
    assert_eq!(
        env.identity.policies_for_entity(&eid).await.unwrap(),
        ["own", "pa", "pb"]
    );

    // Deleting the entity removes it from its groups and deletes nothing else.
    env.call(Operation::Delete, &format!("entity/id/{eid}"), json!({}))
        .await
        .unwrap();
    let group_a = env.read(&format!("group/id/{a}")).await;
    assert!(group_a["member_entity_ids"].as_array().unwrap().is_empty());
    assert!(env.identity.policies_for_entity(&eid).await.unwrap().is_empty());
}

#[tokio::test]
async fn group_cycles_and_unknown_members_are_refused() {
    let env = setup();
    let a = env.group("a", &[], &[], &[]).await;
    let b = env.group("b", &[], &[], &[&a]).await;
    let c = env.group("c", &[], &[], &[&b]).await;
    for (target, member) in [(&a, &c), (&a, &b), (&a, &a)] {
        let err = env
            .call(
                Operation::Update,
                &format!("group/id/{target}"),
                json!({"member_group_ids": [member]}),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::BadRequest(_)), "{err:?}");
    }
    let err = env
        .call(
            Operation::Update,
            "group",
            json!({"name": "e", "member_entity_ids": ["nope"]}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid member entity ID"), "{err}");
    let err = env
        .call(Operation::Update, "group", json!({"name": "e", "type": "external"}))
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::BadRequest(_)));
    // Nothing changed: a still has no member groups.
    assert!(
        env.read(&format!("group/id/{a}")).await["member_group_ids"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Deleting b unlinks it from c.
    env.call(Operation::Delete, "group/name/b", json!({})).await.unwrap();
    assert!(
        env.read(&format!("group/id/{c}")).await["member_group_ids"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn disabled_entities_are_flagged_and_cannot_log_in() {
    let env = setup();
    let acc = "auth_userpass_1234abcd";
    let id = env
        .identity
        .entity_for_login(acc, "userpass", &alias("alice"))
        .await
        .unwrap();
    assert!(!env.identity.is_entity_disabled(&id).await.unwrap());
    let resp = env
        .call(Operation::Update, &format!("entity/id/{id}"), json!({"disabled": true}))
        .await
        .unwrap();
    assert!(resp.data.is_none(), "an update answers 204");
    assert!(env.identity.is_entity_disabled(&id).await.unwrap());
    let err = env
        .identity
        .entity_for_login(acc, "userpass", &alias("alice"))
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::PermissionDenied));
}

#[tokio::test]
async fn aliases_crud_lookups_and_delete_cascade() {
    let env = setup();
    let eid = env.write("entity", json!({"name": "svc"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let acc = "auth_userpass_1234abcd";
    let err = env
        .call(
            Operation::Update,
            "entity-alias",
            json!({"name": "x", "canonical_id": eid, "mount_accessor": "nope"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid mount accessor"), "{err}");
    let made = env
        .write(
            "entity-alias",
            json!({"name": "svc-user", "canonical_id": eid, "mount_accessor": acc}),
        )
        .await;
    let alias_id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["canonical_id"], eid.as_str());
    let read = env.read(&format!("entity-alias/id/{alias_id}")).await;
    assert_eq!(read["name"], "svc-user");
    assert_eq!(read["mount_type"], "userpass");
    // A second alias on the same mount for the same entity is refused.
    let err = env
        .call(
            Operation::Update,
            "entity-alias",
            json!({"name": "other", "canonical_id": eid, "mount_accessor": acc}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    // Logging in with that alias finds the entity.
    assert_eq!(
        env.identity
            .entity_for_login(acc, "userpass", &alias("svc-user"))
            .await
            .unwrap(),
        eid
    );

    for query in [
        json!({"name": "svc"}),
        json!({"id": eid}),
        json!({"alias_id": alias_id}),
        json!({"alias_name": "svc-user", "alias_mount_accessor": acc}),
    ] {
        let found = env.write("lookup/entity", query).await;
        assert_eq!(found["id"], eid.as_str());
    }
    let none = env
        .call(Operation::Update, "lookup/entity", json!({"name": "nobody"}))
        .await
        .unwrap();
    assert!(none.data.is_none());
    assert!(
        env.call(Operation::Update, "lookup/entity", json!({"name": "svc", "id": eid}))
            .await
            .is_err()
    );

    let list = env.call(Operation::List, "entity-alias/id", json!({})).await.unwrap();
    assert_eq!(strings(&data(list)["keys"]), [alias_id.as_str()]);
    let names = env.call(Operation::List, "entity/name", json!({})).await.unwrap();
    assert_eq!(strings(&data(names)["keys"]), ["svc"]);

    env.call(Operation::Delete, "entity/name/svc", json!({})).await.unwrap();
    let gone = env
        .call(Operation::Read, &format!("entity-alias/id/{alias_id}"), json!({}))
        .await;
    assert!(matches!(gone, Err(CoreError::NotFound(_))));
    assert!(matches!(
        env.call(Operation::List, "entity-alias/id", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
    // The next login through that alias makes a new entity.
    let fresh = env
        .identity
        .entity_for_login(acc, "userpass", &alias("svc-user"))
        .await
        .unwrap();
    assert_ne!(fresh, eid);
}

const TEMPLATED: &str = r#"
path "secret/data/users/{{identity.entity.name}}/*" { capabilities = ["read", "update"] }
path "by-id/{{identity.entity.id}}" { capabilities = ["read"] }
path "teams/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
path "mounts/{{identity.entity.aliases.auth_userpass_1234abcd.name}}" { capabilities = ["read"] }
path "groups/{{identity.groups.names.devs.id}}" { capabilities = ["read"] }
path "group-names/{{identity.groups.ids.GROUP_ID.name}}" { capabilities = ["read"] }
path "shared/*" { capabilities = ["read"] }
"#;

#[tokio::test]
async fn templated_policies_render_each_placeholder_per_entity() {
    let env = setup();
    let acc = "auth_userpass_1234abcd";
    let alice = env
        .identity
        .entity_for_login(acc, "userpass", &alias("alice-login"))
        .await
        .unwrap();
    env.update(
        &format!("entity/id/{alice}"),
        json!({"name": "alice", "metadata": {"team": "blue"}}),
    )
    .await;
    let devs = env.group("devs", &["tpl"], &[&alice], &[]).await;
    env.policies
        .put("tpl", &TEMPLATED.replace("GROUP_ID", &devs))
        .await
        .unwrap();

    let names = env.identity.policies_for_entity(&alice).await.unwrap();
    assert_eq!(names, ["tpl"]);
    let data = env.identity.template_data(&alice).await.unwrap().unwrap();
    let acl = env.policies.acl_for_entity(&names, &data).await.unwrap();
    let read = |p: &str| acl.check(p, Capability::Read, None).allowed;
    assert!(read("secret/data/users/alice/notes"));
    assert!(!read("secret/data/users/bob/notes"));
    assert!(read(&format!("by-id/{alice}")));
    assert!(read("teams/blue/x"));
    assert!(!read("teams/red/x"));
    assert!(read("mounts/alice-login"));
    assert!(read(&format!("groups/{devs}")));
    assert!(read("group-names/devs"));
    assert!(read("shared/x"));
    assert!(!read("secret/data/users/{{identity.entity.name}}/notes"));

    // A metadata change re-renders (the cached ACL is keyed by the template data's stamp).
    env.update(&format!("entity/id/{alice}"), json!({"metadata": {"team": "red"}}))
        .await;
    let data = env.identity.template_data(&alice).await.unwrap().unwrap();
    let acl = env.policies.acl_for_entity(&names, &data).await.unwrap();
    assert!(acl.check("teams/red/x", Capability::Read, None).allowed);
    assert!(!acl.check("teams/blue/x", Capability::Read, None).allowed);
    // So does a policy write.
    env.policies
        .put(
            "tpl",
            r#"path "only/{{identity.entity.name}}" { capabilities = ["read"] }"#,
        )
        .await
        .unwrap();
    let acl = env.policies.acl_for_entity(&names, &data).await.unwrap();
    assert!(acl.check("only/alice", Capability::Read, None).allowed);
    assert!(!acl.check("shared/x", Capability::Read, None).allowed);
}

#[tokio::test]
async fn unresolvable_templates_drop_their_rule() {
    let env = setup();
    let acc = "auth_userpass_1234abcd";
    // bob: no metadata, no alias on that mount, not in the devs group.
    let bob = env
        .identity
        .entity_for_login("auth_userpass_other000", "userpass", &alias("bob"))
        .await
        .unwrap();
    let other = env.write("entity", json!({"name": "carol"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let devs = env.group("devs", &[], &[&other], &[]).await;
    env.policies
        .put("tpl", &TEMPLATED.replace("GROUP_ID", &devs))
        .await
        .unwrap();
    let names = vec!["tpl".to_string()];
    let data = env.identity.template_data(&bob).await.unwrap().unwrap();
    let acl = env.policies.acl_for_entity(&names, &data).await.unwrap();
    let read = |p: &str| acl.check(p, Capability::Read, None).allowed;
    let name = env.read(&format!("entity/id/{bob}")).await["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(read(&format!("secret/data/users/{name}/x")));
    assert!(read("shared/x"));
    for literal in [
        "teams/{{identity.entity.metadata.team}}/x",
        "teams//x",
        &format!("mounts/{{{{identity.entity.aliases.{acc}.name}}}}"),
        "mounts/",
        "groups/{{identity.groups.names.devs.id}}",
        &format!("groups/{devs}"),
        "group-names/devs",
    ] {
        assert!(!read(literal), "{literal} must not be granted");
    }
    // A token without an entity gets the untemplated rules only.
    let plain = env.policies.acl(&names).await.unwrap();
    assert!(plain.check("shared/x", Capability::Read, None).allowed);
    assert!(
        !plain
            .check("secret/data/users/{{identity.entity.name}}/x", Capability::Read, None)
            .allowed
    );
    // A missing entity has no template data.
    assert!(env.identity.template_data("no-such-entity").await.unwrap().is_none());
}

#[tokio::test]
async fn entity_crud_by_name_and_lists() {
    let env = setup();
    let made = env
        .write("entity/name/web", json!({"policies": "a,b", "metadata": ["k=v"]}))
        .await;
    let id = made["id"].as_str().unwrap().to_string();
    let read = env.read("entity/name/web").await;
    assert_eq!(read["id"], id.as_str());
    assert_eq!(strings(&read["policies"]), ["a", "b"]);
    assert_eq!(read["metadata"]["k"], "v");
    assert!(read["creation_time"].as_str().unwrap().ends_with('Z'));
    // Renaming to a taken name is refused.
    env.write("entity", json!({"name": "db"})).await;
    let err = env
        .call(Operation::Update, &format!("entity/id/{id}"), json!({"name": "db"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already in use"), "{err}");
    let list = data(env.call(Operation::List, "entity/id", json!({})).await.unwrap());
    assert_eq!(list["keys"].as_array().unwrap().len(), 2);
    assert_eq!(list["key_info"][&id]["name"], "web");
    let ids = strings(&list["keys"]);
    env.call(Operation::Update, "entity/batch-delete", json!({"entity_ids": ids}))
        .await
        .unwrap();
    assert!(matches!(
        env.call(Operation::List, "entity/id", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        env.call(Operation::Read, "entity/name/web", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
}

/// The core awaits these inside `Core::handle`, whose future must be `Send` for the server.
#[test]
fn hot_path_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let env = setup();
    let data = coffer_core::identity::EntityTemplateData::new("e", "n");
    let names = vec!["p".to_string()];
    let body = Map::new();
    assert_send(&env.identity.resolve("e"));
    assert_send(&env.identity.entity_for_login("a", "userpass", &alias("x")));
    assert_send(&env.identity.handle(Operation::Read, "entity/id/e", &body));
    assert_send(&env.policies.acl_for_entity(&names, &data));
    assert_send(&env.policies.acl(&names));
}
