"""Micro-benchmark of the compiled executor (``schema/executor``) on the list page's document.

    .venv/bin/python bench/executor.py [--repeat 2000] [--rows 20]

Executes ``bench/list.py``'s QUERY (a first page: 20 requests of the four types, each with its
agreement and two attachments, and pageInfo) over an in-memory page — no database, no HTTP: the
objects are built once by the app's own ``schema.types.coordination`` from plain records, and a
copy of the schema's types is served by a root resolver that returns them — both ways:

    compiled       the app's executor (``build_schema()``'s ``execution_context_class``)
    graphql-core   Strawberry's own executor (``build_schema(compiled=False)``)

and prints the CPU time per execution (``time.process_time`` of this process, the least of five
rounds of ``--repeat``/5 executions) of graphql-core's ``execute`` alone (the document parsed and
validated once) and of Strawberry's ``Schema.execute`` (with its parse and validation caches),
after checking that both give the same JSON; and, to show what completing the rows costs apart
from the root field (variables, the resolver's arguments), of ``execute`` on an empty page.
"""

import argparse
import asyncio
import datetime as dt
import json
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import strawberry
from graphql import DocumentNode, ExecutionResult, execute, parse, validate
from strawberry.extensions import ParserCache, ValidationCache

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.list import QUERY  # noqa: E402
from db.models import AttachmentSlot, CoordinationType  # noqa: E402
from db.status import Role, Status  # noqa: E402
from schema import details, types  # noqa: E402
from schema.executor.strawberry import StrawberryCompiledExecutor  # noqa: E402
from schema.listing import (  # noqa: E402
    CoordinationConnection,
    CoordinationEdge,
    CoordinationFilter,
    PageInfo,
)
from schema.messages import Language  # noqa: E402
from schema.presentation import Presentation  # noqa: E402

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
VARIABLES = {"filter": {"status": ["ACCEPTED", "RETURNED"]}}


def page(rows: int) -> CoordinationConnection:
    """A first page as ``coordinations`` builds it, from records shaped like the list's."""
    presentation = Presentation(
        Role.ENTERPRISE,
        Language.ZH,
        lambda pk: f"/attachments/{pk}?s=x",
        lambda pk: f"/attachments/{pk}/preview?s=x",
    )
    kinds = list(CoordinationType)
    edges = []
    for index in range(rows):
        kind = kinds[index % len(kinds)]
        record = SimpleNamespace(
            id=index + 1,
            coordination_no=f"XT20260301{index:08d}",
            type=kind,
            status=Status.ACCEPTED if index % 2 else Status.RETURNED,
            certificate_no="K263500000123",
            agreement_code="19",
            export_declaration_no=f"350120260{index:09d}",
            import_declaration_no="KR-2026-0012345",
            import_country_code=None if kind is CoordinationType.CCPIT_CERTIFICATE else "KOR",
            import_port_code=None if kind is CoordinationType.CCPIT_CERTIFICATE else "KRPUS",
            approved_exporter_no="AE3501000012",
            ruling_no="XM2026-0031",
            contact_name="林晓",
            contact_phone="13812345678",
            reason="进口国海关拒绝给予协定税率。",
            customs_remark=None,
            version=2,
            created_at=T0,
            updated_at=T0,
            submitted_at=T0 + dt.timedelta(hours=index),
            enterprise=SimpleNamespace(uscc="91350200MA2XXXXX1X", name="厦门测试进出口有限公司"),
            attachments=[
                SimpleNamespace(
                    id=index * 10 + number,
                    slot=slot,
                    file_name=f"{slot.value.lower()}.pdf",
                    content_type="application/pdf",
                    size=1024,
                    sha256="0" * 64,
                    created_at=T0,
                )
                for number, slot in enumerate(list(AttachmentSlot)[:2])
            ],
            history=[],
        )
        node = types.coordination(record, presentation)  # type: ignore[arg-type]
        edges.append(CoordinationEdge(cursor=f"cursor{index}", node=node))
    return CoordinationConnection(
        edges=edges,
        nodes=[edge.node for edge in edges],
        page_info=PageInfo(
            has_next_page=True,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total=None,
    )


def schemas(result: CoordinationConnection) -> dict[str, strawberry.Schema]:
    @strawberry.type
    class Query:
        @strawberry.field
        async def coordinations(
            self,
            filter: CoordinationFilter | None = None,
            first: int | None = None,
            after: str | None = None,
        ) -> CoordinationConnection:
            return result

    def schema(executor: Any) -> strawberry.Schema:
        return strawberry.Schema(
            query=Query,
            types=[*types.OBJECT_TYPES.values(), details.Attachment],
            extensions=[lambda: ParserCache(maxsize=16), lambda: ValidationCache(maxsize=16)],
            execution_context_class=executor,
        )

    return {"compiled": schema(StrawberryCompiledExecutor), "graphql-core": schema(None)}


def cpu_per_run(run: Callable[[], Awaitable[Any]], repeat: int, rounds: int = 5) -> float:
    """Microseconds of CPU per run, after a warm-up: the least of ``rounds`` rounds (the machine
    may be shared; the least is the run least disturbed)."""

    async def runs(count: int) -> float:
        start = time.process_time()
        for _ in range(count):
            await run()
        return (time.process_time() - start) / count * 1e6

    asyncio.run(runs(max(50, repeat // 10)))
    return min(asyncio.run(runs(max(1, repeat // rounds))) for _ in range(rounds))


def as_json(result: Any) -> str:
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=20)
    arguments = parser.parse_args()
    print("$", shlex.join([".venv/bin/python", "bench/executor.py", *sys.argv[1:]]))
    full, empty = schemas(page(arguments.rows)), schemas(page(0))
    document = parse(QUERY)
    answers = {}
    for name, schema in full.items():
        assert not validate(schema._schema, document)
        result = asyncio.run(schema.execute(QUERY, variable_values=VARIABLES))  # type: ignore[arg-type]
        answers[name] = as_json(result)
    assert answers["compiled"] == answers["graphql-core"], "the two executors disagree"
    size = len(answers["compiled"].encode())
    print(f"the list page: {arguments.rows} rows, {size} bytes of JSON, the same both ways")
    print("CPU µs per execution:")
    print(f"{'':<22}{'execute()':>12}{'empty page':>12}{'the rows':>12}{'Schema.execute()':>18}")
    figures = {}
    for name in full:
        page_core = cpu_per_run(partial(graphql_core, full[name], document), arguments.repeat)
        empty_core = cpu_per_run(partial(graphql_core, empty[name], document), arguments.repeat)
        whole = cpu_per_run(partial(strawberry_execute, full[name]), arguments.repeat)
        figures[name] = (page_core, empty_core, page_core - empty_core, whole)
        print(f"{name:<22}" + "".join(f"{figure:>12.0f}" for figure in figures[name][:3]), end="")
        print(f"{whole:>18.0f}")
    ratios = [p / c for c, p in zip(figures["compiled"], figures["graphql-core"], strict=True)]
    print(f"{'graphql-core/compiled':<22}{ratios[0]:>11.1f}×{'':>12}{ratios[2]:>11.1f}×", end="")
    print(f"{ratios[3]:>17.1f}×")


async def graphql_core(schema: strawberry.Schema, document: DocumentNode) -> ExecutionResult:
    result = execute(
        schema._schema,
        document,
        variable_values=VARIABLES,
        executor_class=schema.execution_context_class,
    )
    return await result if not isinstance(result, ExecutionResult) else result


async def strawberry_execute(schema: strawberry.Schema) -> Any:
    return await schema.execute(QUERY, variable_values=VARIABLES)


if __name__ == "__main__":
    main()
