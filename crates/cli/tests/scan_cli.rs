//! `coffer scan` through the real binary: exit codes, output formats, stdin, baselines and
//! configuration files. No server is involved.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const GH: &str = "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";

fn coffer(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(args)
        .current_dir(dir)
        .env_remove("COFFER_FORMAT")
        .stdin(Stdio::null())
        .output()
        .expect("run coffer")
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/.env"), format!("GITHUB_TOKEN={GH}\nDEBUG=1\n")).unwrap();
    std::fs::write(dir.path().join("app/main.py"), "print('hello')\n").unwrap();
    dir
}

#[test]
fn exit_codes() {
    let dir = tree();
    let found = coffer(&["scan", "--no-progress", "app"], dir.path());
    assert_eq!(
        found.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    let table = String::from_utf8(found.stdout).unwrap();
    assert!(
        table.contains("github-token") && table.contains(".env:1") && table.contains("ghp_…"),
        "{table}"
    );
    assert!(!table.contains(GH), "the table must not show the secret");
    let clean = coffer(&["scan", "app/main.py"], dir.path());
    assert_eq!(clean.status.code(), Some(0));
    let missing = coffer(&["scan", "does-not-exist"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    let bad = coffer(&["scan", "--format", "xml", "app"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    let bad_rules = dir.path().join("bad.toml");
    std::fs::write(
        &bad_rules,
        "[[rules]]\nid = \"oops\"\ndescription = \"d\"\nkind = \"token\"\nkeywords = [\"x\"]\nregex = \"((\"\n",
    )
    .unwrap();
    let out = coffer(&["scan", "--rules", bad_rules.to_str().unwrap(), "app"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("oops"));
}

#[test]
fn json_sarif_and_stdin() {
    let dir = tree();
    let out = coffer(&["scan", "--format", "json", "app"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json parses");
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["rule_id"], "github-token");
    assert_eq!(list[0]["path"], ".env");
    assert_eq!(list[0]["key_name"], "GITHUB_TOKEN");
    assert!(list[0].get("secret").is_none());
    let shown = coffer(&["scan", "--format", "json", "--show-secrets", "app"], dir.path());
    assert!(String::from_utf8_lossy(&shown.stdout).contains(GH));
    let sarif_file = dir.path().join("out.sarif");
    let out = coffer(
        &["scan", "-format=sarif", "--output", sarif_file.to_str().unwrap(), "app"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif_file).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "github-token");
    let mut child = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["scan", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("token: {GH}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["path"], "-");
}

#[test]
fn baseline_and_config() {
    let dir = tree();
    let baseline = dir.path().join("baseline.json");
    let out = coffer(
        &["scan", "--write-baseline", baseline.to_str().unwrap(), "app"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let out = coffer(&["scan", "--baseline", baseline.to_str().unwrap(), "app"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::write(dir.path().join("app/new.txt"), "password: Tr0ub4dor&3x\n").unwrap();
    let out = coffer(&["scan", "--baseline", baseline.to_str().unwrap(), "app"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("new.txt:1"));
    std::fs::write(
        dir.path().join("app/.coffer-scan.toml"),
        "[allowlist]\npaths = [\"new.txt\", \".env\"]\n",
    )
    .unwrap();
    let out = coffer(&["scan", "app"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn ssh_inventory_flags_weak_unencrypted_and_unowned_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keygen = |args: &[&str]| {
        let ok = Command::new("ssh-keygen")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("ssh-keygen is installed");
        assert!(ok.status.success(), "{ok:?}");
    };
    keygen(&["-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", "weak"]);
    keygen(&["-q", "-t", "ed25519", "-N", "pass-phrase-1", "-f", "good"]);
    keygen(&["-q", "-t", "ed25519", "-N", "", "-f", "stranger"]);
    let stranger = std::fs::read_to_string(dir.path().join("stranger.pub")).unwrap();
    std::fs::remove_file(dir.path().join("stranger")).unwrap();
    std::fs::remove_file(dir.path().join("stranger.pub")).unwrap();
    let good = std::fs::read_to_string(dir.path().join("good.pub")).unwrap();
    std::fs::write(dir.path().join("authorized_keys"), format!("{stranger}{good}")).unwrap();

    let out = coffer(&["scan", "--ssh", "."], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("weak") && text.contains("short-rsa"), "{text}");
    assert!(text.contains("UNOWNED"), "{text}");
    assert!(
        !text.contains("good  unencrypted"),
        "the passphrase-protected key is not flagged: {text}"
    );

    let out = coffer(&["scan", "--ssh", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["authorized_keys"].as_array().unwrap().len(), 2);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("PRIVATE KEY"),
        "no key material"
    );
}
