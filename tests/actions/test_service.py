"""Service-level tests of actions: anchoring quotes and recording changes."""

from datetime import date, datetime

import pytest
from sqlmodel import Session, col, select

from app.actions import service as action_service
from app.actions.models import Action, ActionEvent, EventKind
from app.auth.schemas import Actor
from app.errors import InvalidInput
from app.seeding.schemas import SeedReport
from tests.helpers import ARTICLE, STANDARD_LAND

TESTER = Actor("测试员")


def error_locs(error: InvalidInput) -> list[list[str | int]]:
    """The locations an InvalidInput names."""
    return [entry["loc"] for entry in error.extra["errors"]]


# ---------------------------------------------------------------- quote_occurrences


def test_quote_occurrences_lists_every_offset_including_overlaps() -> None:
    assert action_service.quote_occurrences("招商招商，招商", "招商") == [0, 2, 5]
    assert action_service.quote_occurrences("哈哈哈", "哈哈") == [0, 1]
    assert action_service.quote_occurrences("招商引资", "党建") == []


def test_quote_occurrences_in_article_are_code_point_offsets() -> None:
    offsets = action_service.quote_occurrences(ARTICLE, "标准地")
    assert len(offsets) == ARTICLE.count("标准地") == 3
    assert all(ARTICLE[at : at + 3] == "标准地" for at in offsets)
    assert offsets == sorted(offsets)


# ---------------------------------------------------------------- locate_quote


def test_locate_quote_finds_a_unique_quote() -> None:
    start, end = action_service.locate_quote(ARTICLE, STANDARD_LAND, None)
    assert ARTICLE[start:end] == STANDARD_LAND
    assert start == ARTICLE.index(STANDARD_LAND)
    assert end - start == len(STANDARD_LAND)


def test_locate_quote_not_found_is_invalid_input_on_quote() -> None:
    with pytest.raises(InvalidInput) as raised:
        action_service.locate_quote(ARTICLE, "这句话不在原文里", None)
    assert raised.value.status == 422
    assert error_locs(raised.value) == [["body", "quote"]]
    assert "does not occur" in raised.value.detail


def test_locate_quote_ambiguous_lists_offsets() -> None:
    text = "建设标准化厂房。加快建设标准化厂房。"
    with pytest.raises(InvalidInput) as raised:
        action_service.locate_quote(text, "建设标准化厂房", None)
    assert error_locs(raised.value) == [["body", "quote_start"]]
    assert "2 times" in raised.value.detail
    assert "0, 10" in raised.value.detail


def test_locate_quote_start_picks_an_occurrence() -> None:
    text = "建设标准化厂房。加快建设标准化厂房。"
    assert action_service.locate_quote(text, "建设标准化厂房", 10) == (10, 17)
    assert action_service.locate_quote(text, "建设标准化厂房", 0) == (0, 7)


def test_locate_quote_start_that_is_not_an_occurrence_is_rejected() -> None:
    text = "建设标准化厂房。加快建设标准化厂房。"
    with pytest.raises(InvalidInput) as raised:
        action_service.locate_quote(text, "建设标准化厂房", 3)
    assert error_locs(raised.value) == [["body", "quote_start"]]
    assert "offset 3" in raised.value.detail
    assert "0, 10" in raised.value.detail


def test_locate_quote_start_on_a_unique_quote_must_match() -> None:
    at = ARTICLE.index(STANDARD_LAND)
    assert action_service.locate_quote(ARTICLE, STANDARD_LAND, at) == (
        at,
        at + len(STANDARD_LAND),
    )
    with pytest.raises(InvalidInput) as raised:
        action_service.locate_quote(ARTICLE, STANDARD_LAND, at + 1)
    assert error_locs(raised.value) == [["body", "quote_start"]]


def test_locate_quote_matches_chinese_quotation_marks_exactly() -> None:
    quote = "加快“标准地”改革"
    start, end = action_service.locate_quote(ARTICLE, quote, None)
    assert ARTICLE[start:end] == quote
    for variant in ('加快"标准地"改革', "加快「标准地」改革", "加快‘标准地’改革"):
        with pytest.raises(InvalidInput):
            action_service.locate_quote(ARTICLE, variant, None)


def test_locate_quote_matches_full_width_characters_exactly() -> None:
    text = "今年营收增长（同比）２０％，达到“预期”目标。"
    quote = "增长（同比）２０％"
    assert action_service.locate_quote(text, quote, None) == (4, 4 + len(quote))
    in_article = "该区镇（街道）"
    start, end = action_service.locate_quote(ARTICLE, in_article, None)
    assert ARTICLE[start:end] == in_article


