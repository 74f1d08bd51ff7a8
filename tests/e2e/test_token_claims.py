"""Bearer tokens signed with the real key whose claims have the wrong type or range.

Only we can sign tokens, so these come from a bug or a leaked key rather than an attacker; still,
every one of them must be ``UNAUTHENTICATED``, never a 500 and never a viewer: ``sub`` is the
user id as we write it (ASCII digits, no sign, space or leading zero, within ``BIGINT``), ``ver`` a
JSON integer within ``INTEGER``, ``iat``/``exp`` (and ``nbf`` if present) JSON numbers.
"""

import time
from collections.abc import Callable

import jwt
import pytest

from config.settings import Settings
from tests.support import Api, Factory

VIEWER = "{ viewer { username } }"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def token(settings: Settings, user_id: int, **changes: object) -> str:
    """A token as we issue it for ``user_id``, with some claims changed."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "ver": 1,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode({**claims, **changes}, settings.secret_key, algorithm="HS256")


Changes = Callable[[int], dict[str, object]]  # from the user id

CHANGES: dict[str, Changes] = {
    "sub-beyond-bigint": lambda _: {"sub": str(2**63)},
    "sub-with-a-space": lambda user: {"sub": f" {user}"},
    "sub-with-a-newline": lambda user: {"sub": f"{user}\n"},
    "sub-with-a-sign": lambda user: {"sub": f"+{user}"},
    "sub-with-a-leading-zero": lambda user: {"sub": f"0{user}"},
    "sub-in-fullwidth-digits": lambda user: {"sub": str(user).translate(FULLWIDTH)},
    "sub-a-number": lambda user: {"sub": user},
    "ver-a-fraction": lambda _: {"ver": 1.5},
    "ver-a-float": lambda _: {"ver": 1.0},
    "ver-true": lambda _: {"ver": True},
    "ver-a-string": lambda _: {"ver": "1"},
    "ver-negative": lambda _: {"ver": -1},
    "ver-beyond-integer": lambda _: {"ver": 2**31},
    "ver-beyond-bigint": lambda _: {"ver": 2**63},
    "exp-a-string": lambda _: {"exp": str(int(time.time()) + 600)},
    "iat-a-string": lambda _: {"iat": str(int(time.time()))},
    "nbf-a-string": lambda _: {"nbf": str(int(time.time()) - 60)},
}


@pytest.mark.parametrize("changes", list(CHANGES.values()), ids=list(CHANGES))
async def test_a_token_with_a_claim_of_the_wrong_type_or_range_is_unauthenticated(
    api: Api, factory: Factory, settings: Settings, changes: Changes
) -> None:
    alice = await factory.enterprise_user()
    as_issued = await api.data(
        VIEWER, headers={"Authorization": f"Bearer {token(settings, alice.user_id)}"}
    )
    assert as_issued == {"viewer": {"username": alice.username}}

    forged = token(settings, alice.user_id, **changes(alice.user_id))
    body = await api.post(VIEWER, headers={"Authorization": f"Bearer {forged}"})
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_times_with_fractions_of_a_second_are_numbers_too(
    api: Api, factory: Factory, settings: Settings
) -> None:
    """A NumericDate may be non-integer (RFC 7519 §2)."""
    alice = await factory.enterprise_user()
    now = time.time()
    fractional = token(settings, alice.user_id, iat=now - 0.5, exp=now + 600.5)
    body = await api.data(VIEWER, headers={"Authorization": f"Bearer {fractional}"})
    assert body == {"viewer": {"username": alice.username}}
