//! Parsing tests: HCL, JSON, legacy shorthand, and errors with their line numbers.

use super::*;
use serde_json::json;

fn parse(text: &str) -> Policy {
    Policy::parse("p", text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> (usize, String) {
    match Policy::parse("p", text) {
        Err(PolicyError::Parse { line, message }) => (line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn parses_path_blocks_and_comments() {
    let text = r#"
# hash comment
// slash comment
/* block
   comment */
path "secret/*" {
  capabilities = ["create", "read"] # trailing
}
path "/sys/mounts" { capabilities = ["read", "list", "sudo"] }
"#;
    let p = parse(text);
    assert_eq!(p.name(), "p");
    assert_eq!(p.raw(), text);
    assert_eq!(p.rules().len(), 2);
    assert_eq!(p.rules()[0].path(), "secret/*");
    assert_eq!(p.rules()[0].capabilities().to_strings(), vec!["create", "read"]);
    assert_eq!(p.rules()[1].path(), "sys/mounts", "leading slash is stripped");
    assert!(p.rules()[1].capabilities().contains(Capability::Sudo));
}

#[test]
fn empty_policies_are_accepted() {
    assert!(parse("").rules().is_empty());
    assert!(parse("  # only a comment\n").rules().is_empty());
    assert!(parse("{}").rules().is_empty());
    assert!(parse("name = \"old-style\"\n").rules().is_empty());
    assert!(parse("path \"x\" {}").rules()[0].capabilities().is_empty());
    // Vault identity-templating placeholders are plain text to HCL.
    let t = parse("path \"identity/entity/id/{{identity.entity.id}}\" {}");
    assert_eq!(t.rules()[0].path(), "identity/entity/id/{{identity.entity.id}}");
}

#[test]
fn legacy_shorthand_maps_like_vault() {
    let caps = |old: &str| {
        parse(&format!("path \"a\" {{ policy = \"{old}\" }}")).rules()[0]
            .capabilities()
            .to_strings()
    };
    assert_eq!(caps("read"), vec!["read", "list"]);
    assert_eq!(caps("write"), vec!["create", "read", "update", "delete", "list"]);
    assert_eq!(caps("sudo"), vec!["create", "read", "update", "delete", "list", "sudo"]);
    assert_eq!(caps("deny"), vec!["deny"]);
    let both = parse("path \"a\" {\n policy = \"read\"\n capabilities = [\"sudo\"]\n}");
    assert_eq!(
        both.rules()[0].capabilities().to_strings(),
        vec!["read", "list", "sudo"]
    );
    let (line, msg) = parse_err("\npath \"a\" {\n policy = \"admin\"\n}");
    assert_eq!(line, 2);
    assert!(msg.contains("unknown policy \"admin\""), "{msg}");
}

#[test]
fn deny_capability_overrides_the_rest() {
    let p = parse(r#"path "a" { capabilities = ["read", "deny", "update"] }"#);
    assert_eq!(p.rules()[0].capabilities(), Capabilities::DENY);
}

#[test]
fn json_policies() {
    let p = parse(
        r#"{
  "path": {
    "secret/*": { "capabilities": ["read", "list"] },
    "secret/db": {
      "capabilities": ["update"],
      "allowed_parameters": { "ttl": ["1h", 30] },
      "min_wrapping_ttl": "1m"
    }
  }
}"#,
    );
    assert_eq!(p.rules().len(), 2);
    let db = p.rules().iter().find(|r| r.path() == "secret/db").unwrap();
    assert_eq!(db.parameters().allowed()["ttl"], vec![json!("1h"), json!(30)]);
    assert_eq!(db.min_wrapping_ttl(), Some(Duration::from_secs(60)));
    // HCL1-JSON list forms
    let q = parse(r#"{"path": [{"a": [{"capabilities": ["read"]}]}]}"#);
    assert_eq!(q.rules()[0].capabilities().to_strings(), vec!["read"]);
}

#[test]
fn json_errors_have_lines() {
    let (line, _) = parse_err("{\n \"path\": {\n  \"a\": { \"capabilities\": [\"read\" }\n }\n}");
    assert_eq!(line, 3);
    let (line, msg) = parse_err("{\n \"path\": {\n  \"a\": {\n   \"capabilities\": [\"raed\"] }\n }\n}");
    assert_eq!(line, 3);
    assert!(msg.contains("unknown capability \"raed\""), "{msg}");
    let (line, msg) = parse_err("{\n \"paths\": {}\n}");
    assert_eq!(line, 2);
    assert!(msg.contains("unknown top-level key"), "{msg}");
}

#[test]
fn unknown_capability_reports_block_line() {
    let text = "path \"ok\" {\n  capabilities = [\"read\"]\n}\npath \"secret/x\" {\n  capabilities = [\"raed\"]\n}\n";
    let (line, msg) = parse_err(text);
    assert_eq!(line, 4);
    assert_eq!(
        msg,
        "unknown capability \"raed\" (expected one of create, read, update, patch, delete, list, sudo, deny, subscribe)"
    );
    let e = Policy::parse("p", text).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("failed to parse policy: line 4: unknown capability")
    );
}

#[test]
fn repeated_pattern_errors_point_at_the_right_block() {
    let text = "path \"a\" {\n capabilities = [\"read\"]\n}\n\npath \"a\" {\n capabilities = [\"nope\"]\n}\n";
    assert_eq!(parse_err(text).0, 5);
}

#[test]
fn unknown_keys_and_bad_values() {
    let (line, msg) = parse_err("\n\npath \"a\" {\n  capabilites = [\"read\"]\n}");
    assert_eq!(line, 3);
    assert!(msg.contains("unknown key \"capabilites\""), "{msg}");
    let (line, msg) = parse_err("path \"a\" { capabilities = \"read\" }");
    assert_eq!(line, 1);
    assert!(msg.contains("expected a list of strings"), "{msg}");
    let (_, msg) = parse_err("path \"a\" { control_group = {} }");
    assert!(msg.contains("not supported"), "{msg}");
    // HCL itself rejects a repeated attribute; JSON bodies are maps, so no duplicates there.
    let (line, msg) = parse_err("path \"a\" {\n capabilities = [\"read\"]\n capabilities = [\"list\"]\n}");
    assert_eq!(line, 3);
    assert!(msg.contains("redefined attribute"), "{msg}");
    let (line, msg) = parse_err("x = 1\n");
    assert_eq!(line, 1);
    assert!(msg.contains("unknown top-level key \"x\""), "{msg}");
    let (line, msg) = parse_err("\nresource \"a\" {}\n");
    assert_eq!(line, 2);
    assert!(msg.contains("unknown block"), "{msg}");
    let (_, msg) = parse_err("path { capabilities = [] }");
    assert!(msg.contains("exactly one label"), "{msg}");
    let (_, msg) = parse_err("path \"a\" { capabilities = [\"${var.x}\"] }");
    assert!(msg.contains("not supported"), "{msg}");
}

#[test]
fn syntax_errors_use_hcl_location() {
    let (line, _) =
        parse_err("path \"a\" {\n  capabilities = [\"read\"]\n}\npath \"b\" {\n  capabilities = [\"read\"\n}\n");
    assert!((5..=6).contains(&line), "line {line}");
    let (line, _) = parse_err("\n\npath \"a\" {\n");
    assert!(line >= 3, "line {line}");
}

#[test]
fn wildcard_placement_is_validated() {
    for (text, needle) in [
        ("\npath \"secret/*/x\" {}", "only allowed as the last"),
        ("\npath \"secret/a+/x\" {}", "whole segment"),
        ("\npath \"secret/+*\" {}", "\"+*\""),
    ] {
        let (line, msg) = parse_err(text);
        assert_eq!(line, 2, "{text}");
        assert!(msg.contains(needle), "{msg}");
    }
    assert_eq!(
        parse("path \"secret/+/teamb/*\" {}").rules()[0].path(),
        "secret/+/teamb/*"
    );
}

#[test]
fn parameters_and_wrapping_ttls() {
    let p = parse(
        r#"
path "secret/foo" {
  capabilities = ["create"]
  allowed_parameters = {
    "Bar" = ["zip", "zap"]
    "*"   = []
  }
  denied_parameters = { "baz" = [] }
  required_parameters = ["Bar"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 90
}
path "secret/blocks" {
  allowed_parameters {
    foo = [1, true]
  }
}"#,
    );
    let r = &p.rules()[0];
    assert_eq!(r.parameters().allowed()["bar"], vec![json!("zip"), json!("zap")]);
    assert!(r.parameters().allowed()["*"].is_empty());
    assert!(r.parameters().denied().contains_key("baz"));
    assert_eq!(r.parameters().required(), ["bar"]);
    assert_eq!(r.min_wrapping_ttl(), Some(Duration::from_secs(1)));
    assert_eq!(r.max_wrapping_ttl(), Some(Duration::from_secs(90)));
    assert_eq!(p.rules()[1].parameters().allowed()["foo"], vec![json!(1), json!(true)]);

    let (_, msg) = parse_err("path \"a\" {\n min_wrapping_ttl = \"1h\"\n max_wrapping_ttl = \"1m\"\n}");
    assert!(msg.contains("max_wrapping_ttl cannot be less"), "{msg}");
    let (_, msg) = parse_err("path \"a\" { min_wrapping_ttl = \"soon\" }");
    assert!(msg.contains("invalid duration"), "{msg}");
    let (_, msg) = parse_err("path \"a\" { allowed_parameters = { x = \"y\" } }");
    assert!(msg.contains("must be a list"), "{msg}");
}
