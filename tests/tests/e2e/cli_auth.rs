//! The real `coffer` CLI for authentication against a dev server: `auth enable|list|tune|
//! disable`, `login` (token and userpass, with the token helper file under a temporary
//! HOME), login through `write auth/...`, `lease lookup|renew|revoke`, `-wrap-ttl` and
//! `unwrap`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use coffer_tests::{CliOutput, CofferServer, coffer_bin};
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-42";

/// Runs the CLI with `HOME` set to `home`, an optional `COFFER_TOKEN` and optional stdin.
fn coffer(s: &CofferServer, home: &Path, token: Option<&str>, stdin: Option<&str>, args: &[&str]) -> CliOutput {
    let mut cmd = Command::new(coffer_bin());
    cmd.args(args)
        .env("COFFER_ADDR", s.addr())
        .env("HOME", home)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "COFFER_TOKEN",
        "VAULT_TOKEN",
        "VAULT_ADDR",
        "BAO_ADDR",
        "BAO_TOKEN",
        "COFFER_FORMAT",
        "VAULT_FORMAT",
        "COFFER_WRAP_TTL",
        "VAULT_WRAP_TTL",
    ] {
        cmd.env_remove(var);
    }
    if let Some(t) = token {
        cmd.env("COFFER_TOKEN", t);
    }
    let mut child = cmd.spawn().expect("run coffer cli");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().expect("wait for coffer cli");
    CliOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Enables userpass and creates alice; panics (with the server's answer) if userpass is
/// not available.
fn setup_userpass(s: &CofferServer, home: &Path, root: &str) {
    let out = coffer(s, home, Some(root), None, &["auth", "enable", "userpass"]);
    assert!(
        out.ok().contains("Success! Enabled userpass auth method at: userpass/"),
        "{out:#?}"
    );
    let password = format!("password={PASSWORD}");
    coffer(
        s,
        home,
        Some(root),
        None,
        &[
            "write",
            "auth/userpass/users/alice",
            &password,
            "token_policies=default",
        ],
    )
    .ok();
}

#[tokio::test]
async fn userpass_login_stores_the_token_privately() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let home = tempfile::tempdir().unwrap();
    setup_userpass(&s, home.path(), &root);

    let list = coffer(&s, home.path(), Some(&root), None, &["auth", "list", "-format=json"]).json();
    assert_eq!(list["userpass/"]["type"], json!("userpass"), "{list}");
    let table = coffer(&s, home.path(), Some(&root), None, &["auth", "list"]);
    assert!(table.ok().contains("userpass/    userpass"), "{table:#?}");

    let password = format!("password={PASSWORD}");
    let out = coffer(
        &s,
        home.path(),
        None,
        None,
        &["login", "-method=userpass", "username=alice", &password],
    );
    let stdout = out.ok();
    assert!(stdout.starts_with("Success! You are now authenticated."), "{out:#?}");
    for row in [
        "token ",
        "token_accessor",
        "token_duration",
        "token_policies",
        "identity_policies",
    ] {
        assert!(stdout.contains(row), "missing {row}: {out:#?}");
    }
    assert!(!out.stderr.contains(PASSWORD) && !stdout.contains(PASSWORD));

    let file = home.path().join(".coffer-token");
    let stored = std::fs::read_to_string(&file).expect("~/.coffer-token written by login");
    assert!(
        stdout.contains(&stored),
        "the printed token is the stored one: {out:#?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "token file mode {mode:o}");
    }
    // The next command picks the token up from the file (no COFFER_TOKEN).
    let me = coffer(&s, home.path(), None, None, &["token", "lookup", "-format=json"]).json();
    assert_eq!(me["data"]["display_name"], json!("userpass-alice"), "{me}");
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&stored), None).await;
    assert_eq!(
        (status, body["data"]["display_name"].clone()),
        (200, json!("userpass-alice"))
    );

    // Password from stdin (not a terminal), -no-store leaves the stored token alone.
    let out = coffer(
        &s,
        home.path(),
        None,
        Some(&format!("{PASSWORD}\n")),
        &[
            "login",
            "-method=userpass",
            "-no-store",
            "-format=json",
            "username=alice",
        ],
    );
    let fresh = out.json()["auth"]["client_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!fresh.is_empty() && fresh != stored, "{out:#?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stored);

    // A wrong password fails, names nothing secret and keeps the stored token.
    let out = coffer(
        &s,
        home.path(),
        None,
        None,
        &["login", "-method=userpass", "username=alice", "password=wrong-pass-77"],
    );
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(!out.stderr.contains("wrong-pass-77"), "{out:#?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stored);

    // Login through the generic write prints the auth table, as Vault does.
    let out = coffer(
        &s,
        home.path(),
        None,
        None,
        &["write", "auth/userpass/login/alice", &password],
    );
    let stdout = out.ok();
    assert!(
        stdout.contains("token_accessor") && stdout.contains("token_policies"),
        "{out:#?}"
    );

    let out = coffer(&s, home.path(), Some(&root), None, &["auth", "disable", "userpass"]);
    assert!(out.ok().contains("Disabled the auth method"), "{out:#?}");
    let list = coffer(&s, home.path(), Some(&root), None, &["auth", "list", "-format=json"]).json();
    assert!(list.get("userpass/").is_none(), "{list}");
}

#[tokio::test]
async fn auth_disable_revokes_the_methods_tokens() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let home = tempfile::tempdir().unwrap();
    setup_userpass(&s, home.path(), &root);
    let password = format!("password={PASSWORD}");
    let out = coffer(
        &s,
        home.path(),
        None,
        None,
        &["login", "-method=userpass", "-token-only", "username=alice", &password],
    );
    let token = out.ok().trim().to_string();
    assert!(
        !token.is_empty() && !home.path().join(".coffer-token").exists(),
        "-token-only does not store: {out:#?}"
    );
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200);
    coffer(&s, home.path(), Some(&root), None, &["auth", "disable", "userpass/"]).ok();
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(
        status, 403,
        "disabling an auth method revokes the tokens it issued (as Vault does)"
    );
}

