"""Bearer tokens: signed, expiring JWTs (HS256 only) naming a user and their token version."""

import datetime as dt
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int


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
            return TokenClaims(user_id=int(claims["sub"]), token_version=int(claims["ver"]))
        except (jwt.InvalidTokenError, ValueError, TypeError):
            return None
