"""Helpers for tests: a GraphQL client over HTTP, actors with tokens, valid forms for every type."""

import base64
import datetime as dt
import itertools
import json
import os
import random
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from api.tokens import Tokens
from config.settings import Settings
from db import certificates, identity
from db.certificates import CertificateRecord
from db.clock import china_date, utcnow
from db.database import Database
from db.models import (
    CERTIFICATE_KIND_FOR_TYPE,
    REQUIRED_SLOTS,
    Attachment,
    AttachmentSlot,
    Base,
    CertificateKind,
    Coordination,
    CoordinationType,
    StatusChange,
    User,
)
from db.status import Role, Status
from db.validation import uscc_check_character
from tests import samples

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

UPLOAD = (
    ALL_FIELDS
    + """
mutation Upload(
  $coordinationId: ID!, $slot: AttachmentSlot!, $file: Upload!, $expectedVersion: Int
) {
  uploadAttachment(
    coordinationId: $coordinationId, slot: $slot, file: $file, expectedVersion: $expectedVersion
  ) {
    coordination { ...AllFields }
    attachment { id slot fileName contentType size sha256 uploadedAt downloadUrl }
    message errors { field code message }
  }
}
"""
)

DELETE_ATTACHMENT = (
    ALL_FIELDS
    + """
mutation Delete($attachmentId: ID!, $expectedVersion: Int) {
  deleteAttachment(attachmentId: $attachmentId, expectedVersion: $expectedVersion) {
    coordination { ...AllFields } message errors { field code message }
  }
}
"""
)

PREFLIGHT = {"GraphQL-Require-Preflight": "1"}

GET = (
    ALL_FIELDS
    + """
query Get($id: ID, $no: String) { coordination(id: $id, coordinationNo: $no) { ...AllFields } }
"""
)