#[tokio::test]
async fn token_login_and_auth_tune() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let home = tempfile::tempdir().unwrap();
    let out = coffer(&s, home.path(), None, None, &["login", &root]);
    assert!(out.ok().contains("token_policies       [\"root\"]"), "{out:#?}");
    assert_eq!(
        std::fs::read_to_string(home.path().join(".coffer-token")).unwrap(),
        root
    );
    let out = coffer(
        &s,
        home.path(),
        None,
        Some("cfs_not_a_token\n"),
        &["login", "-no-store", "-"],
    );
    assert_eq!(out.code, Some(1), "a bad token is refused: {out:#?}");
    assert_eq!(
        std::fs::read_to_string(home.path().join(".coffer-token")).unwrap(),
        root
    );

    // The stored root token now drives the auth commands.
    let out = coffer(
        &s,
        home.path(),
        None,
        None,
        &["auth", "enable", "-path=corp", "-description=staff", "userpass"],
    );
    assert!(out.ok().contains("at: corp/"), "{out:#?}");
    let out = coffer(
        &s,
        home.path(),
        None,
        None,
        &["auth", "tune", "-max-lease-ttl=30m", "corp/"],
    );
    assert!(
        out.ok().contains("Success! Tuned the auth method at: corp/"),
        "{out:#?}"
    );
    let (status, body) = s.root_req("GET", "sys/auth/corp/tune", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["max_lease_ttl"], json!(1800), "{body}");
    let detailed = coffer(&s, home.path(), None, None, &["auth", "list", "-detailed"]);
    assert!(detailed.ok().contains("staff"), "{detailed:#?}");
}

