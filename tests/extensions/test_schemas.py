"""The shapes of extension requests: a reason's pattern (stated in the OpenAPI) and its
validator agree, and a decision's approve is a JSON boolean, never a string or a number."""

import re

import pytest
from pydantic import TypeAdapter, ValidationError

from app.extensions.schemas import NOT_BLANK_PATTERN, ExtensionDecision, Reason
from tests.test_fields import SAMPLES

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out

BLANKS = ["", " ", "\u3000", " \n\t ", "\u2028", "\x85", "\xa0\u202f"]


@pytest.mark.parametrize("value", SAMPLES + BLANKS + ["需延期", " 需延期 "])
def test_reason_pattern_and_validator_agree(value: str) -> None:
    try:
        TypeAdapter(Reason).validate_python(value)
        valid = True
    except ValidationError:
        valid = False
    # $ as JSON Schema (ECMA 262) means it: the very end, never before a final line break.
    assert valid == (re.fullmatch(NOT_BLANK_PATTERN.removesuffix("$"), value) is not None), value


def test_a_reason_is_kept_without_surrounding_white_space() -> None:
    assert TypeAdapter(Reason).validate_python("\u3000需延期一个季度\n") == "需延期一个季度"


@pytest.mark.parametrize("approve", ["true", 1, 0, None])
def test_approve_is_a_boolean(approve: object) -> None:
    with pytest.raises(ValidationError):
        ExtensionDecision.model_validate({"approve": approve})


def test_a_blank_note_is_no_note() -> None:
    assert ExtensionDecision.model_validate({"approve": False, "note": " \n"}).note is None
    assert ExtensionDecision.model_validate({"approve": True, "note": " 同意 "}).note == "同意"
