"""hvac, the Python Vault client, against Coffer: every call here must behave as with Vault."""

import hvac
import hvac.exceptions
import pytest


def test_initialize_unseal_seal_cycle(server):
    client = server.client()
    assert client.sys.is_initialized() is False
    result = client.sys.initialize(5, 3)
    assert len(result["keys"]) == 5
    assert len(result["keys_base64"]) == 5
    assert result["root_token"].startswith("cfs_")
    assert client.sys.is_initialized() is True
    assert client.sys.is_sealed() is True

    status = client.sys.submit_unseal_key(result["keys"][0])
    assert status["sealed"] is True and status["progress"] == 1 and status["t"] == 3 and status["n"] == 5
    status = client.sys.submit_unseal_key(reset=True)
    assert status["progress"] == 0

    status = client.sys.submit_unseal_keys(result["keys"][1:4])
    assert status["sealed"] is False
    assert client.sys.is_sealed() is False

    root = server.client(result["root_token"])
    root.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret("app", secret={"pw": "hunter2"})
    root.sys.seal()
    assert client.sys.is_sealed() is True
    with pytest.raises(hvac.exceptions.VaultDown):
        root.secrets.kv.v2.read_secret_version("app", raise_on_deleted_version=True)

    client.sys.submit_unseal_keys(result["keys_base64"][2:5])
    assert client.sys.is_sealed() is False
    got = root.secrets.kv.v2.read_secret_version("app", raise_on_deleted_version=True)
    assert got["data"]["data"] == {"pw": "hunter2"}

    # restart: data stays, server comes back sealed
    server.restart()  # a new port: new clients
    client, root = server.client(), server.client(result["root_token"])
    assert client.sys.is_sealed() is True
    client.sys.submit_unseal_keys(result["keys"][:3])
    got = root.secrets.kv.v2.read_secret_version("app", raise_on_deleted_version=True)
    assert got["data"]["data"] == {"pw": "hunter2"}


def test_health_seal_status_and_key_rotation(initialized):
    root = initialized.root_client()
    health = root.sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False
    head = root.sys.read_health_status()  # HEAD
    assert head.status_code == 200
    status = root.sys.read_seal_status()
    assert status["sealed"] is False and status["initialized"] is True and status["type"] == "shamir"

    key_status = root.sys.get_encryption_key_status()
    assert key_status["data"]["term"] == 1, key_status
    root.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret("before", secret={"v": "1"})
    root.sys.rotate_encryption_key()
    assert root.sys.get_encryption_key_status()["data"]["term"] == 2
    root.secrets.kv.v2.create_or_update_secret("after", secret={"v": "2"})
    assert root.secrets.kv.v2.read_secret_version("before", raise_on_deleted_version=True)["data"]["data"] == {"v": "1"}
    assert root.secrets.kv.v2.read_secret_version("after", raise_on_deleted_version=True)["data"]["data"] == {"v": "2"}


