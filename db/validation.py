"""Format rules for identifiers and form fields (SPEC §2, §8 and the reference README).

Each validator takes raw input and returns the normalised value, or raises ``DomainError`` with
the code the SPEC names. They are pure functions; the services decide which field they apply to.
"""

import re
from functools import lru_cache

from db.errors import DomainError, ErrorCode, FieldPath

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

CERTIFICATE_NO = re.compile(r"[A-Z0-9/-]{1,40}")
EXPORT_DECLARATION_NO = re.compile(r"\d{4}\d{4}[0E]\d{9}")
CERTIFICATE_NO_MAX = 40
IMPORT_DECLARATION_NO_MAX = 64
CONTACT_NAME_MAX = 50
REASON_MAX = 1000
REMARK_MAX = 1000

DOMESTIC_PHONE = (
    re.compile(r"1[3-9]\d{9}"),  # mainland mobile
    # landline: area code (0, then 1–9, then one or two digits), number, optional extension
    re.compile(r"0[1-9]\d{1,2}-?[1-9]\d{6,7}((-|转)\d{1,6})?"),
    re.compile(r"95\d{3}(\d{1,3})?"),  # 95xxx service numbers
    re.compile(r"(400|800)-?\d{3}-?\d{4}"),  # national service numbers
)
INTERNATIONAL_PHONE = re.compile(r"\+[1-9]\d{0,2}([ -]?\d{1,8}){1,5}")
INTERNATIONAL_DIGITS = range(8, 16)  # E.164: at most 15 digits with the country code


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC."""
    total = sum(
        USCC_ALPHABET.index(char) * w for char, w in zip(first17, USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=65_536)  # imports check the same few enterprises millions of times
def is_valid_uscc(value: str) -> bool:
    return (
        len(value) == 18
        and all(char in USCC_ALPHABET for char in value)
        and uscc_check_character(value[:17]) == value[17]
    )


def uscc(value: str | None, field: FieldPath) -> str:
    text = required(value, field).upper()
    if not is_valid_uscc(text):
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field)
    return text


def required(value: str | None, field: FieldPath) -> str:
    """The trimmed value; an absent, empty or whitespace-only one is ``REQUIRED``."""
    text = (value or "").strip()
    if not text:
        raise DomainError.of(ErrorCode.REQUIRED, field)
    return text


def certificate_no(value: str | None, field: FieldPath) -> str:
    """1–40 of ``A-Z 0-9 - /``, trimmed and upper-cased; also exporter and ruling numbers."""
    text = required(value, field).upper()
    if not CERTIFICATE_NO.fullmatch(text):
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field, max=CERTIFICATE_NO_MAX)
    return text


def export_declaration_no(value: str | None, field: FieldPath) -> str:
    """18 characters: customs code, year, export flag ``0`` or ``E``, 9-digit sequence."""
    text = required(value, field).upper()
    if not EXPORT_DECLARATION_NO.fullmatch(text):
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field)
    return text


def import_declaration_no(value: str | None, field: FieldPath) -> str:
    """The foreign declaration number: 1–64 printable characters."""
    text = required(value, field)
    if len(text) > IMPORT_DECLARATION_NO_MAX or not text.isprintable():
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field, max=IMPORT_DECLARATION_NO_MAX)
    return text


def text(value: str | None, field: FieldPath, *, max_length: int) -> str:
    """Free text: required, at most ``max_length`` characters (``TOO_LONG``)."""
    content = required(value, field)
    if len(content) > max_length:
        raise DomainError.of(ErrorCode.TOO_LONG, field, max=max_length)
    return content


def phone(value: str | None, field: FieldPath) -> str:
    """A mainland mobile, a landline with area code, a 95xxx/400/800 number, or ``+`` form."""
    number = required(value, field)
    if number.startswith("+"):
        digits = sum(char.isdigit() for char in number)
        valid = bool(INTERNATIONAL_PHONE.fullmatch(number)) and digits in INTERNATIONAL_DIGITS
    else:
        valid = any(pattern.fullmatch(number) for pattern in DOMESTIC_PHONE)
    if not valid:
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field)
    return number
