"""The certificate registry as the viewer sees it: ``certificate(certificateNo)`` for autofill and
``certificates(search, first, after)`` for the picker, only ever the viewer's enterprise's.

A customs officer belongs to no enterprise and owns no certificate: ``certificate`` is null and
``certificates`` an empty list for them, exactly as for an enterprise without certificates.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import certificates, models, queries
from db.identity import Viewer
from db.models import CertificateKind
from schema import basics, types
from schema.context import BadUserInput, Context
from schema.cursors import CertificateCursors
from schema.listing import PageInfo
from schema.messages import BAD_CURSOR, CERTIFICATE_KIND_LABELS, Language, label
from schema.paging import DEFAULT_FIRST, check_first
from schema.presentation import Presentation
from schema.selections import Selected, selected


def _kind_label(self: "Certificate") -> str:
    # Computed only when selected.
    return label(CERTIFICATE_KIND_LABELS[self.kind], self.language)


@strawberry.type(
    description="证书: a certificate or declaration from the certificate registry (证书申请系统)."
)
class Certificate:
    certificate_no: str = strawberry.field(
        description="原产地证书号 / 原产地声明编号: the number, upper-cased, 1–40 of A-Z 0-9 - /."
    )
    kind: CertificateKind = strawberry.field(description="证书类型: what kind it is.")
    kind_label: str = strawberry.field(
        resolver=_kind_label,
        description="证书类型名称: the kind's name in the viewer's language (海关原产地证书 / "
        "Customs certificate of origin).",
    )
    agreement: basics.TradeAgreement = strawberry.field(
        description="优惠贸易协定: the agreement it was issued under."
    )
    import_country: basics.Country = strawberry.field(
        description="进口国家/地区: the importing country it was issued for."
    )
    issued_on: dt.date = strawberry.field(description="签发日期: the day it was issued.")
    export_declaration_nos: list[str] = strawberry.field(
        description="关联出口报关单号: the export declarations (18 characters each) linked to it "
        "in the certificate system."
    )
    language: strawberry.Private[Language]
    cited: strawberry.Private[list[types.CoordinationMember] | None] = None

    @strawberry.field(
        description="引用该证书的协调申请: your requests that cite this certificate, newest "
        "first (every request type, whatever its status; deleted ones excepted)."
    )
    def coordinations(self) -> list[types.CoordinationRequest]:
        if self.cited is None:
            raise RuntimeError("coordinations were not loaded although selected")
        return list(self.cited)

    @classmethod
    def of(
        cls,
        row: models.Certificate,
        language: Language,
        cited: list[types.CoordinationMember] | None = None,
    ) -> "Certificate":
        return cls(
            certificate_no=row.certificate_no,
            kind=row.kind,
            agreement=basics.trade_agreement(row.agreement_code),
            import_country=basics.country(row.import_country_code),
            issued_on=row.issued_on,
            export_declaration_nos=row.linked_declarations,
            language=language,
            cited=cited,
        )


@strawberry.type(description="证书列表的一项 (an edge of the certificate list, Relay).")
class CertificateEdge:
    cursor: str = strawberry.field(description="游标: pass as `after` to read on from here.")
    node: Certificate = strawberry.field(description="证书: the certificate.")


@strawberry.type(description="证书列表 (a page of your registry certificates, Relay connection).")
class CertificateConnection:
    edges: list[CertificateEdge] = strawberry.field(
        description="本页（含游标）: the page, with cursors."
    )
    nodes: list[Certificate] = strawberry.field(description="本页证书: the page's certificates.")
    page_info: PageInfo = strawberry.field(description="分页信息: where the page lies in the list.")
    total: strawberry.Private[int | None]

    @strawberry.field(description="总数: how many certificates match the search, on every page.")
    def total_count(self) -> int:
        if self.total is None:
            raise RuntimeError("totalCount was not computed although selected")
        return self.total


async def _built(
    session: AsyncSession,
    viewer: Viewer,
    rows: Sequence[models.Certificate],
    selection: Selected,
    presentation: Presentation,
) -> list[Certificate]:
    """The certificates, with the requests citing them read in one batch when selected."""
    if not selection.mentions("coordinations"):
        return [Certificate.of(row, presentation.language) for row in rows]
    cited = await queries.citing(
        session, viewer, [row.certificate_no for row in rows], selection.details
    )
    return [
        Certificate.of(
            row,
            presentation.language,
            [types.coordination(r, presentation) for r in cited[row.certificate_no]],
        )
        for row in rows
    ]


def _prefix(search: str | None) -> str | None:
    return (search or "").strip().upper() or None


@strawberry.type
class CertificateQuery:
    @strawberry.field(
        description="证书查询: a registry certificate of your enterprise, for autofill; null for "
        "any other (unknown or another enterprise's, alike)."
    )
    async def certificate(
        self,
        info: Info[Context, None],
        certificate_no: Annotated[
            str,
            strawberry.argument(
                description="原产地证书号 / 原产地声明编号: the exact number (trimmed, "
                "case-insensitive)."
            ),
        ],
    ) -> Certificate | None:
        viewer = await info.context.require_viewer()

        async def read(session: AsyncSession) -> Certificate | None:
            found = await certificates.find_owned(session, certificate_no, viewer.enterprise_uscc)
            if found is None:
                return None
            presentation = info.context.presentation(viewer)
            [built] = await _built(session, viewer, [found], selected(info), presentation)
            return built

        return await info.context.query(read)

    @strawberry.field(
        description="证书选择 (certificate picker): your enterprise's registry certificates, "
        "newest issue date first, optionally those whose number starts with `search`; "
        "keyset-paginated with `first`/`after`, 1–100 per page. Empty for customs officers, who "
        "own no certificates."
    )
    async def certificates(
        self,
        info: Info[Context, None],
        search: Annotated[
            str | None,
            strawberry.argument(
                description="证书号前缀: the number starts with this (trimmed, case-insensitive)."
            ),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="每页条数: 1–100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="游标: the endCursor of the page before (same search)."
            ),
        ] = None,
    ) -> CertificateConnection:
        context = info.context
        viewer = await context.require_viewer()
        limit = check_first(DEFAULT_FIRST if first is None else first)
        uscc, prefix = viewer.enterprise_uscc, _prefix(search)
        cursors = CertificateCursors(context.settings.secret_key, uscc or "", prefix)
        start = cursors.decode(after) if after is not None else None
        if after is not None and start is None:
            raise BadUserInput(BAD_CURSOR, "after")
        if uscc is None:
            return _empty()
        selection = selected(info)

        async def read(
            session: AsyncSession,
        ) -> tuple[certificates.Page, list[Certificate], bool, int | None, list[CertificateEdge]]:
            found = await certificates.page(
                session, enterprise_uscc=uscc, prefix=prefix, limit=limit, after=start
            )
            built = await _built(
                session, viewer, found.rows, selection, context.presentation(viewer)
            )
            has_previous = (
                start is not None
                and selection.requests(("pageInfo", "hasPreviousPage"))
                and await certificates.exists_before(
                    session, enterprise_uscc=uscc, prefix=prefix, before=start
                )
            )
            total = (
                await certificates.count(session, enterprise_uscc=uscc, prefix=prefix)
                if selection.requests(("totalCount",))
                else None
            )
            edges = [
                CertificateEdge(cursor=cursors.encode(certificates.position(row)), node=node)
                for row, node in zip(found.rows, built, strict=True)
            ]
            return found, built, has_previous, total, edges

        found, built, has_previous, total, edges = await context.query(read)
        return CertificateConnection(
            edges=edges,
            nodes=built,
            page_info=PageInfo(
                has_next_page=found.has_more,
                has_previous_page=has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total=total,
        )


def _empty() -> CertificateConnection:
    return CertificateConnection(
        edges=[],
        nodes=[],
        page_info=PageInfo(
            has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
        ),
        total=0,
    )
