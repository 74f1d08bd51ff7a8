"""Round trips to PostgreSQL per request, counted at the wire (``tests.pgwire``): every ``Query``
and ``Sync`` message the app sends, BEGIN/COMMIT and pings included. A regression here is a
regression of latency under load, whatever the statements are."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from config.settings import Settings
from db.status import Status
from tests.conftest import MakeApi
from tests.pgwire import CountingProxy, counting_proxy
from tests.support import (
    Actor,
    Api,
    Factory,
    attach,
    export_declaration_no,
    register_certificate,
    store_request,
    valid_input,
)

pytestmark = pytest.mark.postgres_only

PAGE = """query {
  coordinations(first: 20, filter: {status: [ACCEPTED, RETURNED]}) {
    edges { cursor node { ... on Coordination {
      id coordinationNo status certificateNo submittedAt attachments { id slot fileName size }
    } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SAVE = """mutation($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) {
    coordination { ... on Coordination { id coordinationNo status version } }
    message errors { code }
  }
}"""


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[CountingProxy]:
    """Between the app and the suite's PostgreSQL server, wherever that runs."""
    server = make_url(settings.database_url)
    async with counting_proxy(server.host or "127.0.0.1", server.port or 5432) as running:
        yield running


@pytest.fixture
async def proxied_api(make_api: MakeApi, settings: Settings, proxy: CountingProxy) -> Api:
    """The app, on the same database, through the counting proxy."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    return await make_api(database_url=url.render_as_string(hide_password=False))


async def _round_trips(
    proxy: CountingProxy,
    api: Api,
    query: str,
    actor: Actor,
    variables: dict[str, Any] | None = None,
) -> int:
    before = proxy.counts.round_trips
    body = await api.post(query, variables, actor=actor)
    assert "errors" not in body, body
    return proxy.counts.round_trips - before


async def test_a_list_page_with_its_attachments_is_one_round_trip(
    proxied_api: Api, proxy: CountingProxy, factory: Factory, alice: Actor
) -> None:
    for index in range(25):
        await store_request(
            factory.database, alice, status=(Status.ACCEPTED, Status.RETURNED)[index % 2],
            attachments=2,
        )  # fmt: skip
    # The first request reads the viewer and prepares the statements (once per connection).
    await _round_trips(proxy, proxied_api, PAGE, alice)
    trips = [await _round_trips(proxy, proxied_api, PAGE, alice) for _ in range(3)]
    assert trips == [1, 1, 1], "the page with its attachments; no BEGIN, ROLLBACK or ping"


async def test_a_save_is_at_most_eight_round_trips(
    proxied_api: Api, proxy: CountingProxy, alice: Actor
) -> None:
    variables = {"input": valid_input("CUSTOMS_CERTIFICATE")}
    await _round_trips(proxy, proxied_api, SAVE, alice, variables)
    trips = [await _round_trips(proxy, proxied_api, SAVE, alice, variables) for _ in range(3)]
    # BEGIN, the certificate, the day's counter, the request, its NOTIFY (subscriptions), its
    # history, the request read back, COMMIT.
    assert trips == [8, 8, 8]


SUBMIT = """mutation($id: ID!) {
  submitCoordination(id: $id) {
    coordination { ... on Coordination { id status version } }
    errors { code }
  }
}"""
RECEIPT = """mutation($input: RecordCustomsReceiptInput!) {
  recordCustomsReceipt(input: $input) {
    coordination { ... on Coordination { id status version } }
    errors { code }
  }
}"""


async def test_a_submit_and_a_customs_receipt_are_at_most_eight_round_trips_each(
    proxied_api: Api, proxy: CountingProxy, factory: Factory, alice: Actor
) -> None:
    customs = await factory.customs_user()
    submitted = []
    for index in range(4):  # the first of each warms the connection's prepared statements
        values = valid_input(
            "CUSTOMS_CERTIFICATE", exportDeclarationNo=export_declaration_no(index)
        )
        await register_certificate(factory.database, alice, values)
        saved = await proxied_api.create(alice, values)
        await attach(factory.database, saved["id"])
        trips = await _round_trips(proxy, proxied_api, SUBMIT, alice, {"id": saved["id"]})
        submitted.append((saved, trips))
    receipts = []
    for saved, _ in submitted:
        number = (await proxied_api.get(alice, id=saved["id"]))["coordinationNo"]
        variables = {"input": {"coordinationNo": number, "outcome": "ACCEPTED"}}
        receipts.append(await _round_trips(proxy, proxied_api, RECEIPT, customs, variables))
    assert all(trips <= 8 for _, trips in submitted[1:]), [trips for _, trips in submitted]
    assert all(trips <= 8 for trips in receipts[1:]), receipts
