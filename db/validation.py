"""Format rules for identifiers and form fields (SPEC §2, §8 and the reference README).

Each validator takes raw input and returns the normalised value, or raises ``DomainError`` with
the code the SPEC names. They are pure functions; the services decide which field they apply to.

Every text a client sends passes ``required`` first, the one rule for characters: the value is put
in Unicode NFC (so that "é" is stored one way however it was typed), blank characters at its ends
are dropped, a value that shows nothing is ``REQUIRED``, and one holding a character that is
invisible or controls how text is displayed (controls, direction overrides, separators, the BOM,
noncharacters) is ``INVALID_FORMAT``, naming the character. Such characters make a value look
other than it is ("林晓" and "林\u202e晓" print alike) or break the lines and logs it is shown in.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from db.errors import DomainError, ErrorCode, FieldPath

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

CERTIFICATE_NO_MAX = 40
IMPORT_DECLARATION_NO_MAX = 64
CONTACT_NAME_MAX = 50
REASON_MAX = 1000
REMARK_MAX = 1000


@dataclass(frozen=True)
class Format:
    """A fixed format (SPEC §2, §8): what a value must be once trimmed, in NFC and upper-cased.

    ``pattern`` is the one regular expression the server applies and the form publishes
    (``coordinationForm``). It is anchored and written in the syntax that Python's ``re`` and
    ECMAScript (with or without the ``u`` and ``v`` flags, as an HTML ``pattern`` is read) read
    alike: ASCII classes such as ``[0-9]`` (Python's ``\\d`` also takes Arabic-Indic and
    full-width digits), ``-`` and ``/`` escaped inside classes, no flags, no look-behind.
    ``name`` names the expected format in words (the catalogue's hint) that an ``INVALID_FORMAT``
    message states.
    """

    name: str
    pattern: str | None
    max_length: int
    upper: bool = True
    """Whether the value is stored upper-cased (it is matched upper-cased either way)."""
    printable: bool = False
    """Without a pattern: any printable characters (``str.isprintable``)."""

    @cached_property
    def _compiled(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern is not None else None

    def accepts(self, text: str) -> bool:
        """Whether a trimmed, normalised value is in this format."""
        if len(text) > self.max_length:
            return False
        if self._compiled is not None:
            return self._compiled.fullmatch(text.upper()) is not None
        return not self.printable or text.isprintable()

    def check(self, value: str | None, field: FieldPath) -> str:
        """The value as stored; ``REQUIRED`` or ``INVALID_FORMAT`` (naming this format)."""
        text = required(value, field)
        if not self.accepts(text):
            raise DomainError.of(ErrorCode.INVALID_FORMAT, field, format=self.name)
        return text.upper() if self.upper else text


CERTIFICATE_NO = Format("CERTIFICATE_NO", r"^[A-Z0-9\/\-]{1,40}$", CERTIFICATE_NO_MAX)
"""Also the approved-exporter and ruling numbers (SPEC §8)."""
EXPORT_DECLARATION_NO = Format("EXPORT_DECLARATION_NO", r"^[0-9]{4}[0-9]{4}[0E][0-9]{9}$", 18)
"""Customs code, year, import/export flag (``0`` or ``E`` for an export), sequence."""
IMPORT_DECLARATION_NO = Format(
    "IMPORT_DECLARATION_NO", None, IMPORT_DECLARATION_NO_MAX, upper=False, printable=True
)
PHONE = Format(
    "PHONE",
    "^(?:"
    "1[3-9][0-9]{9}"  # mainland mobile
    # landline: area code (0, then 1–9, then one or two digits), number, optional extension
    "|0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}(?:(?:-|转)[0-9]{1,6})?"
    "|95[0-9]{3}(?:[0-9]{1,3})?"  # 95xxx service numbers
    "|(?:400|800)-?[0-9]{3}-?[0-9]{4}"  # national service numbers
    # international: E.164 allows at most 15 digits with the country code (and we want 8)
    "|\\+(?=(?:[^0-9]*[0-9]){8,15}[^0-9]*$)[1-9][0-9]{0,2}(?:[ \\-]?[0-9]{1,8}){1,5}"
    ")$",
    # The longest the pattern allows: "+", 15 digits and 5 separators.
    21,
    upper=False,
)
USCC_FORMAT = "USCC"
"""``INVALID_FORMAT`` of a unified social credit code (checked by ``is_valid_uscc``)."""


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
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field, format=USCC_FORMAT)
    return text


# --- characters ----------------------------------------------------------------------------

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no database can store (PostgreSQL refuses NUL and unpaired surrogates in text): refused in
any string of any request, before it runs (``schema.guard``), and in free text here."""

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_REFUSED = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 controls but tab and line feed, DEL, C1 controls
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # direction marks, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators
    "\ufeff"  # byte order mark (zero-width no-break space)
    "\ud800-\udfff" + _NONCHARACTERS
)
REFUSED_IN_TEXT = re.compile(f"[{_REFUSED}]")
"""Refused in multi-line text (``reason``, ``remark``), where tabs and line feeds are allowed."""
REFUSED_IN_LINE = re.compile(f"[{_REFUSED}\t\n]")
"""Refused in every other field."""

