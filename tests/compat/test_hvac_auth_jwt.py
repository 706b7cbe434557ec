"""hvac's JWT auth client against Coffer: configure, roles, and logins with tokens minted here."""

import time

import hvac.exceptions
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://idp.compat.test"


@pytest.fixture
def signing_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def mint(key, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "deploy-bot", "aud": "coffer", "iat": now, "exp": now + 300,
              "env": "prod"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="ES256")


@pytest.fixture
def jwt_mount(initialized, signing_key):
    root = initialized.root_client()
    root.sys.enable_auth_method("jwt")
    root.auth.jwt.configure(jwt_validation_pubkeys=[public_pem(signing_key)], bound_issuer=ISSUER)
    root.sys.create_or_update_acl_policy("deployer", 'path "secret/*" { capabilities = ["read"] }')
    return initialized


def test_configure_and_read_config(jwt_mount, signing_key):
    root = jwt_mount.root_client()
    config = root.auth.jwt.read_config()["data"]
    assert config["bound_issuer"] == ISSUER
    assert config["jwt_validation_pubkeys"] == [public_pem(signing_key).strip()]
    assert config["jwks_url"] == ""
    with pytest.raises(hvac.exceptions.InvalidRequest, match="exactly one of"):
        root.auth.jwt.configure(bound_issuer=ISSUER)


def test_roles_create_read_list(jwt_mount):
    root = jwt_mount.root_client()
    root.auth.jwt.create_role(
        name="deploy", role_type="jwt", user_claim="sub", allowed_redirect_uris=None,
        bound_audiences=["coffer"], bound_claims={"env": ["prod", "staging"]},
        claim_mappings={"env": "environment"}, token_policies=["deployer"], token_ttl="15m",
    )
    root.auth.jwt.create_role(name="other", role_type="jwt", user_claim="email",
                              allowed_redirect_uris=None, bound_subject="x")
    role = root.auth.jwt.read_role("deploy")["data"]
    assert role["role_type"] == "jwt"
    assert role["user_claim"] == "sub"
    assert role["bound_audiences"] == ["coffer"]
    assert role["bound_claims"] == {"env": ["prod", "staging"]}
    assert role["bound_claims_type"] == "string"
    assert role["claim_mappings"] == {"env": "environment"}
    assert role["token_policies"] == ["deployer"]
    assert role["token_ttl"] == 900
    assert role["expiration_leeway"] == 150 and role["clock_skew_leeway"] == 60
    assert root.auth.jwt.list_roles()["data"]["keys"] == ["deploy", "other"]
    with pytest.raises(hvac.exceptions.InvalidRequest, match="user claim"):
        root.auth.jwt.create_role(name="bad", role_type="jwt", user_claim="",
                                  allowed_redirect_uris=None, bound_subject="x")


def test_jwt_login_and_refusals(jwt_mount, signing_key):
    root = jwt_mount.root_client()
    root.auth.jwt.create_role(
        name="deploy", role_type="jwt", user_claim="sub", allowed_redirect_uris=None,
        bound_audiences=["coffer"], claim_mappings={"env": "environment"},
        token_policies=["deployer"],
    )
    client = jwt_mount.client()
    resp = client.auth.jwt.jwt_login(role="deploy", jwt=mint(signing_key))
    auth = resp["auth"]
    assert auth["policies"] == ["default", "deployer"]
    assert auth["metadata"] == {"role": "deploy", "environment": "prod"}
    assert client.token == auth["client_token"]
    assert client.is_authenticated()
    assert client.auth.token.lookup_self()["data"]["display_name"] == "jwt-deploy-bot"

    anonymous = jwt_mount.client()
    for bad_jwt, message in [
        (mint(signing_key, exp=int(time.time()) - 3600), "token is expired"),
        (mint(signing_key, aud="someone-else"), "invalid audience"),
        (mint(signing_key, iss="https://evil.test"), "invalid issuer"),
        (mint(ec.generate_private_key(ec.SECP256R1())), "no known key"),
        (mint(signing_key, sub=None), 'claim "sub" not found'),
    ]:
        with pytest.raises(hvac.exceptions.InvalidRequest, match=message):
            anonymous.auth.jwt.jwt_login(role="deploy", jwt=bad_jwt)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="could not be found"):
        anonymous.auth.jwt.jwt_login(role="missing", jwt=mint(signing_key))
