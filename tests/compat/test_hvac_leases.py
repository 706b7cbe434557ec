"""hvac's lease calls (client.sys.*_lease*, revoke_prefix, revoke_force) on token leases."""

import time

import hvac.exceptions
import pytest

TOKEN_LEASES = "auth/token/create/"


def token_lease_ids(root):
    try:
        keys = root.sys.list_leases(TOKEN_LEASES)["data"]["keys"]
    except hvac.exceptions.InvalidPath:  # an empty list is a 404, as with Vault
        return []
    return [TOKEN_LEASES + k for k in keys]


def create(root, **kwargs):
    auth = root.auth.token.create(policies=["default"], **kwargs)["auth"]
    return auth["client_token"], auth["accessor"]


def test_read_list_renew_revoke_a_token_lease(initialized):
    root = initialized.root_client()
    assert token_lease_ids(root) == [], "the root token never expires: no lease"
    token, accessor = create(root, ttl="1h")
    (lease_id,) = token_lease_ids(root)

    lease = root.sys.read_lease(lease_id)["data"]
    assert lease["id"] == lease_id
    assert 3500 < lease["ttl"] <= 3600
    assert lease["renewable"] is True
    assert lease["last_renewal"] is None
    assert lease["expire_time"] and lease["issue_time"]

    renewed = root.sys.renew_lease(lease_id, increment=7200)
    assert renewed["lease_id"] == lease_id
    assert 7100 < renewed["lease_duration"] <= 7200
    assert root.sys.read_lease(lease_id)["data"]["last_renewal"] is not None
    assert root.auth.token.lookup_accessor(accessor)["data"]["ttl"] > 7100

    again = root.sys.renew_lease(lease_id)  # no increment: the original TTL
    assert 3500 < again["lease_duration"] <= 3600

    root.sys.revoke_lease(lease_id)
    with pytest.raises(hvac.exceptions.Forbidden):
        initialized.client(token).auth.token.lookup_self()
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.read_lease(lease_id)
    assert token_lease_ids(root) == []


def test_renewing_a_non_renewable_lease_is_rejected(initialized):
    root = initialized.root_client()
    create(root, ttl="1h", renewable=False)
    (lease_id,) = token_lease_ids(root)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.renew_lease(lease_id)


def test_revoke_prefix(initialized):
    root = initialized.root_client()
    tokens = [create(root, ttl="1h")[0] for _ in range(3)]
    assert len(token_lease_ids(root)) == 3
    root.sys.revoke_prefix("auth/token/create")
    for token in tokens:
        with pytest.raises(hvac.exceptions.Forbidden):
            initialized.client(token).auth.token.lookup_self()
    assert token_lease_ids(root) == []


def test_revoke_force(initialized):
    root = initialized.root_client()
    token, _ = create(root, ttl="1h")
    root.sys.revoke_force("auth/token/create/")
    with pytest.raises(hvac.exceptions.Forbidden):
        initialized.client(token).auth.token.lookup_self()
    assert token_lease_ids(root) == []


def test_a_short_token_lease_expires_on_its_own(initialized):
    root = initialized.root_client()
    token, accessor = create(root, ttl="2s")
    assert len(token_lease_ids(root)) == 1
    deadline = time.monotonic() + 6
    while token_lease_ids(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert token_lease_ids(root) == [], "the expiry timer did not revoke the lease"
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.token.lookup_accessor(accessor)
