"""A realistic data set for the benchmark, bulk-inserted into an empty migrated database.

50 units, 20 sources (the seed article verbatim, then documents composed from its sentences
and generated ones, each cut into speeches), and N actions whose quotes occur in their source
at quote_start..quote_end. Each action gets a timeline of about ten events that follows the
workflow of app/actions/workflow.py the way the services write it (created, moves, progress
reports, field edits, sometimes archiving), and the action row ends as its timeline leaves it:
status, progress, completed_at, owner, assignee, priority, due date, archived, version (one
per event) and updated_at.

Rows are written with SQLite executemany or PostgreSQL COPY, never through the ORM, with ids
given here so that nothing has to be read back. Actions are made in chunks, each from its own
seed, so that two worker processes can make them (and, for SQLite, their search words) while
this one writes, and the data set is the same whichever process made a chunk.

A bulk load: the secondary indexes of the bulk tables (search index included) are read from
the catalog, dropped, and created again from their own definitions once the rows are in, in
the same transaction; building an index over sorted rows once is far cheaper than keeping it
up to date row by row. Constraints and triggers stay as they are: every row is checked as the
app's own writes would be (the append-only triggers of action_events refuse UPDATE and
DELETE, and this load only inserts)."""

import hashlib
import marshal
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from app.actions import search
from app.actions.workflow import BACKWARD_MOVES, TRANSITIONS, Status
from app.db import WRITE
from scripts.benchmark import vocabulary as words
from scripts.benchmark.vocabulary import Vocabulary, load_vocabulary

UNITS = 50
SOURCES = 20
CHUNK = 2_000  # actions made and written at a time
EVENT_IDS_PER_CHUNK = CHUNK * 20  # a chunk's events take ids from its own range (gaps allowed)
PARALLEL_FROM = 4 * CHUNK  # smaller data sets are made in this process
INDEX_BUILD_MEMORY = "256MB"  # PostgreSQL's maintenance_work_mem while indexes are built
SEARCH_HASH_SIZE = 128 * 1024 * 1024  # SQLite FTS5's in-memory index during the load
DEFAULT_SEARCH_HASH_SIZE = 1024 * 1024
DAY = 86_400.0
ADVANCE_GENERATION = (
    "UPDATE data_generation SET generation = generation + 1, shown = shown + 1 WHERE id = 1"
)

UNIT_COLUMNS = ("id", "name", "kind", "created_at")
THEME_COLUMNS = ("id", "name")
SOURCE_COLUMNS = (
    *("id", "slug", "title", "publisher", "byline", "published_on", "published_on_note"),
    *("url", "language", "text", "sha256", "char_count", "created_at"),
)
SPEECH_COLUMNS = ("id", "source_id", "heading", "speaker", "unit_id", "start", "end")
ACTION_COLUMNS = (
    *("id", "source_id", "speech_id", "seed_key", "title", "detail", "kind", "quote"),
    *("quote_start", "quote_end", "owner_id", "assignee", "status", "priority", "progress"),
    *("due_on", "original_due_on", "completed_at", "created_at", "updated_at", "version"),
    "archived",
)
ACTION_THEME_COLUMNS = ("action_id", "theme_id")
EVENT_COLUMNS = (
    *("id", "action_id", "at", "actor", "kind", "from_status", "to_status", "changes"),
    *("note", "progress", "evidence_url"),
)
SEARCH_COLUMNS = ("rowid", "document")  # SQLite's FTS5 table
SERIAL_TABLES = ("units", "sources", "speeches", "themes", "actions", "action_events")
BULK_TABLES = ("actions", "action_themes", "action_events")

