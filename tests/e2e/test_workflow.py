"""The status table over HTTP: every (status, action) pair, withdraw, delete, customs decisions."""

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Coordination, StatusChange
from db.status import Action, Status
from schema import ids
from tests.db.test_status_table import SPEC_CUSTOMS, SPEC_ENTERPRISE, SPEC_TARGETS
from tests.support import (
    Actor,
    Api,
    Factory,
    count_rows,
    pk_of,
    register_certificate,
    sample,
    valid_input,
)

CERTIFICATES = itertools.count(1)
OUTCOMES = {
    Action.MARK_RECEIPT_FAILED: "RECEIPT_FAILED",
    Action.ACCEPT: "ACCEPTED",
    Action.RETURN: "RETURNED",
    Action.CONCLUDE: "CONCLUDED",
}


class Desk:
    """An enterprise user and a customs officer working on requests through the API."""

    def __init__(self, api: Api, factory: Factory, owner: Actor, officer: Actor) -> None:
        self.api, self.factory, self.owner, self.officer = api, factory, owner, officer

    async def ready(self, **overrides: Any) -> dict[str, Any]:
        """A submittable draft, with a certificate of its own unless told otherwise."""
        overrides.setdefault("certificateNo", f"K26350000{next(CERTIFICATES):04d}")
        values = valid_input("CUSTOMS_CERTIFICATE", **overrides)
        await register_certificate(self.factory.database, self.owner, values)
        saved = await self.api.create(self.owner, values)
        for slot, name in (
            ("ORIGIN_PROOF", "原产地证明.pdf"),
            ("IMPORT_DECLARATION", "进口报关单.pdf"),
        ):
            await self.api.attach(self.owner, saved["id"], slot, sample("pdf", 2048), name)
        fresh: dict[str, Any] = await self.api.get(self.owner, id=saved["id"])
        return fresh

    async def in_status(self, status: Status) -> dict[str, Any]:
        """A request brought to ``status`` the way users bring it there."""
        saved = await self.ready()
        steps: dict[Status, list[Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]] = {
            Status.DRAFT: [],
            Status.PENDING: [self.submit],
            Status.WITHDRAWN: [self.submit, self.withdraw],
            Status.RECEIPT_FAILED: [self.submit, self.customs("RECEIPT_FAILED")],
            Status.RETURNED: [self.submit, self.customs("RETURNED")],
            Status.ACCEPTED: [self.submit, self.customs("ACCEPTED")],
            Status.CONCLUDED: [self.submit, self.customs("ACCEPTED"), self.customs("CONCLUDED")],
        }
        for step in steps[status]:
            payload = await step(saved)
            assert payload["errors"] == [], payload
            saved = payload["coordination"]
        assert saved["status"] == status.value
        return saved

    async def submit(self, saved: dict[str, Any]) -> dict[str, Any]:
        return await self.api.submit(self.owner, saved["id"])

    async def withdraw(self, saved: dict[str, Any]) -> dict[str, Any]:
        return await self.api.withdraw(self.owner, saved["id"])

    async def delete(self, saved: dict[str, Any]) -> dict[str, Any]:
        return await self.api.delete(self.owner, saved["id"])

    async def upload(self, saved: dict[str, Any]) -> dict[str, Any]:
        return await self.api.upload(
            self.owner, saved["id"], "OTHER_1", sample("png", 512), "图.png"
        )

    async def edit(self, saved: dict[str, Any]) -> dict[str, Any]:
        values = valid_input(
            "CUSTOMS_CERTIFICATE",
            id=saved["id"],
            certificateNo=saved["certificateNo"],
            reason="补充说明",
        )
        return await self.api.save(self.owner, values)

    def customs(self, outcome: str) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def record(saved: dict[str, Any]) -> dict[str, Any]:
            return await self.api.receipt(self.officer, saved["coordinationNo"], outcome, "意见")

        return record

    async def act(self, action: Action, saved: dict[str, Any]) -> dict[str, Any]:
        enterprise = {
            Action.EDIT: self.edit,
            Action.SUBMIT: self.submit,
            Action.WITHDRAW: self.withdraw,
            Action.DELETE: self.delete,
            Action.UPLOAD: self.upload,
        }
        if action in enterprise:
            return await enterprise[action](saved)
        return await self.customs(OUTCOMES[action])(saved)


@pytest.fixture
async def desk(api: Api, factory: Factory) -> Desk:
    return Desk(api, factory, await factory.enterprise_user(), await factory.customs_user())


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
async def test_every_status_and_action_pair_follows_the_table(
    desk: Desk, status: Status, action: Action
) -> None:
    saved = await desk.in_status(status)
    allowed = action in SPEC_ENTERPRISE[status] | SPEC_CUSTOMS.get(status, set())

    payload = await desk.act(action, saved)
    after = await desk.api.get(desk.officer, id=saved["id"])

    if not allowed:
        assert [e["code"] for e in payload["errors"]] == ["INVALID_STATUS"]
        assert payload["coordination"] is None
        assert after == {**saved, "allowedActions": after["allowedActions"]}, "nothing changed"
        return
    assert payload["errors"] == []
    if action is Action.DELETE:
        assert after is None
        return
    expected = SPEC_TARGETS.get(action, status)
    assert after["status"] == expected.value
    # The list orders never-submitted drafts apart: DRAFT must mean "never submitted".
    assert (after["status"] == "DRAFT") == (after["submittedAt"] is None)
    assert after["version"] == saved["version"] + 1
    moved = 1 if action in SPEC_TARGETS else 0
    assert len(after["history"]) == len(saved["history"]) + moved
    mine = await desk.api.get(desk.owner, id=saved["id"])
    assert set(mine["allowedActions"]) == {a.value for a in SPEC_ENTERPRISE[expected]}
    assert set(after["allowedActions"]) == {a.value for a in SPEC_CUSTOMS.get(expected, set())}


