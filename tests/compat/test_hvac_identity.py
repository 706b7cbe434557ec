"""hvac's identity secrets engine client against Coffer: entities, aliases, groups, lookups."""

import hvac.exceptions
import pytest


@pytest.fixture
def userpass_accessor(initialized):
    root = initialized.root_client()
    root.sys.enable_auth_method("userpass")
    return root.sys.list_auth_methods()["data"]["userpass/"]["accessor"]


def test_entity_crud(initialized):
    identity = initialized.root_client().secrets.identity
    created = identity.create_or_update_entity(name="hvac-entity", metadata={"team": "blue"},
                                               policies=["p1"])
    entity_id = created["data"]["id"]
    assert created["data"]["name"] == "hvac-entity"

    read = identity.read_entity(entity_id=entity_id)["data"]
    assert read["name"] == "hvac-entity"
    assert read["metadata"] == {"team": "blue"}
    assert read["policies"] == ["p1"]
    assert read["aliases"] == [] and read["group_ids"] == [] and read["namespace_id"] == "root"

    identity.update_entity(entity_id=entity_id, metadata={"team": "red"}, policies=["p2"])
    assert identity.read_entity(entity_id=entity_id)["data"]["metadata"] == {"team": "red"}

    identity.create_or_update_entity_by_name(name="by-name", policies=["p3"])
    by_name = identity.read_entity_by_name(name="by-name")["data"]
    assert by_name["policies"] == ["p3"]

    listed = identity.list_entities()["data"]
    assert sorted(listed["keys"]) == sorted([entity_id, by_name["id"]])
    assert listed["key_info"][entity_id]["name"] == "hvac-entity"
    assert identity.list_entities(method="GET")["data"]["keys"] == listed["keys"]

    identity.delete_entity(entity_id=entity_id)
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity(entity_id=entity_id)


def test_entity_alias_crud(initialized, userpass_accessor):
    identity = initialized.root_client().secrets.identity
    entity_id = identity.create_or_update_entity(name="svc")["data"]["id"]
    created = identity.create_or_update_entity_alias(
        name="svc-user", canonical_id=entity_id, mount_accessor=userpass_accessor)
    alias_id = created["data"]["id"]
    assert created["data"]["canonical_id"] == entity_id

    alias = identity.read_entity_alias(alias_id=alias_id)["data"]
    assert alias["name"] == "svc-user"
    assert alias["mount_accessor"] == userpass_accessor
    assert alias["canonical_id"] == entity_id

    listed = identity.list_entity_aliases()["data"]
    assert listed["keys"] == [alias_id]
    assert listed["key_info"][alias_id]["canonical_id"] == entity_id

    entity = identity.read_entity(entity_id=entity_id)["data"]
    assert [a["id"] for a in entity["aliases"]] == [alias_id]

    with pytest.raises(hvac.exceptions.InvalidRequest):
        identity.create_or_update_entity_alias(
            name="second", canonical_id=entity_id, mount_accessor=userpass_accessor)

    identity.delete_entity_alias(alias_id=alias_id)
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity_alias(alias_id=alias_id)
    assert identity.read_entity(entity_id=entity_id)["data"]["aliases"] == []


def test_group_crud_and_lookups(initialized, userpass_accessor):
    identity = initialized.root_client().secrets.identity
    entity_id = identity.create_or_update_entity(name="member")["data"]["id"]
    identity.create_or_update_entity_alias(
        name="member-login", canonical_id=entity_id, mount_accessor=userpass_accessor)

    inner = identity.create_or_update_group(name="inner", policies=["a"],
                                            member_entity_ids=[entity_id])["data"]["id"]
    outer = identity.create_or_update_group(name="outer", policies=["b"],
                                            member_group_ids=[inner],
                                            metadata={"k": "v"})["data"]["id"]
    group = identity.read_group(group_id=outer)["data"]
    assert group["name"] == "outer" and group["type"] == "internal"
    assert group["member_group_ids"] == [inner] and group["metadata"] == {"k": "v"}
    assert identity.read_group(group_id=inner)["data"]["parent_group_ids"] == [outer]

    # A cycle is refused.
    with pytest.raises(hvac.exceptions.InvalidRequest):
        identity.create_or_update_group(name="inner", group_id=inner, member_group_ids=[outer])

    entity = identity.read_entity(entity_id=entity_id)["data"]
    assert entity["direct_group_ids"] == [inner]
    assert entity["inherited_group_ids"] == [outer]

    assert sorted(identity.list_groups()["data"]["keys"]) == sorted([inner, outer])

    for kwargs in ({"name": "member"}, {"entity_id": entity_id},
                   {"alias_name": "member-login", "alias_mount_accessor": userpass_accessor}):
        assert identity.lookup_entity(**kwargs)["data"]["id"] == entity_id
    assert identity.lookup_group(name="outer")["data"]["id"] == outer
    assert identity.lookup_group(group_id=inner)["data"]["name"] == "inner"
    missing = identity.lookup_entity(name="nobody")
    assert missing is None or getattr(missing, "status_code", None) == 204

    identity.delete_group(group_id=outer)
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_group(group_id=outer)
    assert identity.read_group(group_id=inner)["data"]["parent_group_ids"] == []
