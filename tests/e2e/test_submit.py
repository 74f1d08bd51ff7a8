"""申报 (submitCoordination): the checks of SPEC §6 in their order, with the seed's messages."""

import datetime as dt
from typing import Any

import pytest

from db.models import AttachmentSlot, CertificateKind
from tests.support import (
    TYPES,
    Actor,
    Api,
    Factory,
    attach,
    export_declaration_no,
    register_certificate,
    valid_input,
)


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def ready(
    api: Api, factory: Factory, actor: Actor, kind: str = "CUSTOMS_CERTIFICATE", **overrides: Any
) -> dict[str, Any]:
    """A saved request whose certificate is registered and whose required files are attached."""
    values = valid_input(kind, **overrides)
    await register_certificate(factory.database, actor, values)
    saved = await api.create(actor, values)
    await attach(factory.database, saved["id"])
    return saved


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


@pytest.mark.parametrize("kind", TYPES)
async def test_submit_moves_a_ready_request_to_pending(
    api: Api, factory: Factory, alice: Actor, kind: str
) -> None:
    saved = await ready(api, factory, alice, kind)
    before = dt.datetime.now(dt.UTC)
    payload = await api.submit(alice, saved["id"], saved["version"])

    assert payload["errors"] == []
    assert payload["message"] == "申报成功"
    submitted = payload["coordination"]
    assert submitted["status"] == "PENDING"
    assert submitted["statusLabel"] == "待办"
    assert submitted["version"] == saved["version"] + 1
    assert submitted["allowedActions"] == ["WITHDRAW"]
    submitted_at = dt.datetime.fromisoformat(submitted["submittedAt"])
    assert before - dt.timedelta(seconds=5) < submitted_at <= dt.datetime.now(dt.UTC)
    assert [(h["from"], h["to"], h["actor"], h["actorRole"]) for h in submitted["history"]] == [
        (None, "DRAFT", alice.username, "ENTERPRISE"),
        ("DRAFT", "PENDING", alice.username, "ENTERPRISE"),
    ]
    assert await api.get(alice, id=saved["id"]) == submitted


async def test_submitting_twice_is_invalid_status(api: Api, factory: Factory, alice: Actor) -> None:
    saved = await ready(api, factory, alice)
    await api.submit(alice, saved["id"])
    again = await api.submit(alice, saved["id"])
    assert again["message"] == "申报失败"
    assert again["errors"] == [
        {"field": None, "code": "INVALID_STATUS", "message": "当前状态不允许此操作"}
    ]


