"""List conventions: limit/offset pages, total order sorting and the Link header."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import InvalidInput

MAX_OFFSET = 1_000_000_000
T = TypeVar("T")


class PageParams(BaseModel):
    """limit and offset of a list request."""

    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size, 1..200")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    """The page a list request asks for; out-of-range values are 422, never clamped."""
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int


def sort_pattern(fields: Iterable[str]) -> str:
    """The `sort` values order_by accepts, for the OpenAPI: a comma list of fields, each
    with an optional - for descending, no spaces."""
    field = "|".join(sorted(fields))
    return rf"^(?:-?(?:{field})(?:,-?(?:{field}))*)?$"


def order_by(
    sort: str | None, columns: Mapping[str, Any], tiebreak: Any
) -> list[ColumnElement[Any]]:
    """ORDER BY clauses for a `sort` value like "-updated_at,id", always ending with the id."""
    clauses: list[ColumnElement[Any]] = []
    for item in sort.split(",") if sort else []:
        name = item.removeprefix("-")
        column = columns.get(name)
        if column is None:
            allowed = ", ".join(sorted(columns))
            raise InvalidInput(
                f"unknown sort field {name!r}; sortable: {allowed}", ["query", "sort"]
            )
        descending = item.startswith("-")
        clauses.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    return [*clauses, tiebreak]


def set_link_header(request: Request, response: Response, params: PageParams, total: int) -> None:
    """Point rel="next" at the following page while more items remain."""
    next_offset = params.offset + params.limit
    if next_offset < total:
        url = request.url.include_query_params(offset=next_offset, limit=params.limit)
        response.headers["Link"] = f'<{url}>; rel="next"'


def make_page(items: Sequence[T], total: int, params: PageParams) -> Page[T]:
    """A Page of items."""
    return Page[T](items=list(items), total=total, limit=params.limit, offset=params.offset)


def sorted_page(
    session: Session,
    query: SelectOfScalar[T],
    page: PageParams,
    sort: str | None,
    columns: Mapping[str, Any],
    tiebreak: Any,
) -> tuple[Sequence[T], int]:
    """The page of query's rows in the order `sort` asks (ending with tiebreak), and the
    total of all its rows."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(*order_by(sort, columns, tiebreak)).offset(page.offset).limit(page.limit)
    ).all()
    return rows, total
