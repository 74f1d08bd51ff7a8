"""The limits the service applies, as plain values: what settings read from the environment and
every layer checks against. A leaf: it imports nothing of ``api``, ``schema`` or ``db``."""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_directives: int = 50
    max_cost: int = 10_000
    max_repeated_fields: int = 10


@dataclass(frozen=True)
class LoginLimits:
    max_failures_per_username: int = 5
    max_failures_per_client: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int = 4 * 1024 * 1024
    max_pdf_bytes: int = 300 * 1024


@dataclass(frozen=True)
class SubscriptionLimits:
    subscriptions_per_connection: int = 10
    connections_per_user: int = 5
    queue_size: int = 256
    """Events a subscription may have waiting before its connection is closed as too slow."""
    ping_seconds: float = 15.0
    """How often the server pings an idle connection (graphql-transport-ws ``ping``)."""
    recheck_seconds: float = 2.0
    """How often open connections' tokens are checked again (revocation, expiry)."""
    init_timeout_seconds: float = 10.0
    """How long a new connection may take to send ``connection_init``."""