#[tokio::test]
async fn lease_lookup_renew_revoke() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let home = tempfile::tempdir().unwrap();
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/create",
            Some(json!({"policies": ["default"], "ttl": "1h"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let child = body["auth"]["client_token"].as_str().unwrap().to_string();
    let keys = coffer(
        &s,
        home.path(),
        Some(&root),
        None,
        &["list", "-format=json", "sys/leases/lookup/auth/token/create/"],
    )
    .json();
    let keys: Vec<&str> = keys.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let lease = format!("auth/token/create/{}", keys[0]);

    let out = coffer(
        &s,
        home.path(),
        Some(&root),
        None,
        &["lease", "lookup", "-format=json", &lease],
    )
    .json();
    assert_eq!(out["data"]["id"], json!(lease), "{out}");
    assert!(out["data"]["ttl"].as_i64().unwrap_or(0) > 3000, "{out}");
    let out = coffer(
        &s,
        home.path(),
        Some(&root),
        None,
        &["lease", "renew", "-increment=2h", "-format=json", &lease],
    )
    .json();
    assert_eq!(out["lease_id"], json!(lease), "{out}");
    assert!(out["lease_duration"].as_i64().unwrap_or(0) > 0, "{out}");
    let out = coffer(&s, home.path(), Some(&root), None, &["lease", "revoke", &lease]);
    assert!(
        out.ok().contains(&format!("Success! Revoked lease: {lease}")),
        "{out:#?}"
    );
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&child), None).await;
    assert_eq!(status, 403, "revoking the lease revoked the token");
    let out = coffer(&s, home.path(), Some(&root), None, &["lease", "lookup", &lease]);
    assert_eq!(out.code, Some(1), "{out:#?}");
}

#[tokio::test]
async fn wrap_ttl_and_unwrap() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let home = tempfile::tempdir().unwrap();
    let wrapped = coffer(
        &s,
        home.path(),
        Some(&root),
        None,
        &["-wrap-ttl=5m", "token", "create", "-policy=default", "-format=json"],
    )
    .json();
    let wrap = &wrapped["wrap_info"];
    let wtoken = wrap["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{wrapped}"))
        .to_string();
    assert_eq!(wrap["ttl"], json!(300), "{wrapped}");
    assert!(
        wrapped["auth"].is_null(),
        "the token is only inside the wrapping: {wrapped}"
    );

    // kv get: the mount preflight is not wrapped, the read is.
    coffer(&s, home.path(), Some(&root), None, &["kv", "put", "secret/app", "k=v"]).ok();
    let out = coffer(
        &s,
        home.path(),
        Some(&root),
        None,
        &["-wrap-ttl=1m", "kv", "get", "-format=json", "secret/app"],
    )
    .json();
    assert_eq!(out["wrap_info"]["creation_path"], json!("secret/data/app"), "{out}");
    assert!(out["data"].is_null(), "{out}");

    // Unwrap with the wrapping token alone: no other token is needed.
    let out = coffer(&s, home.path(), None, None, &["unwrap", "-format=json", &wtoken]).json();
    let inner = out["auth"]["client_token"].as_str().unwrap_or_default().to_string();
    assert!(!inner.is_empty(), "{out}");
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&inner), None).await;
    assert_eq!(status, 200);
    let again = coffer(&s, home.path(), None, None, &["unwrap", &wtoken]);
    assert_eq!(again.code, Some(1), "a wrapping token works once: {again:#?}");

    // The wrap table in table format.
    let out = coffer(
        &s,
        home.path(),
        Some(&root),
        None,
        &["-wrap-ttl=90s", "write", "sys/wrapping/wrap", "a=b"],
    );
    let stdout = out.ok();
    for row in [
        "wrapping_token:",
        "wrapping_accessor:",
        "wrapping_token_ttl:",
        "wrapping_token_creation_path:",
    ] {
        assert!(stdout.contains(row), "missing {row}: {out:#?}");
    }
    assert!(stdout.contains("1m30s"), "{out:#?}");
}
