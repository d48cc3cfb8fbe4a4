"""Use cases of sources, called directly."""

import hashlib

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from app.errors import Conflict, InvalidInput, NotFound
from app.pagination import PageParams
from app.sources import service
from app.sources.models import Source, Speech
from app.sources.schemas import SourceCreate, SpeechCreate

TEXT = "要站在更高的角度上重视年轻干部培养工作。\n\n一是要培，𠮷。"


def new_source(slug: str = "remarks", text: str = TEXT, **extra: object) -> SourceCreate:
    return SourceCreate.model_validate({"slug": slug, "title": "讲话", "text": text, **extra})


def test_text_sha256_is_utf8_digest() -> None:
    assert service.text_sha256(TEXT) == hashlib.sha256(TEXT.encode("utf-8")).hexdigest()


def test_create_stores_text_verbatim_with_speeches(session: Session) -> None:
    data = new_source(speeches=[{"heading": "讲话", "speaker": "凌兵奎", "start": 0, "end": 20}])
    source = service.create_source(session, data)
    session.expire_all()
    stored = session.exec(select(Source)).one()
    assert stored.text == TEXT
    assert stored.char_count == len(TEXT) == 29
    assert stored.sha256 == hashlib.sha256(TEXT.encode()).hexdigest()
    speeches = session.exec(select(Speech)).all()
    assert [(s.source_id, s.start, s.end) for s in speeches] == [(source.id, 0, 20)]


def test_create_duplicate_slug_conflicts_and_adds_nothing(session: Session) -> None:
    service.create_source(session, new_source())
    with pytest.raises(Conflict):
        service.create_source(session, new_source(text="另一篇"))
    assert len(session.exec(select(Source)).all()) == 1


def test_create_with_unknown_unit_adds_nothing(session: Session) -> None:
    speeches = [{"heading": "讲话", "speaker": "凌兵奎", "unit_id": 9, "start": 0, "end": 3}]
    with pytest.raises(InvalidInput) as caught:
        service.create_source(session, new_source(speeches=speeches))
    assert caught.value.extra["errors"][0]["loc"] == ["body", "speeches", 0, "unit_id"]
    assert session.exec(select(Source)).all() == []


def test_get_source_by_id_and_slug(session: Session) -> None:
    source = service.create_source(session, new_source())
    assert service.get_source(session, str(source.id)).id == source.id
    assert service.get_source(session, "remarks").id == source.id
    with pytest.raises(NotFound):
        service.get_source(session, "missing")
    with pytest.raises(NotFound):
        service.get_source(session, "12345678901234")


def test_list_sources_counts(session: Session) -> None:
    data = new_source(speeches=[{"heading": "讲话", "speaker": "凌兵奎", "start": 0, "end": 5}])
    service.create_source(session, data)
    service.create_source(session, new_source(slug="other"))
    items, total = service.list_sources(session, PageParams(limit=50, offset=0), sort="-slug")
    assert total == 2
    assert [(i.slug, i.speech_count, i.action_count) for i in items] == [
        ("remarks", 1, 0),
        ("other", 0, 0),
    ]


def test_annotate_without_actions(session: Session) -> None:
    source = service.create_source(session, new_source())
    annotated = service.annotate(session, source)
    assert [(s.start, s.end, s.text, s.action_ids) for s in annotated.spans] == [
        (0, len(TEXT), TEXT, [])
    ]


@pytest.mark.parametrize(
    "speeches",
    [
        [{"start": 0, "end": 30}],
        [{"start": 3, "end": 3}],
        [{"start": 0, "end": 10}, {"start": 5, "end": 15}],
    ],
    ids=["past-end", "empty", "overlap"],
)
def test_schema_rejects_bad_offsets(speeches: list[dict[str, int]]) -> None:
    full = [{"heading": "讲话", "speaker": "凌兵奎", **s} for s in speeches]
    with pytest.raises(ValidationError):
        new_source(speeches=full)


def test_adjacent_speeches_are_fine() -> None:
    data = new_source(
        speeches=[
            {"heading": "甲", "speaker": "甲", "start": 0, "end": 10},
            {"heading": "乙", "speaker": "乙", "start": 10, "end": 29},
        ]
    )
    assert [s.end for s in data.speeches] == [10, 29]
    assert isinstance(data.speeches[0], SpeechCreate)
