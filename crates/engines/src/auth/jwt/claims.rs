//! Claim checks after the signature is verified: time claims with Vault's three leeways,
//! issuer, audience, subject and `bound_claims` (exact or glob), and claim lookup by name or
//! JSON pointer (`/a/b`). Error messages name claims, never their values.

use serde_json::{Map, Value};

/// Leeway used when a role sets 0 for `expiration_leeway` / `not_before_leeway`.
pub const DEFAULT_LEEWAY: i64 = 150;
/// Leeway used when a role sets 0 for `clock_skew_leeway`.
pub const DEFAULT_CLOCK_SKEW: i64 = 60;

/// The leeways of a role in seconds: 0 means the default, a negative value means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leeways {
    /// Allowed clock difference, applied to `exp`, `nbf` and `iat`.
    pub clock_skew: i64,
    /// Extra time after `exp`.
    pub expiration: i64,
    /// Extra time before `nbf`.
    pub not_before: i64,
}

fn effective(value: i64, default: i64) -> i64 {
    match value {
        0 => default,
        v if v < 0 => 0,
        v => v,
    }
}

/// A claim by name, or by JSON pointer when the name starts with `/`.
pub fn get<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let value = match name.strip_prefix('/') {
        Some(pointer) => {
            let (first, rest) = match pointer.split_once('/') {
                Some((first, rest)) => (first, Some(rest)),
                None => (pointer, None),
            };
            let top = claims.get(&first.replace("~1", "/").replace("~0", "~"))?;
            match rest {
                Some(rest) => top.pointer(&format!("/{rest}"))?,
                None => top,
            }
        }
        None => claims.get(name)?,
    };
    (!value.is_null()).then_some(value)
}

/// A scalar claim as a string (strings as is, numbers and booleans printed).
pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("invalid \"{name}\" claim: not a numeric date")),
        Some(_) => Err(format!("invalid \"{name}\" claim: not a numeric date")),
    }
}

/// Checks `exp`, `nbf` and `iat` at `now` (Unix seconds). At least one must be present.
pub fn check_times(claims: &Map<String, Value>, now: i64, leeways: Leeways) -> Result<(), String> {
    let skew = effective(leeways.clock_skew, DEFAULT_CLOCK_SKEW);
    let exp = numeric_date(claims, "exp")?;
    let nbf = numeric_date(claims, "nbf")?;
    let iat = numeric_date(claims, "iat")?;
    if exp.is_none() && nbf.is_none() && iat.is_none() {
        return Err("no issued at (iat), not before (nbf), or expiration time (exp) claims in token".into());
    }
    if let Some(exp) = exp
        && now
            > exp
                .saturating_add(skew)
                .saturating_add(effective(leeways.expiration, DEFAULT_LEEWAY))
    {
        return Err("invalid expiration time (exp) claim: token is expired".into());
    }
    if let Some(nbf) = nbf
        && now
            .saturating_add(skew)
            .saturating_add(effective(leeways.not_before, DEFAULT_LEEWAY))
            < nbf
    {
        return Err("invalid not before (nbf) claim: token not yet valid".into());
    }
    if let Some(iat) = iat
        && now.saturating_add(skew) < iat
    {
        return Err("invalid issued at (iat) claim: token issued in the future".into());
    }
    Ok(())
}