_SPACES = (
    " \t\n\r\x0b\x0c\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
)
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"  # spaces, (non-)joiners, the BOM
_BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"  # Hangul fillers and the Braille blank
BLANK = _SPACES + _ZERO_WIDTH + _BLANK_LETTERS
"""What may surround a value unseen: dropped from its ends, never refused there."""
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs"})


def is_blank(value: str | None) -> bool:
    """Whether a value shows nothing: only spaces, zero-width, control and format characters."""
    if value and value.isprintable() and value.strip(BLANK):  # the usual case, in C
        return False
    return all(
        char in _BLANK_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES
        for char in value or ""
    )


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that free text may not hold, if any."""
    if text.isprintable():  # every refused character is a control, format or unassigned one
        return None
    found = (REFUSED_IN_TEXT if multiline else REFUSED_IN_LINE).search(text)
    return found.group() if found else None


def character_name(char: str) -> str:
    return f"U+{ord(char):04X}"


def normalized(value: str | None, *, multiline: bool = False) -> str:
    """The value in NFC with its line breaks as line feeds and without blank ends (unchecked)."""
    text = unicodedata.normalize("NFC", value or "")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip(BLANK)


def required(value: str | None, field: FieldPath, *, multiline: bool = False) -> str:
    """The normalised value; ``REQUIRED`` when it shows nothing, ``INVALID_FORMAT`` (with the
    character) when it holds one free text may not (tab and line feed only in ``multiline``)."""
    if value is None or is_blank(value):
        raise DomainError.of(ErrorCode.REQUIRED, field)
    text = normalized(value, multiline=multiline)
    char = refused_character(text, multiline=multiline)
    if char is not None:
        raise DomainError.of(ErrorCode.INVALID_FORMAT, field, character=character_name(char))
    return text


def displayable(value: str | None) -> str:
    """A single line to show that the client chose (a file name): normalised, with every character
    ``required`` would refuse removed rather than refused; empty when it shows nothing."""
    text = REFUSED_IN_LINE.sub("", normalized(value))
    return "" if is_blank(text) else text.strip(BLANK)


def certificate_no(value: str | None, field: FieldPath) -> str:
    """1–40 of ``A-Z 0-9 - /``, trimmed and upper-cased; also exporter and ruling numbers."""
    return CERTIFICATE_NO.check(value, field)


def export_declaration_no(value: str | None, field: FieldPath) -> str:
    """18 characters: customs code, year, export flag ``0`` or ``E``, 9-digit sequence."""
    return EXPORT_DECLARATION_NO.check(value, field)


def import_declaration_no(value: str | None, field: FieldPath) -> str:
    """The foreign declaration number: 1–64 printable characters."""
    return IMPORT_DECLARATION_NO.check(value, field)


def text(value: str | None, field: FieldPath, *, max_length: int, multiline: bool = False) -> str:
    """Free text: required, at most ``max_length`` characters (``TOO_LONG``) once normalised."""
    content = required(value, field, multiline=multiline)
    if len(content) > max_length:
        raise DomainError.of(ErrorCode.TOO_LONG, field, max=max_length)
    return content


def phone(value: str | None, field: FieldPath) -> str:
    """A mainland mobile, a landline with area code, a 95xxx/400/800 number, or ``+`` form."""
    return PHONE.check(value, field)
