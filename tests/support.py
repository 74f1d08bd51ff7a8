"""Helpers for tests: a GraphQL client over HTTP, actors with tokens, valid forms for every type."""

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from api.tokens import Tokens
from db import identity
from db.clock import china_date, utcnow
from db.database import Database
from db.models import (
    Attachment,
    AttachmentSlot,
    Base,
    Coordination,
    CoordinationType,
    StatusChange,
    User,
)
from db.status import Role, Status
from db.validation import USCC_ALPHABET, uscc_check_character

PASSWORD = "correct horse battery staple"

COORDINATION_FIELDS = """
fragment CoordinationFields on Coordination {
  id coordinationNo type status statusLabel version
  enterprise { uscc name }
  certificateNo
  agreement { code nameZh nameEn partners { code } }
  exportDeclarationNo importDeclarationNo contactName contactPhone reason
  attachments { id slot fileName contentType size sha256 }
  history { from to at actor actorRole remark }
  allowedActions customsRemark createdAt updatedAt submittedAt
}
"""

ALL_FIELDS = (
    COORDINATION_FIELDS
    + """
fragment AllFields on CoordinationRequest {
  __typename
  ...CoordinationFields
  ... on CustomsCertificateRequest {
    importCountry { code nameZh nameEn } importPort { code name countryCode isSeaport isAirport }
  }
  ... on ApprovedExporterDeclarationRequest {
    approvedExporterNo importCountry { code nameZh } importPort { code }
  }
  ... on RulingDeclarationRequest { rulingNo importCountry { code nameZh } importPort { code } }
}
"""
)

SAVE = (
    ALL_FIELDS
    + """
mutation Save($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) {
    coordination { ...AllFields } message errors { field code message }
  }
}
"""
)

GET = (
    ALL_FIELDS
    + """
query Get($id: ID, $no: String) { coordination(id: $id, coordinationNo: $no) { ...AllFields } }
"""
)


class GraphQLFailure(AssertionError):
    pass


@dataclass
class Actor:
    username: str
    role: Role
    token: str
    user_id: int
    uscc: str | None = None
    enterprise_name: str | None = None


