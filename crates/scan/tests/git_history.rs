//! Git history and staged scanning against real repositories built with the `git` CLI (and
//! `git fast-import` for a 3,000-commit history).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use coffer_scan::git::{HistoryOptions, scan_history, scan_staged};
use coffer_scan::{Finding, RuleSet, ScanOptions, Scanner};

/// A Stripe-shaped live key (no checksum), distinct per `n`.
fn secret(n: u32) -> String {
    let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut state = 0x9e37_79b9_u32.wrapping_mul(n + 7);
    let tail: String = (0..32)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            alphabet[state as usize % alphabet.len()] as char
        })
        .collect();
    format!("sk_live_{tail}")
}

fn scanner() -> Scanner {
    Scanner::new(RuleSet::builtin(), ScanOptions::default()).expect("builtin rules compile")
}

fn git(dir: &Path, args: &[&str], day: u32) -> String {
    let stamp = format!("{} +0000", 1_704_067_200 + u64::from(day) * 86_400);
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Alice Example")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice Example")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .env("GIT_AUTHOR_DATE", &stamp)
        .env("GIT_COMMITTER_DATE", &stamp)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn write(dir: &Path, path: &str, content: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Commits everything on day `day`; returns the commit id.
fn commit(dir: &Path, day: u32, message: &str) -> String {
    git(dir, &["add", "-A"], day);
    git(dir, &["commit", "-q", "-m", message], day);
    git(dir, &["rev-parse", "HEAD"], day)
}

struct Fixture {
    dir: tempfile::TempDir,
    /// Commit that added secret 1 (deleted later on main).
    added_deleted: String,
    /// Commit that first added `shared.env` (secret 2; copied to another file later).
    shared_first: String,
    /// Commit that copied `shared.env` to a new path.
    shared_copy: String,
    /// Commit on `feature` with secret 3.
    feature: String,
    /// Commit reachable only from tag `v0-orphan`, with secret 4.
    tagged: String,
}

/// 30 commits on `main` (day 1–30), 25 on `feature` (branching at day 15, days 31–55), an
/// annotated tag on main and a tag on an otherwise unreachable commit.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"], 0);
    let (mut added_deleted, mut shared_first, mut shared_copy) = (String::new(), String::new(), String::new());
    for day in 1..=30 {
        write(
            d,
            &format!("src/module{}.rs", day % 7),
            &format!("// revision {day}\nfn f() -> u32 {{ {day} }}\n"),
        );
        match day {
            5 => write(
                d,
                "config/app.env",
                &format!("# app\nDEBUG=false\nSTRIPE_SECRET_KEY={}\n", secret(1)),
            ),
            10 => std::fs::remove_file(d.join("config/app.env")).unwrap(),
            12 => write(d, "shared.env", &format!("STRIPE_SECRET_KEY={}\n", secret(2))),
            20 => write(
                d,
                "deploy/copy-of-shared.env",
                &format!("STRIPE_SECRET_KEY={}\n", secret(2)),
            ),
            _ => {}
        }
        let id = commit(d, day, &format!("main commit {day}"));
        match day {
            5 => added_deleted = id,
            12 => shared_first = id,
            20 => shared_copy = id,
            25 => {
                git(d, &["tag", "-a", "v1.0", "-m", "release"], day);
            }
            _ => {}
        }
        if day == 15 {
            git(d, &["branch", "feature"], day);
        }
    }
    git(d, &["checkout", "-q", "feature"], 31);
    let mut feature = String::new();
    for day in 31..=55 {
        write(
            d,
            &format!("feature/part{}.txt", day % 5),
            &format!("feature work {day}\n"),
        );
        if day == 40 {
            write(
                d,
                "feature/settings.py",
                &format!("API = 'x'\nSTRIPE_SECRET_KEY = \"{}\"\n", secret(3)),
            );
        }
        let id = commit(d, day, &format!("feature commit {day}"));
        if day == 40 {
            feature = id;
        }
    }
    // A commit reachable only through a tag.
    git(d, &["checkout", "-q", "--orphan", "orphan"], 56);
    git(d, &["rm", "-rq", "--cached", "."], 56);
    for entry in std::fs::read_dir(d).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != ".git" {
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap()
            } else {
                std::fs::remove_file(path).unwrap()
            }
        }
    }
    write(d, "orphan.cfg", &format!("stripe_secret_key = {}\n", secret(4)));
    let tagged = commit(d, 56, "orphan commit");
    git(d, &["tag", "v0-orphan"], 56);
    git(d, &["checkout", "-q", "-f", "main"], 57);
    git(d, &["branch", "-D", "orphan"], 57);
    Fixture {
        dir,
        added_deleted,
        shared_first,
        shared_copy,
        feature,
        tagged,
    }
}

