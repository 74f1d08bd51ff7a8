"""Domain errors: every refusal the service makes, as one ``ErrorCode`` and a field path.

    DomainError            raised by a service; carries one or more ``Problem``s and changes nothing
    └── Problem(code, field, params)
          code    an ``ErrorCode``; the same in every language
          field   the path inside the mutation's arguments, e.g. ("contact_phone",); None for the
                  request as a whole
          params  values the message template needs (a limit, a slot name, …)

The schema layer turns a ``DomainError`` into the payload's ``errors`` list in exactly one place and
translates each code into the caller's language.
"""

import dataclasses
import enum
from collections.abc import Iterable, Mapping


class ErrorCode(enum.Enum):
    REQUIRED = "REQUIRED"
    INVALID_FORMAT = "INVALID_FORMAT"
    TOO_LONG = "TOO_LONG"
    UNKNOWN_AGREEMENT = "UNKNOWN_AGREEMENT"
    AGREEMENT_MISMATCH = "AGREEMENT_MISMATCH"
    UNKNOWN_COUNTRY = "UNKNOWN_COUNTRY"
    COUNTRY_NOT_IN_AGREEMENT = "COUNTRY_NOT_IN_AGREEMENT"
    UNKNOWN_PORT = "UNKNOWN_PORT"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATUS = "INVALID_STATUS"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    ATTACHMENT_REQUIRED = "ATTACHMENT_REQUIRED"
    SLOT_OCCUPIED = "SLOT_OCCUPIED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    PDF_TOO_LARGE = "PDF_TOO_LARGE"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
    EMPTY_FILE = "EMPTY_FILE"
    CERTIFICATE_ENTERPRISE_MISMATCH = "CERTIFICATE_ENTERPRISE_MISMATCH"
    CERTIFICATE_TYPE_MISMATCH = "CERTIFICATE_TYPE_MISMATCH"
    CERTIFICATE_NOT_LINKED = "CERTIFICATE_NOT_LINKED"
    DUPLICATE_ACTIVE_REQUEST = "DUPLICATE_ACTIVE_REQUEST"
    FORBIDDEN = "FORBIDDEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"


FieldPath = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Problem:
    code: ErrorCode
    field: FieldPath | None = None
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


class DomainError(Exception):
    """A refused operation. The transaction it happened in is rolled back."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(", ".join(problem.code.value for problem in self.problems))

    @classmethod
    def of(cls, code: ErrorCode, field: FieldPath | None = None, **params: object) -> "DomainError":
        return cls([Problem(code, field, params)])
