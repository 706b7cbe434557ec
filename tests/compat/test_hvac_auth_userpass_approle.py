"""hvac against Coffer's userpass and approle auth methods: every call here must behave as
with Vault, including hvac storing the token a login returns."""

import hvac.exceptions
import pytest

APP_READ = 'path "secret/data/app/*" { capabilities = ["read"] }'


def _with_app_policy(server):
    root = server.root_client()
    root.sys.create_or_update_policy("app-read", APP_READ)
    root.secrets.kv.v2.create_or_update_secret("app/db", secret={"pw": "x"})
    root.secrets.kv.v2.create_or_update_secret("other/db", secret={"pw": "y"})
    return root


def _can_read(client, path):
    try:
        client.secrets.kv.v2.read_secret_version(path, raise_on_deleted_version=True)
        return True
    except hvac.exceptions.Forbidden:
        return False


def test_userpass_users_and_login(with_kv2):
    root = _with_app_policy(with_kv2)
    root.sys.enable_auth_method("userpass")
    assert "userpass/" in root.sys.list_auth_methods()["data"]

    root.auth.userpass.create_or_update_user(
        "alice", password="correct horse", token_policies=["app-read"], token_ttl="1h")
    root.auth.userpass.create_or_update_user("bob", password="pw", policies=["default"])
    user = root.auth.userpass.read_user("alice")["data"]
    assert user["token_policies"] == ["app-read"]
    assert user["token_ttl"] == 3600
    assert "password" not in user and "correct horse" not in str(user)
    assert root.auth.userpass.list_user()["data"]["keys"] == ["alice", "bob"]

    client = with_kv2.client()
    result = client.auth.userpass.login("alice", "correct horse")
    assert result["auth"]["policies"] == ["app-read", "default"]
    assert result["auth"]["metadata"] == {"username": "alice"}
    assert client.token == result["auth"]["client_token"]
    assert client.is_authenticated()
    me = client.auth.token.lookup_self()["data"]
    assert me["policies"] == ["app-read", "default"]
    assert me["meta"] == {"username": "alice"}
    assert _can_read(client, "app/db") is True
    assert _can_read(client, "other/db") is False

    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid username or password"):
        with_kv2.client().auth.userpass.login("alice", "wrong")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid username or password"):
        with_kv2.client().auth.userpass.login("nobody", "wrong")

    root.auth.userpass.update_password_on_user("alice", "new password")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        with_kv2.client().auth.userpass.login("alice", "correct horse")
    fresh = with_kv2.client()
    fresh.auth.userpass.login("alice", "new password")
    assert fresh.auth.token.lookup_self()["data"]["meta"]["username"] == "alice"

    root.auth.userpass.delete_user("bob")
    assert root.auth.userpass.list_user()["data"]["keys"] == ["alice"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.auth.userpass.read_user("bob")


def test_approle_roles_secret_ids_and_login(with_kv2):
    root = _with_app_policy(with_kv2)
    root.sys.enable_auth_method("approle")
    root.auth.approle.create_or_update_approle(
        "ci", token_policies=["app-read"], token_ttl="20m", secret_id_num_uses=2,
        secret_id_ttl="1h", token_type="default")
    role = root.auth.approle.read_role("ci")["data"]
    assert role["token_policies"] == ["app-read"]
    assert role["secret_id_num_uses"] == 2 and role["secret_id_ttl"] == 3600
    assert role["bind_secret_id"] is True and role["token_type"] == "default"
    assert root.auth.approle.list_roles()["data"]["keys"] == ["ci"]

    role_id = root.auth.approle.read_role_id("ci")["data"]["role_id"]
    generated = root.auth.approle.generate_secret_id("ci", metadata={"env": "ci"})["data"]
    secret_id = generated["secret_id"]
    assert generated["secret_id_num_uses"] == 2 and generated["secret_id_ttl"] == 3600
    looked = root.auth.approle.read_secret_id("ci", secret_id)["data"]
    assert looked["secret_id_accessor"] == generated["secret_id_accessor"]
    assert looked["metadata"] == {"env": "ci"}
    assert looked["secret_id_num_uses"] == 2

    client = with_kv2.client()
    result = client.auth.approle.login(role_id, secret_id)
    assert result["auth"]["metadata"] == {"env": "ci", "role_name": "ci"}
    assert client.token == result["auth"]["client_token"]
    me = client.auth.token.lookup_self()["data"]
    assert me["policies"] == ["app-read", "default"]
    assert _can_read(client, "app/db") is True
    assert _can_read(client, "other/db") is False

    # The second use spends the SecretID; the third is refused.
    with_kv2.client().auth.approle.login(role_id, secret_id)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid role or secret ID"):
        with_kv2.client().auth.approle.login(role_id, secret_id)

    other = root.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
    root.auth.approle.destroy_secret_id("ci", other)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid role or secret ID"):
        with_kv2.client().auth.approle.login(role_id, other)

    root.auth.approle.delete_role("ci")
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.auth.approle.read_role("ci")
