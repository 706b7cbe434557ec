//! Unit tests of plan building: grouping by value, paths, actions and file changes.

use super::*;

fn finding(path: &str, line: usize, column: usize, secret: &str, key: Option<&str>) -> Finding {
    Finding {
        rule_id: "generic-password".into(),
        description: "Generic password".into(),
        kind: "password".into(),
        path: path.into(),
        line,
        column,
        end_line: line,
        secret: SecretValue::new(secret),
        key_name: key.map(str::to_string),
        fingerprint: format!("fp-{path}-{line}"),
        commit: None,
        related: None,
    }
}

fn opts() -> PlanOptions {
    PlanOptions {
        mount: "secret".into(),
        prefix: "discovered".into(),
        repo: "my proj".into(),
    }
}

fn files() -> HashMap<String, String> {
    HashMap::from([
        (
            ".env".to_string(),
            "# app\nDB_PASSWORD=\"hunter2-prod-pw\" # db\nOTHER=x\n".to_string(),
        ),
        (
            "config/app.yaml".to_string(),
            "db:\n  password: hunter2-prod-pw\n  url: postgres://u:hunter2-prod-pw@h/db\n".to_string(),
        ),
        ("app.py".to_string(), "import os\nTOKEN = \"tok-abcdef\"\n".to_string()),
    ])
}

fn build(findings: &[Finding]) -> Plan {
    let files = files();
    Plan::build(findings, &opts(), &mut |p| files.get(p).cloned())
}

#[test]
fn same_value_is_stored_once_and_every_place_rewritten() {
    let findings = vec![
        finding("config/app.yaml", 2, 13, "hunter2-prod-pw", Some("password")),
        finding(".env", 2, 14, "hunter2-prod-pw", Some("DB_PASSWORD")),
        finding("config/app.yaml", 3, 18, "hunter2-prod-pw", Some("url")),
        finding("app.py", 2, 10, "tok-abcdef", Some("TOKEN")),
    ];
    let plan = build(&findings);
    assert_eq!(plan.secrets.len(), 2, "{plan:?}");
    let pw = &plan.secrets[0];
    assert_eq!(
        pw.path, "discovered/my_proj/.env/DB_PASSWORD",
        "first location (sorted) names it"
    );
    assert_eq!(pw.value.expose(), "hunter2-prod-pw");
    let actions: Vec<(String, Action)> = pw
        .locations
        .iter()
        .map(|l| (format!("{}:{}", l.path, l.line), l.action))
        .collect();
    assert_eq!(
        actions,
        [
            (".env:2".to_string(), Action::Rewrite),
            ("config/app.yaml:2".to_string(), Action::Rewrite),
            ("config/app.yaml:3".to_string(), Action::StoreOnly),
        ]
    );
    assert_eq!(pw.fingerprints.len(), 3);
    let r = "coffer://secret/discovered/my_proj/.env/DB_PASSWORD#value";
    assert_eq!(pw.reference("secret").to_string(), r);
    assert_eq!(plan.references()["fp-config/app.yaml-2"], r);

    let changes = plan.file_changes();
    let by_path: HashMap<&str, &FileChange> = changes.iter().map(|c| (c.path.as_str(), c)).collect();
    assert_eq!(
        by_path[".env"].content,
        format!("# app\nDB_PASSWORD=\"{r}\" # db\nOTHER=x\n")
    );
    assert_eq!(
        by_path["config/app.yaml"].content,
        format!("db:\n  password: {r}\n  url: postgres://u:hunter2-prod-pw@h/db\n")
    );
    let patch = by_path["app.py.coffer.patch"];
    assert_eq!(patch.action, Action::Patch);
    assert!(
        patch
            .content
            .contains("+TOKEN = \"coffer://secret/discovered/my_proj/app.py/TOKEN#value\"")
    );
    assert!(!by_path.contains_key("app.py"), "source is never edited");

    let meta = pw.custom_metadata();
    assert_eq!(meta["kind"], "password");
    assert_eq!(meta["found_in"], ".env:2, config/app.yaml:2, config/app.yaml:3");
    assert_eq!(meta["fingerprint"], "fp-.env-2");
}

#[test]
fn table_redacts_and_paths_do_not_collide() {
    let findings = vec![
        finding(".env", 2, 14, "hunter2-prod-pw", Some("DB_PASSWORD")),
        finding(".env", 3, 7, "x", Some("DB_PASSWORD")),
        finding("history.txt", 9, 1, "old-secret", None),
    ];
    let mut plan = build(&findings);
    assert_eq!(plan.secrets[1].path, "discovered/my_proj/.env/DB_PASSWORD-2");
    assert_eq!(plan.secrets[2].path, "discovered/my_proj/history.txt/generic-password");
    assert_eq!(plan.secrets[2].locations[0].action, Action::StoreOnly);
    let table = plan.table();
    assert!(table.starts_with("LOCATION"), "{table}");
    assert!(table.contains("hunt…") && !table.contains("hunter2-prod-pw"), "{table}");
    assert!(table.contains("store-only"), "{table}");
    plan.set_path(0, "elsewhere/x".into());
    assert_eq!(plan.references()["fp-.env-2"], "coffer://secret/elsewhere/x#value");
}

#[test]
fn unreadable_or_missing_values_are_store_only() {
    let findings = vec![
        finding("gone.env", 1, 1, "abc", None),
        finding(".env", 2, 1, "not-there", None),
    ];
    let plan = build(&findings);
    assert!(plan.secrets.iter().all(|s| s.locations[0].action == Action::StoreOnly));
    assert!(plan.file_changes().is_empty());
}

#[test]
fn quotes_reported_with_the_secret_are_not_part_of_it() {
    let plan = build(&[finding(".env", 2, 13, "\"hunter2-prod-pw\"", Some("DB_PASSWORD"))]);
    assert_eq!(plan.secrets[0].value.expose(), "hunter2-prod-pw");
    assert_eq!(plan.secrets[0].locations[0].action, Action::Rewrite);
}
