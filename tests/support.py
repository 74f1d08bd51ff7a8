"""Helpers for tests: a GraphQL client over HTTP, actors with tokens, valid forms for every type."""

import base64
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
from db import certificates, identity
from db.certificates import CertificateRecord
from db.clock import utcnow
from db.database import Database
from db.models import (
    CERTIFICATE_KIND_FOR_TYPE,
    REQUIRED_SLOTS,
    Attachment,
    AttachmentSlot,
    Base,
    CertificateKind,
    CoordinationType,
)
from db.status import Role
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

BY_ID = """
mutation($id: ID!, $v: Int) {
  %(name)s(id: $id, expectedVersion: $v) {
    coordination { ...AllFields } message errors { field code message }%(extra)s
  }
}
"""
SUBMIT = ALL_FIELDS + BY_ID % {"name": "submitCoordination", "extra": ""}
WITHDRAW = ALL_FIELDS + BY_ID % {"name": "withdrawCoordination", "extra": ""}
DELETE = ALL_FIELDS + BY_ID % {"name": "deleteCoordination", "extra": " deletedId"}
RECEIPT = (
    ALL_FIELDS
    + """
mutation($input: RecordCustomsReceiptInput!) {
  recordCustomsReceipt(input: $input) {
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

    async def _by_id(
        self, document: str, name: str, actor: Actor, id: str, version: int | None, **kwargs: Any
    ) -> dict[str, Any]:
        data = await self.data(document, {"id": id, "v": version}, actor=actor, **kwargs)
        payload: dict[str, Any] = data[name]
        return payload

    async def submit(
        self, actor: Actor, id: str, version: int | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return await self._by_id(SUBMIT, "submitCoordination", actor, id, version, **kwargs)

    async def withdraw(
        self, actor: Actor, id: str, version: int | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return await self._by_id(WITHDRAW, "withdrawCoordination", actor, id, version, **kwargs)

    async def delete(
        self, actor: Actor, id: str, version: int | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return await self._by_id(DELETE, "deleteCoordination", actor, id, version, **kwargs)

    async def receipt(
        self,
        actor: Actor,
        no: str,
        outcome: str,
        remark: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        values = {
            "coordinationNo": no,
            "outcome": outcome,
            "remark": remark,
            "expectedVersion": version,
        }
        data = await self.data(RECEIPT, {"input": values}, actor=actor, **kwargs)
        payload: dict[str, Any] = data["recordCustomsReceipt"]
        return payload

    async def get(self, actor: Actor, *, id: str | None = None, no: str | None = None) -> Any:
        return (await self.data(GET, {"id": id, "no": no}, actor=actor))["coordination"]


def pk_of(global_id: str) -> int:
    """The primary key inside a Relay global ID."""
    return int(base64.b64decode(global_id).decode().partition(":")[2])


async def register_certificate(
    database: Database,
    actor: Actor,
    values: dict[str, Any],
    *,
    kind: CertificateKind | None = None,
    agreement_code: str | None = None,
    declarations: tuple[str, ...] | None = None,
) -> None:
    """Put the certificate of ``values`` (a save input) into the registry for ``actor``'s
    enterprise, matching the request unless told otherwise."""
    assert actor.uscc is not None
    record = CertificateRecord(
        certificate_no=values["certificateNo"].strip().upper(),
        kind=kind or CERTIFICATE_KIND_FOR_TYPE[CoordinationType(values["type"])],
        agreement_code=agreement_code or values["agreementCode"],
        enterprise_uscc=actor.uscc,
        import_country_code=values.get("importCountryCode") or "KOR",
        issued_on=dt.date(2026, 3, 1),
        export_declaration_nos=(
            (values["exportDeclarationNo"],) if declarations is None else declarations
        ),
    )
    async with database.writer() as session, session.begin():
        await certificates.register(session=session, record=record)


async def attach(database: Database, coordination_id: str, *slots: AttachmentSlot) -> None:
    """Attachment rows for a request (default: the slots submit requires)."""
    async with database.writer() as session, session.begin():
        for slot in slots or REQUIRED_SLOTS:
            session.add(
                Attachment(
                    coordination_id=pk_of(coordination_id),
                    slot=slot,
                    file_name=f"{slot.value.lower()}.pdf",
                    content_type="application/pdf",
                    size=4,
                    sha256="0" * 64,
                    storage_key=secrets.token_hex(16),
                    created_at=utcnow(),
                )
            )


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
