"""Format validators (property-based where the rule is a computation)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.errors import DomainError, ErrorCode
from db.validation import (
    USCC_ALPHABET,
    export_declaration_no,
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
