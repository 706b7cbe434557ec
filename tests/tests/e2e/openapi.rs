//! `sys/internal/specs/openapi` against the real binary: an OpenAPI 3.0.2 document of the
//! mounted backends' paths under their mount points, filtered by what the token can see.

use coffer_tests::CofferServer;
use serde_json::{Value, json};
use std::collections::HashSet;

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Structural checks every OpenAPI 3.0 document must pass (the parts we rely on): each
/// operation has a non-empty `responses` object whose keys are status codes or `default`, a
/// unique `operationId`, and every `{param}` of a path is declared as a required path
/// parameter. Returns a description of the first problem.
fn check_document(doc: &Value) -> Result<(), String> {
    if doc["openapi"] != "3.0.2" {
        return Err(format!("openapi is {}", doc["openapi"]));
    }
    if !doc["info"]["title"].is_string() || !doc["info"]["version"].is_string() {
        return Err("info.title and info.version are required strings".into());
    }
    let paths = doc["paths"].as_object().ok_or("paths is not an object")?;
    let mut ids = HashSet::new();
    for (path, item) in paths {
        if !path.starts_with('/') {
            return Err(format!("{path}: paths must start with /"));
        }
        let item = item.as_object().ok_or(format!("{path}: not an object"))?;
        let declared: HashSet<&str> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path" && p["required"] == true)
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                && !declared.contains(name)
            {
                return Err(format!("{path}: path parameter {name} is not declared"));
            }
        }
        let mut operations = 0;
        for (key, op) in item {
            if !METHODS.contains(&key.as_str()) {
                if !(key == "parameters" || key == "description" || key == "summary" || key.starts_with("x-")) {
                    return Err(format!("{path}: unexpected key {key}"));
                }
                continue;
            }
            operations += 1;
            let responses = op["responses"]
                .as_object()
                .ok_or(format!("{path} {key}: no responses object"))?;
            if responses.is_empty() {
                return Err(format!("{path} {key}: empty responses"));
            }
            for (code, resp) in responses {
                let is_code = code.len() == 3 && code.chars().all(|c| c.is_ascii_digit());
                if !(is_code || code == "default") {
                    return Err(format!("{path} {key}: response key {code}"));
                }
                if resp.get("description").is_none() && resp.get("$ref").is_none() {
                    return Err(format!("{path} {key} {code}: a response needs a description"));
                }
            }
            let id = op["operationId"]
                .as_str()
                .ok_or(format!("{path} {key}: no operationId"))?;
            if !ids.insert(id.to_string()) {
                return Err(format!("{path} {key}: operationId {id} is not unique"));
            }
        }
        if operations == 0 {
            return Err(format!("{path}: no operations"));
        }
    }
    Ok(())
}

#[test]
fn the_checker_catches_missing_responses() {
    let mut doc = json!({
        "openapi": "3.0.2",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a/{x}": {
            "parameters": [{"name": "x", "in": "path", "required": true, "schema": {"type": "string"}}],
            "get": {"operationId": "a", "responses": {"200": {"description": "OK"}}},
        }},
    });
    assert_eq!(check_document(&doc), Ok(()));
    doc["paths"]["/a/{x}"]["post"] = json!({"operationId": "b"});
    assert!(
        check_document(&doc).is_err(),
        "an operation without responses must fail"
    );
    doc["paths"]["/a/{x}"]["post"] = json!({"operationId": "a", "responses": {"200": {"description": "OK"}}});
    assert!(check_document(&doc).is_err(), "a repeated operationId must fail");
    doc["paths"]["/a/{x}"]["post"]["operationId"] = json!("b");
    doc["paths"]["/a/{x}"]["parameters"] = json!([]);
    assert!(check_document(&doc).is_err(), "an undeclared path parameter must fail");
}