/// Findings by secret value, one per place (should two rules both match one value).
fn by_secret(findings: Vec<Finding>) -> HashMap<String, Vec<Finding>> {
    let mut map: HashMap<String, Vec<Finding>> = HashMap::new();
    for f in findings {
        let same_place = |o: &Finding| o.path == f.path && o.line == f.line && o.commit == f.commit;
        let places = map.entry(f.secret.expose().to_string()).or_default();
        if !places.iter().any(same_place) {
            places.push(f);
        }
    }
    map
}

#[test]
fn history_finds_deleted_branch_and_tag_only_secrets_once_each() {
    let fx = fixture();
    let count = git(fx.dir.path(), &["rev-list", "--all", "--count"], 0);
    assert!(count.parse::<u32>().unwrap() >= 50, "{count} commits");
    let findings = scan_history(fx.dir.path(), &scanner(), &HistoryOptions::default()).unwrap();
    let found = by_secret(findings.clone());

    // Deleted on main: only in history, attributed to the commit that added it.
    let one = &found[&secret(1)];
    assert_eq!(one.len(), 1, "{findings:#?}");
    let c = one[0].commit.as_ref().expect("history findings carry their commit");
    assert_eq!(c.id, fx.added_deleted);
    assert_eq!(
        (c.author.as_str(), c.email.as_str()),
        ("Alice Example", "alice@example.com")
    );
    assert_eq!(c.date, "2024-01-06T00:00:00+00:00");
    assert_eq!((one[0].path.as_str(), one[0].line), ("config/app.env", 3));
    assert!(!fx.dir.path().join("config/app.env").exists());

    // The same blob in two files and commits: reported once, for the first commit and path.
    let two = &found[&secret(2)];
    assert_eq!(two.len(), 1, "{two:#?}");
    assert_eq!(two[0].commit.as_ref().unwrap().id, fx.shared_first);
    assert_eq!((two[0].path.as_str(), two[0].line), ("shared.env", 1));

    // Other branches and tag-only commits are scanned too.
    assert_eq!(found[&secret(3)][0].commit.as_ref().unwrap().id, fx.feature);
    assert_eq!(found[&secret(3)][0].path, "feature/settings.py");
    assert_eq!(found[&secret(4)][0].commit.as_ref().unwrap().id, fx.tagged);
    assert_eq!(found.len(), 4, "{:?}", found.keys().collect::<Vec<_>>());
}

#[test]
fn since_and_branch_limit_the_walk() {
    let fx = fixture();
    let scanner = scanner();
    // Day 12 is 2024-01-13: secret 1 (day 5) is excluded, secret 2 (day 12) kept.
    let opts = HistoryOptions {
        since: Some("2024-01-13".into()),
        branch: None,
    };
    let found = by_secret(scan_history(fx.dir.path(), &scanner, &opts).unwrap())
        .into_keys()
        .collect::<Vec<_>>();
    assert!(
        !found.contains(&secret(1)) && found.contains(&secret(2)) && found.contains(&secret(3)),
        "{found:?}"
    );
    let opts = HistoryOptions {
        since: Some("2024-01-13T00:00:01+00:00".into()),
        branch: None,
    };
    let found = by_secret(scan_history(fx.dir.path(), &scanner, &opts).unwrap());
    // The commit at 00:00:00 is before the cut-off; the later copy to a new path is a change.
    let two = &found[&secret(2)];
    assert_eq!(two.len(), 1);
    assert_eq!(
        (two[0].commit.as_ref().unwrap().id.as_str(), two[0].path.as_str()),
        (fx.shared_copy.as_str(), "deploy/copy-of-shared.env")
    );
    // From day 41 on only the tag-only root commit (day 56) adds a secret.
    let opts = HistoryOptions {
        since: Some("2024-02-11".into()),
        branch: None,
    };
    let found = by_secret(scan_history(fx.dir.path(), &scanner, &opts).unwrap());
    assert_eq!(found.keys().collect::<Vec<_>>(), [&secret(4)]);

    let opts = HistoryOptions {
        since: None,
        branch: Some("main".into()),
    };
    let found = by_secret(scan_history(fx.dir.path(), &scanner, &opts).unwrap());
    assert!(found.contains_key(&secret(1)) && found.contains_key(&secret(2)));
    assert!(!found.contains_key(&secret(3)) && !found.contains_key(&secret(4)));
    let opts = HistoryOptions {
        since: None,
        branch: Some("v0-orphan".into()),
    };
    let found = by_secret(scan_history(fx.dir.path(), &scanner, &opts).unwrap());
    assert_eq!(found.keys().collect::<Vec<_>>(), [&secret(4)]);

    let bad = HistoryOptions {
        since: Some("last tuesday".into()),
        branch: None,
    };
    assert!(scan_history(fx.dir.path(), &scanner, &bad).is_err());
    let bad = HistoryOptions {
        since: None,
        branch: Some("no-such-branch".into()),
    };
    assert!(scan_history(fx.dir.path(), &scanner, &bad).is_err());
}

