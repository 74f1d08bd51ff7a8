"""The compiled executor answers every document as graphql-core does, on the real schema and data.

Two apps on one database, the same settings but for ``compiled_executor``; requests of the four
types in every status, with attachments and history, one of them made and submitted through the
API; Hypothesis draws documents (``documents.py``) and each is sent, as an enterprise user or as
customs, to both apps. The two responses must be the same JSON text: keys in the same order, errors
with the same messages, locations and paths (but for what changes with every request: a masked
error's request id, a download link's expiry).
"""

import asyncio
import dataclasses
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from api.app import create_app
from config.limits import QueryLimits
from config.settings import Settings
from db.clock import utcnow
from db.database import Database
from db.models import CoordinationType
from db.status import Status
from schema import Schema, ids
from schema.executor import plan_counts
from tests.executor.documents import Case, documents
from tests.support import TYPENAMES, Actor, Api, Factory, sample, store_request, valid_input

EXAMPLES = 200
SIGNED = re.compile(r"expires=\d+&signature=[\w-]+")
ROOMY = QueryLimits(
    max_depth=20,
    max_aliases=500,
    max_tokens=20_000,
    max_directives=500,
    max_cost=10_000_000,
    max_repeated_fields=100,
)
IDS_AND_NUMBERS = """
{
  coordinations(first: 100) {
    nodes { ... on Coordination { id coordinationNo attachments { id } } }
  }
}
"""


@dataclass
class Twins:
    compiled: Api
    plain: Api
    schemas: tuple[Schema, Schema]


@pytest.fixture
async def twins(app: Starlette, settings: Settings) -> AsyncIterator[Twins]:
    """The same app twice, one completing results with plans and one with graphql-core alone."""
    apps = [
        create_app(dataclasses.replace(settings, query_limits=ROOMY, compiled_executor=compiled))
        for compiled in (True, False)
    ]
    async with (
        apps[0].router.lifespan_context(apps[0]),
        apps[1].router.lifespan_context(apps[1]),
        _client(apps[0]) as compiled,
        _client(apps[1]) as plain,
    ):
        yield Twins(Api(compiled), Api(plain), (apps[0].state.schema, apps[1].state.schema))


def _client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://xhsz.test")


async def seed(database: Database, api: Api, alice: Actor) -> None:
    """Requests of every type and every status, with up to four attachments, some with remarks,
    and one saved, given two attachments and submitted through the API."""
    statuses = list(Status)
    for index in range(14):
        status = statuses[index % len(statuses)]
        await store_request(
            database,
            alice,
            status=status,
            kind=list(CoordinationType)[index % 4],
            attachments=index % 5,
            customs_remark="请补充材料" if status in (Status.RETURNED, Status.CONCLUDED) else None,
            # Other days than today's, whose numbers the API's save takes.
            created_at=utcnow() - dt.timedelta(days=30 + index, hours=index),
        )
    made = await api.create(alice, valid_input("RULING_DECLARATION"))
    await api.attach(alice, made["id"], "ORIGIN_PROOF", sample("pdf", 2048), "证明.pdf")
    await api.attach(alice, made["id"], "IMPORT_DECLARATION", sample("png", 512), "报关单.png")
    await api.submit(alice, made["id"])


def normalized(body: dict[str, Any]) -> str:
    """The response as JSON text, keys in their order. Two things differ from one request to the
    next whatever the executor: a masked error's request id, and a download link's expiry (the
    second it was signed, so its signature too)."""
    for error in body.get("errors") or ():
        if "requestId" in error.get("extensions", {}):
            error["extensions"]["requestId"] = "…"
    return SIGNED.sub("expires=…&signature=…", json.dumps(body, ensure_ascii=False))


async def test_compiled_and_plain_executors_give_the_same_responses(
    twins: Twins, factory: Factory, database: Database, api: Api
) -> None:
    alice = await factory.enterprise_user()
    customs = await factory.customs_user()
    await seed(database, api, alice)
    listed = (await api.data(IDS_AND_NUMBERS, actor=alice))["coordinations"]["nodes"]
    assert len(listed) == 15
    ids_ = [node["id"] for node in listed] + [
        attachment["id"] for node in listed for attachment in node["attachments"]
    ]
    ids_.append(ids.encode(TYPENAMES["CCPIT_CERTIFICATE"], 999_999))  # no such request
    numbers = [node["coordinationNo"] for node in listed]
    loop = asyncio.get_running_loop()

    async def both(case: Case, actor: Actor, language: str) -> tuple[str, str]:
        answers = [
            await side.post(case.query, case.variables, actor=actor, language=language)
            for side in (twins.compiled, twins.plain)
        ]
        return normalized(answers[0]), normalized(answers[1])

    @given(
        case=documents(ids_, numbers),
        actor=st.sampled_from((alice, customs)),
        language=st.sampled_from(("zh-CN", "en")),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Case, actor: Actor, language: str) -> None:
        answer = asyncio.run_coroutine_threadsafe(both(case, actor, language), loop)
        compiled, plain = answer.result(timeout=60)
        assert compiled == plain
        assert "GRAPHQL_VALIDATION_FAILED" not in compiled, "the strategy drew an invalid document"

    # Hypothesis runs synchronously: in a thread, sending each request to this test's event loop.
    await asyncio.to_thread(check)
    planned, left = plan_counts(twins.schemas[0]._schema)
    assert planned > EXAMPLES / 2, (planned, left)
    assert plan_counts(twins.schemas[1]._schema) == (0, 0), "compiled_executor=False plans nothing"
