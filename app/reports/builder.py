"""Building the report model for a period and a set of filters, as of the period's end."""

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.actions import listing
from app.actions.derived import Light, expected_progress, is_overdue, light
from app.actions.listing import Moment, moment_for
from app.actions.models import (
    Action,
    ActionCoOwner,
    ActionEvent,
    ActionTheme,
    EventKind,
    Theme,
)
from app.actions.schemas import ActionFilters
from app.actions.stats import Stats, compute_stats
from app.actions.workflow import KIND_LABELS, ActionKind, Status
from app.config import Settings
from app.evidence.models import Evidence
from app.reports.document import (
    ActionLine,
    ChangeLine,
    Headline,
    ReportHead,
    StatusReport,
    StreamedReport,
)
from app.sources.models import Source, Speech
from app.spreadsheet import Lang, label, status_label
from app.units.models import Unit

LINES_PER_CHUNK = 1000
STATUSES = {status.value: status for status in Status}  # a lookup costs less than Status(v)
THEME_COMBINATIONS = 4096  # the sets of themes whose sorted names a report keeps

# The label key of each field an update can change.
FIELD_LABEL_KEYS = {
    "title": "field_title",
    "detail": "field_detail",
    "owner_id": "owner",
    "co_owner_ids": "co_owners",
    "leader": "leader",
    "start_on": "start_on",
    "speech_id": "quote",
    "quote_start": "quote",
    "quote_end": "quote",
    "evidence_count": "evidence_files",
}


def current_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the ISO week containing today."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def report_moment(settings: Settings, period: tuple[date, date]) -> Moment:
    """Now, or the end of a period that has ended."""
    end = period[1]
    return moment_for(settings, end if end < settings.today() else None)


def build_report(
    session: Session,
    settings: Settings,
    filters: ActionFilters,
    period: tuple[date, date],
    lang: Lang,
) -> StatusReport:
    """The report of filters' actions over period, every line read into memory; a period that
    has ended is read as of its last day, so a past report shows that period as it was."""
    streamed = stream_report(session, settings, filters, period, lang)
    lines = [line for chunk in streamed.chunks for line in chunk]
    return StatusReport(
        **dict(streamed.head()),
        overdue=[line for line in lines if line.overdue],
        changes=streamed.changes,
        actions=lines,
    )


def stream_report(
    session: Session,
    settings: Settings,
    filters: ActionFilters,
    period: tuple[date, date],
    lang: Lang,
) -> StreamedReport:
    """The report of filters' actions over period, its lines read as they are written; a
    period that has ended is read as of its last day."""
    start, end = period
    moment = report_moment(settings, period)
    window = (
        datetime.combine(start, time(), tzinfo=settings.tz),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=settings.tz),
    )
    stats = compute_stats(session, filters, moment)
    created, changed = _period_counts(session, filters, moment, window)
    counts = HeadlineCounts()
    fields = {
        "title": f"{label('title', lang)} {start.isoformat()} – {end.isoformat()}",
        "lang": lang,
        "period_start": start,
        "period_end": end,
        "as_of": moment.as_of,
        "generated_at": settings.now(),
        "filters": filters.model_dump(mode="json", exclude_defaults=True),
        "filter_summary": describe_filters(session, filters, lang),
        # 一季一排名 ranks the units that lead actions; one that only cooperates has no rank.
        "ranking": [unit for unit in stats.units if unit.rank is not None],
    }

    def head() -> ReportHead:
        return ReportHead(**fields, headline=_headline(stats, counts, created, changed))

    return StreamedReport(
        lang=lang,
        changes=_changes(session, filters, moment, window, lang),
        chunks=counts.counting(action_lines(session, filters, moment, lang)),
        head=head,
    )


FILTER_LABEL_KEYS = {
    "owner_id": "lead_unit",
    "unit_id": "unit",
    "co_owner_id": "co_owners",
    "theme": "themes",
    "source_id": "source",
    "speech_id": "speech",
    "overdue": "is_overdue",
    "q": "search",
}


def describe_filters(session: Session, filters: ActionFilters, lang: Lang) -> str:
    """The filters as a reader reads them: headings and values in lang, units, sources and
    speeches by name (a report says 牵头单位 区经济发展局, not owner_id=5)."""
    parts = []
    for key, value in filters.model_dump(mode="json", exclude_defaults=True).items():
        heading = label(FILTER_LABEL_KEYS.get(key, key), lang)
        parts.append(f"{heading}: {_filter_value(session, key, value, lang)}")
    return "; ".join(parts)


