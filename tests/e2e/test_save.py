"""暂存 (saveCoordination) over HTTP: every type round-trips, every field rule refuses bad input."""

import datetime as dt
import re
from typing import Any

import pytest

from db.models import Coordination
from tests.support import TYPENAMES, TYPES, Actor, Api, Factory, count_rows, valid_input

NO_PATTERN = re.compile(r"XT(\d{8})(\d{8})")


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user(uscc="91350100M000100Y43", name="厦门海达进出口有限公司")


@pytest.mark.parametrize("kind", TYPES)
async def test_each_type_saves_and_reads_back_with_every_field(
    api: Api, alice: Actor, kind: str
) -> None:
    values = valid_input(kind)
    payload = await api.save(alice, values)

    assert payload["errors"] == []
    assert payload["message"] == "暂存成功"
    saved = payload["coordination"]
    assert saved["__typename"] == TYPENAMES[kind]
    assert saved["type"] == kind
    assert saved["status"] == "DRAFT"
    assert saved["statusLabel"] == "暂存"
    assert saved["version"] == 1
    assert saved["enterprise"] == {"uscc": "91350100M000100Y43", "name": "厦门海达进出口有限公司"}
    assert saved["certificateNo"] == values["certificateNo"]
    assert saved["agreement"]["code"] == "19"
    assert saved["agreement"]["nameZh"] == "中国—韩国自由贸易协定"
    assert saved["agreement"]["partners"] == [{"code": "KOR"}]
    for name in ("exportDeclarationNo", "importDeclarationNo", "contactName", "contactPhone"):
        assert saved[name] == values[name]
    assert saved["reason"] == values["reason"]
    assert saved["attachments"] == []
    assert saved["customsRemark"] is None
    assert saved["submittedAt"] is None
    assert saved["allowedActions"] == ["EDIT", "UPLOAD", "SUBMIT", "DELETE"]
    [change] = saved["history"]
    assert (change["from"], change["to"]) == (None, "DRAFT")
    assert (change["actor"], change["actorRole"]) == (alice.username, "ENTERPRISE")
    created = dt.datetime.fromisoformat(saved["createdAt"])
    assert created.utcoffset() == dt.timedelta(0)
    assert saved["updatedAt"] == saved["createdAt"]

    match = NO_PATTERN.fullmatch(saved["coordinationNo"])
    assert match is not None
    china_today = created.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
    assert match.group(1) == china_today

    if kind == "CCPIT_CERTIFICATE":
        assert "importCountry" not in saved
    else:
        assert saved["importCountry"]["code"] == "KOR"
        assert saved["importCountry"]["nameZh"] == "韩国"
        assert saved["importPort"]["code"] == "KRPUS"
    if kind == "CUSTOMS_CERTIFICATE":
        assert saved["importPort"] == {
            "code": "KRPUS",
            "name": "Busan",
            "countryCode": "KOR",
            "isSeaport": True,
            "isAirport": True,
        }
        assert saved["importCountry"]["nameEn"] == "Korea, Republic of"
    if kind == "APPROVED_EXPORTER_DECLARATION":
        assert saved["approvedExporterNo"] == "AE3501000012"
    if kind == "RULING_DECLARATION":
        assert saved["rulingNo"] == "XM2026-0031"

    assert await api.get(alice, id=saved["id"]) == saved
    assert await api.get(alice, no=saved["coordinationNo"]) == saved


async def test_shared_fields_can_be_selected_once_through_the_interface(
    api: Api, alice: Actor
) -> None:
    saved = await api.create(alice, valid_input("RULING_DECLARATION"))
    data = await api.data(
        """query($id: ID!) { node(id: $id) { __typename id ... on Coordination {
             coordinationNo status } ... on RulingDeclarationRequest { rulingNo } } }""",
        {"id": saved["id"]},
        actor=alice,
    )
    assert data["node"] == {
        "__typename": "RulingDeclarationRequest",
        "id": saved["id"],
        "coordinationNo": saved["coordinationNo"],
        "status": "DRAFT",
        "rulingNo": "XM2026-0031",
    }


async def test_coordination_numbers_count_up_within_the_day(api: Api, alice: Actor) -> None:
    numbers = [
        (await api.create(alice, valid_input("CCPIT_CERTIFICATE")))["coordinationNo"]
        for _ in range(3)
    ]
    sequences = [int(NO_PATTERN.fullmatch(no).group(2)) for no in numbers]  # type: ignore[union-attr]
    assert sequences == [sequences[0], sequences[0] + 1, sequences[0] + 2]
    assert len(set(numbers)) == 3