async def test_withdraw_keeps_submitted_at_and_editing_keeps_withdrawn(desk: Desk) -> None:
    pending = await desk.in_status(Status.PENDING)
    withdrawn = await desk.withdraw(pending)
    assert withdrawn["message"] == "撤回成功"
    assert withdrawn["coordination"]["status"] == "WITHDRAWN"
    assert withdrawn["coordination"]["submittedAt"] == pending["submittedAt"]

    edited = await desk.edit(withdrawn["coordination"])
    assert edited["coordination"]["status"] == "WITHDRAWN"
    resubmitted = await desk.submit(edited["coordination"])
    assert resubmitted["coordination"]["status"] == "PENDING"
    assert resubmitted["coordination"]["submittedAt"] > pending["submittedAt"]
    assert [h["to"] for h in resubmitted["coordination"]["history"]] == [
        "DRAFT",
        "PENDING",
        "WITHDRAWN",
        "PENDING",
    ]


async def test_returned_and_receipt_failed_requests_are_fixed_and_resubmitted(desk: Desk) -> None:
    for status in (Status.RETURNED, Status.RECEIPT_FAILED):
        saved = await desk.in_status(status)
        edited = await desk.edit(saved)
        assert edited["coordination"]["status"] == status.value
        assert (await desk.submit(edited["coordination"]))["coordination"]["status"] == "PENDING"


async def test_delete_hides_the_request_from_everyone_and_keeps_it_for_audit(
    desk: Desk,
) -> None:
    saved = await desk.in_status(Status.DRAFT)
    payload = await desk.delete(saved)

    assert payload == {
        "coordination": None,
        "message": "删除成功",
        "errors": [],
        "deletedId": saved["id"],
    }
    for actor in (desk.owner, desk.officer):
        assert await desk.api.get(actor, id=saved["id"]) is None
        assert await desk.api.get(actor, no=saved["coordinationNo"]) is None
        node = await desk.api.data(
            "query($id: ID!) { node(id: $id) { id } }", {"id": saved["id"]}, actor=actor
        )
        assert node["node"] is None
    again = await desk.delete(saved)
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
    assert again["deletedId"] is None
    assert (await desk.customs("ACCEPTED")(saved))["errors"][0]["code"] == "NOT_FOUND"

    async with desk.factory.database.reader() as session:
        row = await session.get(Coordination, pk_of(saved["id"]))
        assert row is not None
        assert row.deleted_at is not None
        assert row.deleted_by_id == desk.owner.user_id
        history = await session.scalars(
            select(StatusChange).where(StatusChange.coordination_id == row.id)
        )
        assert len(list(history)) == 1


async def test_customs_decisions_need_a_remark_to_return_or_conclude(desk: Desk) -> None:
    pending = await desk.in_status(Status.PENDING)
    for outcome in ("RETURNED",):
        for remark in (None, "  "):
            payload = await desk.api.receipt(
                desk.officer, pending["coordinationNo"], outcome, remark
            )
            assert payload["errors"] == [
                {"field": ["input", "remark"], "code": "REQUIRED", "message": "意见不能为空"}
            ]
    accepted = await desk.api.receipt(desk.officer, pending["coordinationNo"], "ACCEPTED")
    assert accepted["errors"] == []
    assert accepted["message"] == "操作成功"
    assert accepted["coordination"]["customsRemark"] is None
    no_remark = await desk.api.receipt(desk.officer, pending["coordinationNo"], "CONCLUDED")
    assert [(e["code"], e["field"]) for e in no_remark["errors"]] == [
        ("REQUIRED", ["input", "remark"])
    ]
    too_long = await desk.api.receipt(
        desk.officer, pending["coordinationNo"], "CONCLUDED", "意" * 1001
    )
    assert [e["code"] for e in too_long["errors"]] == ["TOO_LONG"]

    concluded = await desk.api.receipt(
        desk.officer,
        pending["coordinationNo"].lower(),
        "CONCLUDED",
        "已与进口国海关协调，同意享惠。",
    )
    assert concluded["errors"] == []
    result = concluded["coordination"]
    assert result["status"] == "CONCLUDED"
    assert result["customsRemark"] == "已与进口国海关协调，同意享惠。"
    assert result["history"][-1] == {
        "from": "ACCEPTED",
        "to": "CONCLUDED",
        "at": result["history"][-1]["at"],
        "actor": desk.officer.username,
        "actorRole": "CUSTOMS",
        "remark": "已与进口国海关协调，同意享惠。",
    }
    assert (await desk.api.get(desk.owner, id=pending["id"]))["customsRemark"] == result[
        "customsRemark"
    ]


