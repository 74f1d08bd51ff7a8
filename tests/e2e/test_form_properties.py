"""Property tests of the form from the server against the save itself (issue 12):

- for generated inputs of each type, ``validateCoordination`` returns exactly the errors
  ``saveCoordination`` returns for the same input (codes, paths, messages, order), and writes
  nothing;
- the rules ``coordinationForm`` publishes (required, maxLength, pattern, compiled here with
  Python's ``re`` as a front end compiles it with ``RegExp``) accept and refuse exactly what the
  server accepts and refuses, on generated values trimmed and upper-cased as the pattern's
  description says.

Bounded: a few hundred examples in all, no deadline (each example is a request or three).
"""

import re
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.models import Coordination
from tests.db.test_validation import phones
from tests.support import TYPES, Actor, Api, Factory, count_rows, register_certificate, valid_input

FORM = """
query($type: CoordinationType!) {
  coordinationForm(type: $type) { fields { name required maxLength pattern } }
}
"""
VALIDATE = """
query($input: SaveCoordinationInput!) { validateCoordination(input: $input) { field code message } }
"""
SAVE = """
mutation($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) {
    coordination { ... on Coordination { id version } } errors { field code message }
  }
}
"""

EXAMPLES_PER_TYPE = 40
EXAMPLES_PER_FIELD = 40


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


OWN_CERTIFICATE = "K26OWN0001"
FOREIGN_CERTIFICATE = "K26FOREIGN01"

# Characters near the formats' alphabets, and a few beyond: lower case, full-width and
# Arabic-Indic digits, CJK, punctuation. (Controls and direction marks are refused by the
# character rule every field shares, which the form states in words, not in a pattern.)
NEAR = "0123456789EAKZaekz-/+#. 转中林é１٣"
near_text = st.text(alphabet=NEAR, max_size=24)


def blank() -> st.SearchStrategy[str | None]:
    return st.sampled_from([None, "", "   ", "\u3000"])


def field_values(*good: str) -> st.SearchStrategy[str | None]:
    """Missing, blank, good values (as typed: any case, spaces around) or near misses."""
    typed = st.sampled_from(good).flatmap(
        lambda value: st.sampled_from([value, value.lower(), f"  {value} "])
    )
    return st.one_of(blank(), typed, typed, near_text)


FIELDS: dict[str, st.SearchStrategy[str | None]] = {
    "certificateNo": field_values(OWN_CERTIFICATE, FOREIGN_CERTIFICATE, "K263500000123", "K" * 41),
    "agreementCode": field_values("19", "22", "02", "99", "03"),
    "exportDeclarationNo": field_values(
        "350120260000123456", "35012026E000123456", "3501202610001"
    ),
    "importDeclarationNo": field_values("KR-2026-0012345", "X" * 65, "KR\n2026"),
    "importCountryCode": field_values("KOR", "JPN", "VNM", "XYZ"),
    "importPortCode": field_values("KRPUS", "JPTYO", "VNSGN", "KRXXX"),
    "approvedExporterNo": field_values("AE3501000012", "AE 01"),
    "rulingNo": field_values("XM2026-0031", "R" * 41),
    "contactName": field_values("林晓", "林" * 51, "林\u202e晓"),
    "contactPhone": st.one_of(blank(), phones, near_text),
    "reason": field_values("进口国海关拒绝给予协定税率。", "理" * 1001, "第一行\r\n第二行"),
}


@st.composite
def save_inputs(draw: st.DrawFn, kind: str, existing: str) -> dict[str, Any]:
    """A whole form for ``kind``: each field valid, missing or generated; sometimes an update
    of ``existing`` (a request of that type), with or without a version and a type."""
    values = valid_input(kind)
    for name, strategy in FIELDS.items():
        if draw(st.booleans()):
            values[name] = draw(strategy)
    if draw(st.integers(0, 3)) == 0:
        values["id"] = existing
        values["expectedVersion"] = draw(st.sampled_from([None, 1, 2, 50]))
        values["type"] = draw(st.sampled_from([None, kind, *TYPES]))
    elif draw(st.integers(0, 5)) == 0:
        values["type"] = None
    return values


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    actor = await factory.enterprise_user()
    await register_certificate(
        factory.database, actor, valid_input("CUSTOMS_CERTIFICATE", certificateNo=OWN_CERTIFICATE)
    )
    other = await factory.enterprise_user()
    await register_certificate(
        factory.database,
        other,
        valid_input("CUSTOMS_CERTIFICATE", certificateNo=FOREIGN_CERTIFICATE, agreementCode="22"),
    )
    return actor


