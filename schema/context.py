"""The typed per-request context: who is calling, in which language, and access to the database.

A WebSocket connection (``api.transport``) has one context for its whole life: its token comes
from ``connection_init``'s payload instead of a header, and what it shows is dated when shown.

Strawberry resolves sibling fields concurrently, and an ``AsyncSession`` must not be used by two
coroutines at once. So every use of the database gets its own short session, and a per-request lock
makes those uses take turns: a request holds at most one connection, and only while it reads.

Queries read through ``query``, which a streaming replica may answer (``db/replica.py`` says
when); everything else — who is calling, a mutation's checks and its transaction — uses the
primary, through ``reading`` and ``transaction``.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.responses import Response

from api.downloads import DownloadLinks
from api.metrics import READS
from api.observability import Observation, observation_of
from api.principals import Principals
from api.storage import LocalStorage
from api.tokens import TokenClaims, Tokens
from config.settings import Settings
from db import identity, replica
from db.clock import utcnow
from db.database import Database
from db.identity import Viewer
from schema.messages import Language, Text
from schema.presentation import Presentation
from schema.refusals import AUTHENTICATION_REQUIRED, Refusal

logger = logging.getLogger("xhsz.replica")

if TYPE_CHECKING:
    # Only types here: the subscriptions module builds on this one.
    from api.subscriptions import Connection, Hub

T = TypeVar("T")
Route = tuple[str, str]
"""Where a request's queries read (``primary``, ``replica``) and why (``xhsz_reads_total``)."""

UNAUTHENTICATED = "UNAUTHENTICATED"
BAD_USER_INPUT = "BAD_USER_INPUT"


class Unauthenticated(Refusal):
    def __init__(self) -> None:
        super().__init__(AUTHENTICATION_REQUIRED, extensions={"code": UNAUTHENTICATED})


class BadUserInput(Refusal):
    """A query argument out of its range (mutations report problems in their payload instead)."""

    def __init__(self, text: Text, argument: str, **params: object) -> None:
        super().__init__(
            text,
            {"argument": argument, **params},
            extensions={"code": BAD_USER_INPUT, "argument": argument},
        )