#[test]
fn staged_scan_reports_only_added_content() {
    let fx = fixture();
    let d = fx.dir.path();
    let scanner = scanner();
    assert!(
        scan_staged(d, &scanner).unwrap().is_empty(),
        "clean index, nothing staged"
    );
    write(d, "new/.env", &format!("TOKEN=1\nSTRIPE_SECRET_KEY={}\n", secret(5)));
    write(d, "unstaged.env", &format!("STRIPE_SECRET_KEY={}\n", secret(6)));
    git(d, &["add", "new/.env"], 60);
    let found = by_secret(scan_staged(d, &scanner).unwrap());
    assert_eq!(found.keys().collect::<Vec<_>>(), [&secret(5)], "only the staged file");
    let five = &found[&secret(5)];
    assert_eq!((five.len(), five[0].path.as_str(), five[0].line), (1, "new/.env", 2));
    assert!(five[0].commit.is_none());

    // A repository with no commit yet: everything staged is new.
    let fresh = tempfile::tempdir().unwrap();
    git(fresh.path(), &["init", "-q"], 0);
    write(fresh.path(), "a/b.txt", &format!("STRIPE_SECRET_KEY={}\n", secret(7)));
    git(fresh.path(), &["add", "."], 0);
    let found = by_secret(scan_staged(fresh.path(), &scanner).unwrap());
    assert_eq!(found[&secret(7)][0].path, "a/b.txt");
    assert!(
        scan_staged(&fresh.path().join("a"), &scanner).is_ok(),
        "subdirectories find their repository"
    );
    assert!(
        scan_history(fresh.path(), &scanner, &HistoryOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn thousands_of_commits_find_a_secret_only_in_an_old_commit() {
    const COMMITS: u32 = 3000;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"], 0);
    let mut stream = Vec::new();
    for i in 1..=COMMITS {
        let msg = format!("commit {i}");
        let when = 1_600_000_000 + u64::from(i) * 60;
        writeln!(stream, "commit refs/heads/main\nmark :{i}").unwrap();
        writeln!(stream, "author Dev {i} <dev{i}@example.com> {when} +0100").unwrap();
        writeln!(stream, "committer Dev {i} <dev{i}@example.com> {when} +0100").unwrap();
        writeln!(stream, "data {}\n{msg}", msg.len()).unwrap();
        if i > 1 {
            writeln!(stream, "from :{}", i - 1).unwrap();
        }
        let body = format!("// file revision {i}\npub const N: u32 = {i};\n");
        writeln!(
            stream,
            "M 100644 inline src/f{}.rs\ndata {}\n{body}",
            i % 40,
            body.len()
        )
        .unwrap();
        if i == 137 {
            let leak = format!("# oops\nSTRIPE_SECRET_KEY={}\n", secret(9));
            writeln!(stream, "M 100644 inline ops/leak.env\ndata {}\n{leak}", leak.len()).unwrap();
        }
        if i == 138 {
            writeln!(stream, "D ops/leak.env").unwrap();
        }
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(d)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(git(d, &["rev-list", "--count", "main"], 0), COMMITS.to_string());
    let expected = git(d, &["rev-parse", "main~2863"], 0); // commit 137

    let found = by_secret(scan_history(d, &scanner(), &HistoryOptions::default()).unwrap());
    assert_eq!(found.len(), 1);
    let findings = &found[&secret(9)];
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let c = findings[0].commit.as_ref().unwrap();
    assert_eq!(
        (c.id.as_str(), c.author.as_str(), c.email.as_str()),
        (expected.as_str(), "Dev 137", "dev137@example.com")
    );
    assert_eq!(c.date, "2020-09-13T15:43:40+01:00");
    assert_eq!((findings[0].path.as_str(), findings[0].line), ("ops/leak.env", 2));
}