/// The `aud` claim as a list (a string or an array of strings).
fn audiences(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Checks the audience: with `bound` set, one of the token's audiences must be bound; without,
/// a token that names an audience is refused (Vault's rule for `jwt` roles).
pub fn check_audience(claims: &Map<String, Value>, bound: &[String]) -> Result<(), String> {
    let auds = audiences(claims);
    if bound.is_empty() {
        if !auds.is_empty() {
            return Err("audience claim found in JWT but no audiences bound to the role".into());
        }
        return Ok(());
    }
    if auds.is_empty() {
        return Err("invalid audience (aud) claim: the token has no audience but the role requires one".into());
    }
    if !auds.iter().any(|a| bound.contains(a)) {
        return Err("invalid audience (aud) claim: audience claim does not match any expected audience".into());
    }
    Ok(())
}

/// Checks `iss` against the configured issuer (if any).
pub fn check_issuer(claims: &Map<String, Value>, bound: &str) -> Result<(), String> {
    if bound.is_empty() || claims.get("iss").and_then(Value::as_str) == Some(bound) {
        Ok(())
    } else {
        Err("invalid issuer (iss) claim".into())
    }
}

/// Checks `sub` against the role's `bound_subject` (if any).
pub fn check_subject(claims: &Map<String, Value>, bound: &str) -> Result<(), String> {
    if bound.is_empty() || claims.get("sub").and_then(Value::as_str) == Some(bound) {
        Ok(())
    } else {
        Err("sub claim does not match bound subject".into())
    }
}

/// `*` matches any run of characters (Vault's `go-glob`); everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Checks every bound claim: the token's value (or one of its values, for a list) must equal
/// (or, with `glob`, match) one of the bound values.
pub fn check_bound_claims(claims: &Map<String, Value>, bound: &Map<String, Value>, glob: bool) -> Result<(), String> {
    for (name, expected) in bound {
        let Some(actual) = get(claims, name) else {
            return Err(format!("claim \"{name}\" is missing"));
        };
        let expected: Vec<String> = match expected {
            Value::Array(a) => a.iter().filter_map(scalar).collect(),
            v => scalar(v).into_iter().collect(),
        };
        let actual: Vec<String> = match actual {
            Value::Array(a) => a.iter().filter_map(scalar).collect(),
            v => scalar(v).into_iter().collect(),
        };
        let matched = actual
            .iter()
            .any(|a| expected.iter().any(|e| if glob { glob_match(e, a) } else { e == a }));
        if !matched {
            return Err(format!(
                "claim \"{name}\" does not match any associated bound claim values"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("dev-*", "dev-team"));
        assert!(glob_match("*@example.com", "a@example.com"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxc"));
        assert!(!glob_match("dev-*", "prod-team"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    #[test]
    fn pointers_and_names() {
        let c = map(json!({"a": {"b": ["x"]}, "plain": 3, "k/s": 1}));
        assert_eq!(get(&c, "/a/b/0"), Some(&json!("x")));
        assert_eq!(get(&c, "plain"), Some(&json!(3)));
        assert_eq!(get(&c, "/k~1s"), Some(&json!(1)));
        assert_eq!(get(&c, "/missing"), None);
    }

    #[test]
    fn times_with_leeways() {
        let l = Leeways {
            clock_skew: -1,
            expiration: -1,
            not_before: -1,
        };
        assert!(check_times(&map(json!({"exp": 100})), 100, l).is_ok());
        assert!(
            check_times(&map(json!({"exp": 100})), 101, l)
                .unwrap_err()
                .contains("expired")
        );
        let d = Leeways {
            clock_skew: 0,
            expiration: 0,
            not_before: 0,
        };
        assert!(check_times(&map(json!({"exp": 100})), 100 + 210, d).is_ok());
        assert!(check_times(&map(json!({"exp": 100})), 100 + 211, d).is_err());
        assert!(
            check_times(&map(json!({"nbf": 1000})), 10, l)
                .unwrap_err()
                .contains("not yet valid")
        );
        assert!(check_times(&map(json!({"sub": "x"})), 10, l).is_err());
    }

    #[test]
    fn audiences_and_bound_claims() {
        let c = map(json!({"aud": ["a", "b"], "groups": ["dev", "ops"], "email": "x@corp.com"}));
        assert!(check_audience(&c, &["b".into()]).is_ok());
        assert!(check_audience(&c, &["z".into()]).is_err());
        assert!(check_audience(&c, &[]).is_err());
        assert!(check_audience(&map(json!({})), &["a".into()]).is_err());
        let bound = map(json!({"groups": ["ops", "sec"]}));
        assert!(check_bound_claims(&c, &bound, false).is_ok());
        let bound = map(json!({"email": "*@corp.com"}));
        assert!(check_bound_claims(&c, &bound, true).is_ok());
        assert!(check_bound_claims(&c, &bound, false).is_err());
        assert!(
            check_bound_claims(&c, &map(json!({"team": "x"})), false)
                .unwrap_err()
                .contains("missing")
        );
    }
}