@dataclass
class Api:
    client: httpx.AsyncClient
    default_language: str | None = None

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        actor: Actor | None = None,
        language: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The whole JSON response of one GraphQL request."""
        all_headers = dict(headers or {})
        if actor is not None:
            all_headers["Authorization"] = f"Bearer {actor.token}"
        if language or self.default_language:
            all_headers["Accept-Language"] = language or self.default_language or ""
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The ``data`` of a request that must not fail."""
        body = await self.post(query, variables, **kwargs)
        if body.get("errors"):
            raise GraphQLFailure(body["errors"])
        return body["data"]

    async def save(self, actor: Actor, values: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The ``saveCoordination`` payload."""
        payload: dict[str, Any] = (await self.data(SAVE, {"input": values}, actor=actor, **kwargs))[
            "saveCoordination"
        ]
        return payload

    async def create(self, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
        """A saved request; fails the test if the save was refused."""
        payload = await self.save(actor, values)
        assert payload["errors"] == [], payload["errors"]
        coordination: dict[str, Any] = payload["coordination"]
        return coordination

    async def get(self, actor: Actor, *, id: str | None = None, no: str | None = None) -> Any:
        return (await self.data(GET, {"id": id, "no": no}, actor=actor))["coordination"]


async def count_rows(database: Database, model: type[Base]) -> int:
    """How many rows a table holds, read straight from the database."""
    async with database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@cache
def password_hash() -> str:
    return identity.hash_password(PASSWORD)


_numbers = itertools.count(1)


def new_uscc() -> str:
    body = "91" + "".join(secrets.choice(USCC_ALPHABET) for _ in range(15))
    return body + uscc_check_character(body)


@dataclass
class Factory:
    """Creates users straight in the database (as ``xhsz user add`` does) with tokens."""

    app: Starlette
    api: Api
    made: list[Actor] = field(default_factory=list)

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @property
    def tokens(self) -> Tokens:
        tokens: Tokens = self.app.state.tokens
        return tokens

    async def enterprise_user(
        self, *, uscc: str | None = None, name: str | None = None, username: str | None = None
    ) -> Actor:
        number = next(_numbers)
        uscc = uscc or new_uscc()
        name = name or f"测试进出口有限公司{number}"
        username = username or f"user{number}"
        async with self.database.writer() as session, session.begin():
            enterprise_id = await identity.ensure_enterprise(
                session=session, uscc=uscc, name=name, now=utcnow()
            )
            user_id = await identity.add_user(
                session=session,
                username=username,
                password_hash=password_hash(),
                role=Role.ENTERPRISE,
                enterprise_id=enterprise_id,
                now=utcnow(),
            )
        return self._actor(username, Role.ENTERPRISE, user_id, uscc, name)

    async def customs_user(self, *, username: str | None = None) -> Actor:
        username = username or f"customs{next(_numbers)}"
        async with self.database.writer() as session, session.begin():
            user_id = await identity.add_user(
                session=session,
                username=username,
                password_hash=password_hash(),
                role=Role.CUSTOMS,
                enterprise_id=None,
                now=utcnow(),
            )
        return self._actor(username, Role.CUSTOMS, user_id)

    def _actor(
        self,
        username: str,
        role: Role,
        user_id: int,
        uscc: str | None = None,
        name: str | None = None,
    ) -> Actor:
        token, _ = self.tokens.issue(user_id=user_id, token_version=1, now=utcnow())
        actor = Actor(username, role, token, user_id, uscc, name)
        self.made.append(actor)
        return actor


def export_declaration_no(sequence: int = 123456, flag: str = "0") -> str:
    return f"35012026{flag}{sequence:09d}"


def valid_input(kind: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid form for a request of ``kind`` (a CoordinationType name)."""
    values: dict[str, Any] = {
        "type": kind,
        "certificateNo": "K263500000123",
        "agreementCode": "19",
        "exportDeclarationNo": export_declaration_no(),
        "importDeclarationNo": "KR-2026-0012345",
        "importCountryCode": "KOR",
        "importPortCode": "KRPUS",
        "contactName": "林晓",
        "contactPhone": "13812345678",
        "reason": "进口国海关拒绝给予协定税率。",
    }
    if kind == "APPROVED_EXPORTER_DECLARATION":
        values["approvedExporterNo"] = "AE3501000012"
    if kind == "RULING_DECLARATION":
        values["rulingNo"] = "XM2026-0031"
    if kind == "CCPIT_CERTIFICATE":
        del values["importCountryCode"], values["importPortCode"]
    values.update(overrides)
    return values


TYPES = (
    "CUSTOMS_CERTIFICATE",
    "APPROVED_EXPORTER_DECLARATION",
    "RULING_DECLARATION",
    "CCPIT_CERTIFICATE",
)
TYPENAMES = {
    "CUSTOMS_CERTIFICATE": "CustomsCertificateRequest",
    "APPROVED_EXPORTER_DECLARATION": "ApprovedExporterDeclarationRequest",
    "RULING_DECLARATION": "RulingDeclarationRequest",
    "CCPIT_CERTIFICATE": "CcpitCertificateRequest",
}


_coordination_numbers = itertools.count(1)


@dataclass(frozen=True)
class Stored:
    """A request written straight into the database, as the list reads it."""

    pk: int
    coordination_no: str
    status: str
    type: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None


async def store_request(
    database: Database,
    actor: Actor,
    *,
    status: Status = Status.DRAFT,
    kind: CoordinationType = CoordinationType.CUSTOMS_CERTIFICATE,
    created_at: dt.datetime | None = None,
    submitted_at: dt.datetime | None = None,
    attachments: int = 0,
    **columns: Any,
) -> Stored:
    """Write a request in any status and at any time, with its history and attachment rows (the
    list's tests need states and dates that no mutation on this branch makes)."""
    created_at = created_at or utcnow()
    if status is not Status.DRAFT and submitted_at is None:
        submitted_at = created_at + dt.timedelta(hours=1)
    number = next(_coordination_numbers)
    values: dict[str, Any] = {
        "certificate_no": "K263500000123",
        "agreement_code": "19",
        "export_declaration_no": export_declaration_no(number),
        "import_declaration_no": "KR-2026-0012345",
        "import_country_code": "KOR",
        "import_port_code": "KRPUS",
        "approved_exporter_no": "AE3501000012"
        if kind is CoordinationType.APPROVED_EXPORTER_DECLARATION
        else None,
        "ruling_no": "XM2026-0031" if kind is CoordinationType.RULING_DECLARATION else None,
        "contact_name": "林晓",
        "contact_phone": "13812345678",
        "reason": "进口国海关拒绝给予协定税率。",
        **columns,
    }
    if kind is CoordinationType.CCPIT_CERTIFICATE:
        values["import_country_code"] = values["import_port_code"] = None
    async with database.writer() as session, session.begin():
        user = await session.get_one(User, actor.user_id)
        row = Coordination(
            coordination_no=f"XT{china_date(created_at):%Y%m%d}{number:08d}",
            type=kind,
            status=status,
            enterprise_id=user.enterprise_id,
            version=1,
            created_by_id=actor.user_id,
            created_at=created_at,
            updated_at=submitted_at or created_at,
            submitted_at=submitted_at,
            **values,
        )
        session.add(row)
        await session.flush()
        session.add(
            StatusChange(
                coordination_id=row.id,
                from_status=None,
                to_status=Status.DRAFT,
                at=created_at,
                actor_username=actor.username,
                actor_role=Role.ENTERPRISE,
            )
        )
        if status is not Status.DRAFT:
            session.add(
                StatusChange(
                    coordination_id=row.id,
                    from_status=Status.DRAFT,
                    to_status=status,
                    at=submitted_at or created_at,
                    actor_username=actor.username,
                    actor_role=Role.ENTERPRISE,
                )
            )
        for slot in list(AttachmentSlot)[:attachments]:
            session.add(
                Attachment(
                    coordination_id=row.id,
                    slot=slot,
                    file_name=f"{slot.value.lower()}.pdf",
                    content_type="application/pdf",
                    size=1024,
                    sha256="0" * 64,
                    storage_key=secrets.token_hex(16),
                    created_at=created_at,
                )
            )
    return Stored(row.id, row.coordination_no, status.value, kind.value, created_at, submitted_at)
