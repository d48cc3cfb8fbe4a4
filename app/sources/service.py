"""Use cases of sources."""

import hashlib
import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.actions.models import Action
from app.errors import Conflict, NotFound
from app.fields import SLUG_PATTERN
from app.pagination import PageParams, order_by
from app.sources.models import Source, Speech
from app.sources.schemas import (
    AnnotatedSource,
    AnnotatedSpan,
    SourceCreate,
    SourceDetail,
    SourceRead,
    SpeechRead,
)
from app.units import service as unit_service

SORTABLE: dict[str, Any] = {
    "id": col(Source.id),
    "slug": col(Source.slug),
    "title": col(Source.title),
    "published_on": col(Source.published_on),
    "created_at": col(Source.created_at),
}


def text_sha256(text: str) -> str:
    """The sha256 of text as UTF-8, which identifies a source's content."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_source(session: Session, id_or_slug: str) -> Source:
    """The source with this id or slug, or NotFound."""
    query = select(Source)
    if re.fullmatch(r"[0-9]{1,9}", id_or_slug):
        query = query.where(Source.id == int(id_or_slug))
    elif re.fullmatch(SLUG_PATTERN, id_or_slug):
        query = query.where(Source.slug == id_or_slug)
    else:
        raise NotFound(f"source {id_or_slug!r} does not exist")
    source = session.exec(query).first()
    if source is None:
        raise NotFound(f"source {id_or_slug!r} does not exist")
    return source


def find_source_by_slug(session: Session, slug: str) -> Source | None:
    """The source with slug, if any."""
    return session.exec(select(Source).where(Source.slug == slug)).first()


def _counts(session: Session, source_ids: list[int]) -> dict[int, tuple[int, int]]:
    speeches = dict(
        session.exec(
            select(Speech.source_id, func.count())
            .where(col(Speech.source_id).in_(source_ids))
            .group_by(col(Speech.source_id))
        ).all()
    )
    actions = dict(
        session.exec(
            select(Action.source_id, func.count())
            .where(col(Action.source_id).in_(source_ids), col(Action.archived).is_(False))
            .group_by(col(Action.source_id))
        ).all()
    )
    return {sid: (speeches.get(sid, 0), actions.get(sid, 0)) for sid in source_ids}


def _read(source: Source, counts: tuple[int, int]) -> SourceRead:
    return SourceRead(
        **source.model_dump(exclude={"text"}), speech_count=counts[0], action_count=counts[1]
    )


def list_sources(
    session: Session, page: PageParams, sort: str | None = None
) -> tuple[list[SourceRead], int]:
    """A page of sources (without their text) and the total."""
    total = session.exec(select(func.count()).select_from(Source)).one()
    rows = session.exec(
        select(Source)
        .order_by(*order_by(sort, SORTABLE, col(Source.id)))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    counts = _counts(session, [row.id for row in rows if row.id is not None])
    return [_read(row, counts[row.id]) for row in rows if row.id is not None], total


def speeches_of(session: Session, source_id: int) -> Sequence[Speech]:
    """The speeches of a source in text order."""
    return session.exec(
        select(Speech).where(Speech.source_id == source_id).order_by(col(Speech.start))
    ).all()


def source_detail(session: Session, source: Source) -> SourceDetail:
    """A source with its text, speeches and counts."""
    assert source.id is not None
    speeches = speeches_of(session, source.id)
    counts = _counts(session, [source.id])[source.id]
    return SourceDetail(
        **_read(source, counts).model_dump(),
        text=source.text,
        speeches=[SpeechRead.model_validate(speech) for speech in speeches],
    )


def create_source(session: Session, data: SourceCreate) -> Source:
    """Store a new source verbatim, with its speeches."""
    if find_source_by_slug(session, data.slug) is not None:
        raise Conflict(
            f"a source with slug {data.slug!r} already exists; a corrected text needs a new slug"
        )
    for index, speech in enumerate(data.speeches):
        if speech.unit_id is not None:
            unit_service.require_unit(
                session, speech.unit_id, ["body", "speeches", index, "unit_id"]
            )
    source = Source(
        **data.model_dump(exclude={"speeches"}),
        sha256=text_sha256(data.text),
        char_count=len(data.text),
    )
    session.add(source)
    session.flush()
    assert source.id is not None
    for speech in data.speeches:
        session.add(Speech(source_id=source.id, **speech.model_dump()))
    session.flush()
    return source


def annotate(session: Session, source: Source) -> AnnotatedSource:
    """Cut the text at every quote boundary; each span lists the actions quoting it."""
    quotes = session.exec(
        select(Action.id, Action.quote_start, Action.quote_end).where(
            Action.source_id == source.id, col(Action.archived).is_(False)
        )
    ).all()
    cuts = sorted({0, source.char_count, *(q[1] for q in quotes), *(q[2] for q in quotes)})
    spans = []
    for start, end in pairwise(cuts):
        covering = sorted(
            action_id
            for action_id, q_start, q_end in quotes
            if action_id is not None and q_start <= start and end <= q_end
        )
        spans.append(
            AnnotatedSpan(start=start, end=end, text=source.text[start:end], action_ids=covering)
        )
    assert source.id is not None
    return AnnotatedSource(
        source_id=source.id, slug=source.slug, char_count=source.char_count, spans=spans
    )
