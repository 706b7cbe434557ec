"""hvac's response wrapping: client.sys.wrap / unwrap, and wrap_ttl on reads and writes."""

import hvac
import hvac.exceptions
import pytest


def test_wrap_and_unwrap_arbitrary_data(initialized):
    root = initialized.root_client()
    wrapped = root.sys.wrap(payload={"handover": "s3cr3t"}, ttl=120)
    info = wrapped["wrap_info"]
    assert info["ttl"] == 120
    assert info["creation_path"] == "sys/wrapping/wrap"
    assert wrapped["data"] is None

    # A client holding only the wrapping token unwraps it once.
    receiver = hvac.Client(url=initialized.addr, token=info["token"])
    unwrapped = receiver.sys.unwrap()
    assert unwrapped["data"] == {"handover": "s3cr3t"}
    with pytest.raises(hvac.exceptions.Forbidden):
        receiver.sys.unwrap()


def test_wrapped_secret_read_unwrapped_by_token_in_body(with_kv2):
    root = with_kv2.root_client()
    root.secrets.kv.v2.create_or_update_secret(path="app", secret={"db": "pw"})
    wrapped = root.read("secret/data/app", wrap_ttl="5m")
    token = wrapped["wrap_info"]["token"]
    assert wrapped["wrap_info"]["creation_path"] == "secret/data/app"
    unwrapped = root.sys.unwrap(token=token)
    assert unwrapped["data"]["data"] == {"db": "pw"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.unwrap(token=token)


def test_wrapped_token_creation(initialized):
    root = initialized.root_client()
    wrapped = root.auth.token.create(policies=["default"], wrap_ttl="60s")
    accessor = wrapped["wrap_info"]["wrapped_accessor"]
    unwrapped = root.sys.unwrap(token=wrapped["wrap_info"]["token"])
    assert unwrapped["auth"]["accessor"] == accessor
    child = hvac.Client(url=initialized.addr, token=unwrapped["auth"]["client_token"])
    assert child.auth.token.lookup_self()["data"]["accessor"] == accessor