async def test_input_is_normalised(api: Api, alice: Actor) -> None:
    saved = await api.create(
        alice,
        valid_input(
            "APPROVED_EXPORTER_DECLARATION",
            certificateNo="  k2635-0000/123 ",
            approvedExporterNo=" ae3501 ",
            exportDeclarationNo="35012026e000123456",
            importCountryCode="kor",
            importPortCode="krpus",
            contactName="  林晓 ",
        ),
    )
    assert saved["certificateNo"] == "K2635-0000/123"
    assert saved["approvedExporterNo"] == "AE3501"
    assert saved["exportDeclarationNo"] == "35012026E000123456"
    assert saved["importCountry"]["code"] == "KOR"
    assert saved["importPort"]["code"] == "KRPUS"
    assert saved["contactName"] == "林晓"


async def test_update_replaces_the_form_and_bumps_the_version(api: Api, alice: Actor) -> None:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    changed = valid_input(
        "CUSTOMS_CERTIFICATE",
        id=saved["id"],
        expectedVersion=1,
        agreementCode="22",
        importCountryCode="JPN",
        importPortCode="JPYOK",
        reason="更新后的申请事由",
    )
    del changed["type"]  # may be omitted on update
    payload = await api.save(alice, changed)

    assert payload["errors"] == []
    updated = payload["coordination"]
    assert updated["id"] == saved["id"]
    assert updated["coordinationNo"] == saved["coordinationNo"]
    assert updated["version"] == 2
    assert updated["agreement"]["code"] == "22"
    assert updated["importCountry"]["code"] == "JPN"
    assert updated["importPort"]["code"] == "JPYOK"
    assert updated["reason"] == "更新后的申请事由"
    assert updated["createdAt"] == saved["createdAt"]
    assert updated["updatedAt"] >= saved["updatedAt"]
    assert len(updated["history"]) == 1, "an edit is not a status change"


async def test_update_without_expected_version_is_accepted(api: Api, alice: Actor) -> None:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    payload = await api.save(alice, valid_input("CCPIT_CERTIFICATE", id=saved["id"]))
    assert payload["errors"] == []
    assert payload["coordination"]["version"] == 2


async def test_stale_expected_version_is_a_conflict_and_changes_nothing(
    api: Api, alice: Actor
) -> None:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    await api.create(alice, valid_input("CCPIT_CERTIFICATE", id=saved["id"], expectedVersion=1))

    stale = await api.save(
        alice,
        valid_input("CCPIT_CERTIFICATE", id=saved["id"], expectedVersion=1, reason="覆盖"),
    )

    assert stale["coordination"] is None
    assert stale["message"] == "暂存失败"
    assert [(e["code"], e["field"]) for e in stale["errors"]] == [
        ("VERSION_CONFLICT", ["input", "expectedVersion"])
    ]
    current = await api.get(alice, id=saved["id"])
    assert current["version"] == 2
    assert current["reason"] == saved["reason"]


async def test_type_cannot_change_on_update(api: Api, alice: Actor) -> None:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    payload = await api.save(alice, valid_input("RULING_DECLARATION", id=saved["id"]))
    assert ("INVALID_FORMAT", ["input", "type"]) in [
        (e["code"], e["field"]) for e in payload["errors"]
    ]
    assert (await api.get(alice, id=saved["id"])) == saved


async def test_messages_are_english_with_accept_language_en(api: Api, alice: Actor) -> None:
    payload = await api.save(
        alice, valid_input("CCPIT_CERTIFICATE", contactPhone=None), language="en-US,en;q=0.9"
    )
    assert payload["message"] == "Saving failed"
    assert payload["errors"] == [
        {
            "field": ["input", "contactPhone"],
            "code": "REQUIRED",
            "message": "Contact phone is required",
        }
    ]
    ok = await api.save(alice, valid_input("CCPIT_CERTIFICATE"), language="en")
    assert ok["message"] == "Saved"
    assert ok["coordination"]["statusLabel"] == "Draft"


