"""The certificate registry as clients see it: autofill, and the agreement it imposes on save.

A certificate of another enterprise must behave exactly like an unknown one everywhere."""

from collections.abc import Awaitable, Callable

import pytest

from db.models import CertificateKind
from tests.support import (
    Actor,
    Api,
    Factory,
    export_declaration_no,
    register_certificate,
    valid_input,
)
from tests.timing import assert_take_as_long, timed_pairs

CERTIFICATE = """
query($no: String!) {
  certificate(certificateNo: $no) {
    certificateNo kind agreement { code nameZh } importCountry { code } issuedOn
    exportDeclarationNos
  }
}
"""
PAIRS = 100
"""Enough that a real 2× gap fails the timing test (tests/timing.py) even on a busy machine."""


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def test_autofill_returns_the_registry_entry_of_the_viewers_enterprise(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("APPROVED_EXPORTER_DECLARATION", certificateNo="RCAE2635001")
    await register_certificate(
        factory.database,
        alice,
        values,
        declarations=(export_declaration_no(2), export_declaration_no(1)),
    )
    data = await api.data(CERTIFICATE, {"no": " rcae2635001 "}, actor=alice)
    assert data["certificate"] == {
        "certificateNo": "RCAE2635001",
        "kind": "APPROVED_EXPORTER_DECLARATION",
        "agreement": {"code": "19", "nameZh": "中国—韩国自由贸易协定"},
        "importCountry": {"code": "KOR"},
        "issuedOn": "2026-03-01",
        "exportDeclarationNos": [export_declaration_no(1), export_declaration_no(2)],
    }


async def test_autofill_is_null_for_unknown_and_foreign_certificates_alike(
    api: Api, factory: Factory, alice: Actor
) -> None:
    other = await factory.enterprise_user()
    await register_certificate(factory.database, other, valid_input("CUSTOMS_CERTIFICATE"))
    officer = await factory.customs_user()
    for actor, number in ((alice, "K263500000123"), (alice, "NOPE"), (officer, "K263500000123")):
        body = await api.post(CERTIFICATE, {"no": number}, actor=actor)
        assert body == {"data": {"certificate": None}}


async def test_save_takes_the_agreement_from_the_registry(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE", agreementCode="22")
    await register_certificate(factory.database, alice, values)
    saved = await api.create(alice, {**values, "agreementCode": None})
    assert saved["agreement"]["code"] == "22"
    same = await api.save(alice, {**values, "agreementCode": "22"})
    assert same["errors"] == []


async def test_save_refuses_an_agreement_that_differs_from_the_registry(
    api: Api, factory: Factory, alice: Actor
) -> None:
    values = valid_input("CUSTOMS_CERTIFICATE", agreementCode="22")
    await register_certificate(factory.database, alice, values)
    payload = await api.save(alice, {**values, "agreementCode": "19"})
    assert payload["errors"] == [
        {
            "field": ["input", "agreementCode"],
            "code": "AGREEMENT_MISMATCH",
            "message": "优惠贸易协定与证书申请系统中的证书不一致",
        }
    ]


async def test_save_treats_another_enterprises_certificate_as_unknown(
    api: Api, factory: Factory, alice: Actor
) -> None:
    other = await factory.enterprise_user()
    foreign = valid_input("CUSTOMS_CERTIFICATE", certificateNo="K-FOREIGN", agreementCode="22")
    unknown = valid_input("CUSTOMS_CERTIFICATE", certificateNo="K-UNKNOWN", agreementCode="22")
    await register_certificate(factory.database, other, foreign, kind=CertificateKind.CUSTOMS_CO)

    def outcome(payload: dict[str, object]) -> object:
        return payload["errors"]

    # without an agreement both need one from the input…
    assert outcome(await api.save(alice, {**foreign, "agreementCode": None})) == outcome(
        await api.save(alice, {**unknown, "agreementCode": None})
    )
    # …and with a different one, neither is a mismatch
    assert (await api.save(alice, {**foreign, "agreementCode": "19"}))["errors"] == []
    assert (await api.save(alice, {**unknown, "agreementCode": "19"}))["errors"] == []


async def test_autofill_takes_as_long_for_foreign_and_unknown_certificates(
    api: Api, factory: Factory, alice: Actor
) -> None:
    other = await factory.enterprise_user()
    await register_certificate(factory.database, other, valid_input("CUSTOMS_CERTIFICATE"))

    def autofill(number: str) -> Callable[[], Awaitable[object]]:
        async def ask() -> object:
            return await api.data(CERTIFICATE, {"no": number}, actor=alice)

        return ask

    pairs = await timed_pairs(autofill("K263500000123"), autofill("K263500000999"), PAIRS)
    assert_take_as_long(pairs)