async fn openapi(s: &CofferServer, token: &str) -> Value {
    let (status, doc) = s.request("GET", "sys/internal/specs/openapi", Some(token), None).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

fn methods(doc: &Value, path: &str) -> Vec<String> {
    let item = doc["paths"][path].as_object().unwrap_or_else(|| {
        panic!(
            "{path} missing from {:?}",
            doc["paths"].as_object().map(|p| p.keys().collect::<Vec<_>>())
        )
    });
    let mut m: Vec<String> = item.keys().filter(|k| METHODS.contains(&k.as_str())).cloned().collect();
    m.sort();
    m
}

#[tokio::test]
async fn openapi_document_describes_the_mounts() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("POST", "sys/auth/userpass", Some(json!({"type": "userpass"})))
        .await;
    assert!(status == 200 || status == 204, "{body}");
    let (status, body) = s
        .root_req(
            "POST",
            "sys/mounts/kv1",
            Some(json!({"type": "kv", "options": {"version": "1"}})),
        )
        .await;
    assert!(status == 200 || status == 204, "{body}");

    let doc = openapi(&s, &s.root()).await;
    // Valid JSON was parsed by the helper (a non-JSON body would be a string).
    assert!(doc.is_object(), "{doc}");
    assert_eq!(doc["openapi"], "3.0.2");
    assert_eq!(doc["info"]["title"], "Coffer API");
    assert!(!doc["info"]["version"].as_str().unwrap().is_empty());
    assert_eq!(
        doc["components"]["securitySchemes"]["vault_token"]["name"], "X-Vault-Token",
        "{}",
        doc["components"]
    );
    check_document(&doc).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(methods(&doc, "/secret/data/{path}"), ["delete", "get", "patch", "post"]);
    assert!(
        doc["paths"]["/secret/data/{path}"]["patch"]["requestBody"]["content"]
            .get("application/merge-patch+json")
            .is_some()
    );
    assert_eq!(methods(&doc, "/secret/metadata/{path}/"), ["get"]);
    let list = &doc["paths"]["/secret/metadata/{path}/"]["get"]["parameters"][0];
    assert_eq!(list["name"], "list");
    assert_eq!(list["in"], "query");
    assert_eq!(methods(&doc, "/kv1/{path}"), ["delete", "get", "post"]);
    assert_eq!(methods(&doc, "/sys/mounts"), ["get"]);
    assert_eq!(methods(&doc, "/sys/mounts/{path}"), ["delete", "get", "post"]);
    assert_eq!(methods(&doc, "/sys/metrics"), ["get"]);
    assert_eq!(methods(&doc, "/auth/token/create"), ["post"]);
    assert_eq!(methods(&doc, "/cubbyhole/{path}"), ["delete", "get", "post"]);

    // The auth mount's login path, unauthenticated (from the backend itself).
    let login = "/auth/userpass/login/{username}";
    assert_eq!(methods(&doc, login), ["post"]);
    assert_eq!(doc["paths"][login]["x-vault-unauthenticated"], true);
    assert_eq!(doc["paths"][login]["post"]["security"], json!([]));
    assert!(
        doc["paths"][login]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
            .get("password")
            .is_some()
    );
    assert_eq!(doc["paths"]["/sys/seal-status"]["x-vault-unauthenticated"], true);
    assert_eq!(
        doc["paths"]["/sys/audit/{path}"]["x-vault-sudo"], true,
        "sudo from the core's check"
    );
    assert!(doc["paths"]["/secret/data/{path}"].get("x-vault-sudo").is_none());

    // A token that sees only secret/ (and may read the document) gets no userpass paths.
    let policy = r#"
path "secret/*" { capabilities = ["read"] }
path "sys/internal/specs/openapi" { capabilities = ["read"] }
"#;
    let (status, body) = s
        .root_req("PUT", "sys/policies/acl/spec-reader", Some(json!({"policy": policy})))
        .await;
    assert!(status == 200 || status == 204, "{body}");
    let (_, body) = s
        .root_req(
            "POST",
            "auth/token/create",
            Some(json!({"policies": ["spec-reader"], "no_default_policy": true})),
        )
        .await;
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let doc = openapi(&s, &token).await;
    check_document(&doc).unwrap_or_else(|e| panic!("{e}"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/secret/data/{path}"));
    assert!(
        !paths
            .keys()
            .any(|p| p.starts_with("/auth/userpass/") || p.starts_with("/kv1/")),
        "mounts the token cannot see are left out: {:?}",
        paths.keys().collect::<Vec<_>>()
    );

    // Without read on the endpoint: 403.
    let (status, _) = s
        .root_req(
            "PUT",
            "sys/policies/acl/nothing",
            Some(json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"})),
        )
        .await;
    assert!(status == 200 || status == 204);
    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["nothing"]})))
        .await;
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, body) = s.request("GET", "sys/internal/specs/openapi", Some(&token), None).await;
    assert_eq!(status, 403, "{body}");

    // The reference validator (openapi-spec-validator, installed by scripts/test's venv).
    let dir = s.dir().join("openapi.json");
    std::fs::write(&dir, openapi(&s, &s.root()).await.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom openapi_spec_validator import validate\nfrom openapi_spec_validator.readers import read_from_filename\nvalidate(read_from_filename(sys.argv[1])[0])\nprint('valid')",
        ])
        .arg(&dir)
        .output()
        .expect("python3 (with openapi-spec-validator: run the tests through scripts/test)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("valid"),
        "openapi-spec-validator is missing or rejected the document: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