async def test_chinese_is_the_default_and_wins_when_preferred(api: Api, alice: Actor) -> None:
    for header in (None, "zh-CN,zh;q=0.9,en;q=0.8", "fr-FR", "en;q=0.5,zh;q=0.9"):
        payload = await api.save(
            alice, valid_input("CCPIT_CERTIFICATE", contactPhone=""), language=header
        )
        assert payload["errors"][0]["message"] == "联系电话不能为空", header


Case = tuple[str, dict[str, Any], str, str]

FIELD_CASES: list[Case] = [
    # (type, overrides, expected code, field)
    ("CUSTOMS_CERTIFICATE", {"certificateNo": None}, "REQUIRED", "certificateNo"),
    ("CUSTOMS_CERTIFICATE", {"certificateNo": "   "}, "REQUIRED", "certificateNo"),
    ("CUSTOMS_CERTIFICATE", {"certificateNo": "K26#001"}, "INVALID_FORMAT", "certificateNo"),
    ("CUSTOMS_CERTIFICATE", {"certificateNo": "K" * 41}, "INVALID_FORMAT", "certificateNo"),
    ("CUSTOMS_CERTIFICATE", {"certificateNo": "证书123"}, "INVALID_FORMAT", "certificateNo"),
    ("CUSTOMS_CERTIFICATE", {"agreementCode": None}, "REQUIRED", "agreementCode"),
    ("CUSTOMS_CERTIFICATE", {"agreementCode": "99"}, "UNKNOWN_AGREEMENT", "agreementCode"),
    ("CUSTOMS_CERTIFICATE", {"agreementCode": "03"}, "UNKNOWN_AGREEMENT", "agreementCode"),
    ("CUSTOMS_CERTIFICATE", {"exportDeclarationNo": None}, "REQUIRED", "exportDeclarationNo"),
    (
        "CUSTOMS_CERTIFICATE",
        {"exportDeclarationNo": "350120261000123456"},  # import flag
        "INVALID_FORMAT",
        "exportDeclarationNo",
    ),
    (
        "CUSTOMS_CERTIFICATE",
        {"exportDeclarationNo": "35012026I000123456"},
        "INVALID_FORMAT",
        "exportDeclarationNo",
    ),
    (
        "CUSTOMS_CERTIFICATE",
        {"exportDeclarationNo": "35012026000012345"},  # 17 characters
        "INVALID_FORMAT",
        "exportDeclarationNo",
    ),
    (
        "CUSTOMS_CERTIFICATE",
        {"exportDeclarationNo": "3501202600001234567"},  # 19 characters
        "INVALID_FORMAT",
        "exportDeclarationNo",
    ),
    (
        "CUSTOMS_CERTIFICATE",
        {"exportDeclarationNo": "3501A0260000123456"},
        "INVALID_FORMAT",
        "exportDeclarationNo",
    ),
    ("CUSTOMS_CERTIFICATE", {"importDeclarationNo": ""}, "REQUIRED", "importDeclarationNo"),
    (
        "CUSTOMS_CERTIFICATE",
        {"importDeclarationNo": "X" * 65},
        "INVALID_FORMAT",
        "importDeclarationNo",
    ),
    (
        "CUSTOMS_CERTIFICATE",
        {"importDeclarationNo": "KR\n2026"},
        "INVALID_FORMAT",
        "importDeclarationNo",
    ),
    ("CUSTOMS_CERTIFICATE", {"contactName": None}, "REQUIRED", "contactName"),
    ("CUSTOMS_CERTIFICATE", {"contactName": "林" * 51}, "TOO_LONG", "contactName"),
    ("CUSTOMS_CERTIFICATE", {"contactPhone": None}, "REQUIRED", "contactPhone"),
    ("CUSTOMS_CERTIFICATE", {"contactPhone": "12345"}, "INVALID_FORMAT", "contactPhone"),
    ("CUSTOMS_CERTIFICATE", {"contactPhone": "1381234567"}, "INVALID_FORMAT", "contactPhone"),
    ("CUSTOMS_CERTIFICATE", {"contactPhone": "23812345678"}, "INVALID_FORMAT", "contactPhone"),
    ("CUSTOMS_CERTIFICATE", {"contactPhone": "phone me"}, "INVALID_FORMAT", "contactPhone"),
    ("CUSTOMS_CERTIFICATE", {"reason": "\t "}, "REQUIRED", "reason"),
    ("CUSTOMS_CERTIFICATE", {"reason": "理" * 1001}, "TOO_LONG", "reason"),
    ("CUSTOMS_CERTIFICATE", {"importCountryCode": None}, "REQUIRED", "importCountryCode"),
    ("CUSTOMS_CERTIFICATE", {"importCountryCode": "XYZ"}, "UNKNOWN_COUNTRY", "importCountryCode"),
    (
        "CUSTOMS_CERTIFICATE",
        {"importCountryCode": "JPN", "importPortCode": "JPTYO"},
        "COUNTRY_NOT_IN_AGREEMENT",
        "importCountryCode",
    ),
    ("CUSTOMS_CERTIFICATE", {"importPortCode": None}, "REQUIRED", "importPortCode"),
    ("CUSTOMS_CERTIFICATE", {"importPortCode": "KRXXX"}, "UNKNOWN_PORT", "importPortCode"),
    ("CUSTOMS_CERTIFICATE", {"importPortCode": "JPTYO"}, "UNKNOWN_PORT", "importPortCode"),
    (
        "APPROVED_EXPORTER_DECLARATION",
        {"approvedExporterNo": None},
        "REQUIRED",
        "approvedExporterNo",
    ),
    (
        "APPROVED_EXPORTER_DECLARATION",
        {"approvedExporterNo": "AE 01"},
        "INVALID_FORMAT",
        "approvedExporterNo",
    ),
    ("APPROVED_EXPORTER_DECLARATION", {"rulingNo": "R1"}, "INVALID_FORMAT", "rulingNo"),
    ("RULING_DECLARATION", {"rulingNo": ""}, "REQUIRED", "rulingNo"),
    ("RULING_DECLARATION", {"rulingNo": "R" * 41}, "INVALID_FORMAT", "rulingNo"),
    (
        "RULING_DECLARATION",
        {"approvedExporterNo": "AE1"},
        "INVALID_FORMAT",
        "approvedExporterNo",
    ),
    ("CCPIT_CERTIFICATE", {"importCountryCode": "KOR"}, "INVALID_FORMAT", "importCountryCode"),
    ("CCPIT_CERTIFICATE", {"importPortCode": "KRPUS"}, "INVALID_FORMAT", "importPortCode"),
    ("CCPIT_CERTIFICATE", {"rulingNo": "R1"}, "INVALID_FORMAT", "rulingNo"),
    ("CCPIT_CERTIFICATE", {"type": None}, "REQUIRED", "type"),
]


