//! Runs the real `coffer` binary: usage errors exit 2, help works, and a command against a
//! closed port exits 1 naming the address. No server is needed.

use std::process::{Command, Output};

fn coffer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(args)
        .env_remove("COFFER_ADDR")
        .env_remove("VAULT_ADDR")
        .env_remove("COFFER_TOKEN")
        .env_remove("VAULT_TOKEN")
        .env_remove("COFFER_FORMAT")
        .env_remove("VAULT_FORMAT")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run coffer")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let out = coffer(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    for cmd in [
        "server", "status", "operator", "kv", "read", "write", "token", "policy", "secrets", "login", "auth", "lease",
        "unwrap",
    ] {
        assert!(stdout.contains(cmd), "missing {cmd} in help:\n{stdout}");
    }
    assert!(stdout.contains("Exit codes"), "{stdout}");
    // Vault-style single-dash help on a subcommand.
    let out = coffer(&["kv", "get", "-help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("--mount"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["no-such-command"][..],
        &["kv", "get"][..],
        &["kv", "get", "-no-such-flag", "x"][..],
        &["kv", "put", "secret/x"][..],
        &["status", "-format=yaml"][..],
        &["token", "revoke", "-mode=bogus", "t"][..],
        &["kv", "delete", "-versions=a,b", "secret/x"][..],
    ] {
        let out = coffer(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
}

#[test]
fn bad_data_is_a_usage_error_before_any_request() {
    // The closed port is never contacted: the k=v check fails first.
    let out = coffer(&["-address=http://127.0.0.1:1", "write", "secret/x", "novalue"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("key=value"));
}

#[test]
fn closed_port_exits_1_naming_the_address() {
    for args in [
        &["status", "-address=http://127.0.0.1:1"][..],
        &["-address=http://127.0.0.1:1", "kv", "get", "-mount=secret", "x"][..],
        &["read", "-address", "http://127.0.0.1:1", "sys/mounts"][..],
    ] {
        let out = coffer(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("http://127.0.0.1:1"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn address_from_vault_env() {
    let out = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["status"])
        .env_remove("COFFER_ADDR")
        .env("VAULT_ADDR", "http://127.0.0.1:1")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("http://127.0.0.1:1"));
}

#[test]
fn token_never_printed_in_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["-address=http://127.0.0.1:1", "token", "lookup"])
        .env("COFFER_TOKEN", "s.do-not-print-me")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).contains("do-not-print-me"));
}
