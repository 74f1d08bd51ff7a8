"""Free text over HTTP: control, direction and other invisible characters are refused, a value that
shows nothing is missing, and what is stored is in Unicode NFC."""

from typing import Any

import pytest

from db.models import Coordination, StatusChange
from db.status import Status
from tests.support import (
    Actor,
    Api,
    Factory,
    count_rows,
    store_request,
    valid_input,
)

REFUSED = {
    # C0 and C1 controls (tab and line breaks only in multi-line text)
    "bel": "\x07",
    "esc": "\x1b",
    "del": "\x7f",
    "c1-nel": "\x85",
    "c1-csi": "\x9b",
    # bidirectional overrides, embeddings, isolates and marks
    "lre": "\u202a",
    "rlo": "\u202e",
    "lri": "\u2066",
    "pdi": "\u2069",
    "lrm": "\u200e",
    "rlm": "\u200f",
    "alm": "\u061c",
    # line and paragraph separators
    "line-separator": "\u2028",
    "paragraph-separator": "\u2029",
    # byte order mark
    "bom": "\ufeff",
    # noncharacters
    "fdd0": "\ufdd0",
    "fffe": "\ufffe",
    "ffff": "\uffff",
    "1ffff": "\U0001ffff",
    "10ffff": "\U0010ffff",
}
SINGLE_LINE_ONLY = {"tab": "\t", "newline": "\n", "carriage-return": "\r"}

BLANK = {
    "zero-width-spaces": "\u200b\u200b\u200b",
    "zero-width-joiners": "\u200c\u200d",
    "word-joiner": "\u2060",
    "bom": "\ufeff",
    "ideographic-space": "\u3000 \u200b",
    "no-break-space": "\u00a0",
    "hangul-filler": "\u3164",
    "soft-hyphen": "\u00ad",
    "only-a-control": "\x07",
    "only-an-override": "\u202e",
}


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


def character_name(character: str) -> str:
    return f"U+{ord(character):04X}"


async def refused_save(
    api: Api, factory: Factory, alice: Actor, overrides: dict[str, Any], **kwargs: Any
) -> list[dict[str, Any]]:
    payload = await api.save(alice, valid_input("CUSTOMS_CERTIFICATE", **overrides), **kwargs)
    assert payload["coordination"] is None
    assert await count_rows(factory.database, Coordination) == 0
    assert await count_rows(factory.database, StatusChange) == 0
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


@pytest.mark.parametrize("character", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("field", ["contactName", "reason", "importDeclarationNo"])
async def test_a_refused_character_in_a_text_field_is_invalid_and_stores_nothing(
    api: Api, factory: Factory, alice: Actor, field: str, character: str
) -> None:
    errors = await refused_save(api, factory, alice, {field: f"林{character}晓"})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_FORMAT", ["input", field])]


@pytest.mark.parametrize("character", SINGLE_LINE_ONLY.values(), ids=SINGLE_LINE_ONLY.keys())
@pytest.mark.parametrize("field", ["contactName", "importDeclarationNo"])
async def test_tabs_and_line_breaks_are_refused_in_single_line_fields(
    api: Api, factory: Factory, alice: Actor, field: str, character: str
) -> None:
    errors = await refused_save(api, factory, alice, {field: f"林{character}晓"})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_FORMAT", ["input", field])]


async def test_the_message_names_the_refused_character_in_chinese_and_english(
    api: Api, factory: Factory, alice: Actor
) -> None:
    chinese = await refused_save(api, factory, alice, {"contactName": "林\u202e晓"})
    english = await refused_save(api, factory, alice, {"contactName": "林\x1b晓"}, language="en")
    assert chinese == [
        {
            "field": ["input", "contactName"],
            "code": "INVALID_FORMAT",
            "message": "联系人含有不允许的字符（U+202E），请删除后重试",
        }
    ]
    assert english == [
        {
            "field": ["input", "contactName"],
            "code": "INVALID_FORMAT",
            "message": "Contact name contains a character that is not allowed (U+001B); "
            "remove it and try again",
        }
    ]


@pytest.mark.parametrize("value", BLANK.values(), ids=BLANK.keys())
@pytest.mark.parametrize("field", ["contactName", "reason", "certificateNo", "agreementCode"])
async def test_a_value_that_shows_nothing_is_required(
    api: Api, factory: Factory, alice: Actor, field: str, value: str
) -> None:
    errors = await refused_save(api, factory, alice, {field: value})
    assert [(e["code"], e["field"]) for e in errors] == [("REQUIRED", ["input", field])]


async def test_blank_fields_of_other_types_count_as_absent_even_when_invisible(
    api: Api, alice: Actor
) -> None:
    values = valid_input(
        "CCPIT_CERTIFICATE", importCountryCode="\u200b", importPortCode="\ufeff", rulingNo="\u3000"
    )
    payload = await api.save(alice, values)
    assert payload["errors"] == []


async def test_reason_may_span_lines_and_keeps_its_tabs_and_line_breaks(
    api: Api, alice: Actor
) -> None:
    reason = "进口国海关拒绝给予协定税率：\r\n1.\t原产地证书编号有误；\r2.\t已更正。"
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE", reason=reason))
    assert saved["reason"] == "进口国海关拒绝给予协定税率：\n1.\t原产地证书编号有误；\n2.\t已更正。"


async def test_text_is_stored_in_nfc_and_trimmed_of_invisible_ends(api: Api, alice: Actor) -> None:
    saved = await api.create(
        alice,
        valid_input(
            "CUSTOMS_CERTIFICATE",
            contactName="\u200b Jose\u0301 \u3000",
            reason="e\u0301" * 1000,  # 2,000 code points, 1,000 characters once composed
            importDeclarationNo="\u200bKR-2026-0012345\u200b",
        ),
    )
    assert saved["contactName"] == "José"
    assert saved["reason"] == "é" * 1000
    assert saved["importDeclarationNo"] == "KR-2026-0012345"


@pytest.mark.parametrize(
    "name",
    [
        "Ali\u200dce",  # a joiner inside a word
        "👩\u200d💻 林晓",  # an emoji sequence
        "می\u200cخواهم",  # a non-joiner, as Persian writes it
        "\ue000林",  # a private-use character (rare characters of names)
        "𠀀林",  # beyond the Basic Multilingual Plane
    ],
)
async def test_visible_text_with_joiners_and_rare_characters_is_kept(
    api: Api, alice: Actor, name: str
) -> None:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE", contactName=name))
    assert saved["contactName"] == name


async def test_a_customs_remark_follows_the_same_rule(
    api: Api, factory: Factory, alice: Actor
) -> None:
    officer = await factory.customs_user()
    pending = await store_request(factory.database, alice, status=Status.PENDING)

    overridden = await api.receipt(officer, pending.coordination_no, "RETURNED", "退回\u202e原因")
    blank = await api.receipt(officer, pending.coordination_no, "RETURNED", "\u200b\ufeff")
    assert [(e["code"], e["field"]) for e in overridden["errors"]] == [
        ("INVALID_FORMAT", ["input", "remark"])
    ]
    assert [(e["code"], e["field"]) for e in blank["errors"]] == [("REQUIRED", ["input", "remark"])]
    assert await count_rows(factory.database, StatusChange) == 2, "nothing recorded"

    returned = await api.receipt(
        officer, pending.coordination_no, "RETURNED", "证书编号有误：\r\n\t请更正。Jose\u0301"
    )
    assert returned["errors"] == []
    assert returned["coordination"]["customsRemark"] == "证书编号有误：\n\t请更正。José"
