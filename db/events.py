"""Change events of requests (SPEC §10): what each change produced, announced only once it commits.

Every service that changes a request calls ``announce`` inside its transaction, once per change:

- On PostgreSQL the event is a ``NOTIFY`` (``pg_notify``) sent in that transaction. PostgreSQL
  delivers it at commit, to every listening session on every machine, in commit order, and never
  for a transaction that rolls back. Each worker listens on one connection (``db.listener``).
- On SQLite (one process) the event waits in the session until the transaction has committed
  (``Database.transaction``), then goes to the process's ``LocalEvents``; a rollback drops it.

The payload names the request and what the change produced (kind, status, version, time); a
receiver reloads the request and decides per subscriber who may see it.
"""

import datetime as dt
import enum
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.status import Status

CHANNEL = "xhsz_coordination_events"
PENDING = "xhsz.pending_events"
"""The key of ``Session.info`` under which events wait for their commit (SQLite)."""

logger = logging.getLogger("xhsz.events")


class EventKind(enum.Enum):
    CREATED = "CREATED"
    """新建: first saved (暂存), status DRAFT, version 1."""
    SAVED = "SAVED"
    """暂存: the form was saved again."""
    SUBMITTED = "SUBMITTED"
    """申报: submitted to customs (PENDING)."""
    WITHDRAWN = "WITHDRAWN"
    """撤回: taken back by the enterprise."""
    DELETED = "DELETED"
    """删除: deleted; nobody can read it any more."""
    CUSTOMS_DECISION = "CUSTOMS_DECISION"
    """海关处理: customs recorded a receipt or decision."""
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    """上传附件: a file was uploaded."""
    ATTACHMENT_REMOVED = "ATTACHMENT_REMOVED"
    """删除附件: a file was removed."""


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    coordination_id: int
    coordination_no: str
    status: Status
    version: int
    at: dt.datetime

    def encode(self) -> str:
        """The NOTIFY payload: small, far below PostgreSQL's 8,000-byte limit."""
        return json.dumps(
            {
                "k": self.kind.value,
                "id": self.coordination_id,
                "no": self.coordination_no,
                "s": self.status.value,
                "v": self.version,
                "at": self.at.isoformat(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, payload: str) -> "Event | None":
        """The event a payload carries; None (and a warning) for anything else on the channel."""
        try:
            data = json.loads(payload)
            return cls(
                kind=EventKind(data["k"]),
                coordination_id=int(data["id"]),
                coordination_no=str(data["no"]),
                status=Status(data["s"]),
                version=int(data["v"]),
                at=dt.datetime.fromisoformat(data["at"]),
            )
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed event on %s: %.200r", CHANNEL, payload)
            return None


async def announce(session: AsyncSession, event: Event) -> None:
    """Announce ``event`` when (and only if) the session's transaction commits."""
    if rides_along(session):
        await session.execute(_NOTIFYING, {NOTIFICATION: event.encode()})
    else:
        session.info.setdefault(PENDING, []).append(event)


def rides_along(session: AsyncSession) -> bool:
    """Whether events travel in the transaction's own statements (PostgreSQL's ``NOTIFY``)."""
    return session.get_bind().dialect.name == "postgresql"


NOTIFICATION = "notification"
NOTIFY: ColumnElement[Any] = func.pg_notify(CHANNEL, bindparam(NOTIFICATION, type_=String))
"""``pg_notify`` of an event, for a statement of the transaction that announces it: the event,
encoded, is its parameter ``NOTIFICATION``. (Statements are built once: building and keying one
for SQLAlchemy's statement cache cost more than running it.)"""
_NOTIFYING = select(NOTIFY)


Receiver = Callable[[Event], None]


class LocalEvents:
    """The events committed in this process (SQLite), handed to whoever receives them."""

    def __init__(self) -> None:
        self.receivers: list[Receiver] = []

    def publish_committed(self, session: AsyncSession) -> None:
        """Hand on the events of the transaction ``session`` has just committed."""
        for event in session.info.pop(PENDING, ()):
            for receiver in self.receivers:
                receiver(event)

    @staticmethod
    def discard(session: AsyncSession) -> None:
        """Forget the events of a transaction that did not commit."""
        session.info.pop(PENDING, None)
