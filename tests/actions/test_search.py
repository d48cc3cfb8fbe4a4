"""The search index: it finds exactly what a substring test finds, for terms of any length,
punctuation and spaces ignored on both sides, and stays exact as actions are created, edited,
re-seeded and imported."""

import random
from typing import cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from app.actions import listing, search
from app.actions import service as action_service
from app.actions.listing import moment_for
from app.actions.models import Action
from app.actions.schemas import ActionCreate, ActionFilters
from app.actions.workflow import ActionKind
from app.auth.schemas import Actor
from app.config import Settings
from app.db import write_session
from app.seeding.schemas import SeedReport
from app.sources import service as source_service
from app.sources.schemas import SourceCreate
from app.squash import squash
from app.units import service as unit_service
from app.units.models import UnitKind
from app.units.schemas import UnitCreate

ALPHABET = "招商引资党建标准地环保ab1"
SEPARATORS = "，。 %_"
TESTER = Actor("test")


def found(session: Session, settings: Settings, term: str) -> set[int]:
    """Ids the list's query finds for q=term, archived ones too: the same whether the query
    stops at a page or reads every match (PostgreSQL reads its index differently for each),
    and as many as it counts."""
    filters, moment = ActionFilters(q=term, include_archived=True), moment_for(settings, None)
    forms = [
        listing.selecting(select(col(Action.id)), filters, None, moment, reads_every_match=every)
        for every in (False, True)
    ]
    page_form, every_match_form = (set(session.exec(query).all()) for query in forms)
    assert page_form == every_match_form, term
    assert listing.count_actions(session.connection(), filters, moment) == len(page_form), term
    return cast(set[int], page_form)  # Action.id is None only before an insert, never when read


def expected(session: Session, term: str) -> set[int]:
    """Ids of the actions whose title, detail or quote contain term, judged in Python:
    letters and digits only on both sides (a term of punctuation alone, as it is)."""
    squashed = squash(term)

    def contains(text: str | None) -> bool:
        if not squashed:
            return term.casefold() in (text or "").casefold()
        return squashed in squash(text)

    return {
        action.id
        for action in session.exec(select(Action)).all()
        if action.id is not None
        and any(contains(text) for text in (action.title, action.detail, action.quote))
    }


def unit_and_source(session: Session, text: str) -> tuple[int, int]:
    """Ids of a new unit and of a new source with text."""
    unit = unit_service.create_unit(session, UnitCreate(name="测试单位", kind=UnitKind.other))
    source = source_service.create_source(
        session, SourceCreate(slug="test", title="测试来源", text=text)
    )
    assert unit.id is not None and source.id is not None
    return unit.id, source.id


def random_text(rng: random.Random, length: int) -> str:
    """length random characters of the alphabet and separators, without surrounding spaces."""
    return "".join(rng.choice(ALPHABET + SEPARATORS) for _ in range(length)).strip() or "招"


@pytest.fixture
def random_actions(engine: Engine) -> random.Random:
    """150 actions with random titles, details and quotes over a small alphabet, so terms of
    one to five characters match often and across punctuation."""
    rng = random.Random(20261126)
    text = random_text(rng, 4000)
    with write_session(engine) as session:
        unit_id, source_id = unit_and_source(session, text)
        for _ in range(150):
            start = rng.randrange(len(text) - 30)
            quote = text[start : start + rng.randint(1, 30)].strip() or text[0]
            data = ActionCreate(
                source_id=source_id,
                owner_id=unit_id,
                kind=ActionKind.recommendation,
                title=random_text(rng, rng.randint(1, 20)),
                detail=random_text(rng, rng.randint(0, 60)) or None,
                quote=quote,
                quote_start=text.find(quote, start),
            )
            action_service.create_action(session, data, TESTER)
    return rng


def some_terms(rng: random.Random) -> list[str]:
    """Terms of one to five characters, some with punctuation, spaces or capitals."""
    singles = [rng.choice(ALPHABET) for _ in range(10)]
    longer = [random_text(rng, rng.randint(2, 5)) for _ in range(60)]
    fixed = ["A", "AB", "ABA", "招商 引资", "资党", "招商引", "商引资党", "1%", "%", "_"]
    return [*singles, *longer, *fixed]


def test_search_finds_exactly_the_substring_matches(
    session: Session, settings: Settings, random_actions: random.Random
) -> None:
    terms = some_terms(random_actions)
    for term in terms:
        assert found(session, settings, term) == expected(session, term), term
    hits = sum(bool(expected(session, term)) for term in terms)
    assert hits > len(terms) / 2  # the terms were not all misses


