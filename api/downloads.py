"""Downloading attachments: short-lived signed URLs and the route that serves them.

``Attachment.downloadUrl`` is ``/attachments/{id}?user=…&expires=…&signature=…``, after
``XHSZ_PUBLIC_URL`` when that is set and never after a host the request names (the ``Host``
header is the client's to choose, so a link built on it would point wherever an attacker wants).
The signature is an HMAC-SHA256, under a key derived from ``XHSZ_SECRET_KEY``, of the attachment,
the user it was issued to (with their token version, so that revoking a user's tokens revokes
their links) and its expiry. A link works without a bearer token (a browser can follow it), but
only for a few minutes, and the route checks again, as that user, that the request is still theirs
to see: a tampered or expired link is 403, an attachment the user may not (or no longer) see is
404, exactly like a missing one.

The file is streamed with its recorded type and length and its original name (RFC 6266/5987), and
checked against its recorded SHA-256 on the way: the last chunk is held back until the digest
matches, so a damaged file ends in a broken response, never in a silently wrong download.
"""

import datetime as dt
import hashlib
import hmac
import logging
import re
import unicodedata
from base64 import urlsafe_b64encode
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from api.storage import LocalStorage, OpenFile
from db import identity, queries
from db.clock import utcnow
from db.database import Database
from db.models import Attachment

logger = logging.getLogger(__name__)

PREVIEW = "\npreview"
"""What a preview link's signature covers besides a download link's."""

KEY_CONTEXT = b"xhsz attachment download links v1"

PREVIEW_POLICY = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
"""A preview's policy: the browser shows the PDF or image and runs nothing (no script, no form,
no plug-in content from elsewhere, an opaque origin)."""


@dataclass(frozen=True)
class Grant:
    """Who a valid link was issued to."""

    user_id: int
    token_version: int


@dataclass(frozen=True)
class DownloadLinks:
    key: bytes
    ttl: dt.timedelta
    base_url: str = ""
    """The configured public URL without its trailing slash; empty for links that are paths."""

    @classmethod
    def from_secret(cls, secret: str, ttl: dt.timedelta, base_url: str = "") -> "DownloadLinks":
        # A key of its own, so that a link's signature can never pass for anything else.
        key = hmac.new(secret.encode(), KEY_CONTEXT, hashlib.sha256).digest()
        return cls(key, ttl, base_url.rstrip("/"))

    def url(
        self,
        attachment_id: int,
        *,
        user_id: int,
        token_version: int,
        now: dt.datetime,
    ) -> str:
        expires = str(int((now + self.ttl).timestamp()))
        user = f"{user_id}.{token_version}"
        signature = self._sign(attachment_id, user, expires)
        # Every part is digits, "." or base64url: nothing to escape (urlencode cost 3% of a list).
        query = f"user={user}&expires={expires}&signature={signature}"
        return f"{self.base_url}/attachments/{attachment_id}?{query}"

    def preview_url(
        self,
        attachment_id: int,
        *,
        user_id: int,
        token_version: int,
        now: dt.datetime,
    ) -> str:
        """Like ``url``, for ``/attachments/{id}/preview`` (shown inline), signed as a preview
        (so that neither kind of link passes for the other)."""
        expires = str(int((now + self.ttl).timestamp()))
        user = f"{user_id}.{token_version}"
        signature = self._sign(attachment_id, user, expires, PREVIEW)
        query = f"user={user}&expires={expires}&signature={signature}"
        return f"{self.base_url}/attachments/{attachment_id}/preview?{query}"

    def verify(
        self,
        attachment_id: int,
        query: Mapping[str, str],
        now: dt.datetime,
        purpose: str = "",
    ) -> Grant | None:
        """Who the link was issued to, if it is ours, unaltered and not expired."""
        user, expires = query.get("user", ""), query.get("expires", "")
        signature = query.get("signature", "")
        expected = self._sign(attachment_id, user, expires, purpose)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        user_id, _, token_version = user.partition(".")
        try:
            if int(expires) < now.timestamp():
                return None
            return Grant(user_id=int(user_id), token_version=int(token_version))
        except ValueError:
            return None

    def _sign(self, attachment_id: int, user: str, expires: str, purpose: str = "") -> str:
        message = f"{attachment_id}\n{user}\n{expires}{purpose}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def content_disposition(file_name: str, kind: str = "attachment") -> str:
    """``attachment`` (or ``inline``) with the name twice (RFC 6266): ``filename*`` in UTF-8
    (RFC 5987) for every current client, and an ASCII ``filename`` for the oldest."""
    fallback = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", fallback).strip()
    stem, dot, extension = fallback.rpartition(".")
    if not (stem if dot else fallback).strip(" _."):
        fallback = "attachment" + dot + (extension if dot else "")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