def _filter_value(session: Session, key: str, value: Any, lang: Lang) -> str:
    named = _named(session, key, value)
    if named is not None:
        return named
    if isinstance(value, bool):
        return label("yes" if value else "no", lang)
    separator = ", " if lang == Lang.en else "、"
    if key == "status":
        return separator.join(status_label(Status(v), lang) for v in value)
    if key == "light":
        return separator.join(label(f"light_{v}", lang) for v in value)
    if key == "priority":
        return label(value, lang)
    if key == "kind" and lang == Lang.zh:
        return KIND_LABELS[ActionKind(value)]
    return str(value)


def _named(session: Session, key: str, value: Any) -> str | None:
    """The name of the unit, source or speech a filter names (#id if it is gone), or None."""
    row: Unit | Source | Speech | None
    if key in ("owner_id", "unit_id", "co_owner_id"):
        row = session.get(Unit, value)
        return f"#{value}" if row is None else row.name
    if key == "source_id":
        row = session.get(Source, value)
        return f"#{value}" if row is None else row.title
    if key == "speech_id":
        row = session.get(Speech, value)
        return f"#{value}" if row is None else row.speaker
    return None


@dataclass
class HeadlineCounts:
    """The headline's counts of the action lines, kept as the lines stream past."""

    completed: int = 0
    counted: int = 0  # the lines of actions not declined
    progress: int = 0  # the sum over the lines counted

    def counting(self, chunks: Iterator[list[ActionLine]]) -> Iterator[list[ActionLine]]:
        """chunks, each counted as it is read."""
        for chunk in chunks:
            for line in chunk:
                if line.status != Status.declined:
                    self.counted += 1
                    self.progress += line.progress
                self.completed += line.status == Status.completed
            yield chunk


def action_lines(
    session: Session, filters: ActionFilters, moment: Moment, lang: Lang
) -> Iterator[list[ActionLine]]:
    """The lines of the actions filters select at the moment, by id, a chunk at a time: a
    report of every action streams through in bounded memory, each chunk read with Core in
    one statement, its themes and latest notes included (hydrating ORM actions and their
    relationships, or reading themes and notes apart, cost far more). While they are
    iterated the session's connection reads ahead (see _chunks): use it for nothing else."""
    query = (
        listing.selecting(_line_columns(moment), filters, "id", moment)
        .where(col(Action.id) > bindparam("after"))
        .limit(LINES_PER_CHUNK)
    )
    # Core statements run on the session's connection skip the ORM's handling of results.
    connection = session.connection()
    themes, units = _names(connection)
    statuses = {status: status_label(status, lang) for status in Status}
    lights = {colour: label(f"light_{colour}", lang) for colour in Light}
    for rows, files in _chunks(connection, query, moment):
        yield [_line(row, themes, units, statuses, lights, moment, files) for row in rows]


Chunk = tuple[Sequence[Row[*tuple[Any, ...]]], dict[int, list[str]]]


def _chunks(connection: Connection, query: Select[Any], moment: Moment) -> Iterator[Chunk]:
    """The rows of query (a chunk after the id bound as "after") a chunk at a time, with the
    names of their evidence files. On PostgreSQL each chunk is read on a thread while the
    caller works on the one before (one statement at a time on the connection): the
    server's work and ours overlap (a CSV of 100k actions 3.6 -> 3.0 s). Not on SQLite,
    where reading is our own work under the GIL and a thread only takes turns with us."""

    def chunk_after(after: int) -> Chunk:
        rows = connection.execute(query, {"after": after}).all()
        files = _evidence_names(connection, rows[0].id, rows[-1].id, moment) if rows else {}
        return rows, files

    if connection.dialect.name != "postgresql":
        chunk = chunk_after(0)
        while chunk[0]:
            yield chunk
            chunk = chunk_after(chunk[0][-1].id)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="tashan-report-read") as reader:
        next_chunk = reader.submit(chunk_after, 0)
        while (chunk := next_chunk.result())[0]:
            next_chunk = reader.submit(chunk_after, chunk[0][-1].id)
            yield chunk


def _line_columns(moment: Moment) -> Select[Any]:
    """The columns of the chunk query, in the order _line unpacks them."""
    return sa_select(
        col(Action.id),
        col(Action.version),
        col(Action.title),
        col(Unit.name).label("owner"),
        _co_owner_ids().label("co_owner_ids"),
        moment.status().label("status"),
        col(Action.priority),
        moment.progress().label("progress"),
        col(Action.due_on),
        col(Action.start_on),
        col(Action.original_due_on),
        col(Action.extension_count),
        col(Action.assignee),
        col(Action.leader),
        col(Action.quote),
        col(Action.updated_at),
        _theme_ids().label("theme_ids"),
        _latest_note(moment).label("latest_note"),
    ).join(Unit, col(Unit.id) == col(Action.owner_id))


