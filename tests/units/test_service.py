"""Use cases of units, called directly."""

import pytest
from sqlmodel import Session, select

from app.errors import Conflict, InvalidInput, NotFound
from app.pagination import PageParams
from app.units import service
from app.units.models import Unit, UnitKind
from app.units.schemas import UnitCreate, UnitUpdate

PAGE = PageParams(limit=50, offset=0)


def add(session: Session, name: str, kind: UnitKind = UnitKind.bureau) -> Unit:
    return service.create_unit(session, UnitCreate(name=name, kind=kind))


def test_create_stores_unit(session: Session) -> None:
    unit = add(session, "区经济发展局")
    assert unit.id is not None
    stored = session.exec(select(Unit)).all()
    assert [(u.name, u.kind) for u in stored] == [("区经济发展局", UnitKind.bureau)]


def test_create_duplicate_raises_conflict(session: Session) -> None:
    first = add(session, "区经济发展局")
    with pytest.raises(Conflict) as caught:
        add(session, "区经济发展局", UnitKind.park)
    assert caught.value.extra["unit_id"] == first.id
    assert len(session.exec(select(Unit)).all()) == 1


def test_list_filters_sorts_and_counts(session: Session) -> None:
    add(session, "区经济发展局")
    add(session, "沙河产业园区", UnitKind.park)
    add(session, "皇台产业园区", UnitKind.park)
    rows, total = service.list_units(session, PAGE, kind=UnitKind.park, sort="-name")
    assert total == 2
    assert [u.name for u in rows] == sorted(["沙河产业园区", "皇台产业园区"], reverse=True)
    rows, total = service.list_units(session, PageParams(limit=1, offset=1))
    assert total == 3
    assert [u.name for u in rows] == ["沙河产业园区"]


def test_list_unknown_sort_field_is_invalid_input(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.list_units(session, PAGE, sort="colour")
    assert caught.value.extra["errors"][0]["loc"] == ["query", "sort"]


def test_get_and_require_unknown(session: Session) -> None:
    with pytest.raises(NotFound):
        service.get_unit(session, 5)
    with pytest.raises(InvalidInput) as caught:
        service.require_unit(session, 5, ["body", "owner_id"])
    assert caught.value.extra["errors"][0]["loc"] == ["body", "owner_id"]


def test_update_renames_and_keeps_unset_fields(session: Session) -> None:
    unit = add(session, "区经发局", UnitKind.bureau)
    assert unit.id is not None
    updated = service.update_unit(session, unit.id, UnitUpdate(name="区经济发展局"))
    assert (updated.name, updated.kind) == ("区经济发展局", UnitKind.bureau)
    assert service.find_unit_by_name(session, "区经发局") is None
    assert service.find_unit_by_name(session, "区经济发展局") is not None


def test_update_to_taken_name_raises_conflict(session: Session) -> None:
    add(session, "区经济发展局")
    unit = add(session, "区科技创新局")
    assert unit.id is not None
    with pytest.raises(Conflict):
        service.update_unit(session, unit.id, UnitUpdate(name="区经济发展局"))
    session.expire_all()
    assert service.get_unit(session, unit.id).name == "区科技创新局"


def test_update_schema_rejects_null_name() -> None:
    with pytest.raises(ValueError, match="not null"):
        UnitUpdate.model_validate({"name": None})
