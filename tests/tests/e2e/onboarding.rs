//! Onboarding end to end: find → store → rewrite → `coffer run` gives the application the
//! same value. A project with planted secrets in `.env`, `config.yaml` and `app.py`; a dry run
//! changes nothing; onboarding stores each value once, rewrites the config files byte-exact
//! but for the values, writes a patch for the source file and fills the discovery inventory.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use coffer_tests::CofferServer;
use serde_json::json;

/// CRC-32 (IEEE), as GitHub token checksums use it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A `ghp_` token with a valid checksum (30 random base62 characters + 6 of CRC32).
fn github_token(random: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut value = u64::from(crc32(random.as_bytes()));
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    format!("ghp_{random}{}", String::from_utf8_lossy(&check))
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The references written into a text, in order.
fn references(text: &str) -> Vec<String> {
    text.match_indices("coffer://")
        .map(|(i, _)| {
            let rest = &text[i..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                .unwrap_or(rest.len());
            rest[..end].to_string()
        })
        .collect()
}

#[tokio::test]
async fn find_store_rewrite_run() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    // The inventory is a built-in mount.
    let (status, mounts) = s.root_req("GET", "sys/mounts", None).await;
    assert_eq!(status, 200);
    assert_eq!(mounts["data"]["coffer/discovery/"]["type"], "discovery", "{mounts}");

    let token = github_token("Qw7Er9Ty2Ui4Op6As8Df1Gh3Jk5Lz0");
    let password = "Kq7vT2mLp9xZ4wRb8sN3";
    let work = tempfile::tempdir().unwrap();
    let proj = work.path().join("myproj");
    std::fs::create_dir(&proj).unwrap();
    let env = format!("# app settings\nGITHUB_TOKEN={token}\nDB_PASSWORD=\"{password}\"  # database\nDEBUG=true\n");
    let yaml = format!("app:\n  name: demo\n  github:\n    token: '{token}'   # same token\n  replicas: 2\n");
    let py = format!("import os\n\nGITHUB_TOKEN = \"{token}\"\n\nprint(len(GITHUB_TOKEN))\n");
    std::fs::write(proj.join(".env"), &env).unwrap();
    std::fs::write(proj.join("config.yaml"), &yaml).unwrap();
    std::fs::write(proj.join("app.py"), &py).unwrap();
    let p = proj.to_str().unwrap();

    // Dry run: the whole plan, nothing changed locally or on the server.
    let before = snapshot(&proj);
    let dry = s.cli(&["scan", p, "--onboard", "--dry-run"], Some(&root));
    assert!(matches!(dry.code, Some(0 | 1)), "{dry:#?}");
    assert!(
        dry.stdout.contains(".env:2") && dry.stdout.contains("rewrite"),
        "{dry:#?}"
    );
    assert!(
        dry.stdout.contains("app.py:3") && dry.stdout.contains("patch"),
        "{dry:#?}"
    );
    assert!(
        !dry.stdout.contains(&token) && !dry.stdout.contains(password),
        "values are redacted: {dry:#?}"
    );
    assert_eq!(snapshot(&proj), before, "a dry run changes no file");
    let (status, _) = s.root_req("LIST", "secret/metadata/discovered", None).await;
    assert_eq!(status, 404, "a dry run stores nothing");

    // Onboard.
    let out = s.cli(&["scan", p, "--onboard"], Some(&root));
    assert!(matches!(out.code, Some(0 | 1)), "{out:#?}");
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token), "{out:#?}");

    let new_env = std::fs::read_to_string(proj.join(".env")).unwrap();
    let refs = references(&new_env);
    assert_eq!(refs.len(), 2, "both .env values became references: {new_env}");
    let (tok_ref, pw_ref) = (&refs[0], &refs[1]);
    assert!(
        tok_ref.starts_with("coffer://secret/discovered/myproj/") && tok_ref.ends_with("#value"),
        "{tok_ref}"
    );
    assert_eq!(
        new_env,
        env.replace(&token, tok_ref).replace(password, pw_ref),
        "only the values changed"
    );
    let new_yaml = std::fs::read_to_string(proj.join("config.yaml")).unwrap();
    assert_eq!(
        new_yaml,
        yaml.replace(&token, tok_ref),
        "same value, same reference, formatting kept"
    );
    assert_eq!(
        std::fs::read_to_string(proj.join("app.py")).unwrap(),
        py,
        "source is never edited"
    );
    let patch_path = proj.join("app.py.coffer.patch");
    let patch = std::fs::read_to_string(&patch_path).unwrap();
    assert!(patch.contains(&format!("+GITHUB_TOKEN = \"{tok_ref}\"")), "{patch}");
    assert_eq!(
        std::fs::metadata(&patch_path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Stored once, typed, with where it was found.
    let kv_path = tok_ref
        .trim_start_matches("coffer://secret/")
        .trim_end_matches("#value");
    let (status, body) = s.root_req("GET", &format!("secret/data/{kv_path}"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["value"], json!(token));
    let (_, meta) = s.root_req("GET", &format!("secret/metadata/{kv_path}"), None).await;
    let custom = &meta["data"]["custom_metadata"];
    assert!(custom["found_in"].as_str().unwrap().contains(".env:2"), "{meta}");
    assert!(custom["found_in"].as_str().unwrap().contains("config.yaml:4"), "{meta}");
    assert!(
        custom["rule_id"].as_str().is_some_and(|r| !r.is_empty()) && custom["kind"].is_string(),
        "{meta}"
    );
    assert_eq!(meta["data"]["current_version"], json!(1));

    // The inventory knows them as onboarded, without their values.
    let list = s.cli(&["discovery", "list", "-format=json"], Some(&root)).json();
    let records = list.as_array().unwrap();
    assert!(!records.is_empty(), "{list}");
    assert!(
        records
            .iter()
            .any(|r| r["onboarded"] == json!(true) && r["reference"] == json!(tok_ref)),
        "{list}"
    );
    assert!(
        !list.to_string().contains(&token) && !list.to_string().contains(password),
        "{list}"
    );
    let table = s.cli(&["discovery", "list"], Some(&root));
    assert!(table.ok().contains("ONBOARDED"), "{table:#?}");

    // The application gets the same values at run time.
    let env_file = proj.join(".env");
    let run = s.cli(
        &[
            "run",
            "--env-file",
            env_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "printf '%s %s' \"$GITHUB_TOKEN\" \"$DB_PASSWORD\"",
        ],
        Some(&root),
    );
    assert_eq!(run.ok(), format!("{token} {password}"));
}
