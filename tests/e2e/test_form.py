"""The form from the server (coordinationForm) and live red hints (validateCoordination)."""

import asyncio
import json
import re
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from config.settings import Settings
from db.models import Coordination, CoordinationCounter, StatusChange
from db.status import Status
from schema.messages import FORMAT_HINTS
from tests.e2e.test_observability import scrape, value
from tests.support import (
    SAVE,
    TYPES,
    Actor,
    Api,
    Factory,
    count_rows,
    update_coordination,
    valid_input,
)

FORM = """
query Form($type: CoordinationType!) {
  coordinationForm(type: $type) {
    type
    fields { name label required maxLength pattern hint dependsOn }
    attachmentSlots { slot label requiredToSubmit maxBytes allowedContentTypes maxPdfBytes }
  }
}
"""

VALIDATE = """
query Validate($input: SaveCoordinationInput!) {
  validateCoordination(input: $input) { field code message }
}
"""

COMMON = ["certificateNo", "agreementCode", "exportDeclarationNo", "importDeclarationNo"]
CONTACT = ["contactName", "contactPhone", "reason"]
PLACE = ["importCountryCode", "importPortCode"]
FIELDS = {
    "CUSTOMS_CERTIFICATE": [*COMMON, *PLACE, *CONTACT],
    "APPROVED_EXPORTER_DECLARATION": [
        "certificateNo",
        "approvedExporterNo",
        *COMMON[1:],
        *PLACE,
        *CONTACT,
    ],
    "RULING_DECLARATION": ["certificateNo", "rulingNo", *COMMON[1:], *PLACE, *CONTACT],
    "CCPIT_CERTIFICATE": [*COMMON, *CONTACT],
}


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def form(api: Api, actor: Actor, kind: str, language: str | None = None) -> Any:
    data = await api.data(FORM, {"type": kind}, actor=actor, language=language)
    return data["coordinationForm"]


async def validate(api: Api, actor: Actor, values: dict[str, Any], **kwargs: Any) -> Any:
    return (await api.data(VALIDATE, {"input": values}, actor=actor, **kwargs))[
        "validateCoordination"
    ]


@pytest.mark.parametrize("kind", TYPES)
async def test_the_form_lists_each_types_fields_in_order_all_required(
    api: Api, alice: Actor, kind: str
) -> None:
    published = await form(api, alice, kind)
    assert published["type"] == kind
    assert [field["name"] for field in published["fields"]] == FIELDS[kind]
    assert all(field["required"] for field in published["fields"])


async def test_a_field_publishes_its_rule_in_chinese_and_english(api: Api, alice: Actor) -> None:
    zh = {f["name"]: f for f in (await form(api, alice, "CUSTOMS_CERTIFICATE"))["fields"]}
    en = {f["name"]: f for f in (await form(api, alice, "CUSTOMS_CERTIFICATE", "en"))["fields"]}

    assert zh["exportDeclarationNo"] == {
        "name": "exportDeclarationNo",
        "label": "出口报关单号",
        "required": True,
        "maxLength": 18,
        "pattern": "^[0-9]{4}[0-9]{4}[0E][0-9]{9}$",
        "hint": "18位：4位关区代码、4位年份、出口标志0或E、9位顺序号（如350120260000123456）",
        "dependsOn": [],
    }
    assert en["exportDeclarationNo"]["label"] == "Export declaration number"
    assert en["exportDeclarationNo"]["hint"].startswith("18 characters: a 4-digit customs code")
    assert zh["contactName"]["maxLength"] == 50
    assert zh["contactName"]["pattern"] is None
    assert zh["reason"]["maxLength"] == 1000
    assert zh["importPortCode"]["dependsOn"] == ["importCountryCode"]
    assert zh["importCountryCode"]["dependsOn"] == ["agreementCode"]
    assert zh["agreementCode"]["dependsOn"] == ["certificateNo"]
    assert zh["certificateNo"]["pattern"] == r"^[A-Z0-9\/\-]{1,40}$"


