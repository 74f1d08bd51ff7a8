"""The certificate picker (``certificates``) and the requests citing a certificate: only ever the
viewer's enterprise's, newest first, by keyset pages."""

import datetime as dt
from typing import Any

import pytest

from db import certificates
from db.certificates import CertificateRecord
from db.models import CertificateKind
from tests.support import Actor, Api, Factory, export_declaration_no, valid_input

PICKER = """
query($search: String, $first: Int, $after: String) {
  certificates(search: $search, first: $first, after: $after) {
    edges { cursor node { certificateNo } }
    nodes { certificateNo kind issuedOn agreement { code } exportDeclarationNos }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""
CITED = """
query($search: String) {
  certificates(search: $search) {
    nodes {
      certificateNo
      coordinations {
        __typename ... on Coordination { coordinationNo certificateNo history { to } }
      }
    }
  }
}
"""
ONE_CITED = """
query($no: String!) {
  certificate(certificateNo: $no) { certificateNo coordinations { ... on Coordination { id } } }
}
"""


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def register(factory: Factory, actor: Actor, number: str, day: int) -> None:
    assert actor.uscc is not None
    async with factory.database.writer() as session, session.begin():
        await certificates.register(
            session=session,
            record=CertificateRecord(
                certificate_no=number,
                kind=CertificateKind.CUSTOMS_CO,
                agreement_code="19",
                enterprise_uscc=actor.uscc,
                import_country_code="KOR",
                issued_on=dt.date(2026, 1, 1) + dt.timedelta(days=day),
                export_declaration_nos=(export_declaration_no(day),),
            ),
        )


async def picker(api: Api, actor: Actor, **variables: Any) -> Any:
    return (await api.data(PICKER, variables, actor=actor))["certificates"]


async def test_pages_list_the_enterprises_certificates_newest_first(
    api: Api, factory: Factory, alice: Actor
) -> None:
    # Two a day on some days: the number breaks the tie (descending, like the date).
    numbers = {f"K26{day:02d}{n}": day for day in range(7) for n in "AB" if day % 2 or n == "A"}
    for number, day in numbers.items():
        await register(factory, alice, number, day)
    expected = sorted(numbers, key=lambda no: (numbers[no], no), reverse=True)

    seen: list[str] = []
    after = None
    pages = []
    while True:
        page = await picker(api, alice, first=4, after=after)
        pages.append(page)
        seen += [node["certificateNo"] for node in page["nodes"]]
        assert [e["node"]["certificateNo"] for e in page["edges"]] == seen[-len(page["edges"]) :]
        assert page["totalCount"] == len(numbers)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert len(pages) == 3
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert pages[0]["nodes"][0] == {
        "certificateNo": expected[0],
        "kind": "CUSTOMS_CO",
        "issuedOn": "2026-01-07",
        "agreement": {"code": "19"},
        "exportDeclarationNos": [export_declaration_no(6)],
    }


async def test_search_is_a_case_insensitive_prefix_of_the_number(
    api: Api, factory: Factory, alice: Actor
) -> None:
    for number, day in (("RCAE01", 1), ("RCAE02", 2), ("RC-X1", 3), ("XRCAE", 4)):
        await register(factory, alice, number, day)
    for search, expected in (
        (" rcae ", ["RCAE02", "RCAE01"]),
        ("RC", ["RC-X1", "RCAE02", "RCAE01"]),
        ("RC%", []),
        ("R_AE", []),
        ("", ["XRCAE", "RC-X1", "RCAE02", "RCAE01"]),
    ):
        page = await picker(api, alice, search=search)
        assert [node["certificateNo"] for node in page["nodes"]] == expected, search
        assert page["totalCount"] == len(expected)
    first = await picker(api, alice, search="RCAE", first=1)
    rest = await picker(api, alice, search="rcae", first=5, after=first["pageInfo"]["endCursor"])
    assert [node["certificateNo"] for node in rest["nodes"]] == ["RCAE01"]


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_a_page_size_outside_1_to_100_is_refused(api: Api, alice: Actor, first: int) -> None:
    body = await api.post(PICKER, {"first": first}, actor=alice)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_customs_get_an_empty_list(api: Api, factory: Factory, alice: Actor) -> None:
    await register(factory, alice, "K1", 1)
    customs = await factory.customs_user()
    page = await picker(api, customs)
    assert page == {
        "edges": [],
        "nodes": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "totalCount": 0,
    }


async def test_another_enterprise_never_sees_a_certificate_that_is_not_its_own(
    api: Api, factory: Factory, alice: Actor
) -> None:
    bob = await factory.enterprise_user()
    for day in range(3):
        await register(factory, alice, f"ALICE{day}", day)
    await register(factory, bob, "BOB1", 1)

    assert [n["certificateNo"] for n in (await picker(api, bob))["nodes"]] == ["BOB1"]
    assert (await picker(api, bob, search="ALICE"))["nodes"] == []
    assert (await picker(api, bob, search="ALICE"))["totalCount"] == 0
    # Alice's cursors (and altered ones) are refused, not read as a position in Bob's list.
    cursor = (await picker(api, alice, first=1))["pageInfo"]["endCursor"]
    forged = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for after in (cursor, forged, "not a cursor"):
        body = await api.post(PICKER, {"after": after}, actor=bob)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
        assert "ALICE" not in str(body)
    # A cursor of Bob's own list with another search is refused too.
    own = (await picker(api, bob, search="B"))["pageInfo"]["endCursor"]
    body = await api.post(PICKER, {"after": own, "search": "BO"}, actor=bob)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_certificate_lists_only_the_viewers_requests_citing_it(
    api: Api, factory: Factory, alice: Actor
) -> None:
    bob = await factory.enterprise_user()
    await register(factory, bob, "K263500000123", 1)
    await register(factory, alice, "K263500000999", 2)
    # Alice cites Bob's certificate (she may type any number); Bob cites it twice.
    await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    older = await api.create(bob, valid_input("CUSTOMS_CERTIFICATE", agreementCode=None))
    newer = await api.create(bob, valid_input("CCPIT_CERTIFICATE", agreementCode=None))
    await api.create(bob, valid_input("CCPIT_CERTIFICATE", certificateNo="K263500000999"))

    [bobs] = (await api.data(CITED, {}, actor=bob))["certificates"]["nodes"]
    assert bobs["certificateNo"] == "K263500000123"
    assert [c["coordinationNo"] for c in bobs["coordinations"]] == [
        newer["coordinationNo"],
        older["coordinationNo"],
    ]
    assert [c["__typename"] for c in bobs["coordinations"]] == [
        "CcpitCertificateRequest",
        "CustomsCertificateRequest",
    ]
    assert bobs["coordinations"][0]["history"] == [{"to": "DRAFT"}]
    [alices] = (await api.data(CITED, {}, actor=alice))["certificates"]["nodes"]
    assert alices == {"certificateNo": "K263500000999", "coordinations": []}
    one = await api.data(ONE_CITED, {"no": "k263500000123"}, actor=bob)
    assert [c["id"] for c in one["certificate"]["coordinations"]] == [newer["id"], older["id"]]
    assert (await api.data(ONE_CITED, {"no": "K263500000123"}, actor=alice)) == {
        "certificate": None
    }


async def test_citing_requests_are_read_in_one_batch_whatever_the_page_size(
    api: Api, factory: Factory, alice: Actor, statements: list[str]
) -> None:
    for day in range(6):
        number = f"K26350000{day:04d}"
        await register(factory, alice, number, day)
        await api.create(alice, valid_input("CCPIT_CERTIFICATE", certificateNo=number))
    counts = {}
    for size in (1, 6):
        statements.clear()
        data = await api.data(
            PICKER.replace("totalCount", "nodes { coordinations { __typename } }"),
            {"first": size},
            actor=alice,
        )
        assert len(data["certificates"]["nodes"]) == size
        counts[size] = len(statements)
    assert counts[1] == counts[6], statements