# The next step of a timeline from each status: (cumulative probability, step, target).
STEPS: dict[str, list[tuple[float, str, str]]] = {
    "proposed": [(0.75, "move", "accepted"), (0.85, "move", "declined"), (1.0, "edit", "")],
    "accepted": [
        *((0.55, "move", "in_progress"), (0.62, "move", "blocked")),
        *((0.65, "move", "declined"), (0.85, "report", ""), (1.0, "edit", "")),
    ],
    "in_progress": [
        *((0.62, "report", ""), (0.69, "move", "submitted"), (0.72, "move", "completed")),
        *((0.77, "move", "blocked"), (1.0, "edit", "")),
    ],
    "submitted": [
        *((0.5, "move", "completed"), (0.65, "move", "in_progress")),
        *((0.85, "report", ""), (1.0, "edit", "")),
    ],
    "blocked": [
        *((0.45, "move", "in_progress"), (0.52, "move", "declined")),
        *((0.8, "report", ""), (1.0, "edit", "")),
    ],
    "completed": [(0.06, "move", "in_progress"), (0.45, "report", ""), (1.0, "edit", "")],
    "declined": [(0.12, "move", "proposed"), (1.0, "edit", "")],
}
# Moves that need a note (workflow.note_required), and the notes they get.
REASONS: dict[tuple[str, str] | str, list[str]] = {
    "blocked": words.BLOCK_REASONS,
    "declined": words.DECLINE_REASONS,
    "submitted": words.SUBMIT_NOTES,
    ("completed", "in_progress"): words.REOPEN_REASONS,
    ("submitted", "in_progress"): words.SEND_BACK_REASONS,
    ("declined", "proposed"): words.RECONSIDER_REASONS,
}
# Notes of the other moves, which may have none.
MOVE_NOTES: dict[str, list[str | None]] = {
    "accepted": ["党工委会议研究同意", "管委会主任办公会研究同意", None],
    "in_progress": ["启动实施", "已落实责任人，开始推进", None],
    "completed": ["已完成验收", "任务完成，资料已归档", None],
}
PRIORITIES = ("high", "medium", "medium", "low")
KINDS = ("recommendation",) * 6 + ("lesson",) * 3 + ("directive",)
ARCHIVED_SHARE = 0.02
FRESH_SHARE = 0.1  # created in the last weeks and not yet moved

Row = tuple[Any, ...]
_EPOCH_DAY = date(1970, 1, 1)
_DAYS: dict[int, str] = {}  # "2026-11-26 " by days since the epoch
_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400)]


