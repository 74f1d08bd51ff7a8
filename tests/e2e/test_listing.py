"""``coordinations``: filters, orders, keyset paging both ways, cursors, tenancy, SQL per page."""

import base64
import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from db.clock import utcnow
from db.models import Coordination, CoordinationType
from db.status import Status
from tests.conftest import BACKEND
from tests.support import ALL_FIELDS, Actor, Api, Factory, Stored, store_request, valid_input

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)

LIST = """
query List($filter: CoordinationFilter, $orderBy: CoordinationOrder, $first: Int, $after: String,
           $last: Int, $before: String) {
  coordinations(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
                before: $before) {
    edges { cursor node { ... on Coordination { coordinationNo } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

COUNT = """
query Count($filter: CoordinationFilter, $first: Int) {
  coordinations(filter: $filter, first: $first) {
    totalCount nodes { ... on Coordination { coordinationNo } }
  }
}
"""


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


async def listed(api: Api, actor: Actor, **variables: Any) -> list[str]:
    """The coordination numbers of one page."""
    data = await api.data(LIST, variables, actor=actor)
    return [edge["node"]["coordinationNo"] for edge in data["coordinations"]["edges"]]


async def refusal(api: Api, actor: Actor, **variables: Any) -> dict[str, Any]:
    body = await api.post(LIST, variables, actor=actor)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    return dict(error)


def numbers(rows: list[Stored]) -> list[str]:
    return [row.coordination_no for row in rows]


def submitted_order(rows: list[Stored], descending: bool = True) -> list[Stored]:
    """SPEC §6: newest submission first, never-submitted drafts after by creation time; the
    direction flips submitted and drafts each, drafts stay after; the id breaks ties."""
    submitted = sorted(
        (r for r in rows if r.submitted_at),
        key=lambda r: (r.submitted_at, r.pk),
        reverse=descending,
    )
    drafts = sorted(
        (r for r in rows if not r.submitted_at),
        key=lambda r: (r.created_at, r.pk),
        reverse=descending,
    )
    return submitted + drafts


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def mallory(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def test_lists_the_viewers_requests_newest_submission_first_and_drafts_after(
    api: Api, factory: Factory, alice: Actor, mallory: Actor
) -> None:
    db = factory.database
    old_draft = await store_request(db, alice, created_at=at(0))
    new_draft = await store_request(db, alice, created_at=at(5))
    early = await store_request(
        db, alice, status=Status.CONCLUDED, created_at=at(1), submitted_at=at(2)
    )
    late = await store_request(
        db, alice, status=Status.PENDING, created_at=at(0.5), submitted_at=at(4)
    )
    withdrawn = await store_request(db, alice, status=Status.WITHDRAWN, submitted_at=at(3))
    await store_request(db, mallory, status=Status.PENDING, submitted_at=at(6))

    assert await listed(api, alice) == numbers([late, withdrawn, early, new_draft, old_draft])
    assert await listed(api, alice, orderBy={"direction": "ASC"}) == numbers(
        [early, withdrawn, late, old_draft, new_draft]
    )
    by_creation = sorted([old_draft, new_draft, early, late, withdrawn], key=lambda r: r.created_at)
    assert await listed(api, alice, orderBy={"field": "CREATED_AT", "direction": "ASC"}) == numbers(
        by_creation
    )
    assert await listed(api, alice, orderBy={"field": "CREATED_AT"}) == numbers(by_creation[::-1])
    by_number = sorted(
        [old_draft, new_draft, early, late, withdrawn], key=lambda r: r.coordination_no
    )
    assert await listed(
        api, alice, orderBy={"field": "COORDINATION_NO", "direction": "ASC"}
    ) == numbers(by_number)


async def test_nodes_carry_every_field_of_their_union_member(
    api: Api, factory: Factory, alice: Actor
) -> None:
    for kind in CoordinationType:
        await store_request(
            factory.database, alice, kind=kind, status=Status.RETURNED, attachments=2
        )
    query = ALL_FIELDS + "{ coordinations { nodes { ...AllFields } } }"
    nodes = (await api.data(query, actor=alice))["coordinations"]["nodes"]

    assert len(nodes) == 4
    for node in nodes:
        assert node == await api.get(alice, id=node["id"])
        assert [a["slot"] for a in node["attachments"]] == ["ORIGIN_PROOF", "IMPORT_DECLARATION"]
        assert [(h["from"], h["to"]) for h in node["history"]] == [
            (None, "DRAFT"),
            ("DRAFT", "RETURNED"),
        ]
        assert node["allowedActions"] == ["EDIT", "UPLOAD", "SUBMIT", "DELETE"]


async def test_deleted_requests_never_appear(api: Api, factory: Factory, alice: Actor) -> None:
    officer = await factory.customs_user()
    kept = await store_request(factory.database, alice, status=Status.PENDING)
    await store_request(factory.database, alice, deleted_at=utcnow())

    assert await listed(api, alice) == [kept.coordination_no]
    assert await listed(api, officer) == [kept.coordination_no]
    assert (await api.data(COUNT, actor=alice))["coordinations"]["totalCount"] == 1


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
async def variety(factory: Factory, alice: Actor) -> list[Stored]:
    """Requests that differ in every filtered attribute."""
    db = factory.database
    specs: list[dict[str, Any]] = [
        {
            "status": Status.DRAFT,
            "kind": CoordinationType.CCPIT_CERTIFICATE,
            "agreement_code": "02",
            "certificate_no": "CCPIT26E3501000321",
            "created_at": at(1),
        },
        {"status": Status.PENDING, "certificate_no": "K263500000123", "submitted_at": at(2)},
        {
            "status": Status.PENDING,
            "kind": CoordinationType.RULING_DECLARATION,
            "agreement_code": "18",
            "import_country_code": "AUS",
            "import_port_code": "AUSYD",
            "certificate_no": "RD2026350000078",
            "submitted_at": at(3),
        },
        {
            "status": Status.ACCEPTED,
            "kind": CoordinationType.APPROVED_EXPORTER_DECLARATION,
            "agreement_code": "22",
            "certificate_no": "RCAE26350000045",
            "submitted_at": at(4),
        },
        {
            "status": Status.RETURNED,
            "certificate_no": "K263500000999",
            "submitted_at": at(5),
            "export_declaration_no": "35012026E000456007",
        },
        {"status": Status.CONCLUDED, "certificate_no": "K253500000001", "submitted_at": at(-300)},
        {
            "status": Status.RECEIPT_FAILED,
            "kind": CoordinationType.CCPIT_CERTIFICATE,
            "agreement_code": "02",
            "certificate_no": "CCPIT25E0001",
            "submitted_at": at(6),
        },
        {"status": Status.WITHDRAWN, "certificate_no": "K26/3500-7", "submitted_at": at(7)},
    ]
    return [await store_request(db, alice, **spec) for spec in specs]


FILTERS: dict[str, tuple[dict[str, Any], Callable[[Stored, dict[str, Any]], bool]]] = {
    "certificate-prefix": (
        {"certificateNo": "k2635"},
        lambda r, c: c["certificate_no"].startswith("K2635"),
    ),
    "certificate-prefix-with-symbols": (
        {"certificateNo": " k26/35 "},
        lambda r, c: c["certificate_no"].startswith("K26/35"),
    ),
    "certificate-whole": (
        {"certificateNo": "K263500000123"},
        lambda r, c: c["certificate_no"] == "K263500000123",
    ),
    "export-declaration-prefix": (
        {"exportDeclarationNo": "35012026e"},
        lambda r, c: c["export_declaration_no"].startswith("35012026E"),
    ),
    "status-one": ({"status": ["PENDING"]}, lambda r, c: r.status == "PENDING"),
    "status-two": (
        {"status": ["RETURNED", "DRAFT"]},
        lambda r, c: r.status in ("RETURNED", "DRAFT"),
    ),
    "status-empty-is-all": ({"status": []}, lambda r, c: True),
    "type-one": ({"type": ["CCPIT_CERTIFICATE"]}, lambda r, c: r.type == "CCPIT_CERTIFICATE"),
    "type-two": (
        {"type": ["RULING_DECLARATION", "APPROVED_EXPORTER_DECLARATION"]},
        lambda r, c: r.type in ("RULING_DECLARATION", "APPROVED_EXPORTER_DECLARATION"),
    ),
    "agreement": ({"agreementCode": "02"}, lambda r, c: c["agreement_code"] == "02"),
    "submitted-from": (
        {"submittedFrom": "2026-03-05"},
        lambda r, c: bool(r.submitted_at and r.submitted_at >= at(4)),
    ),
    "submitted-to": (
        {"submittedTo": "2026-03-04"},
        lambda r, c: bool(r.submitted_at and r.submitted_at <= at(3)),
    ),
    "submitted-between": (
        {"submittedFrom": "2026-03-04", "submittedTo": "2026-03-06"},
        lambda r, c: bool(r.submitted_at and at(2) < r.submitted_at < at(6)),
    ),
    "submitted-backwards-range": (
        {"submittedFrom": "2026-03-06", "submittedTo": "2026-03-04"},
        lambda r, c: False,
    ),
    "combined": (
        {
            "certificateNo": "K26",
            "status": ["PENDING", "RETURNED", "WITHDRAWN"],
            "type": ["CUSTOMS_CERTIFICATE"],
            "agreementCode": "19",
            "submittedFrom": "2026-03-05",
        },
        lambda r, c: (
            c["certificate_no"].startswith("K26") and r.status in ("RETURNED", "WITHDRAWN")
        ),
    ),
    "no-match": ({"certificateNo": "ZZ"}, lambda r, c: False),
    "drafts-have-no-submission-date": (
        {"status": ["DRAFT"], "submittedTo": "2026-12-31"},
        lambda r, c: False,
    ),
}


@pytest.mark.parametrize("name", FILTERS)
async def test_each_filter_alone_and_combined(
    api: Api, factory: Factory, alice: Actor, variety: list[Stored], name: str
) -> None:
    given, expected = FILTERS[name]
    columns = await _columns(factory, variety)
    wanted = [r for r in submitted_order(variety) if expected(r, columns[r.pk])]

    assert await listed(api, alice, filter=given) == numbers(wanted)
    counted = await api.data(COUNT, {"filter": given}, actor=alice)
    assert counted["coordinations"]["totalCount"] == len(wanted)


async def _columns(factory: Factory, rows: list[Stored]) -> dict[int, dict[str, Any]]:
    async with factory.database.reader() as session:
        found = await session.scalars(
            select(Coordination).where(Coordination.id.in_([r.pk for r in rows]))
        )
        return {
            row.id: {c.key: getattr(row, c.key) for c in Coordination.__table__.columns}
            for row in found
        }


async def test_coordination_number_prefix(api: Api, factory: Factory, alice: Actor) -> None:
    first = await store_request(factory.database, alice, created_at=at(0))
    second = await store_request(factory.database, alice, created_at=at(40))
    assert await listed(api, alice, filter={"coordinationNo": "xt202603"}) == [
        first.coordination_no
    ]
    assert await listed(api, alice, filter={"coordinationNo": second.coordination_no}) == [
        second.coordination_no
    ]
    assert await listed(api, alice, filter={"coordinationNo": "  "}) == numbers([second, first])


async def test_submitted_to_uses_the_china_standard_time_day(
    api: Api, factory: Factory, alice: Actor
) -> None:
    # 23:30 Beijing time on the 5th is 15:30 UTC; midnight starting the 6th is 16:00 UTC the 5th.
    evening = await store_request(
        factory.database,
        alice,
        status=Status.PENDING,
        submitted_at=dt.datetime(2026, 3, 5, 15, 30, tzinfo=dt.UTC),
    )
    midnight = await store_request(
        factory.database,
        alice,
        status=Status.PENDING,
        submitted_at=dt.datetime(2026, 3, 5, 16, 0, tzinfo=dt.UTC),
    )
    morning = await store_request(
        factory.database,
        alice,
        status=Status.PENDING,
        submitted_at=dt.datetime(2026, 3, 4, 16, 0, tzinfo=dt.UTC),
    )

    assert await listed(api, alice, filter={"submittedTo": "2026-03-05"}) == numbers(
        [evening, morning]
    )
    assert await listed(api, alice, filter={"submittedFrom": "2026-03-06"}) == numbers([midnight])
    assert await listed(
        api, alice, filter={"submittedFrom": "2026-03-05", "submittedTo": "2026-03-05"}
    ) == numbers([evening, morning])


async def test_the_first_and_last_days_of_the_calendar_bound_nothing(
    api: Api, factory: Factory, alice: Actor
) -> None:
    # 0001-01-01 begins, in China, before UTC's calendar does; 9999-12-31 has no day after it.
    submitted = await store_request(
        factory.database,
        alice,
        status=Status.PENDING,
        submitted_at=dt.datetime(2026, 3, 5, 15, 30, tzinfo=dt.UTC),
    )
    for bounds in (
        {"submittedFrom": "0001-01-01"},
        {"submittedTo": "9999-12-31"},
        {"submittedFrom": "0001-01-01", "submittedTo": "9999-12-31"},
    ):
        assert await listed(api, alice, filter=bounds) == numbers([submitted]), bounds
    assert await listed(api, alice, filter={"submittedTo": "0001-01-01"}) == []
    assert await listed(api, alice, filter={"submittedFrom": "9999-12-31"}) == []


# --- paging ----------------------------------------------------------------------------------


@pytest.fixture
async def ties(factory: Factory, alice: Actor) -> list[Stored]:
    """Thirteen requests sharing a handful of instants, so that only the id tells many apart."""
    db = factory.database
    rows = []
    for index in range(13):
        instant = at(index % 3)
        if index % 4 == 0:
            rows.append(await store_request(db, alice, created_at=instant))
        else:
            rows.append(
                await store_request(
                    db,
                    alice,
                    status=Status.PENDING,
                    created_at=instant,
                    submitted_at=at(1 + index % 2),
                )
            )
    return rows


def expected_order(rows: list[Stored], field: str, direction: str) -> list[str]:
    descending = direction == "DESC"
    if field == "SUBMITTED_AT":
        return numbers(submitted_order(rows, descending))
    if field == "CREATED_AT":
        return numbers(sorted(rows, key=lambda r: (r.created_at, r.pk), reverse=descending))
    return sorted(numbers(rows), reverse=descending)


ORDERS = list(itertools.product(["SUBMITTED_AT", "CREATED_AT", "COORDINATION_NO"], ["ASC", "DESC"]))


@pytest.mark.parametrize(
    "search",
    [None, {"certificateNo": "k26"}, {"submittedFrom": "2026-03-01", "submittedTo": "2026-03-31"}],
    ids=["all", "prefix", "submitted-range"],
)
@pytest.mark.parametrize(("field", "direction"), ORDERS)
async def test_paging_forward_and_backward_visits_every_row_once_in_the_same_order(
    api: Api,
    factory: Factory,
    alice: Actor,
    ties: list[Stored],
    field: str,
    direction: str,
    search: dict[str, Any] | None,
) -> None:
    order: dict[str, Any] = {"field": field, "direction": direction}
    # A prefix search (on SQLite) and a date range listed by another key read rows another way:
    # they must page the same.
    if search and "certificateNo" in search:
        await store_request(factory.database, alice, certificate_no="E263500000001")
    if search and "submittedFrom" in search:
        await store_request(factory.database, alice, status=Status.PENDING, submitted_at=at(-9))
        ties = [row for row in ties if row.submitted_at is not None]
    expected = expected_order(ties, field, direction)

    forward: list[tuple[str, str]] = []
    after = None
    while True:
        variables = {"orderBy": order, "first": 3, "after": after, "filter": search}
        data = await api.data(LIST, variables, actor=alice)
        connection = data["coordinations"]
        forward += [(e["cursor"], e["node"]["coordinationNo"]) for e in connection["edges"]]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert [number for _, number in forward] == expected

    backward: list[tuple[str, str]] = []
    before = None
    while True:
        variables = {"orderBy": order, "last": 3, "before": before, "filter": search}
        data = await api.data(LIST, variables, actor=alice)
        connection = data["coordinations"]
        backward = [
            (e["cursor"], e["node"]["coordinationNo"]) for e in connection["edges"]
        ] + backward
        info = connection["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert backward == forward, "the same edges, cursors included, in the same order"


async def test_a_page_between_two_cursors(api: Api, alice: Actor, ties: list[Stored]) -> None:
    everything = await api.data(LIST, {"first": 13}, actor=alice)
    edges = everything["coordinations"]["edges"]
    between = await listed(
        api, alice, after=edges[2]["cursor"], before=edges[9]["cursor"], first=100
    )
    assert between == [e["node"]["coordinationNo"] for e in edges[3:9]]
    last_two = await listed(api, alice, after=edges[2]["cursor"], before=edges[9]["cursor"], last=2)
    assert last_two == [e["node"]["coordinationNo"] for e in edges[7:9]]


async def test_page_size_defaults_to_20_and_stays_within_1_to_100(
    api: Api, factory: Factory, alice: Actor
) -> None:
    for index in range(21):
        await store_request(factory.database, alice, created_at=at(index))
    assert len(await listed(api, alice)) == 20

    for variables, argument in [
        ({"first": 101}, "first"),
        ({"first": 0}, "first"),
        ({"last": 101}, "last"),
        ({"last": -1}, "last"),
        ({"first": 5, "last": 5}, "last"),
    ]:
        error = await refusal(api, alice, **variables)
        assert error["extensions"]["argument"] == argument
    assert (await refusal(api, alice, first=101))["message"] == "first应在1到100之间"
    assert len(await listed(api, alice, first=100)) == 21


async def test_cursors_from_another_query_or_altered_are_refused(
    api: Api, factory: Factory, alice: Actor
) -> None:
    for index in range(3):
        await store_request(factory.database, alice, status=Status.PENDING, submitted_at=at(index))
    page = await api.data(LIST, {"first": 1}, actor=alice)
    cursor = page["coordinations"]["pageInfo"]["endCursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()

    for variables in [
        {"after": cursor, "orderBy": {"direction": "ASC"}},
        {"after": cursor, "orderBy": {"field": "CREATED_AT"}},
        {"after": cursor, "filter": {"status": ["PENDING"]}},
        {"before": cursor, "filter": {"certificateNo": "K"}},
        {"after": altered},
        {"after": "not a cursor"},
        {"before": ""},
    ]:
        error = await refusal(api, alice, **variables)
        assert error["extensions"]["argument"] in ("after", "before")
        assert "不是本查询的游标" in error["message"]
    assert len(await listed(api, alice, after=cursor)) == 2


# --- tenancy ---------------------------------------------------------------------------------


async def test_an_enterprise_user_sees_only_their_enterprise_whatever_they_pass(
    api: Api, factory: Factory, alice: Actor, mallory: Actor
) -> None:
    mine = [
        await store_request(factory.database, mallory, status=Status.PENDING, submitted_at=at(i))
        for i in (1, 3)
    ]
    theirs = [
        await store_request(factory.database, alice, status=Status.PENDING, submitted_at=at(i))
        for i in (0, 2, 4)
    ]

    assert await listed(api, mallory) == numbers(mine[::-1])
    assert await listed(api, mallory, filter={"enterpriseUscc": alice.uscc}) == []
    assert await listed(api, mallory, filter={"enterpriseUscc": mallory.uscc}) == numbers(
        mine[::-1]
    )
    counted = await api.data(COUNT, {"filter": {"enterpriseUscc": alice.uscc}}, actor=mallory)
    assert counted["coordinations"] == {"totalCount": 0, "nodes": []}

    # A cursor is a position, not a key: Alice's cursors show Mallory only Mallory's requests.
    alices_page = await api.data(LIST, {"first": 1}, actor=alice)
    cursor = alices_page["coordinations"]["pageInfo"]["endCursor"]
    assert await listed(api, mallory, after=cursor) == numbers(mine[::-1])
    assert await listed(api, mallory, before=cursor, last=5) == []
    assert set(await listed(api, alice, first=100)) == set(numbers(theirs))


async def test_customs_list_every_enterprise_and_may_filter_by_one(
    api: Api, factory: Factory, alice: Actor, mallory: Actor
) -> None:
    officer = await factory.customs_user()
    a = await store_request(factory.database, alice, created_at=at(0))
    m = await store_request(factory.database, mallory, status=Status.ACCEPTED, submitted_at=at(1))

    assert await listed(api, officer) == numbers([m, a])
    assert await listed(api, officer, filter={"enterpriseUscc": alice.uscc.lower()}) == [
        a.coordination_no
    ]
    assert await listed(api, officer, filter={"enterpriseUscc": "91350100M000100Y43"}) == []
    nodes = await api.data(
        "{ coordinations { nodes { ... on Coordination { allowedActions } } } }", actor=officer
    )
    assert nodes["coordinations"]["nodes"] == [
        {"allowedActions": ["RETURN", "CONCLUDE"]},
        {"allowedActions": []},
    ]


async def test_listing_needs_a_login(api: Api) -> None:
    body = await api.post(LIST)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- SQL per page ----------------------------------------------------------------------------

VIEWER = "{ viewer { username } }"


PAGE = (
    ALL_FIELDS
    + """
