"""Relay global IDs: base64 of ``TypeName:primaryKey``, opaque to clients."""

import base64
import binascii

MAX_PK = 2**63 - 1  # the largest BIGINT: a larger number is nobody's key, not a database error


def encode(type_name: str, pk: int) -> str:
    # binascii's: base64.b64encode is a Python wrapper around it (a page encodes some sixty IDs)
    return binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode("ascii")


def decode(global_id: str) -> tuple[str, int] | None:
    """The type name and primary key, or None for anything that is not one of our IDs."""
    try:
        text = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, raw_pk = text.partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if (
        not type_name
        or not 0 < pk <= MAX_PK
        or str(pk) != raw_pk
        or encode(type_name, pk) != global_id
    ):
        return None
    return type_name, pk


def decode_pk(global_id: str, type_names: frozenset[str]) -> int | None:
    """The primary key when ``global_id`` names one of ``type_names``."""
    decoded = decode(global_id)
    return decoded[1] if decoded and decoded[0] in type_names else None