def test_search_pages_of_the_api_hold_every_match_and_count_them(
    engine: Engine, session: Session, client: TestClient, random_actions: random.Random
) -> None:
    """Through the API's list, whose page and total PostgreSQL reads in one statement: every
    page, and past the last one, says how many unarchived actions match."""
    archived = sorted(expected(session, "招"))[::3]
    with write_session(engine) as writer:
        for action_id in archived:
            version = action_service.get_action(writer, action_id).version
            action_service.archive_action(writer, action_id, version, TESTER)
    session.rollback()  # read after the archiving
    for term in ("招", "招商", "商引资", "a b", "招商引资党建"):
        matches = sorted(expected(session, term) - set(archived))
        pages = [
            client.get("/api/v1/actions", params={"q": term, "limit": 7, "offset": offset}).json()
            for offset in range(0, len(matches) + 8, 7)
        ]
        assert [page["total"] for page in pages] == [len(matches)] * len(pages), term
        assert [item["id"] for page in pages for item in page["items"]] == matches, term
    assert archived and len(expected(session, "招") - set(archived)) > 7  # more than a page


def test_search_follows_edits(
    engine: Engine, session: Session, settings: Settings, random_actions: random.Random
) -> None:
    rng = random_actions
    with write_session(engine) as writer:
        actions = writer.exec(select(Action).order_by(col(Action.id))).all()
        for action in rng.sample(list(actions), 60):
            requested = {"title": random_text(rng, 12), "detail": random_text(rng, 40)}
            action_service.apply_changes(writer, action, requested, TESTER)
    for term in some_terms(rng):
        assert found(session, settings, term) == expected(session, term), term


def test_search_ignores_punctuation_but_does_not_join_fields(
    engine: Engine, session: Session, settings: Settings
) -> None:
    with write_session(engine) as writer:
        unit_id, source_id = unit_and_source(writer, "标准地。招商")
        data = ActionCreate(
            source_id=source_id,
            owner_id=unit_id,
            kind=ActionKind.recommendation,
            title="标准",
            detail="地块",
            quote="标准地。招商",
        )
        action_id = action_service.create_action(writer, data, TESTER).id
    assert found(session, settings, "标准地") == {action_id}  # in the quote
    assert found(session, settings, "准地块") == set()  # title's end + detail's start
    assert found(session, settings, "地招") == {action_id}  # across the 。
    assert found(session, settings, "地。招") == {action_id}
    assert found(session, settings, "“标准地”，招商") == {action_id}
    assert found(session, settings, "标准 招商") == set()  # the whole term, as LIKE would
    assert found(session, settings, "。") == {action_id}  # punctuation alone, as it is
    assert found(session, settings, "，") == set()


def test_a_search_finds_a_phrase_written_with_quote_marks(
    client: TestClient, seeded: SeedReport
) -> None:
    for term in ("标准地改革", "加快标准地", "“标准地”改革", "拿地即开工"):
        found = client.get("/api/v1/actions", params={"q": term}).json()["items"]
        assert 16 in [action["id"] for action in found], term
    standard_land = client.get("/api/v1/actions/16").json()
    assert standard_land["title"] == "加快“标准地”改革"


def test_reindex_all_rebuilds_the_same_index(
    engine: Engine, session: Session, settings: Settings, random_actions: random.Random
) -> None:
    terms = some_terms(random_actions)
    before = {term: found(session, settings, term) for term in terms}
    session.rollback()  # end the read, which would hold off PostgreSQL's REINDEX
    with engine.begin() as connection:
        search.reindex_all(connection)
    assert {term: found(session, settings, term) for term in terms} == before


def test_grams_are_substrings_of_one_to_three_characters_of_each_field_squashed() -> None:
    assert search.grams("招商 ab", None, "AB。1") == "1 a ab ab1 b b1 商 商a 商ab 招 招商 招商a"
    assert search.grams("孵化器x") == "x 化 化器 化器x 器 器x 孵 孵化 孵化器"


def test_postgresql_reads_the_index_as_the_query_needs() -> None:
    def compiled(reads_every_match: bool) -> str:
        clause = search.contains("招商", reads_every_match=reads_every_match)
        return str(select(col(Action.id)).where(clause).compile(dialect=postgresql.dialect()))

    # A page: the ids of every match first, then the page's rows; every match: at once.
    assert "actions.id IN (SELECT actions_1.id" in compiled(reads_every_match=False)
    assert "IN (SELECT" not in compiled(reads_every_match=True)
    assert "action_grams(actions.title" in compiled(reads_every_match=True)
