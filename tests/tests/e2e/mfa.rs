//! Login MFA: a TOTP method, enrolment (otpauth URL + QR PNG), a login enforcement on
//! userpass, and the two-step login through `sys/mfa/validate`.

use base64::Engine;
use coffer_tests::{CofferServer, errors};
use serde_json::{Value, json};

async fn login(s: &CofferServer) -> Value {
    let (status, body) = s
        .request(
            "POST",
            "auth/userpass/login/alice",
            None,
            Some(json!({"password": "pw-alice-1"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn totp_second_factor_for_userpass() {
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "sys/auth/userpass", Some(json!({"type": "userpass"})))
        .await;
    let (status, body) = s
        .root_req(
            "POST",
            "auth/userpass/users/alice",
            Some(json!({"password": "pw-alice-1", "token_policies": ["default"]})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");
    let first = login(&s).await;
    let entity_id = first["auth"]["entity_id"].as_str().unwrap().to_string();
    assert!(!entity_id.is_empty(), "a login creates an entity: {first}");

    let (status, method) = s
        .root_req(
            "POST",
            "identity/mfa/method/totp",
            Some(json!({"issuer": "Coffer", "period": 30})),
        )
        .await;
    assert_eq!(status, 200, "{method}");
    let method_id = method["data"]["method_id"].as_str().unwrap().to_string();
    let (status, read) = s
        .root_req("GET", &format!("identity/mfa/method/totp/{method_id}"), None)
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["data"]["issuer"], "Coffer");

    let (status, enrolled) = s
        .root_req(
            "POST",
            "identity/mfa/method/totp/admin-generate",
            Some(json!({"method_id": method_id, "entity_id": entity_id})),
        )
        .await;
    assert_eq!(status, 200, "{enrolled}");
    let url = enrolled["data"]["url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    let png = base64::engine::general_purpose::STANDARD
        .decode(enrolled["data"]["barcode"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the barcode is a PNG");
    let totp = totp_rs::Totp::from_url(url).unwrap();

    let (status, body) = s
        .root_req(
            "POST",
            "identity/mfa/login-enforcement/userpass-mfa",
            Some(json!({"mfa_method_ids": [method_id], "auth_method_types": ["userpass"]})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");

    // The login now stops at the second factor.
    let pending = login(&s).await;
    assert_eq!(pending["auth"]["client_token"], "", "{pending}");
    let requirement = &pending["auth"]["mfa_requirement"];
    let request_id = requirement["mfa_request_id"].as_str().unwrap().to_string();
    assert_eq!(
        requirement["mfa_constraints"]["userpass-mfa"]["any"][0]["id"],
        method_id
    );

    let (status, e) = s
        .request(
            "POST",
            "sys/mfa/validate",
            None,
            Some(json!({"mfa_request_id": request_id, "mfa_payload": {method_id.clone(): ["000000"]}})),
        )
        .await;
    assert_eq!(status, 400, "a wrong passcode is refused: {e}");
    let (status, e) = s
        .request(
            "POST",
            "sys/mfa/validate",
            None,
            Some(json!({"mfa_request_id": request_id, "mfa_payload": {}})),
        )
        .await;
    assert_eq!(status, 400, "a missing passcode is refused: {e}");

    let code = totp.generate(now()).to_string();
    let (status, done) = s
        .request(
            "POST",
            "sys/mfa/validate",
            None,
            Some(json!({"mfa_request_id": request_id, "mfa_payload": {method_id.clone(): [code.clone()]}})),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    let token = done["auth"]["client_token"].as_str().unwrap();
    assert!(token.starts_with("cfs_"));
    assert_eq!(
        s.request("GET", "auth/token/lookup-self", Some(token), None).await.0,
        200
    );

    // The same request cannot be validated twice, and the same passcode is not accepted again.
    let (status, _) = s
        .request(
            "POST",
            "sys/mfa/validate",
            None,
            Some(json!({"mfa_request_id": request_id, "mfa_payload": {method_id.clone(): [code.clone()]}})),
        )
        .await;
    assert_eq!(status, 400);
    let again = login(&s).await;
    let request_id = again["auth"]["mfa_requirement"]["mfa_request_id"].as_str().unwrap();
    let (status, e) = s
        .request(
            "POST",
            "sys/mfa/validate",
            None,
            Some(json!({"mfa_request_id": request_id, "mfa_payload": {method_id.clone(): [code]}})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(errors(&e)[0].contains("already used"), "{e}");
}