class DamagedFile(RuntimeError):
    """A stored file no longer has the bytes that were uploaded."""


class FileStream(StreamingResponse):
    """Streams an open file and closes it however the response ends (also on a disconnect)."""

    def __init__(self, opened: OpenFile, row: Attachment, *, inline: bool = False) -> None:
        headers = {
            "Content-Length": str(row.size),
            "Content-Disposition": content_disposition(
                row.file_name, "inline" if inline else "attachment"
            ),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        if inline:
            headers["Content-Security-Policy"] = PREVIEW_POLICY
        super().__init__(
            _verified(opened.chunks(), row.sha256), media_type=row.content_type, headers=headers
        )
        self.opened = opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.opened.close()


async def _verified(chunks: AsyncIterator[bytes], sha256: str) -> AsyncIterator[bytes]:
    """The chunks, the last one only once the whole file matched its recorded digest."""
    digest = hashlib.sha256()
    held: bytes | None = None
    async for chunk in chunks:
        digest.update(chunk)
        if held is not None:
            yield held
        held = chunk
    if digest.hexdigest() != sha256:
        raise DamagedFile(f"the stored file does not match its SHA-256 {sha256}")
    if held is not None:
        yield held


class Downloads:
    """The ``GET /attachments/{id}`` route, and ``GET /attachments/{id}/preview`` (the same file,
    ``inline`` under ``PREVIEW_POLICY``)."""

    def __init__(self, *, database: Database, storage: LocalStorage, links: DownloadLinks) -> None:
        self.database = database
        self.storage = storage
        self.links = links

    async def serve(self, request: Request) -> Response:
        return await self._serve(request, inline=False)

    async def preview(self, request: Request) -> Response:
        return await self._serve(request, inline=True)

    async def _serve(self, request: Request, *, inline: bool) -> Response:
        attachment_id: int = request.path_params["attachment_id"]
        purpose = PREVIEW if inline else ""
        grant = self.links.verify(attachment_id, request.query_params, utcnow(), purpose)
        if grant is None:
            return _refusal(request, "DOWNLOAD_LINK_INVALID", 403)
        async with self.database.reader() as session:
            viewer = await identity.load_viewer(
                session=session, user_id=grant.user_id, token_version=grant.token_version
            )
            row = await queries.get_attachment(session, viewer, attachment_id) if viewer else None
        if viewer is None:
            return _refusal(request, "DOWNLOAD_LINK_INVALID", 403)
        if row is None:
            return _refusal(request, "DOWNLOAD_NOT_FOUND", 404)
        try:
            opened = await self.storage.open(row.storage_key)
        except FileNotFoundError:
            logger.error("attachment %s: file %s is missing", row.id, row.storage_key)
            return _refusal(request, "DOWNLOAD_UNAVAILABLE", 500)
        if opened.size != row.size:
            await opened.close()
            logger.error(
                "attachment %s: file %s has %s bytes, %s recorded",
                row.id,
                row.storage_key,
                opened.size,
                row.size,
            )
            return _refusal(request, "DOWNLOAD_UNAVAILABLE", 500)
        return FileStream(opened, row, inline=inline)


def _refusal(request: Request, text: str, status: int) -> PlainTextResponse:
    """A download refused in plain text, in the client's language (``text`` names one of
    ``schema.refusals``' texts)."""
    # Imported here: the schema package imports this module (for DownloadLinks) as it loads.
    from api.refusals import content_language, language_of
    from schema import refusals
    from schema.messages import pick

    language = language_of(request.headers)
    message = pick(getattr(refusals, text), language)
    return PlainTextResponse(message, status, headers=content_language(language))
