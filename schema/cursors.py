"""Page cursors: opaque, signed, and valid only for the query that made them.

A cursor is base64url(MAC ‖ "rank|id|value"), the MAC a keyed BLAKE2b of 128 bits over the
position, keyed for the query (an HMAC-SHA256 of the query's fingerprint, its order and filter,
under a key of the list's own). A cursor edited by a client, or taken from another order or
filter, fails the check and is refused as a whole; it never selects rows by itself, since the
viewer's scope is applied to every page. (BLAKE2b's keyed mode is a MAC in one call: a page signs
twenty cursors, and an HMAC's copy, update and digest per cursor cost twice as much.)
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from functools import cache, lru_cache

from db import certificates
from db.listing import Filter, Order, OrderField, Position

MAC_BYTES = 16
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


@cache
def _key(secret: str, purpose: bytes = b"xhsz coordination cursor") -> bytes:
    # A key of its own, so that a cursor can never pass for a token or a download signature,
    # nor one list's cursor for another's.
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def fingerprint(order: Order, filter: Filter) -> bytes:
    """What a cursor is bound to: the order and the (normalised) filter."""
    described = {
        "order": [order.field.value, order.direction.value],
        "coordinationNo": filter.coordination_no,
        "certificateNo": filter.certificate_no,
        "exportDeclarationNo": filter.export_declaration_no,
        "status": sorted(s.value for s in filter.statuses),
        "type": sorted(t.value for t in filter.types),
        "agreementCode": filter.agreement_code,
        "submittedFrom": filter.submitted_from.isoformat() if filter.submitted_from else None,
        "submittedTo": filter.submitted_to.isoformat() if filter.submitted_to else None,
        "enterpriseUscc": filter.enterprise_uscc,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).digest()


class _Signed:
    """base64url(MAC ‖ payload), the MAC keyed for one list and bound to one query."""

    def __init__(self, key: bytes, fingerprint: bytes) -> None:
        self._key = hmac.new(key, fingerprint, hashlib.sha256).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hashlib.blake2b(payload, key=self._key, digest_size=MAC_BYTES).digest()

    def _pack(self, payload: bytes) -> str:
        packed = binascii.b2a_base64(self._sign(payload) + payload, newline=False)
        return packed.translate(_URL_SAFE).rstrip(b"=").decode("ascii")

    def _unpack(self, cursor: str) -> str | None:
        """The payload of a cursor this query signed; None for anything else."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            return None
        mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
        if not hmac.compare_digest(mac, self._sign(payload)):
            return None
        # Signed by us, so well-formed: parsing cannot fail short of a changed secret and format.
        return payload.decode()


class Cursors(_Signed):
    """Encodes and checks the cursors of one query."""

    def __init__(self, secret: str, order: Order, filter: Filter) -> None:
        super().__init__(_key(secret), fingerprint(order, filter))
        self._timed = order.field is not OrderField.COORDINATION_NO

    @staticmethod
    @lru_cache(maxsize=1024)
    def of(secret: str, order: Order, filter: Filter) -> "Cursors":
        """The cursors of a query, made once per order and filter (they only read their MAC
        state, copying it for each cursor)."""
        return Cursors(secret, order, filter)

    def encode(self, position: Position) -> str:
        value = position.value
        text = value.isoformat() if isinstance(value, dt.datetime) else value
        # rank|id|value (the value last: it is the only part that could hold a "|")
        return self._pack(f"{position.rank}|{position.id}|{text}".encode())

    def decode(self, cursor: str) -> Position | None:
        """The position a cursor of this query names; None for anything else."""
        payload = self._unpack(cursor)
        if payload is None:
            return None
        rank, pk, text = payload.split("|", 2)
        value = dt.datetime.fromisoformat(text) if self._timed else text
        return Position(int(rank), value, int(pk))


class CertificateCursors(_Signed):
    """Cursors of the certificate picker, bound to the viewer's enterprise and the search: one
    taken from another enterprise's or another search's list is refused."""

    def __init__(self, secret: str, enterprise_uscc: str, prefix: str | None) -> None:
        bound = json.dumps([enterprise_uscc, prefix]).encode()
        super().__init__(_key(secret, b"xhsz certificate cursor"), bound)

    def encode(self, position: certificates.Position) -> str:
        # date|number (the number last: the only part that could hold a "|")
        return self._pack(f"{position.issued_on.isoformat()}|{position.certificate_no}".encode())

    def decode(self, cursor: str) -> certificates.Position | None:
        payload = self._unpack(cursor)
        if payload is None:
            return None
        day, number = payload.split("|", 1)
        return certificates.Position(dt.date.fromisoformat(day), number)