@pytest.mark.parametrize(
    ("text", "half_width"),
    [
        ("今年营收增长（同比）２０％，达到“预期”目标。", "增长(同比)20%"),
        ("今年营收增长（同比）２０％，达到“预期”目标。", "增长（同比）20%"),
        ("今年营收增长（同比）２０％，达到“预期”目标。", "增长（同比）２０%"),
        (ARTICLE, "该区镇(街道)"),
        (ARTICLE, "一是要培,注重德才兼备,以德为先"),
    ],
)
def test_locate_quote_does_not_find_half_width_variant(text: str, half_width: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        action_service.locate_quote(text, half_width, None)
    assert error_locs(raised.value) == [["body", "quote"]]


# ---------------------------------------------------------------- apply_changes


def test_apply_changes_records_one_updated_event_with_before_and_after(
    session: Session, seeded: SeedReport
) -> None:
    action = session.get(Action, 16)
    assert action is not None
    old_title, old_themes = action.title, [t.name for t in action.themes]
    requested = {
        "title": "加快“标准地”改革（修订）",
        "progress": 30,
        "priority": "high",  # unchanged
        "due_on": date(2026, 6, 30),
        "themes": ["项目审批", "营商环境", "项目审批"],
    }
    changes = action_service.apply_changes(session, action, requested, TESTER)
    session.commit()
    expected = {
        "title": [old_title, "加快“标准地”改革（修订）"],
        "progress": [0, 30],
        "due_on": [None, "2026-06-30"],
        "themes": [sorted(old_themes), ["营商环境", "项目审批"]],
    }
    assert changes == expected
    session.expire_all()
    events = session.exec(
        select(ActionEvent).where(ActionEvent.action_id == 16).order_by(col(ActionEvent.id))
    ).all()
    assert [e.kind for e in events] == [EventKind.created, EventKind.updated]
    updated = events[1]
    assert updated.actor == "测试员"
    assert updated.changes == expected
    stored = session.get(Action, 16)
    assert stored is not None
    assert stored.title == "加快“标准地”改革（修订）"
    assert stored.progress == 30
    assert stored.due_on == date(2026, 6, 30)
    assert sorted(t.name for t in stored.themes) == ["营商环境", "项目审批"]
    assert isinstance(stored.updated_at, datetime)
    assert stored.updated_at == updated.at


@pytest.mark.parametrize(
    "requested",
    [
        {"title": "新标题"},
        {"themes": ["营商环境"]},
        {"title": "新标题", "progress": 10},
        {"title": "新标题", "themes": ["营商环境"]},
        {"progress": 10, "themes": ["营商环境"], "due_on": date(2026, 6, 30)},
    ],
)
def test_apply_changes_bumps_the_version_once(
    session: Session, seeded: SeedReport, requested: dict[str, object]
) -> None:
    action = session.get(Action, 16)
    assert action is not None
    assert action.version == 1
    changes = action_service.apply_changes(session, action, requested, TESTER)
    session.commit()
    assert set(changes) == set(requested)
    session.expire_all()
    stored = session.get(Action, 16)
    assert stored is not None
    assert stored.version == 2, "one change of an action is one new version"


def test_apply_changes_without_differences_records_nothing(
    session: Session, seeded: SeedReport
) -> None:
    action = session.get(Action, 16)
    assert action is not None
    requested = {
        "title": action.title,
        "priority": action.priority,
        "themes": list(reversed([t.name for t in action.themes])),
    }
    assert action_service.apply_changes(session, action, requested, TESTER) == {}
    session.commit()
    events = session.exec(select(ActionEvent).where(ActionEvent.action_id == 16)).all()
    assert [e.kind for e in events] == [EventKind.created]
    session.expire_all()
    stored = session.get(Action, 16)
    assert stored is not None
    assert stored.version == 1


def test_apply_changes_rejects_a_missing_owner(session: Session, seeded: SeedReport) -> None:
    action = session.get(Action, 16)
    assert action is not None
    with pytest.raises(InvalidInput) as raised:
        action_service.apply_changes(session, action, {"owner_id": 9999}, TESTER)
    assert error_locs(raised.value) == [["body", "owner_id"]]
    session.rollback()
    events = session.exec(select(ActionEvent).where(ActionEvent.action_id == 16)).all()
    assert len(events) == 1
