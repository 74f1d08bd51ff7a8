"""Micro-benchmark of the compiled executor (``schema/executor``) on the list page's document.

    .venv/bin/python bench/executor.py [--repeat 2000] [--rows 20]

Executes ``bench/list.py``'s QUERY (a first page: 20 requests of the four types, each with its
agreement and two attachments, and pageInfo) over an in-memory page — no database, no HTTP: the
objects are built once by the app's own ``schema.types.coordination`` from plain records, and a
copy of the schema's types is served by a root resolver that returns them — both ways:

    compiled       the app's executor (``build_schema()``'s ``execution_context_class``)
    graphql-core   Strawberry's own executor (``build_schema(compiled=False)``)

and prints the CPU time (``time.process_time``, this process) per execution, for graphql-core's
``execute`` alone (document parsed and validated once) and for Strawberry's ``Schema.execute``
(with its parse and validation caches), after checking that both give the same JSON.
"""

import argparse
import asyncio
import datetime as dt
import json
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import strawberry
from graphql import ExecutionResult, execute, parse, validate
from strawberry.extensions import ParserCache, ValidationCache

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.list import QUERY  # noqa: E402
from db.models import AttachmentSlot, CoordinationType  # noqa: E402
from db.status import Role, Status  # noqa: E402
from schema import types  # noqa: E402
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
    presentation = Presentation(Role.ENTERPRISE, Language.ZH, lambda pk: f"/attachments/{pk}?s=x")
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
            start_cursor=edges[0].cursor,
            end_cursor=edges[-1].cursor,
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
            types=[*types.OBJECT_TYPES.values(), types.Attachment],
            extensions=[lambda: ParserCache(maxsize=16), lambda: ValidationCache(maxsize=16)],
            execution_context_class=executor,
        )

    return {"compiled": schema(StrawberryCompiledExecutor), "graphql-core": schema(None)}


def cpu_per_run(run: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Microseconds of CPU per run, after a warm-up."""

    async def runs(count: int) -> None:
        for _ in range(count):
            await run()

    asyncio.run(runs(max(50, repeat // 10)))
    start = time.process_time()
    asyncio.run(runs(repeat))
    return (time.process_time() - start) / repeat * 1e6


def as_json(result: Any) -> str:
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=20)
    arguments = parser.parse_args()
    print("$", shlex.join([".venv/bin/python", "bench/executor.py", *sys.argv[1:]]))
    found = schemas(page(arguments.rows))
    document = parse(QUERY)
    answers = {}
    for name, schema in found.items():
        assert not validate(schema._schema, document)
        answers[name] = as_json(
            asyncio.run(schema.execute(QUERY, variable_values=VARIABLES))  # type: ignore[arg-type]
        )
    assert answers["compiled"] == answers["graphql-core"], "the two executors disagree"
    size = len(answers["compiled"].encode())
    print(f"the list page: {arguments.rows} rows, {size} bytes of JSON, the same both ways")
    print(f"{'executor':<14}{'execute() µs':>16}{'Schema.execute() µs':>22}")
    figures = {}
    for name, schema in found.items():

        async def graphql_core(schema: strawberry.Schema = schema) -> ExecutionResult:
            result = execute(
                schema._schema,
                document,
                variable_values=VARIABLES,
                is_awaitable=None,
                executor_class=schema.execution_context_class,
            )
            return await result if not isinstance(result, ExecutionResult) else result

        async def strawberry_(schema: strawberry.Schema = schema) -> Any:
            return await schema.execute(QUERY, variable_values=VARIABLES)

        figures[name] = (
            cpu_per_run(graphql_core, arguments.repeat),
            cpu_per_run(strawberry_, arguments.repeat),
        )
        print(f"{name:<14}{figures[name][0]:>16.0f}{figures[name][1]:>22.0f}")
    compiled, plain = figures["compiled"], figures["graphql-core"]
    print(f"{'ratio':<14}{plain[0] / compiled[0]:>15.1f}×{plain[1] / compiled[1]:>21.1f}×")


if __name__ == "__main__":
    main()
