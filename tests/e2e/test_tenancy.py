"""Enterprise isolation: another enterprise's request is exactly as invisible as a missing one."""

import base64

import pytest

from db.models import Coordination
from tests.support import TYPES, Actor, Api, Factory, count_rows, valid_input

NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def mallory(factory: Factory) -> Actor:
    return await factory.enterprise_user()


def _missing_id(existing: str) -> str:
    type_name, _, _pk = base64.b64decode(existing).decode().partition(":")
    return base64.b64encode(f"{type_name}:987654".encode()).decode()


async def test_another_enterprise_cannot_read_a_request_by_any_handle(
    api: Api, alice: Actor, mallory: Actor
) -> None:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))

    assert await api.get(mallory, id=saved["id"]) is None
    assert await api.get(mallory, no=saved["coordinationNo"]) is None
    assert (await api.data(NODE, {"id": saved["id"]}, actor=mallory))["node"] is None
    # …exactly as for a request that does not exist
    assert await api.get(mallory, id=_missing_id(saved["id"])) is None
    assert await api.get(alice, id=_missing_id(saved["id"])) is None
    assert await api.get(alice, no="XT2026010100000001") is None


async def test_another_enterprise_cannot_update_a_request(
    api: Api, alice: Actor, mallory: Actor
) -> None:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    foreign = await api.save(mallory, valid_input("CCPIT_CERTIFICATE", id=saved["id"], reason="x"))
    missing = await api.save(
        mallory, valid_input("CCPIT_CERTIFICATE", id=_missing_id(saved["id"]), reason="x")
    )

    assert foreign == missing
    assert foreign["errors"] == [
        {"field": ["input", "id"], "code": "NOT_FOUND", "message": "记录不存在"}
    ]
    assert await api.get(alice, id=saved["id"]) == saved


@pytest.mark.parametrize("bad_id", ["", "not-base64!", base64.b64encode(b"Attachment:1").decode()])
async def test_malformed_or_foreign_ids_are_not_found(api: Api, alice: Actor, bad_id: str) -> None:
    payload = await api.save(alice, valid_input("CCPIT_CERTIFICATE", id=bad_id))
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert (await api.data(NODE, {"id": bad_id}, actor=alice))["node"] is None


async def test_an_id_of_one_type_does_not_fetch_a_request_of_another(
    api: Api, alice: Actor
) -> None:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    _, _, pk = base64.b64decode(saved["id"]).decode().partition(":")
    other_type = base64.b64encode(f"CcpitCertificateRequest:{pk}".encode()).decode()
    assert (await api.data(NODE, {"id": other_type}, actor=alice))["node"] is None


async def test_the_enterprise_comes_from_the_login_never_the_input(api: Api, alice: Actor) -> None:
    body = await api.post(
        """mutation { saveCoordination(input: {type: CCPIT_CERTIFICATE, enterpriseUscc: "X"}) {
             message } }""",
        actor=alice,
    )
    assert "enterpriseUscc" in body["errors"][0]["message"]


@pytest.mark.parametrize("kind", TYPES)
async def test_customs_reads_every_enterprise_request_including_drafts(
    api: Api, factory: Factory, alice: Actor, mallory: Actor, kind: str
) -> None:
    officer = await factory.customs_user()
    mine = await api.create(alice, valid_input(kind))
    theirs = await api.create(mallory, valid_input(kind))

    for saved in (mine, theirs):
        seen = await api.get(officer, id=saved["id"])
        assert seen["coordinationNo"] == saved["coordinationNo"]
        assert seen["enterprise"] == saved["enterprise"]
        assert seen["allowedActions"] == [], "customs have no action on a draft"
        assert await api.get(officer, no=saved["coordinationNo"]) == seen


async def test_customs_cannot_save(api: Api, factory: Factory, alice: Actor) -> None:
    officer = await factory.customs_user()
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))

    for values in (
        valid_input("CCPIT_CERTIFICATE"),
        valid_input("CCPIT_CERTIFICATE", id=saved["id"]),
    ):
        payload = await api.save(officer, values)
        assert payload["coordination"] is None
        assert payload["errors"] == [
            {"field": None, "code": "FORBIDDEN", "message": "无权进行此操作"}
        ]
    assert await count_rows(factory.database, Coordination) == 1
    assert await api.get(alice, id=saved["id"]) == saved


async def test_coordination_needs_exactly_one_handle(api: Api, alice: Actor) -> None:
    for arguments in ("", '(id: "a", coordinationNo: "b")'):
        body = await api.post(f"{{ coordination{arguments} {{ __typename }} }}", actor=alice)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