query Page($first: Int) {
  coordinations(first: $first) {
    edges { cursor node { ...AllFields } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
)


async def test_a_page_costs_the_same_few_statements_whatever_its_size(
    api: Api, factory: Factory, alice: Actor, statements: list[str]
) -> None:
    officer = await factory.customs_user()
    for index in range(60):
        owner = alice if index % 2 else await factory.enterprise_user()
        await store_request(
            factory.database,
            owner,
            status=list(Status)[index % 7],
            created_at=at(index),
            attachments=2,
        )

    counts = {}
    for actor in (alice, officer):
        await api.data(VIEWER, actor=actor)  # the viewer is read once, then remembered
    for actor, size in [(alice, 5), (alice, 50), (officer, 5), (officer, 50)]:
        statements.clear()
        data = await api.data(PAGE, {"first": size}, actor=actor)
        assert len(data["coordinations"]["edges"]) == min(size, 30 if actor is alice else 60)
        counts[actor.username, size] = len(statements)
    assert counts[alice.username, 5] == counts[alice.username, 50]
    assert counts[officer.username, 5] == counts[officer.username, 50]
    # the page with its enterprises and its attachments (on PostgreSQL one statement, where the
    # driver reads the attachments as arrays of records; two elsewhere), its history
    assert counts[alice.username, 5] == (2 if BACKEND == "postgresql" else 3), statements

    statements.clear()
    await api.data(PAGE.replace("pageInfo {", "totalCount pageInfo {"), {"first": 50}, actor=alice)
    assert len(statements) == counts[alice.username, 50] + 1, (
        "totalCount costs one statement more, and only when asked for"
    )


async def test_previous_page_existence_is_checked_only_when_asked_for(
    api: Api, factory: Factory, alice: Actor, statements: list[str]
) -> None:
    for index in range(4):
        await store_request(factory.database, alice, created_at=at(index))
    cursor = (await api.data(LIST, {"first": 2}, actor=alice))["coordinations"]["pageInfo"][
        "endCursor"
    ]
    statements.clear()
    await api.data(
        "query($a: String) { coordinations(after: $a) { nodes { __typename } } }",
        {"a": cursor},
        actor=alice,
    )
    without = len(statements)
    statements.clear()
    data = await api.data(
        "query($a: String) { coordinations(after: $a) { pageInfo { hasPreviousPage } } }",
        {"a": cursor},
        actor=alice,
    )
    assert data["coordinations"]["pageInfo"]["hasPreviousPage"] is True
    assert len(statements) == without + 1


async def test_an_emptied_past_makes_has_previous_page_false(
    api: Api, factory: Factory, alice: Actor
) -> None:
    rows = [await store_request(factory.database, alice, created_at=at(i)) for i in range(3)]
    cursor = (await api.data(LIST, {"first": 1}, actor=alice))["coordinations"]["pageInfo"][
        "endCursor"
    ]
    async with factory.database.writer() as session, session.begin():
        await session.execute(
            update(Coordination).where(Coordination.id == rows[2].pk).values(deleted_at=at(9))
        )
    data = await api.data(LIST, {"first": 5, "after": cursor}, actor=alice)
    assert data["coordinations"]["pageInfo"]["hasPreviousPage"] is False
    assert len(data["coordinations"]["edges"]) == 2


async def test_attachments_and_history_are_read_only_when_selected_through_any_fragment(
    api: Api, factory: Factory, alice: Actor, statements: list[str]
) -> None:
    await store_request(factory.database, alice, status=Status.PENDING, attachments=2)
    queries = {
        "neither": "{ coordinations { nodes { ... on Coordination { coordinationNo } } } }",
        "inline": "{ coordinations { edges { node { ... on CcpitCertificateRequest { id }"
        " ... on CustomsCertificateRequest { history { to } attachments { slot } } } } } }",
        "named": "fragment F on Coordination { history { to } }"
        " { coordinations { nodes { ...F } } }",
    }
    seen = {}
    await api.data(VIEWER, actor=alice)  # the viewer is read once, then remembered
    for name, query in queries.items():
        statements.clear()
        seen[name] = (await api.data(query, actor=alice))["coordinations"], list(statements)

    def reads(name: str, table: str) -> bool:
        return any(f"FROM {table}" in statement for statement in seen[name][1])

    assert len(seen["neither"][1]) == 1, "the page"
    assert not reads("neither", "attachments")
    assert not reads("neither", "status_changes")
    assert seen["inline"][0]["edges"][0]["node"] == {
        "history": [{"to": "DRAFT"}, {"to": "PENDING"}],
        "attachments": [{"slot": "ORIGIN_PROOF"}, {"slot": "IMPORT_DECLARATION"}],
    }
    assert reads("inline", "attachments")
    assert reads("inline", "status_changes")
    # (on PostgreSQL the page reads its attachments itself: one statement fewer)
    assert len(seen["inline"][1]) == (2 if BACKEND == "postgresql" else 3)
    assert seen["named"][0]["nodes"] == [{"history": [{"to": "DRAFT"}, {"to": "PENDING"}]}]
    assert reads("named", "status_changes")
    assert not reads("named", "attachments")
    assert len(seen["named"][1]) == 2


async def test_several_lists_in_one_request_take_turns_on_the_database(
    api: Api, factory: Factory, alice: Actor
) -> None:
    for index in range(6):
        await store_request(factory.database, alice, status=list(Status)[index], attachments=1)
    query = """{
      drafts: coordinations(filter: {status: [DRAFT]}) { totalCount nodes { __typename } }
      pending: coordinations(filter: {status: [PENDING]}) { totalCount }
      all: coordinations(first: 3) { nodes { ... on Coordination { attachments { slot } } } }
      viewer { username }
    }"""
    data = await api.data(query, actor=alice)
    assert data["drafts"]["totalCount"] == data["pending"]["totalCount"] == 1
    assert data["all"]["nodes"] == [{"attachments": [{"slot": "ORIGIN_PROOF"}]}] * 3


RELATED = {"attachments", "status_changes"}


@pytest.mark.parametrize(
    ("selection", "related"),
    [
        ("__typename", set()),
        ("...on Coordination { attachments { slot } }", {"attachments"}),
        ("...Files", {"attachments"}),
        ("...on Coordination { history { to } attachments { slot } }", RELATED),
    ],
)
async def test_related_rows_are_read_only_when_the_document_selects_them(
    api: Api,
    factory: Factory,
    alice: Actor,
    statements: list[str],
    selection: str,
    related: set[str],
) -> None:
    await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    document = f"query {{ coordinations(first: 5) {{ nodes {{ {selection} }} }} }}"
    if "...Files" in selection:
        document += "\nfragment Files on Coordination { attachments { slot } }"
    # The page; its history; its attachments (on PostgreSQL read by the page's own statement).
    expected = (
        1 + ("status_changes" in related) + ("attachments" in related and BACKEND != "postgresql")
    )
    for _ in range(2):  # the full way, then the prepared one (schema/prepared.py)
        statements.clear()
        await api.data(document, actor=alice)
        read = [s for s in statements if "users" not in s]
        assert {table for table in RELATED if any(f"FROM {table}" in s for s in read)} == related
        assert len(read) == expected, statements