@pytest.mark.parametrize(("kind", "overrides", "code", "field"), FIELD_CASES)
async def test_a_field_rule_refuses_bad_input_and_stores_nothing(
    api: Api,
    factory: Factory,
    alice: Actor,
    kind: str,
    overrides: dict[str, Any],
    code: str,
    field: str,
) -> None:
    payload = await api.save(alice, valid_input(kind, **overrides))

    assert payload["coordination"] is None
    assert payload["message"] == "暂存失败"
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, ["input", field])]
    assert payload["errors"][0]["message"]
    assert await count_rows(factory.database, Coordination) == 0


@pytest.mark.parametrize(("kind", "overrides", "code", "field"), FIELD_CASES)
async def test_a_field_rule_refuses_bad_input_on_update_and_changes_nothing(
    api: Api, alice: Actor, kind: str, overrides: dict[str, Any], code: str, field: str
) -> None:
    saved = await api.create(alice, valid_input(kind))
    values = valid_input(kind, id=saved["id"], **overrides)
    payload = await api.save(alice, values)

    if field == "type":  # on update the type may be omitted
        assert payload["errors"] == []
        return
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, ["input", field])]
    assert await api.get(alice, id=saved["id"]) == saved


# (A refused character's message names the character to delete instead: test_text_fields.)
FORMAT_CASES = [
    case
    for case in FIELD_CASES
    if case[2] == "INVALID_FORMAT" and all("\n" not in str(value) for value in case[1].values())
]


@pytest.mark.parametrize(("kind", "overrides", "code", "field"), FORMAT_CASES)
async def test_an_invalid_format_message_states_the_expected_format(
    api: Api, alice: Actor, kind: str, overrides: dict[str, Any], code: str, field: str
) -> None:
    chinese = (await api.save(alice, valid_input(kind, **overrides)))["errors"][0]["message"]
    english = (await api.save(alice, valid_input(kind, **overrides), language="en"))["errors"]
    assert "应为" in chinese, chinese
    assert "格式不正确" not in chinese, chinese
    assert " must be " in english[0]["message"], english


