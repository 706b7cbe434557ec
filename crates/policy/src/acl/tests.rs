//! ACL tests: matching, Vault's priority rules, deny precedence, merging, parameters.

use super::*;
use Capability::*;
use serde_json::json;

fn acl(policies: &[&str]) -> Acl {
    let parsed: Vec<Arc<Policy>> = policies
        .iter()
        .enumerate()
        .map(|(i, t)| Arc::new(Policy::parse(&format!("p{i}"), t).unwrap()))
        .collect();
    Acl::new(&parsed)
}

fn caps(acl: &Acl, path: &str) -> Vec<String> {
    acl.capabilities(path).to_strings()
}

fn params(v: serde_json::Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn exact_and_prefix_globs() {
    let a = acl(&[r#"
path "secret/exact" { capabilities = ["read"] }
path "secret/*" { capabilities = ["list"] }
path "secret*" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&a, "secret/exact"), vec!["read"]);
    assert_eq!(caps(&a, "secret/exact/more"), vec!["list"]);
    assert_eq!(caps(&a, "secret/"), vec!["list"]);
    assert_eq!(caps(&a, "secret/a/b"), vec!["list"]);
    assert_eq!(caps(&a, "secrets"), vec!["update"]);
    assert_eq!(caps(&a, "secret"), vec!["update"]);
    assert_eq!(caps(&a, "secre"), vec!["deny"]);
    assert!(a.capabilities("other").is_empty());
    assert!(!a.is_root());
}

#[test]
fn root_allows_everything() {
    let r = Acl::root();
    assert!(r.is_root());
    let d = r.check("sys/raw/x", Sudo, None);
    assert!(d.allowed && d.sudo);
    assert!(r.capabilities("a").contains(Sudo));
    assert!(!r.capabilities("a").contains(Deny));
    let bad = params(json!({"anything": 1}));
    assert!(r.check("a", Update, Some(&bad)).allowed);
}

#[test]
fn plus_segment_wildcard() {
    let a = acl(&[r#"
path "secret/+/x" { capabilities = ["read"] }
path "secret/+/teamb/*" { capabilities = ["update"] }
"#]);
    assert!(a.check("secret/a/x", Read, None).allowed);
    assert!(!a.check("secret/a/b/x", Read, None).allowed);
    assert!(!a.check("secret//x", Read, None).allowed);
    assert!(a.check("secret/a/teamb/c/d", Update, None).allowed);
    assert!(!a.check("secret/a/teamc/c", Update, None).allowed);
}

#[test]
fn exact_beats_any_glob() {
    let a = acl(&[r#"
path "secret/a/x" { capabilities = ["list"] }
path "secret/+/x" { capabilities = ["read"] }
path "secret/a/*" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&a, "secret/a/x"), vec!["list"]);
}

#[test]
fn priority_1_later_first_wildcard_wins() {
    let a = acl(&[r#"
path "secret/+/b" { capabilities = ["read"] }
path "secret/a/*" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&a, "secret/a/b"), vec!["update"]);
    let b = acl(&[r#"
path "secret/*" { capabilities = ["read"] }
path "secret/+/b" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&b, "secret/a/b"), vec!["update"]);
}

#[test]
fn priority_2_not_ending_in_glob_wins() {
    let a = acl(&[r#"
path "secret/+/b*" { capabilities = ["read"] }
path "secret/+/b" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&a, "secret/a/b"), vec!["update"]);
    assert_eq!(caps(&a, "secret/a/bc"), vec!["read"]);
}

#[test]
fn priority_3_fewer_plus_segments_wins() {
    let a = acl(&[r#"
path "a/+/+/d" { capabilities = ["read"] }
path "a/+/c/d" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&a, "a/b/c/d"), vec!["update"]);
}

#[test]
fn priority_4_longer_wins() {
    let a = acl(&[r#"
path "a/+/c*" { capabilities = ["read"] }
path "a/+/cde*" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&a, "a/b/cdef"), vec!["update"]);
    assert_eq!(caps(&a, "a/b/cx"), vec!["read"]);
    // prefix globs alone: longest prefix wins
    let b = acl(&[r#"
path "secret/*" { capabilities = ["read"] }
path "secret/team/*" { capabilities = ["update"] }
"#]);
    assert_eq!(caps(&b, "secret/team/x"), vec!["update"]);
    assert_eq!(caps(&b, "secret/other"), vec!["read"]);
}

#[test]
fn priority_5_lexicographically_larger_wins() {
    let a = acl(&[r#"
path "a/+/b/+" { capabilities = ["read"] }
path "a/+/+/c" { capabilities = ["update"] }
"#]);
    // same first wildcard, no glob, two + each, same length: "a/+/b/+" > "a/+/+/c"
    assert_eq!(caps(&a, "a/x/b/c"), vec!["read"]);
}

#[test]
fn deny_on_winning_pattern_denies_everything() {
    let a = acl(&[r#"
path "secret/*" { capabilities = ["read", "update", "sudo"] }
path "secret/locked/*" { capabilities = ["deny"] }
"#]);
    let d = a.check("secret/locked/x", Read, None);
    assert!(!d.allowed && !d.sudo && d.reason.is_none());
    assert_eq!(caps(&a, "secret/locked/x"), vec!["deny"]);
    assert!(a.check("secret/open", Read, None).allowed);
    assert!(a.check("secret/open", Sudo, None).allowed);
    assert!(!a.check("secret/open", Deny, None).allowed);
}

#[test]
fn same_pattern_merges_across_policies() {
    let a = acl(&[
        r#"path "secret/*" { capabilities = ["read"] }"#,
        r#"path "secret/*" { capabilities = ["update", "sudo"] }
           path "secret/*" { capabilities = ["list"] }"#,
    ]);
    assert_eq!(caps(&a, "secret/x"), vec!["read", "update", "list", "sudo"]);
    assert!(a.check("secret/x", Update, None).sudo);

    let d = acl(&[
        r#"path "kv/x" { capabilities = ["read"] }"#,
        r#"path "kv/x" { capabilities = ["deny"] }"#,
        r#"path "kv/x" { capabilities = ["update"] }"#,
    ]);
    assert_eq!(caps(&d, "kv/x"), vec!["deny"]);
    // exact "kv/x" and glob "kv/x*" are different patterns
    let e = acl(&[
        r#"path "kv/x*" { capabilities = ["deny"] }"#,
        r#"path "kv/x" { capabilities = ["read"] }"#,
    ]);
    assert!(e.check("kv/x", Read, None).allowed);
    assert!(!e.check("kv/xy", Read, None).allowed);
}

#[test]
fn list_tries_without_trailing_slash() {
    let a = acl(&[r#"path "secret/metadata" { capabilities = ["list"] }"#]);
    assert!(a.check("secret/metadata/", List, None).allowed);
    assert!(!a.check("secret/metadata/", Read, None).allowed);
    let b = acl(&[r#"path "kv/+" { capabilities = ["list"] }"#]);
    assert!(b.check("kv/dir/", List, None).allowed);
}

#[test]
fn parameters_only_for_writes_and_with_reason() {
    let a = acl(&[r#"
path "secret/foo" {
  capabilities = ["create", "update", "read", "patch"]
  allowed_parameters = { "bar" = ["zip"] }
  required_parameters = ["bar"]
}"#]);
    let good = params(json!({"bar": "zip"}));
    let bad = params(json!({"bar": "hunter2"}));
    let other = params(json!({"baz": 1}));
    assert!(a.check("secret/foo", Create, Some(&good)).allowed);
    let d = a.check("secret/foo", Update, Some(&bad));
    assert!(!d.allowed);
    let reason = d.reason.unwrap();
    assert!(reason.contains("\"bar\"") && !reason.contains("hunter2"), "{reason}");
    assert!(!a.check("secret/foo", Patch, Some(&other)).allowed);
    assert!(
        a.check("secret/foo", Read, Some(&bad)).allowed,
        "reads skip parameter rules"
    );
    assert!(a.check("secret/foo", Update, None).allowed, "no params given: no check");
}

#[test]
fn parameter_rules_merge_across_policies() {
    let a = acl(&[
        r#"path "s/x" {
 capabilities = ["update"]
 allowed_parameters = { "a" = ["1"]}
}"#,
        r#"path "s/x" {
 capabilities = ["update"]
 allowed_parameters = { "a" = ["2"], "b" = []}
}"#,
    ]);
    for ok in [json!({"a": "1"}), json!({"a": "2", "b": "anything"})] {
        assert!(a.check("s/x", Update, Some(&params(ok))).allowed);
    }
    assert!(!a.check("s/x", Update, Some(&params(json!({"a": "3"})))).allowed);
    let any = acl(&[
        r#"path "s/x" {
 capabilities = ["update"]
 allowed_parameters = { "a" = ["1"]}
}"#,
        r#"path "s/x" {
 capabilities = ["update"]
 allowed_parameters = { "a" = []}
}"#,
    ]);
    assert!(any.check("s/x", Update, Some(&params(json!({"a": "9"})))).allowed);
    let star = acl(&[
        r#"path "s/x" {
 capabilities = ["update"]
 allowed_parameters = { "a" = ["1"]}
}"#,
        r#"path "s/x" {
 capabilities = ["update"]
 allowed_parameters = { "*" = []}
}"#,
    ]);
    assert!(star.check("s/x", Update, Some(&params(json!({"z": "9"})))).allowed);
    assert!(!star.check("s/x", Update, Some(&params(json!({"a": "9"})))).allowed);
}

#[test]
fn wrapping_bounds_merge_and_check() {
    let a = acl(&[
        r#"path "w" {
 capabilities = ["read"]
 min_wrapping_ttl = "2m"
 max_wrapping_ttl = "1h"
}"#,
        r#"path "w" {
 capabilities = ["read"]
 min_wrapping_ttl = "1m"
 max_wrapping_ttl = "2h"
}"#,
    ]);
    let b = a.wrapping_bounds("w", Read);
    assert_eq!(b.min, Some(Duration::from_secs(60)));
    assert_eq!(b.max, Some(Duration::from_secs(7200)));
    assert!(b.check(None).is_err());
    assert!(b.check(Some(Duration::from_secs(30))).is_err());
    assert!(b.check(Some(Duration::from_secs(600))).is_ok());
    assert!(b.check(Some(Duration::from_secs(9000))).is_err());
    assert_eq!(a.wrapping_bounds("other", Read), WrappingBounds::default());
    assert!(WrappingBounds::default().check(None).is_ok());
}

#[test]
fn acl_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Acl>();
    assert_send_sync::<Policy>();
}

#[test]
fn mixed_rule_kinds_and_sudo_flag() {
    let a = acl(&[r#"
path "sys/mounts" { capabilities = ["read"] }
path "sys/mounts/*" { capabilities = ["read", "sudo"] }
path "sys/+/tune" { capabilities = ["update"] }
path "*" { capabilities = ["list"] }
"#]);
    let d = a.check("sys/mounts", Read, None);
    assert!(d.allowed && !d.sudo);
    let d = a.check("sys/mounts/kv", Read, None);
    assert!(d.allowed && d.sudo);
    // "sys/+/tune" (first wildcard at 4) loses to "sys/mounts/*" (at 11)
    assert_eq!(caps(&a, "sys/mounts/tune"), vec!["read", "sudo"]);
    // but beats "*" (at 0)
    assert_eq!(caps(&a, "sys/auth/tune"), vec!["update"]);
    assert_eq!(caps(&a, "anything/else"), vec!["list"]);
    let d = a.check("sys/auth/tune", Read, None);
    assert!(!d.allowed && d.reason.is_none());
}