@dataclass
class Context:
    request: HTTPConnection
    """The HTTP request, or the WebSocket of a subscription connection."""
    response: Response | Any
    database: Database
    settings: Settings
    tokens: Tokens
    principals: Principals
    storage: LocalStorage
    links: DownloadLinks
    language: Language
    hub: "Hub"
    now: dt.datetime = field(default_factory=utcnow)
    connection_params: dict[str, Any] | None = None
    """``connection_init``'s payload (WebSocket only)."""
    connection: "Connection | None" = None
    token_expires: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _viewer_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _viewer: Viewer | None = None
    _viewer_loaded: bool = False
    _token_version: int = 0
    _claims: TokenClaims | None = None
    _route: Route | None = None

    def presentation(self, viewer: Viewer, now: dt.datetime | None = None) -> Presentation:
        """How to show objects to ``viewer`` (links valid from ``now``: by default the request's
        time; a subscription's deliveries give theirs, as its connection outlives any link)."""
        preview_url = (
            self._preview_url
            if now is None
            else partial(
                self.links.preview_url,
                user_id=viewer.user_id,
                token_version=self._token_version,
                now=now,
            )
        )
        return Presentation(
            role=viewer.role,
            language=self.language,
            download_url=partial(
                self.links.url,
                user_id=viewer.user_id,
                token_version=self._token_version,
                now=now or self.now,
            ),
            preview_url=preview_url,
        )

    def _preview_url(self, attachment_id: int) -> str:
        # A bound method rather than another partial: nothing is built unless previewUrl is
        # selected (a partial per request cost ~0.5 µs, a tenth of a percent of a list page).
        viewer = self._viewer
        assert viewer is not None, "only an authenticated viewer's objects have links"
        return self.links.preview_url(
            attachment_id, user_id=viewer.user_id, token_version=self._token_version, now=self.now
        )

    @property
    def token_version(self) -> int:
        return self._token_version

    @property
    def token_id(self) -> str:
        """The token's ``jti`` (``logout`` revokes it); empty without a valid token."""
        return self._claims.token_id if self._claims is not None else ""

    @property
    def request_id(self) -> str:
        """The id of this HTTP request, as in the ``X-Request-ID`` header and the log."""
        return str(getattr(self.request.state, "request_id", None) or "-")

    @property
    def client(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads on the primary; build what you return inside the block (objects
        are detached after). Closing the session gives its connection back to the pool, which ends
        any read transaction (a rollback on return; on PostgreSQL reads run in autocommit and have
        none)."""
        async with self._lock, self.database.reader() as session:
            yield session

    async def query(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work``'s reads for a query (build what you return inside it), on the replica when it
        may answer for this viewer, else on the primary. A read that fails on the replica for a
        connection reason runs again on the primary, so a replica going away fails no request."""
        async with self._lock:
            target, reason = await self._read_route()
            found = self.database.replica
            if found is not None and target == "replica":
                try:
                    result = await found.read(work)
                except Exception as error:
                    if not replica.unavailable(error):
                        raise
                    found.failed(error)
                    self._route = target, reason = "primary", "failed"
                else:
                    READS.labels(target, reason).inc()
                    return result
            result = await _read(self.database.reader, work)
            READS.labels(target, reason).inc()
            return result

    async def _read_route(self) -> Route:
        """Decided once per request: the replica if it is up, close enough, and has replayed the
        viewer's latest write (the viewer's write position is read on the primary)."""
        if self._route is None:
            found = self.database.replica
            if found is None:
                self._route = "primary", "no_replica"
            else:
                await found.refresh()
                if not found.usable:
                    self._route = "primary", "degraded"
                else:
                    written = None
                    if self._viewer is not None:
                        async with self.database.reader() as session:
                            written = await replica.position(session, self._viewer.user_id)
                    own_write = not found.serves(written)
                    self._route = (
                        ("primary", "own_write") if own_write else ("replica", "caught_up")
                    )
        return self._route

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction for one mutation: committed when the block ends, rolled back on error
        (the events it announced are handed on only after the commit). With a replica, the
        viewer's write position is kept after the commit."""
        async with self._lock:
            async with self.database.transaction() as session:
                yield session
            if self.database.replica is not None and self._viewer is not None:
                await self._record_write(self._viewer.user_id)

    async def _record_write(self, user_id: int) -> None:
        try:
            async with self.database.reader() as session:
                await replica.record(session, user_id)
        except Exception:
            # Committed already: the user gets the answer; only this write's read-your-writes is
            # lost, for the replica's lag.
            logger.warning("the write position of user %s was not kept", user_id, exc_info=True)

    def bearer_token(self) -> str | None:
        if self.connection_params is not None:
            value = next(
                (v for k, v in self.connection_params.items() if k.lower() == "authorization"), ""
            )
            header = value if isinstance(value, str) else ""
        else:
            header = self.request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def viewer(self) -> Viewer | None:
        """The user the bearer token names, loaded once per request (None without a valid one)."""
        async with self._viewer_lock:
            if not self._viewer_loaded:
                token = self.bearer_token()
                claims = self.principals.claims(self.tokens, token) if token else None
                if claims is not None:
                    self._token_version = claims.token_version
                    self.token_expires = claims.expires
                    self._claims = claims
                    self._viewer = await self._load_viewer(claims)
                self._viewer_loaded = True
                if self._viewer is not None:
                    self.observe_viewer(self._viewer)
        return self._viewer

    async def _load_viewer(self, claims: TokenClaims) -> Viewer | None:
        key = (claims.user_id, claims.token_version, claims.token_id)
        known, viewer = self.principals.lookup(key)
        if not known:
            async with self.reading() as session:
                viewer = await identity.load_viewer(
                    session=session,
                    user_id=claims.user_id,
                    token_version=claims.token_version,
                    token_id=claims.token_id,
                )
            self.principals.remember(key, viewer)
        return viewer

    async def token_claims(self) -> TokenClaims | None:
        """What the request's token says, once the viewer it names was found valid."""
        await self.viewer()
        return self._claims if self._viewer is not None else None

    @property
    def observation(self) -> Observation:
        """What the access log and metrics will report about this request."""
        return observation_of(self.request.scope)

    def observe_viewer(self, viewer: Viewer) -> None:
        self.observation.viewer = viewer.username
        self.observation.role = viewer.role.value

    async def require_viewer(self) -> Viewer:
        """The authenticated viewer; a GraphQL error ``UNAUTHENTICATED`` otherwise."""
        viewer = await self.viewer()
        if viewer is None:
            raise Unauthenticated()
        return viewer


async def _read(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    async with sessions() as session:  # closing it ends any read transaction (see reading)
        return await work(session)
