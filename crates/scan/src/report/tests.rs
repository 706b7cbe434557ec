//! Snapshot tests of every report format and a structural check of the SARIF output against
//! the required properties of the SARIF 2.1.0 schema. The full validation against the official
//! OASIS schema runs the real binary: `tests/compat/test_sarif_schema.py`.

use serde_json::Value;

use super::*;
use crate::{CommitInfo, SecretValue};

fn finding(rule: &str, path: &str, line: usize, secret: &str, key: Option<&str>) -> Finding {
    Finding {
        rule_id: rule.into(),
        description: format!("{rule} description"),
        kind: "token".into(),
        path: path.into(),
        line,
        column: 7,
        end_line: line,
        secret: SecretValue::new(secret),
        key_name: key.map(String::from),
        fingerprint: crate::fingerprint(rule, path, secret),
        commit: None,
        related: None,
    }
}

fn sample() -> (Vec<Finding>, Vec<Skipped>) {
    let mut aws = finding(
        "aws-secret-access-key",
        "config/.aws credentials",
        3,
        "pZHtZrjmTJAMJTT1/NXa0IrleG6woopoDzp7O8Qu",
        Some("aws_secret_access_key"),
    );
    aws.related = Some(("aws-access-key-id".into(), SecretValue::new("AKIA5WKH7DNSIPZZ7FK4")));
    let mut old = finding(
        "github-token",
        "src/main.rs",
        12,
        "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",
        None,
    );
    old.commit = Some(CommitInfo {
        id: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "Ada".into(),
        email: "ada@example.org".into(),
        date: "2024-01-02T03:04:05Z".into(),
    });
    let skipped = vec![Skipped {
        path: "dump.sql".into(),
        reason: "larger than 10485760 bytes".into(),
    }];
    (vec![aws, old], skipped)
}

#[test]
fn table_snapshot() {
    let (f, s) = sample();
    let stats = Some(Stats {
        files: 42,
        bytes: 1_234_567,
    });
    insta::assert_snapshot!("table", table(&f, &s, stats));
    insta::assert_snapshot!("table_empty", table(&[], &[], stats));
}

#[test]
fn json_snapshot_and_parse() {
    let (f, _) = sample();
    let out = json(&f, false);
    insta::assert_snapshot!("json", out);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(!out.contains("pZHtZrjm"), "secrets must be redacted");
    let shown = json(&f, true);
    assert!(shown.contains("pZHtZrjmTJAMJTT1/NXa0IrleG6woopoDzp7O8Qu"));
}

#[test]
fn sarif_snapshot() {
    let (f, s) = sample();
    let out = sarif(&f, &s);
    insta::assert_snapshot!("sarif", out);
    assert!(
        !out.contains("pZHtZrjm") && !out.contains("ghp_Ky9P"),
        "secrets must be redacted"
    );
}

fn obj<'a>(v: &'a Value, at: &str) -> &'a serde_json::Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("{at} must be an object"))
}

fn require(v: &Value, at: &str, keys: &[&str]) {
    let o = obj(v, at);
    for k in keys {
        assert!(o.contains_key(*k), "{at} lacks required property {k}");
    }
}

/// The SARIF 2.1.0 schema's required properties (and types) for what we emit.
fn check_sarif(log: &Value) {
    require(log, "sarifLog", &["version", "runs"]);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    require(run, "run", &["tool"]);
    require(&run["tool"], "tool", &["driver"]);
    require(&run["tool"]["driver"], "toolComponent", &["name"]);
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        require(r, "reportingDescriptor", &["id"]);
        require(&r["shortDescription"], "multiformatMessageString", &["text"]);
    }
    for inv in run["invocations"].as_array().unwrap() {
        require(inv, "invocation", &["executionSuccessful"]);
        for n in inv["toolExecutionNotifications"].as_array().unwrap() {
            require(n, "notification", &["message"]);
            require(&n["message"], "message", &["text"]);
        }
    }
    for r in run["results"].as_array().unwrap() {
        require(r, "result", &["message"]);
        require(&r["message"], "message", &["text"]);
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert!(matches!(
            r["level"].as_str(),
            Some("none" | "note" | "warning" | "error")
        ));
        for loc in r["locations"].as_array().unwrap() {
            let pl = &loc["physicalLocation"];
            let uri = pl["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.contains(' '), "uri must be encoded: {uri}");
            let region = &pl["region"];
            for k in ["startLine", "startColumn", "endLine"] {
                assert!(region[k].as_u64().unwrap() >= 1, "{k} is 1-based");
            }
        }
        let fp = obj(&r["partialFingerprints"], "partialFingerprints");
        assert!(fp.values().all(Value::is_string));
    }
}

#[test]
fn sarif_has_required_structure() {
    let (f, s) = sample();
    check_sarif(&serde_json::from_str(&sarif(&f, &s)).unwrap());
    check_sarif(&serde_json::from_str(&sarif(&[], &[])).unwrap());
}

#[test]
fn format_parsing() {
    assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    assert!("xml".parse::<Format>().is_err());
    assert_eq!(sarif::uri("a b/%.txt"), "a%20b/%25.txt");
    // A `:` in the first segment would read as a scheme; elsewhere it may stay.
    assert_eq!(sarif::uri("build:prod.env"), "build%3Aprod.env");
    assert_eq!(sarif::uri("C:\\app\\a:b.env"), "C%3A/app/a:b.env");
    assert_eq!(sarif::uri("/srv/a:b/c"), "/srv/a:b/c");
    assert_eq!(sarif::uri("café #1.env"), "caf%C3%A9%20%231.env");
}
