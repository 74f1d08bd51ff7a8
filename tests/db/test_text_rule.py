"""The one rule for characters in free text (``db.validation.required``), over any text at all:
what it returns is NFC, shows something, has no blank ends and no refused character; what it
refuses names the character. File names follow the same rule, dropping what a field refuses."""

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from db import validation
from db.errors import DomainError, ErrorCode

FIELD = ("x",)
REFUSED = st.sampled_from(
    [
        *"\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f\x80\x85\x9b\x9f",
        *"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        *"\u2028\u2029\ufeff\ufdd0\ufdef\ufffe\uffff",
        "\U0001fffe",
        "\U0010ffff",
    ]
)
VISIBLE = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S"], exclude_characters="\u3164\u2800"),
    min_size=1,
    max_size=20,
)


@given(st.text(), st.booleans())
@example("e\u0301", False)
@example("\u200b \u200b", False)
@example("a\r\nb\rc", True)
def test_what_the_rule_accepts_is_normalised_visible_and_clean(value: str, multiline: bool) -> None:
    try:
        kept = validation.required(value, FIELD, multiline=multiline)
    except DomainError as refused:
        [problem] = refused.problems
        assert problem.code in (ErrorCode.REQUIRED, ErrorCode.INVALID_FORMAT)
        if problem.code is ErrorCode.REQUIRED:
            assert validation.is_blank(value)
        else:
            character = str(problem.params["character"])
            assert chr(int(character.removeprefix("U+"), 16)) in value + "\r"
        return
    assert unicodedata.is_normalized("NFC", kept)
    assert not validation.is_blank(kept)
    assert kept == kept.strip(validation.BLANK)
    assert validation.refused_character(kept, multiline=multiline) is None
    assert "\r" not in kept
    assert validation.required(kept, FIELD, multiline=multiline) == kept, "idempotent"


@given(VISIBLE, REFUSED, VISIBLE, st.booleans())
def test_a_refused_character_between_visible_ones_is_named(
    before: str, character: str, after: str, multiline: bool
) -> None:
    with pytest.raises(DomainError) as refused:
        validation.required(before + character + after, FIELD, multiline=multiline)
    [problem] = refused.value.problems
    assert problem.code is ErrorCode.INVALID_FORMAT
    assert problem.params == {"character": f"U+{ord(character):04X}"}


@pytest.mark.parametrize("character", ["\t", "\n", "\r"])
def test_tabs_and_line_breaks_are_refused_only_in_single_line_text(character: str) -> None:
    assert validation.required(f"a{character}b", FIELD, multiline=True) == (
        "a\tb" if character == "\t" else "a\nb"
    )
    with pytest.raises(DomainError) as refused:
        validation.required(f"a{character}b", FIELD)
    assert refused.value.problems[0].code is ErrorCode.INVALID_FORMAT


@given(st.text())
def test_a_displayable_name_never_holds_a_refused_character(value: str) -> None:
    shown = validation.displayable(value)
    assert validation.refused_character(shown) is None
    assert unicodedata.is_normalized("NFC", shown)
    assert shown == "" or not validation.is_blank(shown)
    assert validation.displayable(shown) == shown
