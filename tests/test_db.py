"""One commit per unit of work: a request's writes are committed once its handler has
returned and before it is answered, a CLI, seed or scheduler block's once at its end; an
error anywhere keeps nothing of it, and what waits for the commit never sees a rollback."""

import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from app.actions.models import Action, ActionEvent
from app.db import on_commit, write_session
from app.errors import Conflict
from app.seeding.schemas import SeedReport
from app.units import router as unit_router
from app.units import service as unit_service
from app.units.models import Unit
from app.units.schemas import UnitCreate
from tests.helpers import assert_problem


def unit_names(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Unit.name).order_by(col(Unit.id))).all())


def events_of(engine: Engine, action_id: int) -> int:
    with Session(engine) as session:
        where = ActionEvent.action_id == action_id
        return session.exec(select(func.count()).select_from(ActionEvent).where(where)).one()


def test_a_failed_commit_is_the_answer_and_keeps_neither_the_change_nor_its_event(
    client: TestClient, engine: Engine, seeded: SeedReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    etag = client.get("/api/v1/actions/1").headers["ETag"]
    events = events_of(engine, 1)

    def disk_full(_: Session) -> None:
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    with monkeypatch.context() as patched:
        patched.setattr(Session, "commit", disk_full)
        response = client.patch(
            "/api/v1/actions/1", json={"assignee": "张明"}, headers={"If-Match": etag}
        )

    assert_problem(response, 503)
    with Session(engine) as session:
        action = session.get(Action, 1)
        assert action is not None and action.assignee != "张明"
        assert f'W/"{action.version}"' == etag
    assert events_of(engine, 1) == events


def test_an_error_after_the_service_wrote_keeps_nothing(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_: object) -> str:
        raise Conflict("refused after the unit was flushed")

    monkeypatch.setattr(unit_router, "content_etag", refuse)

    response = client.post("/api/v1/units", json={"name": "区商务局", "kind": "bureau"})

    assert assert_problem(response, 409)["detail"] == "refused after the unit was flushed"
    assert "区商务局" not in unit_names(engine)


def test_a_write_session_commits_once_at_the_end_and_keeps_what_it_loaded(
    engine: Engine,
) -> None:
    with write_session(engine) as session:
        unit = unit_service.create_unit(session, UnitCreate(name="区商务局"))
        assert "区商务局" not in unit_names(engine)  # not yet committed

    assert unit_names(engine) == ["区商务局"]
    assert unit.id is not None and unit.name == "区商务局"  # readable with its session gone


def test_a_write_session_keeps_nothing_when_its_block_fails(engine: Engine) -> None:
    with pytest.raises(Conflict), write_session(engine) as session:
        unit_service.create_unit(session, UnitCreate(name="区商务局"))
        unit_service.create_unit(session, UnitCreate(name="区商务局"))

    assert "区商务局" not in unit_names(engine)


def test_an_effect_waits_for_the_commit_and_is_dropped_by_a_rollback(engine: Engine) -> None:
    seen: list[list[str]] = []
    with write_session(engine) as session:
        unit_service.create_unit(session, UnitCreate(name="区商务局"))
        on_commit(session, lambda: seen.append(unit_names(engine)))
        assert seen == []
    with pytest.raises(RuntimeError), write_session(engine) as session:
        unit_service.create_unit(session, UnitCreate(name="区财政局"))
        on_commit(session, lambda: seen.append(["rolled back"]))
        raise RuntimeError("the block fails")

    assert seen == [["区商务局"]]  # it ran once, and saw the committed unit