def _theme_ids() -> ScalarSelect[Any]:
    """An action's theme ids, comma-separated, read from action_themes' primary key alone."""
    return (
        sa_select(func.aggregate_strings(cast(col(ActionTheme.theme_id), String), ","))
        .where(col(ActionTheme.action_id) == col(Action.id))
        .scalar_subquery()
    )


def _co_owner_ids() -> ScalarSelect[Any]:
    """An action's cooperating units' ids, comma-separated, from action_co_owners' key alone."""
    return (
        sa_select(func.aggregate_strings(cast(col(ActionCoOwner.unit_id), String), ","))
        .where(col(ActionCoOwner.action_id) == col(Action.id))
        .scalar_subquery()
    )


def _latest_note(moment: Moment) -> ScalarSelect[Any]:
    """An action's most recent note on its timeline before the moment (a 催办's note is the
    office's, not news of the work)."""
    return (
        sa_select(col(ActionEvent.note))
        .where(
            col(ActionEvent.action_id) == col(Action.id),
            col(ActionEvent.note).is_not(None),
            col(ActionEvent.at) < moment.now,
            col(ActionEvent.kind) != EventKind.reminded,
        )
        .order_by(col(ActionEvent.id).desc())
        .limit(1)
        .scalar_subquery()
    )


def _evidence_names(
    connection: Connection, first: int, last: int, moment: Moment
) -> dict[int, list[str]]:
    """The names of the evidence files of the actions with ids first..last that were attached
    and not withdrawn at the moment, oldest first: one statement a chunk, on the action_id
    index."""
    live: ColumnElement[bool] = col(Evidence.withdrawn_at).is_(None)
    if moment.as_of is not None:
        live = and_(
            col(Evidence.uploaded_at) < moment.now,
            or_(live, col(Evidence.withdrawn_at) >= moment.now),
        )
    rows = connection.execute(
        sa_select(col(Evidence.action_id), col(Evidence.filename))
        .where(col(Evidence.action_id).between(first, last), live)
        .order_by(col(Evidence.action_id), col(Evidence.id))
    )
    names: dict[int, list[str]] = {}
    for action_id, filename in rows:
        names.setdefault(action_id, []).append(filename)
    return names


Names = Callable[[str | None], tuple[str, ...]]


def _names(connection: Connection) -> tuple[Names, Names]:
    """The names of the themes, and of the units, with the comma-separated ids given, in the
    order the database sorts names (then ids); read in one statement, and a combination,
    which many actions share, sorted once."""
    themes = sa_select(literal("theme").label("of"), col(Theme.id), col(Theme.name))
    units = sa_select(literal("unit").label("of"), col(Unit.id), col(Unit.name))
    both = union_all(themes, units).subquery()
    rows = connection.execute(sa_select(both).order_by(both.c.name, both.c.id))
    by_id: dict[str, dict[str, tuple[int, str]]] = {"theme": {}, "unit": {}}
    for place, (of, item_id, name) in enumerate(rows):
        by_id[of][str(item_id)] = (place, name)

    def named(of: str) -> Names:
        @lru_cache(maxsize=THEME_COMBINATIONS)
        def names(ids: str | None) -> tuple[str, ...]:
            ordered = sorted(by_id[of][item_id] for item_id in ids.split(",")) if ids else []
            return tuple(name for _, name in ordered)

        return names

    return named("theme"), named("unit")


