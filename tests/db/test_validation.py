"""Format validators (property-based where the rule is a computation)."""

import itertools
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.errors import DomainError, ErrorCode
from db.validation import (
    BLANK,
    CERTIFICATE_NO_MAX,
    IMPORT_DECLARATION_NO_MAX,
    PHONE,
    USCC_ALPHABET,
    certificate_no,
    export_declaration_no,
    import_declaration_no,
    is_valid_uscc,
    phone,
    uscc_check_character,
)

FIELD = ("x",)
uscc_bodies = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


def test_the_published_example_uscc_is_valid() -> None:
    assert is_valid_uscc("91350100M000100Y43")


@given(uscc_bodies)
def test_a_uscc_with_its_check_character_is_valid(body: str) -> None:
    assert is_valid_uscc(body + uscc_check_character(body))


@given(uscc_bodies, st.integers(min_value=0, max_value=17), st.sampled_from(USCC_ALPHABET))
def test_changing_one_character_of_a_valid_uscc_makes_it_invalid(
    body: str, position: int, replacement: str
) -> None:
    valid = body + uscc_check_character(body)
    mutated = valid[:position] + replacement + valid[position + 1 :]
    assert is_valid_uscc(mutated) == (mutated == valid)


@pytest.mark.parametrize(
    "value", ["91350100M000100Y4", "91350100M000100Y433", "91350100I000100Y43"]
)
def test_wrong_length_or_alphabet_is_not_a_uscc(value: str) -> None:
    assert not is_valid_uscc(value)


declarations = st.builds(
    lambda office, year, flag, sequence: f"{office:04d}{year:04d}{flag}{sequence:09d}",
    st.integers(0, 9999),
    st.integers(1990, 2099),
    st.sampled_from("0E"),
    st.integers(0, 999_999_999),
)


@given(declarations)
def test_export_declarations_with_flag_0_or_e_are_accepted(value: str) -> None:
    assert export_declaration_no(value.lower(), FIELD) == value


@given(declarations, st.sampled_from("1I9AX"))
def test_any_other_flag_is_refused(value: str, flag: str) -> None:
    with pytest.raises(DomainError) as refused:
        export_declaration_no(value[:8] + flag + value[9:], FIELD)
    assert refused.value.problems[0].code is ErrorCode.INVALID_FORMAT


@given(declarations, st.integers(0, 17))
def test_dropping_a_character_is_refused(value: str, position: int) -> None:
    with pytest.raises(DomainError):
        export_declaration_no(value[:position] + value[position + 1 :], FIELD)


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.sampled_from("3456789"),
    st.integers(0, 999_999_999),
)


@given(mobiles)
def test_mainland_mobiles_are_accepted(number: str) -> None:
    assert phone(number, FIELD) == number


@given(mobiles, st.sampled_from(["", "0", "00"]))
def test_mobiles_of_the_wrong_length_are_refused(number: str, extra: str) -> None:
    with pytest.raises(DomainError):
        phone(number[:-1] if not extra else number + extra, FIELD)


@given(st.text(alphabet="abcdefXYZ!@#", min_size=1, max_size=20))
def test_text_is_not_a_phone(value: str) -> None:
    with pytest.raises(DomainError):
        phone(value, FIELD)


def refused_code(validator: Callable[[str, tuple[str, ...]], str], value: str) -> ErrorCode:
    with pytest.raises(DomainError) as refused:
        validator(value, FIELD)
    return refused.value.problems[0].code


digits = st.integers(0, 9).map(str)


