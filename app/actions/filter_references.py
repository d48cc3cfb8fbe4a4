"""Filters that name something must name something that exists: a list, /stats or report
filtered by a unit, source, speech or theme that is not there is a typo (422 naming the
filter), not an empty answer that looks like "nothing to do". Checked for query parameters
(FiltersDep) and for the filters of kept and scheduled reports alike."""

from difflib import get_close_matches
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from app.actions.models import Theme
from app.actions.schemas import ActionFilters
from app.errors import InvalidInput
from app.sources.models import Source, Speech
from app.units.models import Unit

UNIT_FILTERS = ("owner_id", "unit_id", "co_owner_id")


def names_anything(filters: ActionFilters) -> bool:
    """Whether filters name a unit, source, speech or theme (and so need a look-up)."""
    references = (*UNIT_FILTERS, "source_id", "speech_id", "theme")
    return any(getattr(filters, name) is not None for name in references)


def check_references(connection: Connection, filters: ActionFilters, loc: list[str]) -> None:
    """InvalidInput at loc + [filter] for the first filter naming what does not exist."""
    for name in UNIT_FILTERS:
        _check_id(connection, Unit, "unit", filters, name, loc)
    _check_id(connection, Source, "source", filters, "source_id", loc)
    _check_id(connection, Speech, "speech", filters, "speech_id", loc)
    if filters.theme is not None:
        themes = list(connection.execute(select(col(Theme.name))).scalars())
        if filters.theme not in themes:
            close = get_close_matches(filters.theme, themes, n=3, cutoff=0.3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise InvalidInput(f"theme: no theme named {filters.theme!r}{hint}", [*loc, "theme"])


def _check_id(
    connection: Connection,
    table: type[Unit] | type[Source] | type[Speech],
    noun: str,
    filters: ActionFilters,
    name: str,
    loc: list[str],
) -> None:
    wanted = getattr(filters, name)
    if wanted is None:
        return
    found = connection.execute(select(col(table.id)).where(col(table.id) == wanted)).first()
    if found is None:
        raise InvalidInput(f"{name}: there is no {noun} {wanted}", [*loc, name])


def _check_with_engine(engine: Engine, filters: ActionFilters) -> None:
    with engine.connect() as connection:
        check_references(connection, filters, ["query"])


async def check_query_references(engine: Engine, filters: ActionFilters) -> None:
    """check_references for the filters of a query string: only when they name something,
    and off the event loop."""
    if names_anything(filters):
        await run_in_threadpool(_check_with_engine, engine, filters)


async def existing_filters(
    request: Request, filters: Annotated[ActionFilters, Query()]
) -> ActionFilters:
    """The action filters of a query string, each unit, source, speech or theme it names
    looked up."""
    await check_query_references(request.app.state.engine, filters)
    return filters


FiltersDep = Annotated[ActionFilters, Depends(existing_filters)]
