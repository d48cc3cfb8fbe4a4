"""The patterns the OpenAPI states for text agree with the validators that enforce them."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from app.actions.listing import SORT_FIELDS, Moment, sortable
from app.actions.schemas import Quote
from app.fields import (
    EXCERPT_PATTERN,
    LINE_PATTERN,
    NAME_PATTERN,
    PROSE_PATTERN,
    Line,
    Name,
    Prose,
    no_surrounding_whitespace,
)
from app.pagination import sort_pattern

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out

SAMPLES = [
    "区经济发展局",
    "a",
    "a b",
    " a",
    "a ",
    "\u3000标准地",
    "标准地\u3000",
    "a\u00a0",
    "\u2028",
    "a\u2028b",
    "a\nb",
    "a\r\nb",
    "a\n",
    "\ta",
    "a\t",
    "a\x00b",
    "a\x1fb",
    "a\x1c",
    "a\x0bb",
    "a\x7fb",
    "a\x85",
    "a\x85b",
    "\ufeffa",
    "🎉",
    "\u202eabc",
    "'; DROP TABLE actions; --",
    "<script>alert(1)</script>",
]


def excerpt(value: str) -> None:
    """What an action's quote must be: Quote, and no white space at either end."""
    no_surrounding_whitespace(TypeAdapter(Quote).validate_python(value))


def validator(annotation: Any) -> Callable[[str], Any]:
    return TypeAdapter(annotation).validate_python


@pytest.mark.parametrize(
    ("check", "pattern"),
    [
        (validator(Name), NAME_PATTERN),
        (validator(Prose), PROSE_PATTERN),
        (validator(Line), LINE_PATTERN),
        (excerpt, EXCERPT_PATTERN),
    ],
    ids=["name", "prose", "line", "excerpt"],
)
@pytest.mark.parametrize("value", SAMPLES)
def test_pattern_and_validators_agree(
    check: Callable[[str], Any], pattern: str, value: str
) -> None:
    try:
        check(value)
        valid = True
    except ValueError:  # pydantic's ValidationError is one
        valid = False
    # $ as JSON Schema (ECMA 262) means it: the very end, never before a final line break.
    assert valid == (re.fullmatch(pattern.removesuffix("$"), value) is not None)


def test_the_sort_pattern_names_every_sortable_field_of_actions() -> None:
    moment = Moment(now=datetime(2026, 1, 1, tzinfo=UTC), as_of=None, stale_days=30)
    assert set(SORT_FIELDS) == set(sortable(moment))
    pattern = sort_pattern(SORT_FIELDS)
    assert re.fullmatch(pattern, "-updated_at,id")
    assert not re.fullmatch(pattern, "id, title")