def _stamp(seconds: float) -> str:
    """A UTC instant as both backends read it (the PostgreSQL session time zone is UTC):
    2026-11-26 08:30:00.123456. Made from tables, since a million are needed."""
    whole = int(seconds)
    day, second = divmod(whole, 86_400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = (_EPOCH_DAY + timedelta(days=day)).isoformat() + " "
    return f"{prefix}{_CLOCK[second]}{int((seconds - whole) * 1e6):06d}"


def start_of_day(seconds: float) -> float:
    """The start of the UTC day of seconds. The data set is drawn relative to it: made on any
    day from the same seed it is the same, its dates and times shifted by whole days (from a
    moment within the day, a date that fell on the other side of midnight could change a
    draw, and every draw after it: a few dozen events more or fewer from run to run)."""
    return seconds - seconds % DAY


def _day(seconds: float) -> str:
    return (_EPOCH_DAY + timedelta(days=int(seconds // DAY))).isoformat()


def _json(value: Any) -> str:
    """value as JSON; the generator's strings never need escaping."""
    if value is None:
        return "null"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _pair(name: str, before: Any, after: Any) -> str:
    return f'"{name}": [{_json(before)}, {_json(after)}]'


@dataclass(frozen=True)
class Quote:
    """A sentence of a source at [start, end), inside a speech."""

    text: str
    start: int
    end: int
    speech_id: int | None


@dataclass
class Reference:
    """The rows every action points at, and the quotes each source offers."""

    units: list[Row]
    themes: list[Row]
    sources: list[Row] = field(default_factory=list)
    speeches: list[Row] = field(default_factory=list)
    quotes: list[list[Quote]] = field(default_factory=list)  # per source, by id


@dataclass
class Chunk:
    """Actions made together, with their events, theme links and (for SQLite) search words."""

    actions: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    themes: list[Row] = field(default_factory=list)
    search: list[Row] = field(default_factory=list)


@dataclass
class Outcome:
    """What was written, and how long it took."""

    actions: int = 0
    events: int = 0
    action_themes: int = 0
    archived: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # all of it: the rows and the indexes
    index_seconds: float = 0.0  # creating the dropped indexes again, after the rows

    def add(self, chunk: Chunk) -> None:
        """Count a written chunk."""
        self.actions += len(chunk.actions)
        self.events += len(chunk.events)
        self.action_themes += len(chunk.themes)
        self.by_status.update(row[_STATUS_AT] for row in chunk.actions)
        self.archived += sum(row[_ARCHIVED_AT] for row in chunk.actions)


_TITLE_AT, _DETAIL_AT, _QUOTE_AT = (ACTION_COLUMNS.index(c) for c in ("title", "detail", "quote"))
_STATUS_AT = ACTION_COLUMNS.index("status")
_ARCHIVED_AT = ACTION_COLUMNS.index("archived")


@dataclass(slots=True)
class _Draft:
    """An action while its timeline is written."""

    id: int
    owner_id: int
    assignee: str | None
    priority: str
    due_on: str | None
    original_due_on: str | None = None  # the first due date set, as the API keeps it
    status: str = "proposed"
    progress: int = 0
    progress_before_completion: int = 0
    completed_at: str | None = None
    archived: bool = False
    events: list[Row] = field(default_factory=list)


class Generator:
    """Draws the data set; the reference rows from seed, each chunk from seed and its index."""

    def __init__(self, vocabulary: Vocabulary, seed: int, now: float) -> None:
        self.words = vocabulary
        self.seed = seed
        self.now = now
        self.rng = Random(seed)
        self.ref = self._reference()
        self.next_event_id = 1
        self._text_words: dict[str, frozenset[str]] = {}

    def pick(self, items: Sequence[Any]) -> Any:
        """A random item (faster than Random.choice, which matters a million times over)."""
        return items[int(self.rng.random() * len(items))]

    def between(self, low: int, high: int) -> int:
        """A random integer from low to high (faster than Random.randint)."""
        return low + int(self.rng.random() * (high - low + 1))

    # ---------------------------------------------------------------- fixed rows

    def _reference(self) -> Reference:
        created = _stamp(self.now - 800 * DAY)
        units = [
            (number, name, kind, created)
            for number, (name, kind) in enumerate(self.words.unit_names(UNITS), start=1)
        ]
        ref = Reference(units=units, themes=list(enumerate(self.words.theme_names(), start=1)))
        self._article_source(ref, created)
        for source_id in range(2, SOURCES + 1):
            self._composed_source(ref, source_id, created)
        return ref

    def _article_source(self, ref: Reference, created: str) -> None:
        """The seed article verbatim, its speeches, and its 43 actions' quotes."""
        plan, meta = self.words.plan, self.words.plan.source
        unit_ids = {row[1]: row[0] for row in ref.units}
        published = meta.published_on.isoformat() if meta.published_on else None
        ref.sources.append(
            (
                *(1, meta.slug, meta.title, meta.publisher, meta.byline, published),
                *(meta.published_on_note, meta.url, meta.language, plan.text),
                *(hashlib.sha256(plan.text.encode()).hexdigest(), len(plan.text), created),
            )
        )
        speech_ids = {}
        for speech in plan.speeches:
            speech_ids[speech.start] = speech_id = len(ref.speeches) + 1
            unit_id = unit_ids.get(speech.unit)
            ref.speeches.append(
                (speech_id, 1, speech.heading, speech.speaker, unit_id, speech.start, speech.end)
            )
        ref.quotes.append(
            [
                Quote(a.quote, a.quote_start, a.quote_end, speech_ids[a.speech_start])
                for a in plan.actions
            ]
        )

    def _composed_source(self, ref: Reference, source_id: int, created: str) -> None:
        """A document of 5 to 8 speeches of paragraphs; every sentence is a quote."""
        rng, pick = self.rng, self.pick
        city = pick(["苏州工业园区", "杭州高新区", "合肥高新区", "无锡高新区", "秀洲高新区"])
        title = f"赴{city}挂职学习交流材料（第{source_id}期）"
        parts, at, quotes = [title, "\n\n"], len(title) + 2, []
        for _ in range(rng.randint(5, 8)):
            speech_id, start = len(ref.speeches) + 1, at
            heading = f"{pick(words.VERBS)}{pick(words.TOPICS)}"
            parts.append(f"### {heading}\n\n")
            at += len(parts[-1])
            for paragraph in range(rng.randint(3, 5)):
                if paragraph:
                    parts.append("\n\n")
                    at += 2
                for _ in range(rng.randint(3, 6)):
                    sentence = (
                        pick(self.words.article_sentences)
                        if rng.random() < 0.5
                        else self.words.generated_sentence(rng)
                    )
                    parts.append(sentence)
                    quotes.append(Quote(sentence, at, at + len(sentence), speech_id))
                    at += len(sentence)
            speaker, unit_id = pick(self.words.people), rng.randint(1, len(ref.units))
            ref.speeches.append((speech_id, source_id, heading, speaker, unit_id, start, at))
            parts.append("\n\n")
            at += 2
        body = "".join(parts)
        published = _day(self.now - rng.uniform(400, 790) * DAY)
        ref.sources.append(
            (
                *(source_id, f"bench-source-{source_id:02d}", title, "平顶山高新区", None),
                *(published, None, None, "zh-CN", body),
                *(hashlib.sha256(body.encode()).hexdigest(), len(body), created),
            )
        )
        ref.quotes.append(quotes)

    # ---------------------------------------------------------------- actions

    def chunk(self, index: int, total: int, search_words: bool = False) -> Chunk:
        """The index-th chunk of a data set of total actions; with search_words, the rows of
        SQLite's search table too."""
        self.rng = Random(self.seed * 1_000_003 + index)
        self.next_event_id = index * EVENT_IDS_PER_CHUNK + 1
        chunk = Chunk()
        first = index * CHUNK + 1
        for action_id in range(first, min(first + CHUNK, total + 1)):
            row, events, theme_ids = self._action(action_id)
            chunk.actions.append(row)
            chunk.events += events
            chunk.themes += [(action_id, theme_id) for theme_id in theme_ids]
        if search_words:
            # The words unsorted: the FTS5 table keeps no positions (detail=none), so their
            # order changes nothing in the index, and sorting them was 40% of the words' cost.
            chunk.search = [(row[0], self._search_words(row)) for row in chunk.actions]
        return chunk

    def _search_words(self, action: Row) -> str:
        """The words of search.grams of the action's title, detail and quote, unsorted. Titles
        and quotes are drawn from a few thousand texts: their words are made once each."""
        title, detail, quote = action[_TITLE_AT], action[_DETAIL_AT], action[_QUOTE_AT]
        return " ".join(self._words_of(title).union(search.gram_set(detail), self._words_of(quote)))

    def _words_of(self, text: str) -> frozenset[str]:
        words = self._text_words.get(text)
        if words is None:
            words = self._text_words[text] = frozenset(search.gram_set(text))
        return words

    def _action(self, action_id: int) -> tuple[Row, list[Row], list[int]]:
        rng, pick, ref = self.rng, self.pick, self.ref
        source_id = self.between(1, len(ref.sources))
        quote = pick(ref.quotes[source_id - 1])
        fresh = rng.random() < FRESH_SHARE
        created = self.now - rng.uniform(1, 20 if fresh else 730) * DAY
        draft = _Draft(
            id=action_id,
            owner_id=self.between(1, UNITS),
            assignee=pick(self.words.people) if rng.random() < 0.6 else None,
            priority=pick(PRIORITIES),
            due_on=_day(created + rng.uniform(60, 540) * DAY) if rng.random() < 0.85 else None,
        )
        draft.original_due_on = draft.due_on
        title = self.words.title(rng)
        detail = self.words.detail(rng, title, ref.units[draft.owner_id - 1][1])
        self._timeline(draft, created, fresh)
        row = (
            *(action_id, source_id, quote.speech_id, None, title, detail, pick(KINDS)),
            *(quote.text, quote.start, quote.end, draft.owner_id, draft.assignee, draft.status),
            *(draft.priority, draft.progress, draft.due_on, draft.original_due_on),
            draft.completed_at,
            *(draft.events[0][2], draft.events[-1][2], len(draft.events), int(draft.archived)),
        )
        theme_ids = {self.between(1, len(ref.themes)) for _ in range(self.between(1, 3))}
        return row, draft.events, sorted(theme_ids)

    def _timeline(self, draft: _Draft, created: float, fresh: bool) -> None:
        rng = self.rng
        count = self.between(1, 3) if fresh else self.between(5, 15)
        end = self.now - 3600
        self._event(draft, created, "created", None, "proposed", "null", None, 0)
        for moment in sorted(rng.uniform(created, end) for _ in range(count - 1)):
            step, target = "edit", ""
            if not fresh:
                step, target = self._next_step(draft.status)
            if step == "move":
                self._move(draft, moment, target)
            elif step == "report":
                self._report(draft, moment)
            else:
                self._edit(draft, moment)
        if not fresh and rng.random() < ARCHIVED_SHARE:
            draft.archived = True
            self._event(draft, end, "archived", None, None, "null", None, None)

    def _next_step(self, status: str) -> tuple[str, str]:
        roll = self.rng.random()
        for bound, step, target in STEPS[status]:
            if roll < bound:
                return step, target
        return "edit", ""

    def _event(
        self,
        draft: _Draft,
        at: float,
        kind: str,
        from_status: str | None,
        to_status: str | None,
        changes: str,
        note: str | None,
        progress: int | None,
        evidence_url: str | None = None,
    ) -> None:
        actor = self.pick(self.words.actors)
        event = (self.next_event_id, draft.id, _stamp(at), actor, kind, from_status, to_status)
        draft.events.append((*event, changes, note, progress, evidence_url))
        self.next_event_id += 1

    def _move(self, draft: _Draft, at: float, target: str) -> None:
        """A transition as change_status writes it: progress to 100 on completion, back to its
        value before the completion on reopening."""
        current, before = draft.status, draft.progress
        reasons = REASONS.get((current, target)) or REASONS.get(target)
        note = self.pick(reasons or MOVE_NOTES[target])
        if target == "completed":
            draft.progress_before_completion = draft.progress
            draft.progress, draft.completed_at = 100, _stamp(at)
        elif current == "completed":
            draft.progress, draft.completed_at = draft.progress_before_completion, None
        draft.status = target
        changes = _pair("status", current, target)
        if draft.progress != before:
            changes += ", " + _pair("progress", before, draft.progress)
        changes = "{" + changes + "}"
        self._event(draft, at, "transition", current, target, changes, note, draft.progress)

    def _report(self, draft: _Draft, at: float) -> None:
        """A progress report: a note, sometimes new progress and evidence."""
        rng = self.rng
        changes = "null"
        if draft.status in ("accepted", "in_progress") and rng.random() < 0.8:
            progress = min(95, draft.progress + self.between(5, 25))
            if progress != draft.progress:
                changes = "{" + _pair("progress", draft.progress, progress) + "}"
                draft.progress = progress
        evidence = None
        if rng.random() < 0.2:
            evidence = f"https://www.pdsgxq.gov.cn/xwzx/{self.between(1000, 99999)}.html"
        note = self.pick(words.STEPS)
        self._event(draft, at, "progress", None, None, changes, note, draft.progress, evidence)

    def _edit(self, draft: _Draft, at: float) -> None:
        """A field edit as update_action writes it: changes {field: [before, after]}."""
        roll = self.rng.random()
        name = "assignee" if roll < 0.35 else "due_on" if roll < 0.7 else "priority"
        if roll >= 0.9:
            name = "owner_id"
        before = after = getattr(draft, name)
        while after == before:
            after = self._new_value(name, at)
        setattr(draft, name, after)
        if name == "due_on" and draft.original_due_on is None:
            draft.original_due_on = after
        changes = "{" + _pair(name, before, after) + "}"
        note = self.pick(words.UPDATE_NOTES)
        self._event(draft, at, "updated", None, None, changes, note, None)

    def _new_value(self, name: str, at: float) -> Any:
        if name == "assignee":
            return self.pick(self.words.people)
        if name == "due_on":
            return _day(at + self.rng.uniform(30, 365) * DAY)
        if name == "priority":
            return self.pick(PRIORITIES)
        return self.between(1, UNITS)


# ---------------------------------------------------------------- writing


class Writer(Protocol):
    """Appends rows to a table."""

    def __call__(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        """Insert rows (tuples in the order of columns)."""


def sqlite_writer(connection: Connection) -> Writer:
    """executemany on the connection (SQLAlchemy hands it to sqlite3 as it is)."""

    def write(table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    return write


def postgres_writer(connection: Connection) -> Writer:
    """COPY ... FROM STDIN on the connection's psycopg connection, in its transaction."""
    raw: Any = connection.connection.driver_connection

    def write(table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(f'"{name}"' for name in columns)
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)

    return write


@dataclass(frozen=True)
class Deferred:
    """An index or foreign key set aside for the load: the statements that drop it and that
    create it again from the catalog's own definition."""

    drop: str
    create: str


def secondary_indexes(connection: Connection) -> list[Deferred]:
    """The indexes of the bulk tables that back no constraint (primary keys and unique
    constraints stay), search index included."""
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(%(tables)s) "
            "AND NOT EXISTS (SELECT FROM pg_constraint "
            "WHERE conindid = format('%%I.%%I', schemaname, indexname)::regclass) "
            "ORDER BY indexname",
            {"tables": list(BULK_TABLES)},
        )
    else:
        marks = ", ".join("?" for _ in BULK_TABLES)
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY name",
            BULK_TABLES,
        )
    return [Deferred(f'DROP INDEX "{name}"', definition) for name, definition in rows]


def foreign_keys(connection: Connection) -> list[Deferred]:
    """The foreign keys of the bulk tables on PostgreSQL, where checking them for a whole
    table at once is far cheaper than a trigger's lookup per row."""
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.exec_driver_sql(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%(tables)s::regclass[]) "
        "ORDER BY conname",
        {"tables": list(BULK_TABLES)},
    )
    return [
        Deferred(
            f"ALTER TABLE {table} DROP CONSTRAINT {name}",
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}",
        )
        for table, name, definition in rows
    ]


def generation_triggers(connection: Connection) -> list[Deferred]:
    """The triggers that advance the data generation (app/generation.py) on every row
    written: the load advances it once, at its end, instead."""
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT tgrelid::regclass::text, quote_ident(tgname) FROM pg_trigger "
            "WHERE tgname LIKE 'tashan_generation%%' AND NOT tgisinternal ORDER BY tgname"
        )
        return [
            Deferred(
                f"ALTER TABLE {table} DISABLE TRIGGER {name}",
                f"ALTER TABLE {table} ENABLE TRIGGER {name}",
            )
            for table, name in rows
        ]
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND name LIKE 'tashan_generation%' ORDER BY name"
    )
    return [Deferred(f'DROP TRIGGER "{name}"', definition) for name, definition in rows]


