"""Field types shared by the API schemas.

Each text type states its rules in the OpenAPI as a `pattern`, so that clients (and the
schema fuzzer) know what is accepted; the validators enforce the same rules with messages
that say what is wrong. tests/test_fields.py checks that patterns and validators agree."""

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

T = TypeVar("T")

# C0 controls other than tab, line feed and carriage return.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f"
# What str.strip() removes beyond the C0 controls: the Unicode white space.
_SPACES = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Prose: any text without control characters (tab and line breaks allowed).
PROSE_PATTERN = rf"^[^{_CONTROLS}]*$"
# One line: no control characters at all.
LINE_PATTERN = r"^[^\x00-\x1f]*$"
# A name: one line, not blank, no white space at either end.
NAME_PATTERN = rf"^[^\x00-\x1f{_SPACES}](?:[^\x00-\x1f]*[^\x00-\x1f{_SPACES}])?$"
# A verbatim excerpt: prose, not blank, no white space (nor line break) at either end.
EXCERPT_PATTERN = rf"^[^\x00-\x1f{_SPACES}](?:[^{_CONTROLS}]*[^\x00-\x1f{_SPACES}])?$"


def _pattern(regex: str) -> Any:
    """States regex in the JSON schema only; the validators below enforce it."""
    return Field(json_schema_extra={"pattern": regex})


def no_control_characters(value: str) -> str:
    """Text a database can store and a reader can see: no NUL (PostgreSQL cannot store it),
    no other C0 control but tab and line breaks, no lone surrogate (not UTF-8)."""
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("must be valid Unicode: a lone surrogate is not a character")
    return value


def _single_line(value: str) -> str:
    if any(ch in value for ch in "\n\r\t"):
        raise ValueError("must be a single line without tabs")
    return value


def _not_only_digits(value: str) -> str:
    if value.isdigit():
        raise ValueError("must contain a letter, so that it cannot be mistaken for an id")
    return value


def no_surrounding_whitespace(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


# A single-line name or title: not blank, no surrounding whitespace.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(no_control_characters),
    AfterValidator(_single_line),
    AfterValidator(no_surrounding_whitespace),
    _pattern(NAME_PATTERN),
]
# Free prose (details, notes); may span lines.
Prose = Annotated[
    str,
    StringConstraints(max_length=20_000),
    AfterValidator(no_control_characters),
    _pattern(PROSE_PATTERN),
]
# A document body kept verbatim.
Document = Annotated[
    str,
    StringConstraints(min_length=1, max_length=5_000_000),
    AfterValidator(no_control_characters),
    _pattern(PROSE_PATTERN),
]
# One line of text that may be long, such as a URL.
Line = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    AfterValidator(no_control_characters),
    AfterValidator(_single_line),
    _pattern(LINE_PATTERN),
]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=100)]
# A slug that names a resource beside its numeric id, as in /sources/{id_or_slug}.
ResourceSlug = Annotated[Slug, AfterValidator(_not_only_digits)]


def reject_null(value: T | None) -> T:
    """For PATCH fields that may be left out but not set to null."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


def _without_null(schema: dict[str, Any]) -> None:
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    schema.pop("default", None)
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


# A PATCH field that may be left out but not set to null (pair it with reject_null): the
# schema offers no null.
Omittable = Annotated[T | None, Field(json_schema_extra=_without_null)]


def written_out(value: Any) -> Any:
    """Pydantic would read a number (or a numeric string) as a Unix time; the schema
    promises an ISO 8601 date or RFC 3339 date-time, so only those are read."""
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("must be written out as in 2026-09-30 (or 2026-09-30T08:00:00+08:00)")
    return value


def _in_tracked_years(value: datetime) -> datetime:
    if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
        raise ValueError(f"must fall in the years {FIRST_DAY.year} to {LAST_DAY.year}")
    return value


def not_boolean(value: Any) -> Any:
    """Pydantic would read true as 1; the schema says integer."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not true or false")
    return value


# Years a tracker's dates fall in; beyond them, date arithmetic (a period's end, the stale
# cut-off) would leave Python's date range.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
# A calendar date or a moment, written out (never a Unix time), in the years above.
Date = Annotated[
    date,
    Field(ge=FIRST_DAY, le=LAST_DAY, json_schema_extra={"pattern": r"^(?:19|2[0-9])[0-9]{2}-"}),
    BeforeValidator(written_out),
]
DateTime = Annotated[
    datetime,
    Field(json_schema_extra={"pattern": r"^(?:19|2[0-9])[0-9]{2}-"}),
    BeforeValidator(written_out),
    AfterValidator(_in_tracked_years),
]

MAX_ID = 2**31 - 1  # integer primary keys are 32-bit on PostgreSQL
# An id in a path, query or body: out of range is 422, never a database overflow.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(not_boolean)]
