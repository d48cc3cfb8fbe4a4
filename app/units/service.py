"""Use cases of units."""

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from app.auth import service as auth_service
from app.errors import Conflict, InvalidInput, NotFound
from app.pagination import PageParams, sorted_page
from app.units.models import Unit, UnitKind
from app.units.schemas import UnitCreate, UnitUpdate

SORTABLE: dict[str, Any] = {
    "id": col(Unit.id),
    "name": col(Unit.name),
    "kind": col(Unit.kind),
}


def get_unit(session: Session, unit_id: int) -> Unit:
    """The unit with unit_id, or NotFound."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    return unit


def require_unit(session: Session, unit_id: int, loc: list[str | int]) -> Unit:
    """The unit a request body refers to; 422 naming the field when it does not exist."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise InvalidInput(f"unit {unit_id} does not exist", loc)
    return unit


def all_units(session: Session) -> Sequence[Unit]:
    """Every unit, by id."""
    return session.exec(select(Unit).order_by(col(Unit.id))).all()


def find_unit_by_name(session: Session, name: str) -> Unit | None:
    """The unit called name, if any."""
    return session.exec(select(Unit).where(Unit.name == name)).first()


def list_units(
    session: Session, page: PageParams, kind: UnitKind | None = None, sort: str | None = None
) -> tuple[Sequence[Unit], int]:
    """A page of units and the total that match."""
    query = select(Unit)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    return sorted_page(session, query, page, sort, SORTABLE, col(Unit.id))


def _ensure_name_free(session: Session, name: str, unit_id: int | None = None) -> None:
    existing = find_unit_by_name(session, name)
    if existing is not None and existing.id != unit_id:
        raise Conflict(
            f"a unit named {name!r} already exists (id {existing.id})", unit_id=existing.id
        )


def create_unit(session: Session, data: UnitCreate) -> Unit:
    """Create a unit with a name no other unit has."""
    _ensure_name_free(session, data.name)
    unit = Unit(name=data.name, kind=data.kind)
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, unit_id: int, data: UnitUpdate) -> Unit:
    """Rename or reclassify a unit."""
    unit = get_unit(session, unit_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        _ensure_name_free(session, changes["name"], unit_id)
        auth_service.forget_unit_keys(session, unit_id)  # their changes record the new name
    unit.sqlmodel_update(changes)
    session.add(unit)
    session.flush()
    return unit