def set_aside(connection: Connection) -> list[Deferred]:
    """Drop the bulk tables' foreign keys and secondary indexes and the generation's triggers,
    in the transaction (a failed load leaves them as they were); what was dropped, indexes
    first."""
    keys = foreign_keys(connection)
    indexes = secondary_indexes(connection)
    triggers = generation_triggers(connection)
    for item in keys + indexes + triggers:
        connection.exec_driver_sql(item.drop)
    return indexes + keys + triggers


def restore(connection: Connection, deferred: list[Deferred]) -> None:
    """Create the indexes again (PostgreSQL: with the memory to sort each in one pass), then
    add the foreign keys back, which checks every row."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        # An expression index runs its SQL function once a row, and each run plans the
        # function's query afresh: when the planner thinks that query costly (action_grams
        # of migration 0005), each run is JIT-compiled first, which costs ~100 times the run.
        connection.exec_driver_sql("SET LOCAL jit = off")
    for item in deferred:
        connection.exec_driver_sql(item.create)


_worker: Generator | None = None


def _start_worker(seed: int, now: float) -> None:
    global _worker  # one generator per worker process, made once
    _worker = Generator(load_vocabulary(), seed, now)


def _make_chunk(index: int, total: int, search_words: bool) -> bytes:
    """The chunk marshalled: a million tuples of strings and numbers pickle five times
    slower (pickle remembers every object it wrote), and they unmarshal as fast."""
    assert _worker is not None
    chunk = _worker.chunk(index, total, search_words)
    return marshal.dumps((chunk.actions, chunk.events, chunk.themes, chunk.search))


def _unmarshal(future: "Future[bytes]") -> Chunk:
    return Chunk(*marshal.loads(future.result()))


def _chunks(
    seed: int, now: float, total: int, generator: Generator, search_words: bool
) -> Iterator[Chunk]:
    """The chunks in order: from two worker processes for large data sets, a few ahead."""
    count = -(-total // CHUNK)
    if total < PARALLEL_FROM:
        yield from (generator.chunk(index, total, search_words) for index in range(count))
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(2, context, initializer=_start_worker, initargs=(seed, now)) as pool:
        ahead: deque[Future[bytes]] = deque()
        for index in range(count):
            ahead.append(pool.submit(_make_chunk, index, total, search_words))
            if len(ahead) > 4:
                yield _unmarshal(ahead.popleft())
        while ahead:
            yield _unmarshal(ahead.popleft())


def generate(
    engine: Engine,
    actions: int,
    *,
    seed: int = 20220128,
    on_progress: Callable[[int], None] = lambda done: None,
    scratch: bool = False,
) -> Outcome:
    """Fill the empty migrated database behind engine with the data set, in one transaction.

    scratch: the database is a throwaway one (the benchmark's), so SQLite may write it
    without a rollback journal and without syncing: a crash mid-load leaves it corrupt."""
    started = time.perf_counter()
    now = start_of_day(time.time())
    generator = Generator(load_vocabulary(), seed, now)
    outcome = Outcome()
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        if scratch and not postgres:
            _sqlite_without_journal(connection)
        with connection.execution_options(**{WRITE: True}).begin():
            deferred = set_aside(connection)
            with _search_hash_memory(connection):
                _load_rows(connection, generator, actions, outcome, on_progress)
            index_started = time.perf_counter()
            restore(connection, deferred)
            outcome.index_seconds = time.perf_counter() - index_started
            connection.exec_driver_sql(ADVANCE_GENERATION)
            if not postgres:
                # Planner statistics of the loaded data (the migrations' ANALYZE saw empty
                # tables), from a sample of each index; PostgreSQL's: the bench's VACUUM ANALYZE.
                connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
                connection.exec_driver_sql("ANALYZE")
            if postgres:
                _advance_sequences(connection)
        if scratch and not postgres:
            connection.invalidate()  # so that no later user of the pool gets its settings
    outcome.seconds = time.perf_counter() - started
    return outcome


def chunk_seconds(seed: int = 20220128, repeats: int = 3) -> float:
    """How long this machine takes to make one chunk (CHUNK actions, their timelines and
    search words) in one process, the best of repeats: the same work on any day, a yardstick
    for comparing the load's time across machines and days (the load makes fifty, on two
    processes sharing the cores with the one that writes)."""
    generator = Generator(load_vocabulary(), seed, start_of_day(time.time()))
    best = float("inf")
    for _ in range(repeats):
        generator._text_words.clear()  # each run makes every text's words, as a load's first
        started = time.perf_counter()
        generator.chunk(0, CHUNK, search_words=True)
        best = min(best, time.perf_counter() - started)
    return best


@contextmanager
def _search_hash_memory(connection: Connection) -> Iterator[None]:
    """SQLite's FTS5 table collects the words of the load in a hash table of SEARCH_HASH_SIZE
    instead of 1 MB: it writes each term's row list once instead of in a hundred segments
    merged again and again (4.8 s of CPU for 100,000 actions, 1.9 s with it). The setting
    is stored in the table's config, so the default is put back and its row removed."""
    if connection.dialect.name == "postgresql":
        yield
        return
    configure = f"INSERT INTO {search.TABLE} ({search.TABLE}, rank) VALUES ('hashsize', ?)"
    connection.exec_driver_sql(configure, (SEARCH_HASH_SIZE,))
    yield
    connection.exec_driver_sql(configure, (DEFAULT_SEARCH_HASH_SIZE,))
    connection.exec_driver_sql(f"DELETE FROM {search.TABLE}_config WHERE k = 'hashsize'")


