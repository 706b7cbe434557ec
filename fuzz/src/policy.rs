//! Fuzz body for the policy language: `Policy::parse`, then `Acl::new`, `Acl::check`,
//! `Acl::capabilities` and `render_path` on what was parsed.
//!
//! Input: UTF-8 policy text, optionally followed by a NUL byte, a path to check, a newline
//! and a JSON object used as request parameters (`<policy>\0<path>\n<params>`).
//!
//! This file is shared: the fuzz target calls [`run`], and `crates/policy/tests/fuzz_corpus.rs`
//! includes it with `#[path]` to replay the corpus under `cargo test`. It may use only
//! `coffer_policy`, `serde_json` and std.

use coffer_policy::{Acl, Capabilities, Capability, Policy, PolicyError, render_path};
use serde_json::{Map, Value};
use std::sync::Arc;

const CAPS: [Capability; 9] = [
    Capability::Create,
    Capability::Read,
    Capability::Update,
    Capability::Patch,
    Capability::Delete,
    Capability::List,
    Capability::Sudo,
    Capability::Deny,
    Capability::Subscribe,
];

/// Runs one input. Panics (a finding) when the parser panics or breaks an invariant.
pub fn run(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (text, extra) = input.split_once('\0').unwrap_or((input, ""));
    let (probe, params) = extra.split_once('\n').unwrap_or((extra, ""));
    let params = match serde_json::from_str::<Value>(params) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };

    let policy = match Policy::parse("fuzz", text) {
        Ok(policy) => policy,
        Err(err) => {
            check_error(text, &err);
            return;
        }
    };
    assert_eq!(policy.raw(), text);
    assert_eq!(policy.name(), "fuzz");

    let policy = Arc::new(policy);
    let acl = Acl::new(std::slice::from_ref(&policy));
    assert!(!acl.is_root());

    for rule in policy.rules() {
        let pattern = rule.path();
        // Exact patterns: the merged entry for the pattern wins, and holds at least what
        // this rule grants (unless a rule for the same pattern denies).
        if !pattern.contains(['*', '+']) {
            let caps = acl.capabilities(&pattern);
            assert!(
                caps.is_deny() || caps.union(rule.capabilities()) == caps,
                "exact pattern {pattern:?}: acl grants {caps:?}, rule grants {:?}",
                rule.capabilities()
            );
        }
        // A concrete path the pattern matches.
        let concrete = pattern.trim_end_matches('*').replace('+', "x");
        probe_path(&acl, &concrete, params.as_ref());
        probe_path(&acl, &pattern, params.as_ref());
        let _ = rule.parameters().allowed().len() + rule.parameters().denied().len();
        let _ = (
            rule.min_wrapping_ttl(),
            rule.max_wrapping_ttl(),
            rule.subscribe_event_types(),
        );
        let _ = render_path(&pattern, &|expr| Some(format!("v-{}", expr.len())));
        let _ = render_path(&pattern, &|expr| Some(expr.to_owned()));
    }
    probe_path(&acl, probe, params.as_ref());
    let _ = acl.has_access_under(probe);
    let _ = render_path(probe, &|expr| Some(expr.to_owned()));
}

fn probe_path(acl: &Acl, path: &str, params: Option<&Map<String, Value>>) {
    let caps: Capabilities = acl.capabilities(path);
    for cap in CAPS {
        let plain = acl.check(path, cap, None);
        if cap == Capability::Deny {
            assert!(!plain.allowed, "deny is never an allowed operation");
        }
        if cap != Capability::List && plain.allowed {
            assert!(
                caps.contains(cap),
                "check allowed {cap} on {path:?} but capabilities are {caps:?}"
            );
        }
        if let Some(params) = params {
            let with = acl.check(path, cap, Some(params));
            // Parameter rules can only take permission away.
            assert!(!with.allowed || plain.allowed, "parameters widened {cap} on {path:?}");
        }
        let _ = acl
            .wrapping_bounds(path, cap)
            .check(Some(std::time::Duration::from_secs(60)));
    }
}

/// A rejected policy says where: a `Parse` error whose line lies within the text.
fn check_error(text: &str, err: &PolicyError) {
    let lines = text.split('\n').count().max(1);
    match err {
        PolicyError::Parse { line, .. } => {
            assert!(
                (1..=lines).contains(line),
                "error line {line} outside the text's {lines} lines: {err}"
            );
            assert!(err.to_string().contains(&format!("line {line}")), "{err}");
        }
        PolicyError::Invalid(message) => panic!("policy error without a line number: {message}"),
    }
}