def _line(
    row: Row[*tuple[Any, ...]],
    themes: Names,
    units: Names,
    statuses: dict[Status, str],
    lights: dict[Light, str],
    moment: Moment,
    files: dict[int, list[str]],
) -> ActionLine:
    """The ActionLine of a row of the chunk query (_line_columns, in its order), given the
    report's theme and unit names, status and light labels and the names of the chunk's
    evidence files."""
    (action_id, version, title, owner, co_owner_ids, status_value, priority, progress) = row[:8]
    (due_on, start_on, original_due_on, extension_count, assignee, leader, quote) = row[8:15]
    updated_at, theme_ids, latest_note = row[15:]
    status, today = STATUSES[status_value], moment.today
    lit = light(status, progress, start_on, due_on, today, moment.lights)
    evidence = files.get(action_id, [])
    return ActionLine(
        id=action_id,
        version=version,
        title=title,
        owner=owner,
        co_owners=list(units(co_owner_ids)),
        status=status_value,
        status_label=statuses[status],
        priority=priority,
        progress=progress,
        expected_progress=expected_progress(start_on, due_on, today),
        light=None if lit is None else lit.value,
        light_label=None if lit is None else lights[lit],
        due_on=due_on,
        original_due_on=original_due_on,
        extension_count=extension_count,
        overdue=is_overdue(due_on, status, today),
        assignee=assignee,
        leader=leader,
        themes=list(themes(theme_ids)),
        evidence_count=len(evidence),
        evidence=evidence,
        latest_note=latest_note or None,
        quote=quote,
        updated_at=updated_at.astimezone(moment.now.tzinfo),
    )


def _period_counts(
    session: Session, filters: ActionFilters, moment: Moment, window: tuple[datetime, datetime]
) -> tuple[int, int]:
    """How many of the selected actions were created, and how many changed, in the window."""
    where = listing.filter_clauses(filters, moment)
    created = session.exec(
        select(func.count())
        .select_from(Action)
        .where(*where, col(Action.created_at) >= window[0], col(Action.created_at) < window[1])
    ).one()
    changed = session.exec(
        select(func.count(func.distinct(ActionEvent.action_id)))
        .join(Action, col(Action.id) == col(ActionEvent.action_id))
        .where(
            *where,
            col(ActionEvent.kind).not_in([EventKind.created, EventKind.reminded]),
            col(ActionEvent.at) >= window[0],
            col(ActionEvent.at) < window[1],
        )
    ).one()
    return created, changed


def _headline(stats: Stats, counts: HeadlineCounts, created: int, changed: int) -> Headline:
    counted = counts.counted
    return Headline(
        total=stats.total,
        by_status=stats.by_status,
        completed=counts.completed,
        completion_rate=round(counts.completed / counted, 4) if counted else 0.0,
        average_progress=round(counts.progress / counted, 2) if counted else 0.0,
        overdue=stats.overdue,
        lights=stats.lights,
        stale=stats.stale,
        created_in_period=created,
        changed_in_period=changed,
    )


def _changes(
    session: Session,
    filters: ActionFilters,
    moment: Moment,
    window: tuple[datetime, datetime],
    lang: Lang,
) -> list[ChangeLine]:
    """The period's events of the selected actions, oldest first."""
    rows = session.exec(
        select(ActionEvent, Action.title)
        .join(Action, col(Action.id) == col(ActionEvent.action_id))
        .where(
            *listing.filter_clauses(filters, moment),
            col(ActionEvent.at) >= window[0],
            col(ActionEvent.at) < window[1],
        )
        .order_by(col(ActionEvent.at), col(ActionEvent.id))
    ).all()
    return [
        ChangeLine(
            at=event.at.astimezone(moment.now.tzinfo),
            action_id=event.action_id,
            action_title=title,
            actor=event.actor,
            actor_unit=event.actor_unit,
            kind=_kind_label(event.kind, lang),
            summary=_summary(event, lang),
            note=event.note,
        )
        for event, title in rows
    ]


def _summary(event: ActionEvent, lang: Lang) -> str:
    """One line saying what an event changed."""
    if event.kind == EventKind.transition and event.from_status and event.to_status:
        before, after = Status(event.from_status), Status(event.to_status)
        return f"{status_label(before, lang)} → {status_label(after, lang)}"
    changes = event.changes or {}
    if event.kind == EventKind.reminded:  # its changes say what was sent, not what changed
        level = changes.get("level")
        return f"{label('reminded', lang)} L{level}" if level else label("reminded", lang)
    if event.kind == EventKind.evidence and "evidence_count" in changes:
        before_count, after_count = changes["evidence_count"]
        return f"{label('evidence_files', lang)} {before_count} → {after_count}"
    if "progress" in changes:
        before_progress, after_progress = changes["progress"]
        progress = f"{label('progress', lang)} {before_progress}% → {after_progress}%"
        others = [k for k in changes if k != "progress"]
        return progress if not others else f"{progress}; {', '.join(others)}"
    if changes:
        names = (label(FIELD_LABEL_KEYS.get(field, field), lang) for field in changes)
        return ("、" if lang == Lang.zh else ", ").join(names)
    return _kind_label(event.kind, lang)


def _kind_label(kind: str, lang: Lang) -> str:
    return label("progress_update" if kind == EventKind.progress else kind, lang)
