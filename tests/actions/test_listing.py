"""The query builder of many actions (listing.py), run on its own: which actions the filters
select, in which order, and that the count agrees. The API's list is tested through HTTP in
test_list.py; as-of moments in test_as_of.py."""

from typing import cast

import pytest
from sqlmodel import Session, col, select

from app.actions import listing
from app.actions.listing import moment_for
from app.actions.models import Action
from app.actions.schemas import ActionFilters
from app.config import Settings
from app.seeding.schemas import SeedReport


def selected_ids(
    session: Session, settings: Settings, filters: ActionFilters, sort: str | None = None
) -> list[int]:
    """Ids of the actions filters select now, in order; count_actions must agree."""
    moment = moment_for(settings, None)
    query = listing.selecting(select(col(Action.id)), filters, sort, moment)
    ids = cast(list[int], list(session.exec(query).all()))  # Action.id: None only before insert
    assert listing.count_actions(session.connection(), filters, moment) == len(ids)
    return ids


def all_actions(session: Session) -> list[Action]:
    """Every action in the database, archived ones too, by id."""
    return list(session.exec(select(Action).order_by(col(Action.id))).all())


def test_filter_clauses_hide_archived_unless_asked(settings: Settings) -> None:
    now = moment_for(settings, None)
    assert len(listing.filter_clauses(ActionFilters(), now)) == 1
    assert listing.filter_clauses(ActionFilters(include_archived=True), now) == []
    assert listing.filter_clauses(ActionFilters(include_archived=True, q="   "), now) == []
    assert len(listing.filter_clauses(ActionFilters(q="招商", owner_id=5), now)) == 3


def test_selecting_without_filters_lists_every_seeded_action(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    ids = selected_ids(session, settings, ActionFilters())
    assert ids == [a.id for a in all_actions(session)]
    assert len(ids) == seeded.actions.created == 43


def test_selecting_filters_by_owner_kind_and_priority(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    actions = all_actions(session)
    got = selected_ids(session, settings, ActionFilters(owner_id=5, kind="recommendation"))
    expected = [a.id for a in actions if a.owner_id == 5 and a.kind == "recommendation"]
    assert got == expected
    assert got
    got = selected_ids(session, settings, ActionFilters(priority="high"))
    assert got == [a.id for a in actions if a.priority == "high"]
    assert 0 < len(got) < 43


def test_selecting_filters_by_theme(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    expected = [
        a.id for a in all_actions(session) if "党建引领" in [theme.name for theme in a.themes]
    ]
    assert selected_ids(session, settings, ActionFilters(theme="党建引领")) == expected
    assert len(expected) == 4
    assert selected_ids(session, settings, ActionFilters(theme="没有这个主题")) == []


@pytest.mark.parametrize("term", ["招", "招商", "党建", "孵化器", "标准地"])
def test_selecting_q_finds_every_match(
    session: Session, settings: Settings, seeded: SeedReport, term: str
) -> None:
    expected = [
        a.id
        for a in all_actions(session)
        if term in a.title or term in (a.detail or "") or term in a.quote
    ]
    assert expected
    assert selected_ids(session, settings, ActionFilters(q=term)) == expected


def test_selecting_q_treats_like_wildcards_literally(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    assert selected_ids(session, settings, ActionFilters(q="_")) == []
    assert selected_ids(session, settings, ActionFilters(q="%%")) == []
    expected = [a.id for a in all_actions(session) if "%" in a.quote + a.title + (a.detail or "")]
    assert selected_ids(session, settings, ActionFilters(q="%")) == expected


def test_selecting_combines_filters_and_excludes_archived(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    action = session.get(Action, 22)
    assert action is not None
    action.archived = True
    session.add(action)
    session.commit()
    filters = ActionFilters(q="招商", owner_id=5)
    got = selected_ids(session, settings, filters)
    expected_with_archived = [
        a.id
        for a in all_actions(session)
        if a.owner_id == 5
        and ("招商" in a.title or "招商" in (a.detail or "") or "招商" in a.quote)
    ]
    assert 22 in expected_with_archived
    assert got == [i for i in expected_with_archived if i != 22]
    with_archived = ActionFilters(q="招商", owner_id=5, include_archived=True)
    assert selected_ids(session, settings, with_archived) == expected_with_archived


def test_selecting_sorts_with_id_as_tiebreak(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    rank = {"low": 0, "medium": 1, "high": 2}  # ascending priority is low → high
    actions = all_actions(session)
    got = selected_ids(session, settings, ActionFilters(), sort="-priority")
    expected = sorted(actions, key=lambda a: (-rank[a.priority], a.id))
    assert got == [a.id for a in expected]