async def test_the_return_reason_is_shown_to_the_enterprise(desk: Desk) -> None:
    pending = await desk.in_status(Status.PENDING)
    await desk.api.receipt(desk.officer, pending["coordinationNo"], "RETURNED", "请补充发票")
    mine = await desk.api.get(desk.owner, id=pending["id"])
    assert mine["status"] == "RETURNED"
    assert mine["statusLabel"] == "退回"
    assert mine["customsRemark"] == "请补充发票"
    assert mine["allowedActions"] == ["EDIT", "UPLOAD", "SUBMIT", "DELETE"]


async def test_customs_receipt_of_an_unknown_number_is_not_found(desk: Desk) -> None:
    payload = await desk.api.receipt(desk.officer, "XT2026010199999999", "ACCEPTED")
    assert payload["errors"] == [
        {"field": ["input", "coordinationNo"], "code": "NOT_FOUND", "message": "记录不存在"}
    ]


async def test_an_enterprise_user_cannot_record_customs_decisions(desk: Desk) -> None:
    pending = await desk.in_status(Status.PENDING)
    for outcome in OUTCOMES.values():
        payload = await desk.api.receipt(desk.owner, pending["coordinationNo"], outcome, "x")
        assert payload["errors"] == [
            {"field": None, "code": "FORBIDDEN", "message": "无权进行此操作"}
        ]
    assert await desk.api.get(desk.owner, id=pending["id"]) == pending


async def test_a_customs_user_cannot_take_enterprise_actions(desk: Desk) -> None:
    draft = await desk.in_status(Status.DRAFT)
    pending = await desk.in_status(Status.PENDING)
    for call in (
        desk.api.submit(desk.officer, draft["id"]),
        desk.api.delete(desk.officer, draft["id"]),
        desk.api.withdraw(desk.officer, pending["id"]),
        desk.api.save(desk.officer, valid_input("CUSTOMS_CERTIFICATE", id=draft["id"])),
    ):
        payload = await call
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await desk.api.get(desk.owner, id=draft["id"]) == draft
    assert await desk.api.get(desk.owner, id=pending["id"]) == pending


async def test_another_enterprise_cannot_submit_withdraw_or_delete(
    desk: Desk, factory: Factory
) -> None:
    mallory = await factory.enterprise_user()
    draft = await desk.in_status(Status.DRAFT)
    pending = await desk.in_status(Status.PENDING)
    missing = ids.encode("CustomsCertificateRequest", 999_999)
    for call, target in (
        (desk.api.submit, draft),
        (desk.api.delete, draft),
        (desk.api.withdraw, pending),
    ):
        foreign = await call(mallory, target["id"])
        assert foreign["errors"] == [
            {"field": ["id"], "code": "NOT_FOUND", "message": "记录不存在"}
        ]
        assert await call(mallory, missing) == foreign
    assert await desk.api.get(desk.owner, id=draft["id"]) == draft
    assert await desk.api.get(desk.owner, id=pending["id"]) == pending


async def test_concurrent_submits_of_one_request_let_exactly_one_win(desk: Desk) -> None:
    saved = await desk.ready()
    payloads = await asyncio.gather(*(desk.submit(saved) for _ in range(50)))

    winners = [p for p in payloads if not p["errors"]]
    assert len(winners) == 1
    assert {p["errors"][0]["code"] for p in payloads if p["errors"]} <= {
        "INVALID_STATUS",
        "VERSION_CONFLICT",
    }
    after = await desk.api.get(desk.owner, id=saved["id"])
    assert after["status"] == "PENDING"
    assert after["version"] == saved["version"] + 1
    assert [h["to"] for h in after["history"]] == ["DRAFT", "PENDING"]


async def test_a_submit_racing_a_withdraw_and_a_decision_stays_consistent(desk: Desk) -> None:
    pending = await desk.in_status(Status.PENDING)
    results = await asyncio.gather(
        desk.withdraw(pending), desk.customs("ACCEPTED")(pending), desk.withdraw(pending)
    )
    assert sum(1 for r in results if not r["errors"]) == 1
    after = await desk.api.get(desk.officer, id=pending["id"])
    assert after["status"] in ("WITHDRAWN", "ACCEPTED")
    assert len(after["history"]) == len(pending["history"]) + 1


async def test_two_requests_racing_for_one_certificate_cannot_both_be_active(
    desk: Desk, factory: Factory
) -> None:
    first = await desk.ready(certificateNo="K2635SHARED")
    second = await desk.ready(certificateNo="K2635SHARED")
    results = await asyncio.gather(desk.submit(first), desk.submit(second))
    assert sorted(bool(r["errors"]) for r in results) == [False, True]
    loser = next(r for r in results if r["errors"])
    assert [e["code"] for e in loser["errors"]] == ["DUPLICATE_ACTIVE_REQUEST"]
    assert await count_rows(factory.database, StatusChange) == 2 + 1
