"""Persisted operations: Apollo's automatic persisted queries (APQ) and trusted documents.

**APQ.** A request whose ``extensions.persistedQuery`` is ``{"version": 1, "sha256Hash": H}``
and which has no ``query`` runs the document stored under ``H``; when there is none it is answered
HTTP 200 with one error, ``PERSISTED_QUERY_NOT_FOUND`` (message ``PersistedQueryNotFound``, the
protocol's fixed text that clients match), and the client sends hash and query again. A query whose
SHA-256 is not ``H`` is refused (400, ``PERSISTED_QUERY_HASH_MISMATCH``); one that matches runs,
and once it passed parsing, validation and the query limits, for a logged-in caller, it is stored
(``db.persisted``) for every worker and across restarts. Each worker keeps the documents it used in
an LRU in front of the table, so a query run by hash costs a dict lookup.

**Trusted documents.** ``XHSZ_TRUSTED_DOCUMENTS=FILE`` loads a manifest ``{"<hash>": "<document>"}``
(what GraphQL Codegen's client preset and Relay write); its documents run by hash like stored ones,
named by ``extensions.persistedQuery`` or by GraphQL over HTTP's ``documentId`` (``sha256:<hex>``).
With ``XHSZ_TRUSTED_DOCUMENTS_ONLY=true`` any operation that is not in the manifest (by hash, or
by the exact text of a manifest document) is refused with ``PERSISTED_QUERY_NOT_ALLOWED`` before
it is parsed, and nothing is registered.

A request with neither ``extensions`` nor the trusted-only setting never gets here.
"""

import datetime as dt
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from strawberry.http import GraphQLRequestData

from db import persisted
from db.database import Database
from schema.messages import PERSISTED_QUERY_MESSAGES, Language, pick

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
SHA256 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The trusted-documents manifest cannot be read; the service refuses to start."""


def load_manifest(path: Path) -> dict[str, str]:
    """``{"<hash>": "<document>"}`` from a JSON file; a ``sha256:`` prefix on the hash (as the
    client preset writes it, after GraphQL over HTTP's document ids) is dropped."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ManifestError(f"XHSZ_TRUSTED_DOCUMENTS: cannot read {path}: {error}") from None
    if not isinstance(manifest, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in manifest.items()
    ):
        raise ManifestError(
            f"XHSZ_TRUSTED_DOCUMENTS: {path} must be a JSON object of hash → document strings"
        )
    return {_bare(key): value for key, value in manifest.items()}


def _bare(digest: str) -> str:
    return digest.removeprefix("sha256:")


def document_id(raw: object) -> dict[str, object] | None:
    """The ``extensions`` a request naming its document by ``documentId`` (GraphQL over HTTP's
    persisted documents, ``"sha256:<hex>"``) stands for, if it does."""
    identifier = raw.get("documentId") if isinstance(raw, Mapping) else None
    if not isinstance(identifier, str):
        return None
    return {"persistedQuery": {"version": 1, "sha256Hash": identifier}}


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class Refusal(Exception):
    """A persisted operation refused: the HTTP status, the code and the client's message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Resolved:
    """The request to run, and the hash to register its document under once it ran (if any)."""

    data: GraphQLRequestData
    register: str | None = None


class PersistedDocuments:
    def __init__(
        self,
        database: Database,
        *,
        trusted: dict[str, str] | None = None,
        trusted_only: bool = False,
        max_entries: int = 2_000,
    ) -> None:
        self.database = database
        self.trusted = trusted or {}
        self.trusted_texts = frozenset(self.trusted.values())
        self.trusted_only = trusted_only
        self.max_entries = max_entries
        self._known: OrderedDict[str, str] = OrderedDict()

    def applies(self, data: GraphQLRequestData) -> bool:
        """Whether a request needs ``resolve`` (cheap: most requests carry no extensions)."""
        return self.trusted_only or bool(data.extensions and "persistedQuery" in data.extensions)

    async def resolve(self, data: GraphQLRequestData, language: Language) -> Resolved:
        extension = (data.extensions or {}).get("persistedQuery")
        if extension is None:  # only in trusted-only mode: the text must be a manifest document
            if data.query is None or data.query not in self.trusted_texts:
                raise _refusal(400, NOT_ALLOWED, language)
            return Resolved(data)
        if not isinstance(extension, dict) or extension.get("version") != 1:
            raise _refusal(400, NOT_SUPPORTED, language)
        digest = extension.get("sha256Hash")
        if not isinstance(digest, str):
            raise _refusal(400, HASH_MISMATCH, language)
        digest = _bare(digest)
        if self.trusted_only:
            document = self.trusted.get(digest)
            if document is None:
                raise _refusal(400, NOT_ALLOWED, language)
            if data.query is not None and data.query != document:
                raise _refusal(400, HASH_MISMATCH, language)
            return Resolved(replace(data, query=document))
        if not SHA256.fullmatch(digest):
            raise _refusal(400, HASH_MISMATCH, language)
        if data.query is not None:
            if sha256(data.query) != digest:
                raise _refusal(400, HASH_MISMATCH, language)
            known = digest in self.trusted or digest in self._known
            return Resolved(data, register=None if known else digest)
        document = self.trusted.get(digest) or await self._stored(digest)
        if document is None:
            raise Refusal(200, NOT_FOUND, NOT_FOUND_MESSAGE)
        return Resolved(replace(data, query=document))

    async def register(self, digest: str, document: str, now: dt.datetime) -> None:
        """Store a document that ran (its digest checked), for every worker."""
        async with self.database.writer() as session, session.begin():
            await persisted.register(session, digest, document, now)
        self._remember(digest, document)

    async def _stored(self, digest: str) -> str | None:
        document = self._known.get(digest)
        if document is not None:
            self._known.move_to_end(digest)
            return document
        async with self.database.reader() as session:
            document = await persisted.find(session, digest)
        if document is not None:
            self._remember(digest, document)
        return document

    def clear(self) -> None:
        """Forget the stored documents this worker knows (they stay in the database)."""
        self._known.clear()

    def _remember(self, digest: str, document: str) -> None:
        self._known[digest] = document
        self._known.move_to_end(digest)
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)


def _refusal(status: int, code: str, language: Language) -> Refusal:
    return Refusal(status, code, pick(PERSISTED_QUERY_MESSAGES[code], language))