def digit_string(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


landlines = st.builds(
    lambda area, separator, first, rest, extension: f"0{area}{separator}{first}{rest}{extension}",
    st.builds(
        str.__add__, st.sampled_from("123456789"), st.one_of(digit_string(1), digit_string(2))
    ),
    st.sampled_from(["", "-"]),
    st.sampled_from("123456789"),
    st.one_of(digit_string(6), digit_string(7)),
    st.one_of(
        st.just(""),
        st.builds(
            lambda mark, number: mark + number,
            st.sampled_from(["-", "转"]),
            st.text(alphabet="0123456789", min_size=1, max_size=6),
        ),
    ),
)
service_numbers = st.one_of(
    st.builds(
        lambda body, tail: f"95{body}{tail}",
        digit_string(3),
        st.text(alphabet="0123456789", max_size=3),
    ),
    st.builds(
        lambda prefix, first, second, middle, last: f"{prefix}{first}{middle}{second}{last}",
        st.sampled_from(["400", "800"]),
        st.sampled_from(["", "-"]),
        st.sampled_from(["", "-"]),
        digit_string(3),
        digit_string(4),
    ),
)


@st.composite
def international_numbers(draw: st.DrawFn) -> str:
    """``+``, a country code and up to five groups of digits, 8–15 digits in all (E.164)."""
    country = draw(st.sampled_from("123456789")) + draw(st.text("0123456789", max_size=2))
    rest = draw(digit_string(draw(st.integers(max(8, len(country) + 1), 15)) - len(country)))
    cuts = set(draw(st.lists(st.integers(1, len(rest) - 1), max_size=3)))
    if len(rest) > 8:
        cuts.add(8)  # a group has at most eight digits
    bounds = [0, *sorted(cuts), len(rest)]
    groups = [rest[start:end] for start, end in itertools.pairwise(bounds)]
    separators = draw(st.lists(st.sampled_from(["", " ", "-"]), min_size=5, max_size=5))
    return "+" + country + "".join(s + g for s, g in zip(separators, groups, strict=False))


phones = st.one_of(mobiles, landlines, service_numbers, international_numbers())


@given(phones)
def test_every_phone_form_is_accepted_as_written(number: str) -> None:
    assert phone(number, FIELD) == number
    assert phone(f"  {number} ", FIELD) == number


@given(phones, st.integers(0, 40), st.sampled_from("aZx#*.()"))
def test_a_phone_with_a_stray_character_is_refused(number: str, position: int, stray: str) -> None:
    at = position % (len(number) + 1)
    assert refused_code(phone, number[:at] + stray + number[at:]) is ErrorCode.INVALID_FORMAT


@given(international_numbers(), digit_string(8))
def test_an_international_number_over_15_digits_is_refused(number: str, extra: str) -> None:
    assert refused_code(phone, number + extra) is ErrorCode.INVALID_FORMAT


@given(landlines)
def test_a_landline_with_its_area_code_starting_00_is_refused(number: str) -> None:
    assert refused_code(phone, "00" + number[2:]) is ErrorCode.INVALID_FORMAT


@pytest.mark.parametrize("value", ["", "   ", None])
def test_a_missing_phone_is_required(value: str | None) -> None:
    assert refused_code(phone, value) is ErrorCode.REQUIRED  # type: ignore[arg-type]


CERTIFICATE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/"
certificate_numbers = st.text(alphabet=CERTIFICATE_ALPHABET, min_size=1, max_size=40).filter(
    lambda value: value.strip() == value
)


@given(certificate_numbers)
def test_certificate_numbers_are_accepted_and_upper_cased(value: str) -> None:
    assert certificate_no(value.lower(), FIELD) == value


@given(certificate_numbers, st.integers(0, 40), st.sampled_from(" _.#+中a\t"))
def test_a_certificate_number_with_another_character_is_refused(
    value: str, position: int, stray: str
) -> None:
    at = position % (len(value) + 1)
    mutated = value[:at] + stray + value[at:]
    if mutated.strip().upper() == value or stray.upper() in CERTIFICATE_ALPHABET:
        return  # whitespace at an end is trimmed; a lower-case letter is upper-cased
    assert refused_code(certificate_no, mutated) is ErrorCode.INVALID_FORMAT


@given(st.text(alphabet=CERTIFICATE_ALPHABET, min_size=CERTIFICATE_NO_MAX + 1, max_size=60))
def test_a_certificate_number_over_40_characters_is_refused(value: str) -> None:
    assert refused_code(certificate_no, value) is ErrorCode.INVALID_FORMAT


printable = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
    min_size=1,
    max_size=IMPORT_DECLARATION_NO_MAX,
).filter(
    lambda value: (
        value.strip(BLANK) == value
        and value.isprintable()
        and value != ""
        and unicodedata.is_normalized("NFC", value)
    )
)


@given(printable)
def test_import_declaration_numbers_of_printable_characters_are_accepted(value: str) -> None:
    assert import_declaration_no(value, FIELD) == value


@given(printable, st.integers(0, 64), st.sampled_from(["\x00", "\x07", "\n", "\u200b"]))
def test_an_import_declaration_number_with_a_control_character_is_refused(
    value: str, position: int, control: str
) -> None:
    at = 1 + position % len(value) if len(value) > 1 else 1
    mutated = value[:at] + control + value[at:] + "X"
    assert refused_code(import_declaration_no, mutated) is ErrorCode.INVALID_FORMAT


@given(printable, digit_string(IMPORT_DECLARATION_NO_MAX))
def test_an_import_declaration_number_over_64_characters_is_refused(
    value: str, padding: str
) -> None:
    assert refused_code(import_declaration_no, value + padding) is ErrorCode.INVALID_FORMAT


@given(declarations, st.sampled_from("ABCDFX"), st.integers(0, 17))
def test_a_letter_anywhere_but_the_flag_breaks_an_export_declaration(
    value: str, letter: str, position: int
) -> None:
    if position == 8:
        return
    mutated = value[:position] + letter + value[position + 1 :]
    assert refused_code(export_declaration_no, mutated) is ErrorCode.INVALID_FORMAT


@pytest.mark.parametrize(
    ("validator", "value"),
    [
        (phone, "13" + "٨١٢٣٤٥٦٧٨"),  # Arabic-Indic digits: Python's \d takes them, [0-9] not
        (phone, "13８１２３４５６７８"),  # full-width digits
        (export_declaration_no, "3501２０２６0000123456"),
    ],
)
def test_digits_are_ascii_digits(
    validator: Callable[[str, tuple[str, ...]], str], value: str
) -> None:
    assert refused_code(validator, value) is ErrorCode.INVALID_FORMAT


def test_the_longest_phone_is_the_published_maximum() -> None:
    longest = "+123 45678 9012 3 4 5"  # 15 digits, five separators
    assert len(longest) == PHONE.max_length
    assert phone(longest, FIELD) == longest
    assert refused_code(phone, longest + "6") is ErrorCode.INVALID_FORMAT
