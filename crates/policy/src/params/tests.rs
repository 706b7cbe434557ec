//! Parameter-rule tests: required, denied, allowed, globbed and typed values, lists.

use super::*;
use serde_json::json;

fn rules(allowed: Value, denied: Value, required: &[&str]) -> ParamRules {
    let map = |v: Value| -> HashMap<String, Vec<Value>> {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_array().unwrap().clone()))
            .collect()
    };
    ParamRules {
        allowed: map(allowed),
        denied: map(denied),
        required: required.iter().map(|s| s.to_string()).collect(),
    }
}

fn check(r: &ParamRules, v: Value) -> Result<(), String> {
    r.check(v.as_object().unwrap())
}

#[test]
fn required_parameters() {
    let r = rules(json!({}), json!({}), &["name"]);
    assert!(check(&r, json!({"name": "x"})).is_ok());
    let e = check(&r, json!({"other": "x"})).unwrap_err();
    assert_eq!(e, "missing required parameter \"name\"");
    assert!(check(&r, json!({})).is_err());
}

#[test]
fn denied_parameters() {
    let r = rules(json!({}), json!({"bar": [], "mode": ["admin*", 7]}), &[]);
    assert!(check(&r, json!({"foo": 1})).is_ok());
    assert!(check(&r, json!({"bar": 1})).unwrap_err().contains("\"bar\" is denied"));
    assert!(check(&r, json!({"BAR": 1})).is_err(), "names compare lower-case");
    assert!(check(&r, json!({"mode": "administrator"})).is_err());
    assert!(check(&r, json!({"mode": "user"})).is_ok());
    assert!(check(&r, json!({"mode": 7})).is_err());
    assert!(
        check(&r, json!({"mode": "7"})).is_err(),
        "numbers compare by string form"
    );
    assert!(
        check(&r, json!({"mode": ["user", "admin"]})).is_err(),
        "any list element"
    );
    let all = rules(json!({}), json!({"*": []}), &[]);
    assert!(check(&all, json!({"x": 1})).is_err());
    assert!(check(&all, json!({})).is_ok());
}

#[test]
fn allowed_parameters() {
    let r = rules(json!({"bar": ["zip", "zap*"], "ttl": [30], "any": []}), json!({}), &[]);
    assert!(check(&r, json!({"bar": "zip"})).is_ok());
    assert!(check(&r, json!({"bar": "zappa"})).is_ok());
    assert!(check(&r, json!({"bar": "nope"})).unwrap_err().contains("\"bar\""));
    assert!(check(&r, json!({"ttl": "30"})).is_ok());
    assert!(check(&r, json!({"ttl": 31})).is_err());
    assert!(check(&r, json!({"any": {"nested": true}})).is_ok());
    assert!(
        check(&r, json!({"other": 1}))
            .unwrap_err()
            .contains("\"other\" is not allowed")
    );
    assert!(
        check(&r, json!({"bar": ["zip", "zapper"]})).is_ok(),
        "every list element"
    );
    assert!(check(&r, json!({"bar": ["zip", "bad"]})).is_err());
    let star = rules(json!({"*": [], "bar": ["zip"]}), json!({}), &[]);
    assert!(check(&star, json!({"other": "x"})).is_ok());
    assert!(check(&star, json!({"bar": "zap"})).is_err());
    let only_star = rules(json!({"*": []}), json!({}), &[]);
    assert!(check(&only_star, json!({"x": 1})).is_ok());
}

#[test]
fn denied_wins_over_allowed() {
    let r = rules(json!({"*": []}), json!({"secret": []}), &[]);
    assert!(check(&r, json!({"secret": 1, "ok": 2})).is_err());
    assert!(check(&r, json!({"ok": 2})).is_ok());
}

#[test]
fn glob_match_follows_vault() {
    assert!(glob_match("foo*", "foobar"));
    assert!(glob_match("*bar", "foobar"));
    assert!(glob_match("*oob*", "foobar"));
    assert!(!glob_match("*baz*", "foobar"));
    assert!(glob_match("foo", "foo"));
    assert!(!glob_match("foo", "foobar"));
    assert!(glob_match("*", "*"));
    assert!(!glob_match("*", "x"), "a lone * is literal in Vault");
}

#[test]
fn merge_rules() {
    let mut a = rules(json!({"x": ["1"], "y": []}), json!({"d": ["a"]}), &["x"]);
    let b = rules(
        json!({"x": ["2"], "y": ["3"], "z": ["4"]}),
        json!({"d": []}),
        &["x", "z"],
    );
    a.merge(&b);
    assert_eq!(a.allowed["x"], vec![json!("1"), json!("2")]);
    assert!(a.allowed["y"].is_empty());
    assert_eq!(a.allowed["z"], vec![json!("4")]);
    assert!(a.denied["d"].is_empty());
    assert_eq!(a.required, vec!["x", "z"]);
}