def _sqlite_without_journal(connection: Connection) -> None:
    """No rollback journal, no fsync, for this connection's load (set outside a transaction,
    as SQLite requires); the next connection the app opens puts WAL back."""
    raw: Any = connection.connection.driver_connection
    mode = raw.execute("PRAGMA journal_mode = OFF").fetchone()[0]
    if mode != "off":  # another connection has the database open
        raise RuntimeError(f"could not turn the journal off for the load: still {mode}")
    raw.execute("PRAGMA synchronous = OFF")


def _load_rows(
    connection: Connection,
    generator: Generator,
    actions: int,
    outcome: Outcome,
    on_progress: Callable[[int], None],
) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.exec_driver_sql("SET LOCAL timezone = 'UTC'")
    write = postgres_writer(connection) if postgres else sqlite_writer(connection)
    ref = generator.ref
    write("units", UNIT_COLUMNS, ref.units)
    write("themes", THEME_COLUMNS, ref.themes)
    write("sources", SOURCE_COLUMNS, ref.sources)
    write("speeches", SPEECH_COLUMNS, ref.speeches)
    # On PostgreSQL the search index is an expression index, made with the others.
    search_words = not postgres
    for chunk in _chunks(generator.seed, generator.now, actions, generator, search_words):
        write("actions", ACTION_COLUMNS, chunk.actions)
        if search_words:
            write(search.TABLE, SEARCH_COLUMNS, chunk.search)
        write("action_themes", ACTION_THEME_COLUMNS, chunk.themes)
        write("action_events", EVENT_COLUMNS, chunk.events)
        outcome.add(chunk)
        on_progress(outcome.actions)


def _advance_sequences(connection: Connection) -> None:
    """Each PostgreSQL sequence past the ids given here."""
    for table in SERIAL_TABLES:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )


def _check_steps_follow_the_workflow() -> None:
    for current, steps in STEPS.items():
        for _, step, target in steps:
            if step == "move":
                assert Status(target) in TRANSITIONS[Status(current)], (current, target)
    for current, target in BACKWARD_MOVES:
        assert (current.value, target.value) in REASONS


_check_steps_follow_the_workflow()