async def test_the_hint_is_what_an_invalid_format_message_states(api: Api, alice: Actor) -> None:
    for language in (None, "en"):
        fields = {
            f["name"]: f for f in (await form(api, alice, "CCPIT_CERTIFICATE", language))["fields"]
        }
        errors = await validate(
            api,
            alice,
            valid_input("CCPIT_CERTIFICATE", contactPhone="12345", certificateNo="K#1"),
            language=language,
        )
        for error in errors:
            field = fields[error["field"][1]]
            assert error["message"].endswith(field["hint"]), error
            assert error["message"].startswith(field["label"]), error


async def test_the_attachment_slots_carry_the_limits_of_the_settings(
    api: Api, alice: Actor, settings: Settings
) -> None:
    slots = (await form(api, alice, "CCPIT_CERTIFICATE"))["attachmentSlots"]
    assert [(s["slot"], s["label"], s["requiredToSubmit"]) for s in slots] == [
        ("ORIGIN_PROOF", "原产地证明", True),
        ("IMPORT_DECLARATION", "进口报关单", True),
        ("OTHER_1", "其他1", False),
        ("OTHER_2", "其他2", False),
    ]
    for slot in slots:
        assert slot["maxBytes"] == settings.max_file_bytes
        assert slot["maxPdfBytes"] == settings.max_pdf_bytes
        assert slot["allowedContentTypes"] == ["application/pdf", "image/jpeg", "image/png"]
    english = (await form(api, alice, "CCPIT_CERTIFICATE", "en"))["attachmentSlots"]
    assert [s["label"] for s in english] == [
        "Proof of origin",
        "Import declaration",
        "Other 1",
        "Other 2",
    ]


def test_every_hint_a_rule_names_is_in_the_catalogue_in_both_languages() -> None:
    from db.form import FIELD_RULES

    for rule in FIELD_RULES.values():
        zh, en = FORMAT_HINTS[rule.hint]
        assert re.search(r"[\u4e00-\u9fff]", zh), rule
        assert not re.search(r"[\u4e00-\u9fff]", en.replace("转", "")), rule


# Strings on which the published patterns are tried by Python and by a JavaScript engine.
PATTERN_PROBES = [
    "",
    "K263500000123",
    "K26/35-01",
    "K26#001",
    "K" * 40,
    "K" * 41,
    "350120260000123456",
    "35012026E000123456",
    "35012026I000123456",
    "3501202600001234567",
    "１３８１２３４５６７８",  # full-width digits
    "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    "13812345678",
    "0592-5123456",
    "021-62345678转123",
    "95588",
    "400-820-8820",
    "+82 51 123 4567",
    "+123 45678 9012 3 4 5",
    "+123 45678 9012 3 4 56",
    "+1234567",
    "phone me",
]


