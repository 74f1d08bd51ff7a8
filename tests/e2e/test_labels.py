"""Labels for every code a UI shows (SPEC §9): ``typeLabel`` on every request, ``slotLabel`` on an
attachment, ``kindLabel`` on a certificate, in the viewer's language like ``statusLabel``; the
codes stay the same in every language."""

from typing import Any

import httpx
import pytest

from api.app import create_app
from config.settings import Settings
from db.models import CertificateKind
from schema.executor import plan_counts
from tests import samples
from tests.support import Actor, Api, Factory, register_certificate, valid_input

LABELS = """
query($no: String!, $cert: String!) {
  coordination(coordinationNo: $no) {
    ... on Coordination {
      type typeLabel status statusLabel
      attachments { slot slotLabel }
    }
  }
  certificate(certificateNo: $cert) { kind kindLabel }
}
"""

TYPE_LABELS = {
    "CUSTOMS_CERTIFICATE": (
        "海关原产地证书享惠受阻协调申请",
        "Customs certificate of origin coordination request",
    ),
    "APPROVED_EXPORTER_DECLARATION": (
        "经核准出口商原产地声明享惠受阻协调申请",
        "Approved exporter declaration coordination request",
    ),
    "RULING_DECLARATION": (
        "基于海关行政裁定或预裁定的原产地声明享惠受阻协调申请",
        "Ruling-based origin declaration coordination request",
    ),
    "CCPIT_CERTIFICATE": (
        "贸促会原产地证书享惠受阻协调申请",
        "CCPIT certificate of origin coordination request",
    ),
}
KIND_LABELS = {
    "CUSTOMS_CERTIFICATE": ("CUSTOMS_CO", "海关原产地证书", "Customs certificate of origin"),
    "APPROVED_EXPORTER_DECLARATION": (
        "APPROVED_EXPORTER_DECLARATION",
        "经核准出口商原产地声明",
        "Approved exporter's origin declaration",
    ),
    "RULING_DECLARATION": (
        "RULING_DECLARATION",
        "基于海关行政裁定或预裁定的原产地声明",
        "Origin declaration based on a customs ruling or advance ruling",
    ),
    "CCPIT_CERTIFICATE": ("CCPIT_CO", "贸促会原产地证书", "CCPIT certificate of origin"),
}


@pytest.mark.parametrize("kind", sorted(TYPE_LABELS))
async def test_type_slot_and_kind_labels_follow_the_viewers_language(
    api: Api, factory: Factory, kind: str
) -> None:
    alice: Actor = await factory.enterprise_user()
    values = valid_input(kind)
    created = await api.create(alice, values)
    await register_certificate(
        factory.database, alice, values, kind=CertificateKind[KIND_LABELS[kind][0]]
    )
    for slot in ("OTHER_2", "ORIGIN_PROOF"):
        await api.attach(alice, created["id"], slot, samples.png(200), f"{slot}.png")
    variables = {"no": created["coordinationNo"], "cert": values["certificateNo"]}

    def expected(zh: bool) -> dict[str, Any]:
        pick = 0 if zh else 1
        return {
            "coordination": {
                "type": kind,
                "typeLabel": TYPE_LABELS[kind][pick],
                "status": "DRAFT",
                "statusLabel": ("暂存", "Draft")[pick],
                "attachments": [
                    {"slot": "ORIGIN_PROOF", "slotLabel": ("原产地证明", "Proof of origin")[pick]},
                    {"slot": "OTHER_2", "slotLabel": ("其他2", "Other 2")[pick]},
                ],
            },
            "certificate": {
                "kind": KIND_LABELS[kind][0],
                "kindLabel": KIND_LABELS[kind][1 + pick],
            },
        }

    assert await api.data(LABELS, variables, actor=alice) == expected(zh=True)
    assert await api.data(LABELS, variables, actor=alice, language="en") == expected(zh=False)
    assert await api.data(
        LABELS, variables, actor=alice, language="en-GB;q=0.5, zh-CN"
    ) == expected(zh=True)


LIST = """
query { coordinations(first: 5) { nodes { ... on Coordination { typeLabel statusLabel } } } }
"""


async def test_the_list_labels_every_request_in_the_viewers_language(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    data = await api.data(LIST, actor=alice, language="en")
    assert data["coordinations"]["nodes"] == [
        {"typeLabel": TYPE_LABELS["CUSTOMS_CERTIFICATE"][1], "statusLabel": "Draft"},
        {"typeLabel": TYPE_LABELS["CCPIT_CERTIFICATE"][1], "statusLabel": "Draft"},
    ]


async def test_labels_are_completed_by_the_compiled_plans(
    api: Api, settings: Settings, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    created = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    await api.attach(alice, created["id"], "OTHER_1", samples.png(200), "a.png")
    query = (
        "{ coordinations(first: 5) { nodes { ... on Coordination { typeLabel "
        "attachments { slotLabel } } } } }"
    )
    # A fresh app: its schema's plan cache holds this test's document only.
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://xhsz.test") as http,
    ):
        data = await Api(http).data(query, actor=alice)
    assert data["coordinations"]["nodes"] == [
        {"typeLabel": TYPE_LABELS["CCPIT_CERTIFICATE"][0], "attachments": [{"slotLabel": "其他1"}]}
    ]
    assert plan_counts(app.state.schema._schema) == (1, 0), "the page is completed by a plan"


PICKER = """
{
  certificates(first: 5) {
    nodes { kind kindLabel coordinations { ... on Coordination { typeLabel } } }
  }
}
"""


async def test_the_certificate_picker_labels_kinds_and_citing_requests(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    values = valid_input("RULING_DECLARATION")
    await api.create(alice, values)
    await register_certificate(
        factory.database, alice, values, kind=CertificateKind.RULING_DECLARATION
    )
    for language, pick in ((None, 0), ("en", 1)):
        data = await api.data(PICKER, actor=alice, language=language)
        assert data["certificates"]["nodes"] == [
            {
                "kind": "RULING_DECLARATION",
                "kindLabel": KIND_LABELS["RULING_DECLARATION"][1 + pick],
                "coordinations": [{"typeLabel": TYPE_LABELS["RULING_DECLARATION"][pick]}],
            }
        ]
