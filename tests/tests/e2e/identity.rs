//! Identity end to end: entity, alias and group CRUD and lookups over HTTP, entities made by
//! userpass logins, and one templated policy on a group giving each user their own path.

use coffer_tests::{CofferServer, errors};
use serde_json::{Value, json};

fn keys(body: &Value) -> Vec<String> {
    body["data"]["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no data.keys in {body}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Mounts userpass at `auth/userpass/` and returns its accessor.
async fn enable_userpass(s: &CofferServer) -> String {
    let (status, body) = s
        .root_req("POST", "sys/auth/userpass", Some(json!({"type": "userpass"})))
        .await;
    assert!(status == 204 || status == 200, "enable userpass: {status} {body}");
    let (status, body) = s.root_req("GET", "sys/auth", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["userpass/"]["accessor"]
        .as_str()
        .unwrap_or_else(|| panic!("no userpass accessor in {body}"))
        .to_string()
}

/// Creates a userpass user and logs in; returns (token, entity id).
async fn user_login(s: &CofferServer, name: &str) -> (String, String) {
    let (status, body) = s
        .root_req(
            "POST",
            &format!("auth/userpass/users/{name}"),
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");
    let (status, body) = s
        .request(
            "POST",
            &format!("auth/userpass/login/{name}"),
            None,
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let entity = body["auth"]["entity_id"].as_str().unwrap().to_string();
    assert!(!entity.is_empty(), "login made no entity: {body}");
    (token, entity)
}

#[tokio::test]
async fn entity_group_alias_crud_and_lookups() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req(
            "POST",
            "identity/entity",
            Some(json!({"name": "web", "policies": ["p1"], "metadata": {"team": "blue"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["name"], "web");

    let (status, body) = s.root_req("GET", &format!("identity/entity/id/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    for field in [
        "aliases",
        "direct_group_ids",
        "group_ids",
        "inherited_group_ids",
        "creation_time",
        "last_update_time",
    ] {
        assert!(!body["data"][field].is_null(), "{field} missing: {body}");
    }
    assert_eq!(body["data"]["namespace_id"], "root");
    assert_eq!(body["data"]["metadata"]["team"], "blue");

    let (status, _) = s
        .root_req(
            "POST",
            &format!("identity/entity/id/{id}"),
            Some(json!({"policies": "p1,p2"})),
        )
        .await;
    assert_eq!(status, 204, "updating an entity answers 204");
    let (_, body) = s.root_req("GET", "identity/entity/name/web", None).await;
    assert_eq!(body["data"]["policies"], json!(["p1", "p2"]));
    let (status, body) = s.root_req("LIST", "identity/entity/id", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), [id.as_str()]);
    assert_eq!(body["data"]["key_info"][&id]["name"], "web");
    let (_, by_get) = s.root_req("GET", "identity/entity/name?list=true", None).await;
    assert_eq!(keys(&by_get), ["web"]);

    // Groups: nesting, inherited ids on the entity, cycles refused.
    let (status, body) = s
        .root_req(
            "POST",
            "identity/group",
            Some(json!({"name": "inner", "member_entity_ids": [id]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let inner = body["data"]["id"].as_str().unwrap().to_string();
    let (_, body) = s
        .root_req(
            "POST",
            "identity/group",
            Some(json!({"name": "outer", "member_group_ids": [inner]})),
        )
        .await;
    let outer = body["data"]["id"].as_str().unwrap().to_string();
    let (status, body) = s
        .root_req(
            "POST",
            &format!("identity/group/id/{inner}"),
            Some(json!({"member_group_ids": [outer]})),
        )
        .await;
    assert_eq!(status, 400, "cycle must be refused: {body}");
    assert!(errors(&body)[0].contains("cyclic"), "{body}");
    let (_, body) = s.root_req("GET", &format!("identity/entity/id/{id}"), None).await;
    assert_eq!(body["data"]["direct_group_ids"], json!([inner]));
    assert_eq!(body["data"]["inherited_group_ids"], json!([outer]));
    let (_, body) = s.root_req("GET", "identity/group/name/inner", None).await;
    assert_eq!(body["data"]["parent_group_ids"], json!([outer]));
    let (status, body) = s.root_req("LIST", "identity/group/name", None).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&body), ["inner", "outer"]);

    // Aliases on a real auth mount.
    let accessor = enable_userpass(&s).await;
    let (status, body) = s
        .root_req(
            "POST",
            "identity/entity-alias",
            Some(json!({"name": "web-user", "canonical_id": id, "mount_accessor": accessor})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let alias_id = body["data"]["id"].as_str().unwrap().to_string();
    let (_, body) = s
        .root_req("GET", &format!("identity/entity-alias/id/{alias_id}"), None)
        .await;
    assert_eq!(body["data"]["canonical_id"], id.as_str());
    assert_eq!(body["data"]["mount_accessor"], accessor.as_str());

    // Lookups.
    for query in [
        json!({"name": "web"}),
        json!({"id": id}),
        json!({"alias_id": alias_id}),
        json!({"alias_name": "web-user", "alias_mount_accessor": accessor}),
    ] {
        let (status, body) = s.root_req("POST", "identity/lookup/entity", Some(query.clone())).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["data"]["id"], id.as_str());
    }
    let (status, _) = s
        .root_req("POST", "identity/lookup/entity", Some(json!({"name": "nobody"})))
        .await;
    assert_eq!(status, 204);
    let (status, body) = s
        .root_req("POST", "identity/lookup/group", Some(json!({"name": "outer"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["id"], outer.as_str());

    // Deleting the entity deletes its alias and its group memberships.
    let (status, _) = s.root_req("DELETE", &format!("identity/entity/id/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = s
        .root_req("GET", &format!("identity/entity-alias/id/{alias_id}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = s.root_req("LIST", "identity/entity/id", None).await;
    assert_eq!(status, 404);
    let (_, body) = s.root_req("GET", &format!("identity/group/id/{inner}"), None).await;
    assert_eq!(body["data"]["member_entity_ids"], json!([]));

    // A token without identity permissions gets 403.
    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
        .await;
    let weak = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, _) = s.request("GET", "identity/group/name/inner", Some(&weak), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn userpass_logins_make_one_entity_per_user() {
    let s = CofferServer::start_dev().await;
    let accessor = enable_userpass(&s).await;
    let (_, first) = user_login(&s, "alice").await;
    let (status, body) = s
        .request(
            "POST",
            "auth/userpass/login/alice",
            None,
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["entity_id"], first.as_str(), "second login, same entity");
    let (_, bob) = user_login(&s, "bob").await;
    assert_ne!(bob, first);
    let (status, body) = s
        .root_req(
            "POST",
            "identity/lookup/entity",
            Some(json!({"alias_name": "alice", "alias_mount_accessor": accessor})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], first.as_str());
    assert_eq!(body["data"]["aliases"][0]["mount_type"], "userpass");
}

const USER_SPACE: &str = r#"
path "secret/data/users/{{identity.entity.aliases.ACCESSOR.name}}/*" {
  capabilities = ["create", "update", "read"]
}
path "secret/data/users/{{identity.entity.name}}/*" {
  capabilities = ["create", "update", "read"]
}
"#;

/// Needs the core to use `IdentityStore::resolve` and `PolicyStore::acl_for_entity`.
#[tokio::test]
async fn one_templated_group_policy_gives_each_user_their_own_path() {
    let s = CofferServer::start_dev().await;
    let accessor = enable_userpass(&s).await;
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/policies/acl/user-space",
            Some(json!({"policy": USER_SPACE.replace("ACCESSOR", &accessor)})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (alice, alice_e) = user_login(&s, "alice").await;
    let (bob, bob_e) = user_login(&s, "bob").await;
    // Carol's entity is renamed: the entity-name rule gives her a second path.
    let (carol, carol_e) = user_login(&s, "carol").await;
    let (status, _) = s
        .root_req(
            "POST",
            &format!("identity/entity/id/{carol_e}"),
            Some(json!({"name": "carol-e"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = s
        .root_req(
            "POST",
            "identity/group",
            Some(json!({"name": "staff", "policies": ["user-space"], "member_entity_ids": [alice_e, bob_e, carol_e]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let write = |token: String, path: String| {
        let s = &s;
        async move {
            s.request(
                "POST",
                &format!("secret/data/users/{path}"),
                Some(&token),
                Some(json!({"data": {"v": 1}})),
            )
            .await
            .0
        }
    };
    assert_eq!(write(alice.clone(), "alice/note".into()).await, 200);
    assert_eq!(write(bob.clone(), "bob/note".into()).await, 200);
    assert_eq!(write(alice.clone(), "bob/note".into()).await, 403);
    assert_eq!(write(bob.clone(), "alice/note".into()).await, 403);
    assert_eq!(write(carol.clone(), "carol/note".into()).await, 200);
    assert_eq!(write(carol.clone(), "carol-e/note".into()).await, 200);
    assert_eq!(write(alice.clone(), "carol-e/note".into()).await, 403);
    let literal = format!("{{{{identity.entity.aliases.{accessor}.name}}}}/note");
    assert_eq!(
        write(alice.clone(), literal).await,
        403,
        "a template never matches literally"
    );
    let (status, _) = s
        .request("GET", "secret/data/users/alice/note", Some(&alice), None)
        .await;
    assert_eq!(status, 200);

    // Leaving the group takes the access away at once (cache invalidated by the write).
    let (status, _) = s
        .root_req(
            "POST",
            "identity/group/name/staff",
            Some(json!({"member_entity_ids": [alice_e, carol_e]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(write(bob.clone(), "bob/note".into()).await, 403);

    // A disabled entity's tokens are refused, and it cannot log in.
    let (status, _) = s
        .root_req(
            "POST",
            &format!("identity/entity/id/{alice_e}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(write(alice.clone(), "alice/note".into()).await, 403);
    let (status, _) = s
        .request(
            "POST",
            "auth/userpass/login/alice",
            None,
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, 403);

    // The identity endpoints validate accessors against the mount table.
    let (status, body) = s
        .root_req(
            "POST",
            "identity/entity-alias",
            Some(json!({"name": "x", "canonical_id": bob_e, "mount_accessor": "auth_nope_1234"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}