@pytest.mark.parametrize("kind", TYPES)
@bounded(EXAMPLES_PER_TYPE)
@given(data=st.data())
async def test_validation_returns_exactly_what_a_save_returns(
    api: Api, factory: Factory, alice: Actor, kind: str, data: st.DataObject
) -> None:
    existing = await _existing(api, alice, kind)
    values = data.draw(save_inputs(kind, existing), label="input")
    language = data.draw(st.sampled_from([None, "en"]), label="language")
    before = await count_rows(factory.database, Coordination)

    checked = (await api.data(VALIDATE, {"input": values}, actor=alice, language=language))[
        "validateCoordination"
    ]
    assert await count_rows(factory.database, Coordination) == before
    saved = (await api.data(SAVE, {"input": values}, actor=alice, language=language))[
        "saveCoordination"
    ]

    assert checked == saved["errors"]
    assert (saved["coordination"] is not None) == (checked == [])


_existing_ids: dict[tuple[str, str], str] = {}


async def _existing(api: Api, actor: Actor, kind: str) -> str:
    """One saved request of ``kind`` per test, made by its first example."""
    key = (actor.username, kind)
    if key not in _existing_ids:
        _existing_ids[key] = (await api.create(actor, valid_input(kind)))["id"]
    return _existing_ids[key]


# --- the published rules against the server's verdict ---------------------------------------

RULED = [
    ("CUSTOMS_CERTIFICATE", "certificateNo"),
    ("APPROVED_EXPORTER_DECLARATION", "approvedExporterNo"),
    ("RULING_DECLARATION", "rulingNo"),
    ("CUSTOMS_CERTIFICATE", "exportDeclarationNo"),
    ("CUSTOMS_CERTIFICATE", "importDeclarationNo"),
    ("CUSTOMS_CERTIFICATE", "contactName"),
    ("CUSTOMS_CERTIFICATE", "contactPhone"),
    ("CCPIT_CERTIFICATE", "reason"),
]
# Values the rules are tried on: from the published pattern itself (what it accepts), the
# field's own good and bad values, and near misses; in any case, with spaces around.
PRINTABLE = st.characters(codec="utf-8", categories=["L", "N", "P", "S"])


def ruled_values(pattern: str | None, field: str) -> st.SearchStrategy[str]:
    sources: list[st.SearchStrategy[str]] = [
        near_text,
        st.text(PRINTABLE, max_size=70),
        FIELDS[field].filter(lambda value: value is not None).map(str),
    ]
    if pattern is not None and "(?=" not in pattern:  # hypothesis reads no look-ahead
        sources.append(st.from_regex(pattern, fullmatch=True))
    if field == "contactPhone":
        sources.append(phones)
    edited = st.one_of(*sources).flatmap(
        lambda value: st.sampled_from(
            [value, value.lower(), f" {value}  ", value + value[-1:] * 30, value[1:]]
        )
    )
    # Only what the pattern and length decide: printable characters (the character rule refuses
    # the others whatever the format) already in NFC (the form counts characters after it).
    return edited.filter(
        lambda value: value.strip().isprintable() and unicodedata.is_normalized("NFC", value)
    )


def published_verdict(rule: dict[str, Any], value: str) -> str | None:
    """What the published rule says of a value: None (accepted), REQUIRED or refused."""
    text = value.strip()
    if not text:
        return "REQUIRED" if rule["required"] else None
    if rule["maxLength"] is not None and len(text) > rule["maxLength"]:
        return "refused"
    if rule["pattern"] is not None and not re.fullmatch(rule["pattern"], text.upper()):
        return "refused"
    return None


_forms: dict[str, list[dict[str, Any]]] = {}


@pytest.mark.parametrize(("kind", "field"), RULED)
@bounded(EXAMPLES_PER_FIELD)
@given(data=st.data())
async def test_the_published_rules_accept_and_refuse_what_the_server_does(
    api: Api, alice: Actor, kind: str, field: str, data: st.DataObject
) -> None:
    if kind not in _forms:
        _forms[kind] = (await api.data(FORM, {"type": kind}, actor=alice))["coordinationForm"][
            "fields"
        ]
    [rule] = [published for published in _forms[kind] if published["name"] == field]
    value = data.draw(ruled_values(rule["pattern"], field), label="value")

    errors = (
        await api.data(VALIDATE, {"input": valid_input(kind, **{field: value})}, actor=alice)
    )["validateCoordination"]
    server = [error["code"] for error in errors if error["field"] == ["input", field]]
    expected = published_verdict(rule, value)
    if expected is None:
        assert server == [], errors
    elif expected == "REQUIRED":
        assert server == ["REQUIRED"], errors
    else:
        assert server in (["INVALID_FORMAT"], ["TOO_LONG"]), errors