async def test_published_patterns_mean_the_same_to_javascript_and_python(
    api: Api, alice: Actor
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/setup needs npm and node)")
    patterns = sorted(
        {
            field["pattern"]
            for kind in TYPES
            for field in (await form(api, alice, kind))["fields"]
            if field["pattern"]
        }
    )
    script = """
const [patterns, probes] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const verdicts = patterns.map(p => ['', 'u', 'v'].map(flags => {
  const r = new RegExp(p, flags);
  return probes.map(s => r.test(s));
}));
process.stdout.write(JSON.stringify(verdicts));
"""
    ran = await asyncio.to_thread(
        subprocess.run,
        [node, "-e", script],
        input=json.dumps([patterns, PATTERN_PROBES]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "Invalid regular expression flags" in ran.stderr:
        pytest.skip("this node predates the v flag")
    assert ran.returncode == 0, ran.stderr
    for pattern, by_flags in zip(patterns, json.loads(ran.stdout), strict=True):
        python = [re.fullmatch(pattern, probe) is not None for probe in PATTERN_PROBES]
        for verdicts in by_flags:
            assert verdicts == python, pattern


async def test_validating_a_valid_form_is_empty_and_writes_nothing(
    api: Api, factory: Factory, alice: Actor
) -> None:
    for kind in TYPES:
        assert await validate(api, alice, valid_input(kind)) == []
    for model in (Coordination, StatusChange, CoordinationCounter):
        assert await count_rows(factory.database, model) == 0, model
    first = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    assert first["coordinationNo"].endswith("00000001"), "validating consumed no number"


async def test_validation_returns_exactly_the_errors_of_a_save(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = {"type": "CUSTOMS_CERTIFICATE", "contactPhone": "x", "certificateNo": "K 1"}
    for language in (None, "en"):
        checked = await validate(api, alice, values, language=language)
        saved = await api.save(alice, values, language=language)
        assert checked == saved["errors"]
        assert len(checked) == 9
    assert await count_rows(factory.database, Coordination) == 0


async def test_validating_an_update_runs_the_checks_of_an_update(
    api: Api, factory: Factory, alice: Actor
) -> None:
    saved = await api.create(alice, valid_input("RULING_DECLARATION"))
    cases = [
        valid_input("RULING_DECLARATION", id=saved["id"], expectedVersion=saved["version"]),
        valid_input("RULING_DECLARATION", id=saved["id"], expectedVersion=7),
        valid_input("CCPIT_CERTIFICATE", id=saved["id"], rulingNo="R1"),
        valid_input("RULING_DECLARATION", id="Q29vcmRpbmF0aW9uOjk5OTk5", rulingNo=""),
    ]
    for values in cases:
        assert await validate(api, alice, values) == (await api.save(alice, values))["errors"]
    await update_coordination(factory.database, saved["id"], status=Status.PENDING)
    pending = valid_input("RULING_DECLARATION", id=saved["id"])
    refused = await validate(api, alice, pending)
    assert [(e["code"], e["field"]) for e in refused] == [("INVALID_STATUS", None)]
    assert refused == (await api.save(alice, pending))["errors"]
    current = await api.get(alice, id=saved["id"])
    assert current["version"] == 2  # one update of the four cases succeeded, none of the checks


async def test_another_enterprises_request_validates_as_not_found(
    api: Api, factory: Factory, alice: Actor
) -> None:
    bob = await factory.enterprise_user()
    theirs = await api.create(bob, valid_input("CCPIT_CERTIFICATE"))
    values = valid_input("CCPIT_CERTIFICATE", id=theirs["id"])
    refused = await validate(api, alice, values)
    assert [(e["code"], e["field"]) for e in refused] == [("NOT_FOUND", ["input", "id"])]
    assert refused == (await api.save(alice, values))["errors"]


async def test_customs_validating_a_form_is_forbidden_like_saving_it(
    api: Api, factory: Factory
) -> None:
    customs = await factory.customs_user()
    values = valid_input("CCPIT_CERTIFICATE")
    refused = await validate(api, customs, values)
    assert [(e["code"], e["field"]) for e in refused] == [("FORBIDDEN", None)]
    assert refused == (await api.save(customs, values))["errors"]


async def test_the_form_and_validation_need_a_login(api: Api) -> None:
    for query, variables in (
        (FORM, {"type": "CCPIT_CERTIFICATE"}),
        (VALIDATE, {"input": valid_input("CCPIT_CERTIFICATE")}),
        (SAVE, {"input": valid_input("CCPIT_CERTIFICATE")}),
    ):
        body = await api.post(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_validation_with_errors_is_an_ok_request_not_counted_as_refusals(
    api: Api, client: httpx.AsyncClient, alice: Actor
) -> None:
    before = await scrape(client)
    errors = await validate(api, alice, valid_input("CCPIT_CERTIFICATE", reason=""))
    assert [e["code"] for e in errors] == ["REQUIRED"]
    after = await scrape(client)
    ok = {"operation": "query:validateCoordination", "outcome": "ok"}
    assert (
        value(after, "xhsz_requests_total", **ok) - value(before, "xhsz_requests_total", **ok) == 1
    )
    required = value(after, "xhsz_user_errors_total", code="REQUIRED")
    assert required == value(before, "xhsz_user_errors_total", code="REQUIRED")