async def test_missing_required_attachments_are_each_named(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE")
    await register_certificate(factory.database, alice, values)
    saved = await api.create(alice, values)

    payload = await api.submit(alice, saved["id"])
    assert payload["errors"] == [
        {
            "field": ["attachments", "ORIGIN_PROOF"],
            "code": "ATTACHMENT_REQUIRED",
            "message": "请上传原产地证明附件",
        },
        {
            "field": ["attachments", "IMPORT_DECLARATION"],
            "code": "ATTACHMENT_REQUIRED",
            "message": "请上传进口报关单附件",
        },
    ]
    await attach(factory.database, saved["id"], AttachmentSlot.ORIGIN_PROOF, AttachmentSlot.OTHER_1)
    payload = await api.submit(alice, saved["id"], language="en")
    assert payload["errors"] == [
        {
            "field": ["attachments", "IMPORT_DECLARATION"],
            "code": "ATTACHMENT_REQUIRED",
            "message": "Please upload the import declaration attachment",
        }
    ]
    assert (await api.get(alice, id=saved["id"]))["status"] == "DRAFT"


async def test_an_unknown_certificate_and_another_enterprises_look_the_same(
    api: Api, factory: Factory, alice: Actor
) -> None:
    other = await factory.enterprise_user()
    unknown = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE", certificateNo="K1"))
    foreign_values = valid_input("CUSTOMS_CERTIFICATE", certificateNo="K2")
    await register_certificate(factory.database, other, foreign_values)
    foreign = await api.create(alice, foreign_values)
    for saved in (unknown, foreign):
        await attach(factory.database, saved["id"])

    refused = [await api.submit(alice, saved["id"]) for saved in (unknown, foreign)]

    assert refused[0] == refused[1]
    assert refused[0]["errors"] == [
        {
            "field": ["certificateNo"],
            "code": "CERTIFICATE_ENTERPRISE_MISMATCH",
            "message": "企业填写证书有误",
        }
    ]


async def test_a_certificate_of_another_kind_is_refused(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE")
    await register_certificate(factory.database, alice, values, kind=CertificateKind.CCPIT_CO)
    saved = await api.create(alice, values)
    await attach(factory.database, saved["id"])

    payload = await api.submit(alice, saved["id"])
    assert payload["errors"] == [
        {
            "field": ["certificateNo"],
            "code": "CERTIFICATE_TYPE_MISMATCH",
            "message": "证书类型与协调单类型不一致",
        }
    ]


async def test_an_export_declaration_not_linked_to_the_certificate_is_refused(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE")
    await register_certificate(
        factory.database, alice, values, declarations=(export_declaration_no(999),)
    )
    saved = await api.create(alice, values)
    await attach(factory.database, saved["id"])

    payload = await api.submit(alice, saved["id"])
    assert payload["errors"] == [
        {
            "field": ["exportDeclarationNo"],
            "code": "CERTIFICATE_NOT_LINKED",
            "message": "提交失败：出口报关单号未与证书号关联，请进入证书申请系统进行关联操作",
        }
    ]


async def test_a_second_active_request_for_the_same_certificate_and_declaration_is_refused(
    api: Api, factory: Factory, alice: Actor
) -> None:
    first = await ready(api, factory, alice)
    second = await ready(api, factory, alice)
    assert (await api.submit(alice, first["id"]))["errors"] == []

    payload = await api.submit(alice, second["id"])
    assert payload["errors"] == [
        {
            "field": None,
            "code": "DUPLICATE_ACTIVE_REQUEST",
            "message": "该证书和出口报关单已有正在办理的协调申请",
        }
    ]
    assert (await api.withdraw(alice, first["id"]))["errors"] == []
    assert (await api.submit(alice, second["id"]))["errors"] == [], "free again once withdrawn"


async def test_a_registry_change_since_saving_is_caught_by_the_field_checks(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE", agreementCode="19")
    saved = await api.create(alice, values)  # not yet in the registry: agreement from input
    await register_certificate(factory.database, alice, values, agreement_code="22")
    await attach(factory.database, saved["id"])

    payload = await api.submit(alice, saved["id"])
    assert codes(payload) == [("AGREEMENT_MISMATCH", ["agreementCode"])]


async def test_checks_run_in_the_spec_order(api: Api, factory: Factory, alice: Actor) -> None:
    """Missing attachments come before the registry checks; status before everything."""
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE", certificateNo="K404"))
    assert [c for c, _ in codes(await api.submit(alice, saved["id"]))] == [
        "ATTACHMENT_REQUIRED",
        "ATTACHMENT_REQUIRED",
    ]
    await attach(factory.database, saved["id"])
    assert codes(await api.submit(alice, saved["id"])) == [
        ("CERTIFICATE_ENTERPRISE_MISMATCH", ["certificateNo"])
    ]


async def test_a_stale_version_is_a_conflict(api: Api, factory: Factory, alice: Actor) -> None:
    saved = await ready(api, factory, alice)
    payload = await api.submit(alice, saved["id"], saved["version"] - 1)
    assert codes(payload) == [("VERSION_CONFLICT", ["expectedVersion"])]
    assert (await api.get(alice, id=saved["id"]))["status"] == "DRAFT"


async def test_every_refusal_changes_nothing(api: Api, factory: Factory, alice: Actor) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE")
    await register_certificate(factory.database, alice, values, kind=CertificateKind.CCPIT_CO)
    saved = await api.create(alice, values)
    await attach(factory.database, saved["id"])
    before = await api.get(alice, id=saved["id"])

    assert codes(await api.submit(alice, saved["id"]))
    assert await api.get(alice, id=saved["id"]) == before