async def test_the_export_declaration_message_says_what_the_number_is(
    api: Api, alice: Actor
) -> None:
    values = valid_input("CCPIT_CERTIFICATE", exportDeclarationNo="35012026I000123456")
    [zh] = (await api.save(alice, values))["errors"]
    [en] = (await api.save(alice, values, language="en"))["errors"]
    assert zh["message"] == (
        "出口报关单号应为18位：4位关区代码、4位年份、出口标志0或E、9位顺序号（如350120260000123456）"
    )
    assert en["message"] == (
        "Export declaration number must be 18 characters: a 4-digit customs code, a 4-digit "
        "year, the export flag 0 or E and a 9-digit sequence (e.g. 350120260000123456)"
    )


async def test_a_field_of_another_type_and_a_changed_type_say_what_is_expected(
    api: Api, alice: Actor
) -> None:
    [foreign] = (await api.save(alice, valid_input("CCPIT_CERTIFICATE", rulingNo="R1")))["errors"]
    assert foreign["message"] == "行政裁定/预裁定编号应为空（该协调单类型没有此项）"
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    changed = await api.save(
        alice, valid_input("CCPIT_CERTIFICATE", id=saved["id"], type="RULING_DECLARATION")
    )
    assert changed["errors"][0] == {
        "field": ["input", "type"],
        "code": "INVALID_FORMAT",
        "message": "协调单类型应为已保存的类型（类型保存后不能更改，可不填）",
    }


async def test_every_problem_is_reported_at_once(api: Api, alice: Actor) -> None:
    payload = await api.save(alice, {"type": "CUSTOMS_CERTIFICATE", "contactPhone": "x"})
    fields = {(e["field"][1], e["code"]) for e in payload["errors"]}
    assert fields == {
        ("certificateNo", "REQUIRED"),
        ("agreementCode", "REQUIRED"),
        ("exportDeclarationNo", "REQUIRED"),
        ("importDeclarationNo", "REQUIRED"),
        ("contactName", "REQUIRED"),
        ("contactPhone", "INVALID_FORMAT"),
        ("reason", "REQUIRED"),
        ("importCountryCode", "REQUIRED"),
        ("importPortCode", "REQUIRED"),
    }


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "19912345678",
        "010-12345678",
        "0592-5123456",
        "059212345678",
        "021-62345678-8021",
        "021-62345678转123",
        "95588",
        "95105888",
        "400-820-8820",
        "4008208820",
        "800-810-8888",
        "+82 51 123 4567",
        "+8613812345678",
        "+1-202-555-0143",
    ],
)
async def test_every_phone_form_of_the_spec_is_accepted(api: Api, alice: Actor, phone: str) -> None:
    payload = await api.save(alice, valid_input("CCPIT_CERTIFICATE", contactPhone=phone))
    assert payload["errors"] == []
    assert payload["coordination"]["contactPhone"] == phone


@pytest.mark.parametrize(
    ("agreement", "country", "port"),
    [("22", "VNM", "VNSGN"), ("02", "VNM", "VNSGN"), ("18", "AUS", "AUSYD")],
)
async def test_a_partner_of_the_agreement_is_accepted(
    api: Api, alice: Actor, agreement: str, country: str, port: str
) -> None:
    payload = await api.save(
        alice,
        valid_input(
            "CUSTOMS_CERTIFICATE",
            agreementCode=agreement,
            importCountryCode=country,
            importPortCode=port,
        ),
    )
    assert payload["errors"] == []


async def test_limits_are_inclusive(api: Api, alice: Actor) -> None:
    payload = await api.save(
        alice,
        valid_input(
            "RULING_DECLARATION",
            certificateNo="C" * 40,
            rulingNo="R" * 40,
            importDeclarationNo="X" * 64,
            contactName="林" * 50,
            reason="理" * 1000,
        ),
    )
    assert payload["errors"] == []


async def test_blank_fields_of_other_types_count_as_absent(api: Api, alice: Actor) -> None:
    payload = await api.save(
        alice,
        valid_input("CCPIT_CERTIFICATE", importCountryCode="", importPortCode="  ", rulingNo=""),
    )
    assert payload["errors"] == []