def graphql_post_scope(
    headers: list[tuple[bytes, bytes]], host: bytes = b"xhsz.test"
) -> dict[str, Any]:
    """The ASGI scope of a POST to ``/graphql`` with ``headers`` (and ``Host``), for driving the app
    directly, below any HTTP client."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", host), *headers],
        "client": ("203.0.113.7", 40000),
        "server": (host.decode(), 80),
    }


class GraphQLFailure(AssertionError):
    """A GraphQL response that is not what the test needed; its message is the whole response."""

    def __init__(self, response: httpx.Response, why: str) -> None:
        super().__init__(f"{why}: HTTP {response.status_code} {response.text}")


def graphql_data(response: httpx.Response) -> Any:
    """The ``data`` of a GraphQL response that must have succeeded: HTTP 200, no errors, data."""
    if response.status_code != 200:
        raise GraphQLFailure(response, "not 200")
    try:
        body = response.json()
    except ValueError:
        raise GraphQLFailure(response, "not JSON") from None
    if not isinstance(body, dict) or body.get("errors") or body.get("data") is None:
        raise GraphQLFailure(response, "errors or no data")
    return body["data"]


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
        """The whole JSON response of one GraphQL request (which must be a 200)."""
        response = await self.response(
            query, variables, actor=actor, language=language, headers=headers
        )
        if response.status_code != 200:
            raise GraphQLFailure(response, "not 200")
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        actor: Actor | None = None,
        language: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The ``data`` of a request that must not fail (else the test fails with the response)."""
        return graphql_data(
            await self.response(query, variables, actor=actor, language=language, headers=headers)
        )

    async def response(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        actor: Actor | None = None,
        language: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The HTTP response to one GraphQL request, whatever it is."""
        all_headers = dict(headers or {})
        if actor is not None:
            all_headers["Authorization"] = f"Bearer {actor.token}"
        if language or self.default_language:
            all_headers["Accept-Language"] = language or self.default_language or ""
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )

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

    async def multipart(
        self,
        query: str,
        variables: dict[str, Any],
        file: tuple[str, bytes, str],
        *,
        actor: Actor | None = None,
        headers: dict[str, str] | None = None,
        language: str | None = None,
    ) -> httpx.Response:
        """A GraphQL multipart request (operations, map, one file part for ``variables.file``)."""
        all_headers = dict(PREFLIGHT if headers is None else headers)
        if actor is not None:
            all_headers["Authorization"] = f"Bearer {actor.token}"
        if language:
            all_headers["Accept-Language"] = language
        operations = {"query": query, "variables": {**variables, "file": None}}
        return await self.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": file},
            headers=all_headers,
        )

    async def upload(
        self,
        actor: Actor,
        coordination_id: str,
        slot: str,
        content: bytes,
        file_name: str = "原产地证明.pdf",
        *,
        content_type: str = "application/octet-stream",
        expected_version: int | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """The ``uploadAttachment`` payload."""
        variables = {
            "coordinationId": coordination_id,
            "slot": slot,
            "expectedVersion": expected_version,
        }
        response = await self.multipart(
            UPLOAD, variables, (file_name, content, content_type), actor=actor, language=language
        )
        payload: dict[str, Any] = graphql_data(response)["uploadAttachment"]
        return payload

    async def attach(
        self, actor: Actor, coordination_id: str, slot: str, content: bytes, file_name: str
    ) -> dict[str, Any]:
        """An uploaded attachment; fails the test if the upload was refused."""
        payload = await self.upload(actor, coordination_id, slot, content, file_name)
        assert payload["errors"] == [], payload["errors"]
        attachment: dict[str, Any] = payload["attachment"]
        return attachment

    async def delete_attachment(
        self, actor: Actor, attachment_id: str, expected_version: int | None = None
    ) -> dict[str, Any]:
        """The ``deleteAttachment`` payload."""
        variables = {"attachmentId": attachment_id, "expectedVersion": expected_version}
        payload: dict[str, Any] = (await self.data(DELETE_ATTACHMENT, variables, actor=actor))[
            "deleteAttachment"
        ]
        return payload


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
    """A valid USCC that no other test's enterprise has: numbered, not drawn at random, and
    unlike the fixed ones the tests spell out (``91350100M…``)."""
    body = f"91T{next(_numbers):014d}"
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


def sample(kind: str, size: int) -> bytes:
    """A valid file of ``kind`` (pdf, jpeg, png) of exactly ``size`` bytes, or an executable's
    first bytes and noise (exe); the same on every call."""
    if kind == "exe":
        return (b"MZ\x90\x00\x03\x00\x00\x00" + random.Random(f"exe{size}").randbytes(size))[:size]
    return {"pdf": samples.pdf, "jpeg": samples.jpeg, "png": samples.png}[kind](size)


def stored_files(storage_dir: Path) -> list[str]:
    """Every file under the storage directory (temporary ones too), relative to it."""
    return sorted(
        p.relative_to(storage_dir).as_posix() for p in storage_dir.rglob("*") if p.is_file()
    )


def unused_storage_key(storage_dir: Path, fill: str = "0") -> str:
    """A valid storage key (``3f/3f…``) in a folder that no stored file uses: uploads choose random
    keys, so a fixed folder name may already be there."""
    prefix = next(f"{n:02x}" for n in range(256) if not (storage_dir / f"{n:02x}").exists())
    return f"{prefix}/{prefix}{fill * 30}"


def upload_body(coordination_id: str, content: bytes) -> tuple[bytes, dict[str, str]]:
    """A whole multipart upload body (file in slot OTHER_1), as httpx encodes it, and its
    Content-Type header."""
    operations = {
        "query": UPLOAD,
        "variables": {"coordinationId": coordination_id, "slot": "OTHER_1", "file": None},
    }
    built = httpx.Request(
        "POST",
        "http://xhsz.test/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("big.png", content, "image/png")},
    )
    return built.read(), {"Content-Type": built.headers["content-type"]}


def xhsz(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the ``xhsz`` command line on the test database and storage."""
    environment = {
        **os.environ,
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }
    command = [str(Path(sys.executable).with_name("xhsz")), *arguments]
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


async def update_coordination(database: Database, global_id: str, **values: Any) -> None:
    """Change a request straight in the database (a status customs would set, a deletion…)."""
    async with database.writer() as session, session.begin():
        await session.execute(
            update(Coordination).where(Coordination.id == pk_of(global_id)).values(**values)
        )


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
