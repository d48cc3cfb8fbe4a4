"""Field types shared by the API schemas."""

from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, StringConstraints

T = TypeVar("T")


def no_control_characters(value: str) -> str:
    # NUL cannot be stored by PostgreSQL and other C0 controls are never meant in prose.
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _single_line(value: str) -> str:
    if any(ch in value for ch in "\n\r\t"):
        raise ValueError("must be a single line without tabs")
    return value


def _not_only_digits(value: str) -> str:
    if value.isdigit():
        raise ValueError("must contain a letter, so that it cannot be mistaken for an id")
    return value


def _no_surrounding_whitespace(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


# A single-line name or title: not blank, no surrounding whitespace.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(no_control_characters),
    AfterValidator(_single_line),
    AfterValidator(_no_surrounding_whitespace),
]
# Free prose (details, notes); may span lines.
Prose = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(no_control_characters)]
# A document body kept verbatim.
Document = Annotated[
    str,
    StringConstraints(min_length=1, max_length=5_000_000),
    AfterValidator(no_control_characters),
]
# One line of text that may be long, such as a URL.
Line = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    AfterValidator(no_control_characters),
    AfterValidator(_single_line),
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


MAX_ID = 2**31 - 1  # integer primary keys are 32-bit on PostgreSQL
# An id in a path, query or body: out of range is 422, never a database overflow.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
