//! `coffer run` and `coffer inject` against a real dev server: references in the environment
//! and in env files (KV v2 and v1), exit codes, signal forwarding, unresolvable references,
//! `--watch` restarts and 0600 rendered files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use coffer_tests::{CofferServer, coffer_bin};
use serde_json::json;

/// A `coffer` command against the server, with extra environment variables.
fn coffer(s: &CofferServer, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(coffer_bin());
    cmd.args(args)
        .env("COFFER_ADDR", s.addr())
        .env("COFFER_TOKEN", s.root())
        .stdin(Stdio::null());
    for var in ["VAULT_ADDR", "VAULT_TOKEN", "BAO_ADDR", "BAO_TOKEN"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn output(s: &CofferServer, args: &[&str], env: &[(&str, &str)]) -> Output {
    coffer(s, args, env).output().expect("run coffer")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits (bounded) until `cond` holds.
fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("coffer run did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn term(child: &Child) {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(ok.success());
}

async fn put(s: &CofferServer, path: &str, data: serde_json::Value) {
    let (status, body) = s.root_req("POST", path, Some(data)).await;
    assert!(status < 300, "write {path}: {status} {body}");
}

#[tokio::test]
async fn resolves_env_and_env_files_and_propagates_exit_codes() {
    let s = CofferServer::start_dev().await;
    put(
        &s,
        "secret/data/app",
        json!({"data": {"pw": "v2-pass-Zq81", "token": "tok-77"}}),
    )
    .await;
    put(&s, "sys/mounts/kv1", json!({"type": "kv"})).await;
    put(&s, "kv1/legacy", json!({"key": "v1-value-Kd2"})).await;
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("app.env");
    std::fs::write(&env_file, "# app\nTOKEN=\"coffer://secret/app#token\"\nPLAIN=hello\n").unwrap();

    let out = output(
        &s,
        &[
            "run",
            "--env-file",
            env_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s|%s' \"$APP_PW\" \"$LEGACY\" \"$TOKEN\" \"$PLAIN\"",
        ],
        &[
            ("APP_PW", "coffer://secret/app#pw"),
            ("LEGACY", "coffer://kv1/legacy#key"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "v2-pass-Zq81|v1-value-Kd2|tok-77|hello");

    let out = output(&s, &["run", "--", "sh", "-c", "exit 7"], &[]);
    assert_eq!(out.status.code(), Some(7));
}

#[tokio::test]
async fn unresolvable_reference_exits_2_naming_only_the_reference() {
    let s = CofferServer::start_dev().await;
    put(&s, "secret/data/app", json!({"data": {"pw": "never-shown-Qx5"}})).await;
    for reference in [
        "coffer://secret/missing#pw",
        "coffer://secret/app#nofield",
        "coffer://nomount/x#y",
    ] {
        let out = output(&s, &["run", "--", "sh", "-c", "echo started"], &[("APP_PW", reference)]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{reference}: {stderr}");
        assert!(stderr.contains(reference), "the reference is named: {stderr}");
        assert!(
            !stderr.contains("never-shown-Qx5") && !text(&out.stdout).contains("started"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn forwards_sigterm_to_the_child() {
    let s = CofferServer::start_dev().await;
    let dir = tempfile::tempdir().unwrap();
    let (ready, marker) = (dir.path().join("ready"), dir.path().join("marker"));
    let script = format!(
        "trap 'echo got-term > {m}; exit 0' TERM; echo up > {r}; while :; do sleep 0.1; done",
        m = marker.display(),
        r = ready.display()
    );
    let mut child = coffer(&s, &["run", "--", "sh", "-c", &script], &[]).spawn().unwrap();
    wait_for("the child to start", Duration::from_secs(20), || ready.exists());
    term(&child);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "got-term");
    assert_eq!(status.code(), Some(0), "exit code of the child's trap");

    // A child that does not trap TERM dies of it: 128 + 15.
    let ready2 = dir.path().join("ready2");
    let script = format!("echo up > {}; exec sleep 30", ready2.display());
    let mut child = coffer(&s, &["run", "--", "sh", "-c", &script], &[]).spawn().unwrap();
    wait_for("the second child", Duration::from_secs(20), || ready2.exists());
    std::thread::sleep(Duration::from_millis(200));
    term(&child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)).code(), Some(143));
}

#[tokio::test]
async fn watch_restarts_on_a_new_version() {
    let s = CofferServer::start_dev().await;
    put(&s, "secret/data/app", json!({"data": {"pw": "first-Vv1"}})).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let script = format!("printf '%s\\n' \"$APP_PW\" >> {}; exec sleep 60", out.display());
    let mut child = coffer(
        &s,
        &["run", "--watch", "--watch-interval", "1s", "--", "sh", "-c", &script],
        &[("APP_PW", "coffer://secret/app#pw")],
    )
    .spawn()
    .unwrap();
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    wait_for("the first start", Duration::from_secs(20), || lines(&out).len() == 1);
    put(&s, "secret/data/app", json!({"data": {"pw": "second-Vv2"}})).await;
    wait_for("the restart", Duration::from_secs(30), || lines(&out).len() == 2);
    assert_eq!(lines(&out), ["first-Vv1", "second-Vv2"]);
    term(&child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)).code(), Some(143));
}

#[tokio::test]
async fn inject_renders_with_mode_0600() {
    let s = CofferServer::start_dev().await;
    put(
        &s,
        "secret/data/app",
        json!({"data": {"pw": "inj-pass-1", "token": "inj-tok-2"}}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (tpl, dst) = (dir.path().join("app.conf.tpl"), dir.path().join("app.conf"));
    std::fs::write(
        &tpl,
        "url=postgres://app:{{ coffer \"secret/app#pw\" }}@db/x\ntoken: coffer://secret/app#token\n# end\n",
    )
    .unwrap();
    let out = output(
        &s,
        &["inject", "-i", tpl.to_str().unwrap(), "-o", dst.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("inj-pass-1"));
    assert_eq!(
        std::fs::read_to_string(&dst).unwrap(),
        "url=postgres://app:inj-pass-1@db/x\ntoken: inj-tok-2\n# end\n"
    );
    assert_eq!(std::fs::metadata(&dst).unwrap().permissions().mode() & 0o777, 0o600);

    std::fs::write(&tpl, "x=coffer://secret/gone#pw\n").unwrap();
    let dst2 = dir.path().join("other.conf");
    let out = output(
        &s,
        &["inject", "-i", tpl.to_str().unwrap(), "-o", dst2.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("coffer://secret/gone#pw"));
    assert!(!dst2.exists(), "nothing is written when a reference fails");
}
