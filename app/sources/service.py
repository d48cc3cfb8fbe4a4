"""Use cases of sources."""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.actions.models import Action
from app.errors import Conflict, NotFound
from app.fields import SLUG_PATTERN
from app.pagination import PageParams, order_by
from app.sources.candidates import Candidate, SpeechSpan, find_candidates
from app.sources.models import Source, Speech
from app.sources.schemas import (
    AnnotatedSource,
    AnnotatedSpan,
    CandidateRead,
    SourceCreate,
    SourceDetail,
    SourceRead,
    SpeechCreate,
    SpeechRead,
)
from app.sources.speeches import (
    FoundSpeech,
    detect_speeches,
    guess_unit_kind,
    is_remarks,
    resolve_unit,
)
from app.units import service as unit_service
from app.units.models import Unit, UnitKind

# The fields of a source a seed file's [source] sets besides slug and file.
SOURCE_METADATA = (
    "title",
    "publisher",
    "byline",
    "published_on",
    "published_on_note",
    "url",
    "language",
)
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
    speeches = data.speeches
    if "speeches" not in data.model_fields_set:
        speeches = _found_speeches(session, data.text)
    source = Source(
        **data.model_dump(exclude={"speeches"}),
        sha256=text_sha256(data.text),
        char_count=len(data.text),
    )
    session.add(source)
    session.flush()
    assert source.id is not None
    for speech in speeches:
        session.add(Speech(source_id=source.id, **speech.model_dump()))
    session.flush()
    return source


def _found_speeches(session: Session, text: str) -> list[SpeechCreate]:
    """The speeches found in text, each with its unit: the existing unit of that name (or
    the one name that ends with it), else a new unit created now."""
    speeches = []
    for found in detect_speeches(text):
        unit = _unit_for(session, found) if found.unit else None
        speeches.append(
            SpeechCreate(
                heading=found.heading[:200],
                speaker=found.speaker,
                unit_id=unit.id if unit else None,
                start=found.start,
                end=found.end,
            )
        )
    return speeches


def _unit_for(session: Session, found: FoundSpeech) -> Unit:
    units = {unit.name: unit for unit in session.exec(select(Unit)).all()}
    matched = resolve_unit(found, units)
    if matched in units:
        return units[matched]
    assert found.unit is not None
    unit = Unit(name=found.unit, kind=guess_unit_kind(found.unit))
    session.add(unit)
    session.flush()
    return unit


def _unit_names(speech: Speech) -> list[str]:
    return [speech.unit.name] if speech.unit else []


def candidates_of(session: Session, source: Source) -> list[CandidateRead]:
    """The source's candidate proposals, in text order; nothing is written. Its stored
    speeches attribute them; a source stored without speeches has them found on the fly."""
    assert source.id is not None
    stored = list(speeches_of(session, source.id))
    spans: list[tuple[int | None, str | None, int | None]]  # speech id, speaker, unit id
    if stored:
        speech_spans = [
            SpeechSpan(s.start, s.end, is_remarks(source.text, s.start, _unit_names(s)))
            for s in stored
        ]
        spans = [(s.id, s.speaker, s.unit_id) for s in stored]
    else:
        found = detect_speeches(source.text)
        units = {unit.name: unit.id for unit in session.exec(select(Unit)).all()}
        speech_spans = [SpeechSpan(s.start, s.end, s.remarks) for s in found]
        spans = [(None, s.speaker, units.get(resolve_unit(s, units) or "")) for s in found]
    candidates = find_candidates(source.text, speech_spans)
    quotes = session.exec(
        select(Action.id, Action.quote_start, Action.quote_end)
        .where(Action.source_id == source.id, col(Action.archived).is_(False))
        .order_by(col(Action.quote_start))
    ).all()
    return [_candidate_read(c, spans, quotes) for c in candidates]


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


def _candidate_read(
    candidate: Candidate,
    spans: list[tuple[int | None, str | None, int | None]],
    quotes: Sequence[tuple[int | None, int, int]],
) -> CandidateRead:
    speech_id, speaker, unit_id = (
        spans[candidate.speech]
        if candidate.speech is not None
        else (
            None,
            None,
            None,
        )
    )
    overlapping = [
        action_id
        for action_id, start, end in quotes
        if action_id is not None and start < candidate.quote_end and candidate.quote_start < end
    ]
    return CandidateRead(
        quote=candidate.quote,
        quote_start=candidate.quote_start,
        quote_end=candidate.quote_end,
        speech_id=speech_id,
        speaker=speaker,
        unit_id=unit_id,
        title=candidate.title,
        kind=candidate.kind,
        themes=candidate.themes,
        score=candidate.score,
        cues=candidate.cues,
        action_ids=overlapping,
    )


def action_label(action_id: int | None, seed_key: str | None, title: str) -> str:
    """How reports of overlaps name an action: action #16 (standard-land-reform) 加快…"""
    key = f" ({seed_key})" if seed_key else ""
    return f"action #{action_id}{key} {title}"


@dataclass(frozen=True)
class DraftContext:
    """What the database knows that a draft of a text uses: the units by name with their
    kinds and, when the same text is stored already, its source's metadata, its speeches
    and the actions quoting it (start, end, label)."""

    units: dict[str, UnitKind]
    source: dict[str, Any] | None = None
    speeches: list[FoundSpeech] = field(default_factory=list)
    actions: list[tuple[int, int, str]] = field(default_factory=list)


def draft_context(session: Session, text: str) -> DraftContext:
    """The database's units, and the source, speeches and actions of text if it is stored."""
    units = {unit.name: unit.kind for unit in session.exec(select(Unit)).all()}
    source = session.exec(
        select(Source).where(Source.sha256 == text_sha256(text)).order_by(col(Source.id))
    ).first()
    if source is None or source.id is None:
        return DraftContext(units)
    speeches = [
        FoundSpeech(
            s.heading,
            s.speaker,
            s.unit.name if s.unit else None,
            s.start,
            s.end,
            is_remarks(text, s.start, _unit_names(s)),
        )
        for s in speeches_of(session, source.id)
    ]
    actions = [
        (
            action.quote_start,
            action.quote_end,
            action_label(action.id, action.seed_key, action.title),
        )
        for action in session.exec(
            select(Action)
            .where(Action.source_id == source.id, col(Action.archived).is_(False))
            .order_by(col(Action.quote_start))
        ).all()
    ]
    metadata = source.model_dump(include={"slug", *SOURCE_METADATA}, exclude_none=True)
    return DraftContext(units, metadata, speeches, actions)