def test_kv_v2_full_life_cycle(with_kv2):
    kv = with_kv2.root_client().secrets.kv.v2
    written = kv.create_or_update_secret("app/db", secret={"user": "admin", "pw": "one"})
    assert written["data"]["version"] == 1
    written = kv.create_or_update_secret("app/db", secret={"user": "admin", "pw": "two"}, cas=1)
    assert written["data"]["version"] == 2
    with pytest.raises(hvac.exceptions.InvalidRequest):
        kv.create_or_update_secret("app/db", secret={"pw": "stale"}, cas=1)

    latest = kv.read_secret_version("app/db", raise_on_deleted_version=True)
    assert latest["data"]["data"] == {"user": "admin", "pw": "two"}
    assert latest["data"]["metadata"]["version"] == 2
    v1 = kv.read_secret_version("app/db", version=1, raise_on_deleted_version=True)
    assert v1["data"]["data"]["pw"] == "one"

    patched = kv.patch("app/db", secret={"pw": "three", "extra": "x"})
    assert patched["data"]["version"] == 3
    assert kv.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"] == {
        "user": "admin", "pw": "three", "extra": "x"}
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.patch("app/missing", secret={"a": "b"})

    kv.delete_latest_version_of_secret("app/db")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version("app/db", raise_on_deleted_version=True)
    deleted = kv.read_secret_version("app/db", raise_on_deleted_version=False)
    assert deleted["data"]["data"] is None
    assert deleted["data"]["metadata"]["deletion_time"] != ""

    kv.undelete_secret_versions("app/db", versions=[3])
    assert kv.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"]["pw"] == "three"

    kv.delete_secret_versions("app/db", versions=[2])
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version("app/db", version=2, raise_on_deleted_version=True)

    kv.destroy_secret_versions("app/db", versions=[1])
    meta = kv.read_secret_metadata("app/db")["data"]
    assert meta["current_version"] == 3
    assert meta["versions"]["1"]["destroyed"] is True
    assert meta["versions"]["2"]["deletion_time"] != ""
    assert meta["versions"]["3"]["destroyed"] is False

    kv.update_metadata("app/db", max_versions=5, custom_metadata={"owner": "ops"})
    meta = kv.read_secret_metadata("app/db")["data"]
    assert meta["max_versions"] == 5
    assert meta["custom_metadata"] == {"owner": "ops"}

    kv.create_or_update_secret("app/other", secret={"a": "1"})
    kv.create_or_update_secret("app/nested/deep", secret={"a": "1"})
    listed = kv.list_secrets("app")
    assert sorted(listed["data"]["keys"]) == ["db", "nested/", "other"]

    kv.delete_metadata_and_all_versions("app/db")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata("app/db")
    assert sorted(kv.list_secrets("app")["data"]["keys"]) == ["nested/", "other"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.list_secrets("nothing-here")


def test_kv_v2_configuration(with_kv2):
    kv = with_kv2.root_client().secrets.kv.v2
    kv.configure(max_versions=4, cas_required=False, delete_version_after="2h")
    config = kv.read_configuration()["data"]
    assert config["max_versions"] == 4
    assert config["cas_required"] is False
    assert config["delete_version_after"] == "2h0m0s"
    kv.configure(cas_required=True)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        kv.create_or_update_secret("needs-cas", secret={"a": "1"})
    kv.create_or_update_secret("needs-cas", secret={"a": "1"}, cas=0)


def test_kv_v1(initialized):
    root = initialized.root_client()
    root.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    kv = root.secrets.kv.v1
    kv.create_or_update_secret("team/db", secret={"pw": "s3cret"}, mount_point="kv1")
    kv.create_or_update_secret("team/api", secret={"key": "k"}, mount_point="kv1")
    assert kv.read_secret("team/db", mount_point="kv1")["data"] == {"pw": "s3cret"}
    assert sorted(kv.list_secrets("team", mount_point="kv1")["data"]["keys"]) == ["api", "db"]
    kv.delete_secret("team/db", mount_point="kv1")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret("team/db", mount_point="kv1")


def test_tokens(initialized):
    root = initialized.root_client()
    created = root.auth.token.create(policies=["default"], ttl="1h", meta={"team": "ops"}, display_name="ci")
    token = created["auth"]["client_token"]
    accessor = created["auth"]["accessor"]
    assert token.startswith("cfs_")
    assert created["auth"]["lease_duration"] == 3600
    assert created["auth"]["metadata"] == {"team": "ops"}

    looked = root.auth.token.lookup(token)["data"]
    assert looked["id"] == token and looked["display_name"] == "token-ci" and looked["meta"] == {"team": "ops"}
    user = initialized.client(token)
    assert user.auth.token.lookup_self()["data"]["accessor"] == accessor
    assert user.is_authenticated()
    by_accessor = root.auth.token.lookup_accessor(accessor)["data"]
    assert by_accessor["id"] == "" and by_accessor["accessor"] == accessor

    renewed = root.auth.token.renew(token, increment="2h")
    assert renewed["auth"]["lease_duration"] == 7200
    renewed = user.auth.token.renew_self(increment=600)
    assert renewed["auth"]["lease_duration"] == 600

    orphan = root.auth.token.create_orphan(policies=["default"])
    assert orphan["auth"]["orphan"] is True

    # the token tree: revoking a parent revokes its child, not the orphan
    root.sys.create_or_update_acl_policy("creator", 'path "auth/token/create" { capabilities = ["update"] }')
    parent = root.auth.token.create(policies=["creator"])["auth"]["client_token"]
    child = initialized.client(parent).auth.token.create(policies=["default"])["auth"]["client_token"]
    root.auth.token.revoke(parent)
    assert not initialized.client(parent).is_authenticated()
    assert not initialized.client(child).is_authenticated()
    assert initialized.client(orphan["auth"]["client_token"]).is_authenticated()

    root.auth.token.revoke_accessor(orphan["auth"]["accessor"])
    assert not initialized.client(orphan["auth"]["client_token"]).is_authenticated()

    user.auth.token.revoke_self()
    assert not user.is_authenticated()
    with pytest.raises(hvac.exceptions.Forbidden):
        user.auth.token.lookup_self()


def test_policies_both_apis(initialized):
    root = initialized.root_client()
    rules = 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n'
    root.sys.create_or_update_policy("legacy", rules)
    assert root.sys.read_policy("legacy")["rules"] == rules
    assert "legacy" in root.sys.list_policies()["policies"]
    root.sys.delete_policy("legacy")
    assert "legacy" not in root.sys.list_policies()["policies"]

    root.sys.create_or_update_acl_policy("app", rules)
    assert root.sys.read_acl_policy("app")["data"]["policy"] == rules
    assert "app" in root.sys.list_acl_policies()["data"]["keys"]
    root.sys.delete_acl_policy("app")
    assert "app" not in root.sys.list_acl_policies()["data"]["keys"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.read_acl_policy("app")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.create_or_update_acl_policy("broken", 'path "x" {\n  capabilities = ["fly"]\n}\n')


def test_restricted_token_forbidden_where_denied(with_kv2):
    root = with_kv2.root_client()
    root.sys.create_or_update_acl_policy(
        "app", 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n'
        'path "secret/data/app/blocked" {\n  capabilities = ["deny"]\n}\n')
    for path in ("app/one", "app/blocked", "other"):
        root.secrets.kv.v2.create_or_update_secret(path, secret={"p": path})
    user = with_kv2.client(root.auth.token.create(policies=["app"])["auth"]["client_token"])
    kv = user.secrets.kv.v2
    assert kv.read_secret_version("app/one", raise_on_deleted_version=True)["data"]["data"] == {"p": "app/one"}
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.read_secret_version("other", raise_on_deleted_version=True)
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.read_secret_version("app/blocked", raise_on_deleted_version=True)
    with pytest.raises(hvac.exceptions.Forbidden):
        kv.create_or_update_secret("app/one", secret={"p": "changed"})
    with pytest.raises(hvac.exceptions.Forbidden):
        user.sys.list_mounted_secrets_engines()
    with pytest.raises(hvac.exceptions.Forbidden):
        user.sys.create_or_update_acl_policy("x", 'path "*" { capabilities = ["sudo"] }')
    with pytest.raises(hvac.exceptions.Forbidden):
        user.auth.token.create(policies=["app"])  # the policy grants no auth/token/create
    assert root.secrets.kv.v2.read_secret_version("app/one", raise_on_deleted_version=True)["data"]["data"] == {"p": "app/one"}


def test_secrets_engines(initialized):
    root = initialized.root_client()
    root.sys.enable_secrets_engine("kv", path="kv1", description="team", config={"max_lease_ttl": "2h"})
    mounts = root.sys.list_mounted_secrets_engines()
    assert mounts["data"]["kv1/"]["type"] == "kv"
    assert mounts["kv1/"]["description"] == "team"
    for builtin in ("sys/", "cubbyhole/"):
        assert builtin in mounts["data"]

    root.sys.tune_mount_configuration("kv1", default_lease_ttl="30m", max_lease_ttl="3h", description="retuned")
    config = root.sys.read_mount_configuration("kv1")["data"]
    assert config["default_lease_ttl"] == 1800
    assert config["max_lease_ttl"] == 10800
    assert config["description"] == "retuned"

    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.enable_secrets_engine("kv", path="kv1")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.enable_secrets_engine("kv", path="sys/mine")

    root.secrets.kv.v1.create_or_update_secret("x", secret={"a": "1"}, mount_point="kv1")
    root.sys.disable_secrets_engine("kv1")
    assert "kv1/" not in root.sys.list_mounted_secrets_engines()["data"]
    root.sys.enable_secrets_engine("kv", path="kv1")
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v1.read_secret("x", mount_point="kv1")
