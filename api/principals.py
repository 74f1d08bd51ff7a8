"""Who a token names, remembered for a few seconds per worker.

Checking a bearer token needs the user's row: active, and the token's version still the user's
(a password change, ``xhsz user disable`` or ``logoutEverywhere`` bumps the version and so revokes
every earlier token), and the token itself not revoked by ``logout``. Reading that costs a round
trip and more CPU than the rest of a list page's SQL, on every request. So each worker keeps what
it read, per (user, token version, token id), for ``ttl`` seconds: a revocation made by another
process (the CLI, another worker) takes effect within ``ttl``, one made by this worker (``logout``,
``logoutEverywhere``) at once (``revoke_token``, ``revoke_user``), and the database is asked at
most once per token per ``ttl`` and worker. A revoked or unknown token is remembered too (as
``None``), so that a client replaying one costs no more.

Checking a token's signature and claims (PyJWT) cost about as much again; a token's claims never
change, so what a token says is remembered too, until it expires (revoking a token does not
change what it says, only the answer above).
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from api.tokens import TokenClaims, Tokens
from db.identity import Viewer

Key = tuple[int, int, str]  # user id, token version, token id


@dataclass(frozen=True, slots=True)
class _Entry:
    viewer: Viewer | None
    expires: float


class Principals:
    """An LRU of viewers by (user id, token version, token id), each valid for ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._claims: OrderedDict[str, TokenClaims] = OrderedDict()

    def lookup(self, key: Key) -> tuple[bool, Viewer | None]:
        """``(True, viewer)`` when remembered and fresh (the viewer may be None: revoked)."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry.expires <= self._clock():
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry.viewer

    def remember(self, key: Key, viewer: Viewer | None) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = _Entry(viewer, self._clock() + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def revoke_token(self, key: Key) -> None:
        """This token was revoked here: refused from now on, not only once its entry is stale."""
        self._entries.pop(key, None)
        self.remember(key, None)

    def revoke_user(self, user_id: int, token_version: int) -> None:
        """Every token of this user and version was revoked here: forget all their entries."""
        for key in [key for key in self._entries if key[:2] == (user_id, token_version)]:
            del self._entries[key]

    def claims(self, tokens: Tokens, token: str) -> TokenClaims | None:
        """What ``token`` says if it is valid now: read once, then remembered until it expires."""
        known = self._claims.get(token)
        if known is not None and known.expires > self._wall_clock():
            self._claims.move_to_end(token)
            return known
        read = tokens.read(token)
        if read is not None:
            self._claims[token] = read
            while len(self._claims) > self.max_entries:
                self._claims.popitem(last=False)
        return read

    def clear(self) -> None:
        self._entries.clear()
        self._claims.clear()
