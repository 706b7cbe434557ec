"""The OpenBao CLI (`bao`) against Coffer. Assertions are on parsed JSON, not exit codes alone."""

import json
import os
import shutil
import subprocess

import pytest

BAO = shutil.which("bao")


@pytest.fixture(autouse=True)
def need_bao():
    if BAO is None:
        pytest.fail("the `bao` CLI is not on PATH: pip install -r tests/compat/requirements.txt",
                    pytrace=False)


class Bao:
    def __init__(self, server, home):
        self.server = server
        self.home = home

    def run(self, *args, token=None, stdin=None, ok=True):
        token = self.server.root_token if token is None else token
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env.update({
            "HOME": str(self.home),
            "VAULT_ADDR": self.server.addr, "BAO_ADDR": self.server.addr,
            "VAULT_TOKEN": token or "", "BAO_TOKEN": token or "",
            "NO_COLOR": "1",
        })
        proc = subprocess.run([BAO, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
        if ok:
            assert proc.returncode == 0, (
                f"bao {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def json(self, *args, **kw):
        proc = self.run(*args, **kw)
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"bao {' '.join(args)} printed no JSON ({e}): {proc.stdout!r} {proc.stderr!r}")


@pytest.fixture
def bao(with_kv2, tmp_path_factory):
    return Bao(with_kv2, tmp_path_factory.mktemp("bao-home"))


def test_status(bao):
    st = bao.json("status", "-format=json")
    assert st["initialized"] is True and st["sealed"] is False
    assert st["type"] == "shamir" and st["t"] == 1 and st["n"] == 1
    plain = bao.run("status")
    assert "Sealed" in plain.stdout and "false" in plain.stdout


def test_kv_v2_commands(bao):
    put = bao.json("kv", "put", "-format=json", "secret/app", "a=1", "b=2")
    assert put["data"]["version"] == 1
    got = bao.json("kv", "get", "-format=json", "secret/app")
    assert got["data"]["data"] == {"a": "1", "b": "2"}
    assert got["data"]["metadata"]["version"] == 1
    field = bao.run("kv", "get", "-field=a", "secret/app")
    assert field.stdout.strip() == "1"

    patched = bao.json("kv", "patch", "-format=json", "secret/app", "b=3", "c=4")
    assert patched["data"]["version"] == 2
    got = bao.json("kv", "get", "-format=json", "secret/app")
    assert got["data"]["data"] == {"a": "1", "b": "3", "c": "4"}
    old = bao.json("kv", "get", "-format=json", "-version=1", "secret/app")
    assert old["data"]["data"] == {"a": "1", "b": "2"}

    bao.run("kv", "put", "secret/dir/inner", "x=1")
    listed = bao.json("kv", "list", "-format=json", "secret/")
    assert sorted(listed) == ["app", "dir/"]

    meta = bao.json("kv", "metadata", "get", "-format=json", "secret/app")
    assert meta["data"]["current_version"] == 2
    assert set(meta["data"]["versions"]) == {"1", "2"}

    bao.run("kv", "delete", "secret/app")
    gone = bao.run("kv", "get", "-format=json", "secret/app", ok=False)
    assert gone.returncode != 0 or json.loads(gone.stdout or "{}").get("data", {}).get("data") is None
    meta = bao.json("kv", "metadata", "get", "-format=json", "secret/app")
    assert meta["data"]["versions"]["2"]["deletion_time"] != ""

    bao.run("kv", "undelete", "-versions=2", "secret/app")
    got = bao.json("kv", "get", "-format=json", "secret/app")
    assert got["data"]["data"]["c"] == "4"

    bao.run("kv", "destroy", "-versions=1", "secret/app")
    meta = bao.json("kv", "metadata", "get", "-format=json", "secret/app")
    assert meta["data"]["versions"]["1"]["destroyed"] is True
    assert meta["data"]["versions"]["2"]["destroyed"] is False

    missing = bao.run("kv", "get", "secret/never", ok=False)
    assert missing.returncode == 2, (missing.returncode, missing.stdout, missing.stderr)


def test_token_commands(bao):
    bao.run("policy", "write", "x", "-", stdin='path "secret/data/x" {\n  capabilities = ["read"]\n}\n')
    created = bao.json("token", "create", "-policy=x", "-format=json")
    token = created["auth"]["client_token"]
    assert token.startswith("cfs_")
    assert created["auth"]["policies"] == ["default", "x"]

    me = bao.json("token", "lookup", "-format=json")
    assert me["data"]["policies"] == ["root"]
    other = bao.json("token", "lookup", "-format=json", token)
    assert other["data"]["id"] == token
    assert other["data"]["policies"] == ["default", "x"]
    self_lookup = bao.json("token", "lookup", "-format=json", token=token)
    assert self_lookup["data"]["accessor"] == created["auth"]["accessor"]

    renewed = bao.json("token", "renew", "-format=json", "-increment=1h", token)
    assert renewed["auth"]["lease_duration"] == 3600
    renewed_self = bao.json("token", "renew", "-format=json", "-increment=30m", token=token)
    assert renewed_self["auth"]["lease_duration"] == 1800

    bao.run("token", "revoke", token)
    after = bao.run("token", "lookup", token, ok=False)
    assert after.returncode != 0
    denied = bao.run("token", "lookup", token=token, ok=False)
    assert denied.returncode != 0 and "permission denied" in denied.stderr


def test_policy_commands(bao, tmp_path):
    rules = 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n'
    f = tmp_path / "app.hcl"
    f.write_text(rules)
    bao.run("policy", "write", "app", str(f))
    assert bao.run("policy", "read", "app").stdout.strip() == rules.strip()
    assert bao.json("policy", "read", "-format=json", "app")["policy"] == rules
    names = bao.json("policy", "list", "-format=json")
    assert "app" in names and "default" in names and "root" in names
    bao.run("policy", "delete", "app")
    assert "app" not in bao.json("policy", "list", "-format=json")
    bad = bao.run("policy", "write", "bad", "-", stdin='path "x" {\n  capabilities = ["fly"]\n}\n', ok=False)
    assert bad.returncode != 0 and "line" in bad.stderr


def test_secrets_commands(bao):
    bao.run("secrets", "enable", "-path=kv1", "-version=1", "kv")
    mounts = bao.json("secrets", "list", "-format=json")
    assert mounts["kv1/"]["type"] == "kv"
    assert mounts["secret/"]["options"]["version"] == "2"

    bao.run("secrets", "tune", "-max-lease-ttl=1h", "kv1")
    mounts = bao.json("secrets", "list", "-format=json")
    assert mounts["kv1/"]["config"]["max_lease_ttl"] == 3600

    bao.run("kv", "put", "kv1/foo", "bar=baz")
    assert bao.json("kv", "get", "-format=json", "kv1/foo")["data"] == {"bar": "baz"}

    bao.run("secrets", "disable", "kv1")
    assert "kv1/" not in bao.json("secrets", "list", "-format=json")


def test_operator_key_status_and_rotate(bao):
    bao.run("kv", "put", "secret/keep", "v=1")
    status = bao.json("operator", "key-status", "-format=json")
    assert status["term"] == 1

    bao.run("operator", "rotate")
    assert bao.json("operator", "key-status", "-format=json")["term"] == 2
    assert bao.json("kv", "get", "-format=json", "secret/keep")["data"]["data"] == {"v": "1"}


def test_operator_seal_unseal(bao):
    bao.run("kv", "put", "secret/keep", "v=1")
    bao.run("operator", "seal")
    sealed = bao.run("status", "-format=json", ok=False)
    assert sealed.returncode == 2
    assert json.loads(sealed.stdout)["sealed"] is True
    refused = bao.run("kv", "get", "secret/keep", ok=False)
    assert refused.returncode != 0 and "sealed" in refused.stderr.lower()

    unsealed = bao.json("operator", "unseal", "-format=json", bao.server.keys[0])
    assert unsealed["sealed"] is False
    assert bao.json("status", "-format=json")["sealed"] is False
    assert bao.json("kv", "get", "-format=json", "secret/keep")["data"]["data"] == {"v": "1"}
