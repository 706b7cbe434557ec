//! Login MFA (Vault's `auth.mfa_requirement`): pick one method per constraint, collect
//! passcodes, and build the `sys/mfa/validate` body whose answer replaces the login's.

use std::fmt;

use serde_json::{Map, Value, json};

/// One MFA method chosen to satisfy a constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaMethod {
    /// The constraint (enforcement) name it satisfies.
    pub constraint: String,
    /// Method id: the key in `mfa_payload`.
    pub id: String,
    /// Method type, e.g. `totp`, `duo`.
    pub method_type: String,
    /// Whether the user must type a passcode (else the payload carries `""`).
    pub uses_passcode: bool,
}

/// A pending MFA login: its request id and one method per constraint (sorted by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaRequirement {
    /// `mfa_request_id` to send back.
    pub request_id: String,
    /// The methods to answer, one per constraint.
    pub methods: Vec<MfaMethod>,
}

/// The MFA requirement of a login answer's `auth` block, if it has one. Within each
/// constraint the first TOTP method is preferred (it needs nothing but a passcode),
/// else the first method listed.
pub fn requirement(raw: &Value) -> Option<Result<MfaRequirement, String>> {
    let req = raw.get("auth")?.get("mfa_requirement")?;
    if req.is_null() {
        return None;
    }
    Some(parse(req))
}

fn parse(req: &Value) -> Result<MfaRequirement, String> {
    let bad = |what: &str| format!("invalid MFA requirement from the server: {what}");
    let request_id = req
        .get("mfa_request_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("no mfa_request_id"))?
        .to_string();
    let constraints = req
        .get("mfa_constraints")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("no mfa_constraints"))?;
    let mut names: Vec<&String> = constraints.keys().collect();
    names.sort();
    let mut methods = Vec::new();
    for name in names {
        let any = constraints[name]
            .get("any")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| bad(&format!("constraint {name} lists no method")))?;
        let chosen = any
            .iter()
            .find(|m| m.get("type").and_then(Value::as_str) == Some("totp"))
            .unwrap_or(&any[0]);
        let id = chosen
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(&format!("a method of constraint {name} has no id")))?;
        methods.push(MfaMethod {
            constraint: name.clone(),
            id: id.to_string(),
            method_type: chosen.get("type").and_then(Value::as_str).unwrap_or("").to_string(),
            uses_passcode: chosen.get("uses_passcode").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    if methods.is_empty() {
        return Err(bad("no constraint"));
    }
    Ok(MfaRequirement { request_id, methods })
}

/// The `sys/mfa/validate` body. Passcode methods take their passcode from `passcodes` in
/// order, then from `ask`; the others get `""`. `Debug` of the result is never printed.
pub fn validate_body(
    req: &MfaRequirement,
    passcodes: &[String],
    ask: &mut dyn FnMut(&MfaMethod) -> Result<String, String>,
) -> Result<Value, String> {
    let mut given = passcodes.iter();
    let mut payload = Map::new();
    for m in &req.methods {
        let code = if m.uses_passcode {
            let code = match given.next() {
                Some(c) => c.clone(),
                None => ask(m)?,
            };
            let code = code.trim().to_string();
            if code.is_empty() {
                return Err(format!("a passcode is required for MFA method {}", m.label()));
            }
            code
        } else {
            String::new()
        };
        payload.insert(m.id.clone(), json!([code]));
    }
    Ok(json!({ "mfa_request_id": req.request_id, "mfa_payload": payload }))
}

impl MfaMethod {
    /// `type (id)` for prompts and messages.
    pub fn label(&self) -> String {
        if self.method_type.is_empty() {
            self.id.clone()
        } else {
            format!("{} ({})", self.method_type, self.id)
        }
    }
}

impl fmt::Display for MfaRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MFA request {} needs:", self.request_id)?;
        for m in &self.methods {
            write!(f, " {} via {};", m.constraint, m.label())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login_answer() -> Value {
        json!({"auth": {"client_token": "", "mfa_requirement": {
            "mfa_request_id": "req-1",
            "mfa_constraints": {
                "zeta": {"any": [{"type": "duo", "id": "duo-1", "uses_passcode": false}]},
                "alpha": {"any": [
                    {"type": "okta", "id": "okta-1", "uses_passcode": false},
                    {"type": "totp", "id": "totp-1", "uses_passcode": true}
                ]}
            }
        }}})
    }

    #[test]
    fn picks_totp_per_constraint_in_name_order() {
        let req = requirement(&login_answer()).unwrap().unwrap();
        assert_eq!(req.request_id, "req-1");
        let ids: Vec<&str> = req.methods.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["totp-1", "duo-1"]);
        assert!(req.methods[0].uses_passcode && !req.methods[1].uses_passcode);
        assert!(requirement(&json!({"auth": {"client_token": "t"}})).is_none());
        assert!(requirement(&json!({"auth": {"mfa_requirement": null}})).is_none());
        assert!(requirement(&json!({"data": {}})).is_none());
        let bad = json!({"auth": {"mfa_requirement": {"mfa_request_id": "r", "mfa_constraints": {"c": {"any": []}}}}});
        assert!(requirement(&bad).unwrap().is_err());
    }

    #[test]
    fn payload_maps_method_ids_to_passcodes() {
        let req = requirement(&login_answer()).unwrap().unwrap();
        let mut never = |_: &MfaMethod| -> Result<String, String> { panic!("no prompt expected") };
        let body = validate_body(&req, &[" 123456 ".into()], &mut never).unwrap();
        assert_eq!(
            body,
            json!({"mfa_request_id": "req-1", "mfa_payload": {"totp-1": ["123456"], "duo-1": [""]}})
        );
        let mut asked = Vec::new();
        let mut ask = |m: &MfaMethod| {
            asked.push(m.id.clone());
            Ok("654321".to_string())
        };
        let body = validate_body(&req, &[], &mut ask).unwrap();
        assert_eq!(body["mfa_payload"]["totp-1"], json!(["654321"]));
        assert_eq!(asked, ["totp-1"]);
        let mut empty = |_: &MfaMethod| Ok(String::new());
        assert!(
            validate_body(&req, &[], &mut empty)
                .unwrap_err()
                .contains("totp (totp-1)")
        );
    }
}
