"""Bearer tokens: signed, expiring JWTs (HS256 only) naming a user and their token version.

Each token also has an id of its own (``jti``, random), by which ``logout`` revokes just that
token; a token issued before ids existed is known by a digest of itself instead.

Claims are read as strictly as we write them: PyJWT reads ``exp``/``iat``/``nbf`` with ``int()``,
which takes ``"1"`` and ``true`` too, and ``int()`` would take ``" 1"``, ``"+1"`` or ``"１"`` as a
user id, and ids beyond what the database stores (a 500 there instead of a refusal).
"""

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
USER_ID = re.compile(r"[1-9][0-9]*")  # as ``str(user_id)`` writes it; ``\d`` takes any digits
MAX_USER_ID = 2**63 - 1  # users.id is a BIGINT
MAX_TOKEN_VERSION = 2**31 - 1  # users.token_version is an INTEGER
TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # revoked_tokens.jti is a VARCHAR(64)
TIMES = ("iat", "exp", "nbf")


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int
    expires: float = 0.0
    """``exp``: the POSIX time the token stops being valid."""
    token_id: str = ""
    """``jti`` (or, for a token without one, its SHA-256): what ``logout`` revokes."""


@dataclass(frozen=True)
class Tokens:
    secret: str
    issuer: str
    audience: str
    ttl: dt.timedelta

    def issue(
        self, *, user_id: int, token_version: int, now: dt.datetime
    ) -> tuple[str, dt.datetime]:
        expires_at = now + self.ttl
        claims = {
            "sub": str(user_id),
            "ver": token_version,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), expires_at

    def read(self, token: str) -> TokenClaims | None:
        """The claims of a valid, unexpired token of ours; None for anything else."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["sub", "ver", "iss", "aud", "iat", "exp"]},
            )
        except (jwt.InvalidTokenError, ValueError, TypeError):  # whatever it trips over: refused
            return None
        return _strict(claims, token)


def _is_integer(value: Any, maximum: int) -> bool:
    # bool is an int in Python, but ``true`` is not a number in JSON.
    return type(value) is int and 0 <= value <= maximum


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _strict(claims: dict[str, Any], token: str) -> TokenClaims | None:
    sub, ver = claims["sub"], claims["ver"]
    if not (isinstance(sub, str) and USER_ID.fullmatch(sub) and len(sub) <= 19):
        return None
    user_id = int(sub)
    if user_id > MAX_USER_ID or not _is_integer(ver, MAX_TOKEN_VERSION):
        return None
    if not all(_is_number(claims[name]) for name in TIMES if name in claims):
        return None
    jti = claims.get("jti")
    if jti is None:
        jti = hashlib.sha256(token.encode()).hexdigest()
    elif not (isinstance(jti, str) and TOKEN_ID.fullmatch(jti)):
        return None
    return TokenClaims(
        user_id=user_id, token_version=ver, expires=float(claims["exp"]), token_id=jti
    )
