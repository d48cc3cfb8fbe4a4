"""Loading seed files into a checked plan, and applying a plan as an idempotent upsert."""

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.actions import service as action_service
from app.actions.models import Action, ActionEvent, EventKind
from app.actions.schemas import ActionCreate
from app.auth.schemas import Actor
from app.db import write_session
from app.errors import InvalidInput
from app.seeding.schemas import (
    PlannedAction,
    PlannedSpeech,
    SeedActionEntry,
    SeedFile,
    SeedPlan,
    SeedReport,
    SeedSpeechEntry,
    UpsertCounts,
)
from app.sources import service as source_service
from app.sources.models import Source, Speech
from app.units import service as unit_service
from app.units.models import Unit

SEED_ACTOR = Actor("seed")
# Fields the seed file owns: they follow the file unless a user changed them through the API
# (by PATCH or a progress sheet). The cooperating units are the source's word like the rest
# (a later file may name some for an action already seeded), but chosen beside the lead: once
# a user changes the lead, the cooperating units are theirs too (see user_owned).
SEED_OWNED = ("title", "detail", "kind", "themes", "leader", "co_owner_ids")


class SeedError(Exception):
    """A seed file that cannot be applied; the message names the file, the entry and why."""


DRAFT_SUFFIX = ".draft.toml"


def seed_files(path: Path) -> list[Path]:
    """The seed files at path: the file itself, or every *.toml in the folder but drafts
    (*.draft.toml, from `tashan sources draft`), which load only when named."""
    if path.is_dir():
        files = sorted(f for f in path.glob("*.toml") if not f.name.endswith(DRAFT_SUFFIX))
        if not files:
            raise SeedError(f"{path}: no *.toml seed files in this folder")
        return files
    if path.is_file():
        return [path]
    raise SeedError(f"{path}: no such file or folder")


def _entry_name(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """'actions[3] (key=foo)' for a location inside a seed file."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        section, index = str(loc[0]), loc[1]
        entries = raw.get(section)
        key = ""
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            entry = entries[index]
            label = entry.get("key", entry.get("name"))
            key = f" ({'key' if 'key' in entry else 'name'}={label})" if label else ""
        rest = ".".join(map(str, loc[2:]))
        return f"{section}[{index}]{key}" + (f".{rest}" if rest else "")
    return ".".join(map(str, loc)) or "(file)"


def _read_seed_file(path: Path) -> tuple[dict[str, Any], SeedFile]:
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SeedError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return raw, SeedFile.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {_entry_name(raw, err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SeedError("\n".join(problems)) from exc


def _duplicates(names: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    return {name for name in names if name in seen or seen.add(name)}  # type: ignore[func-returns-value]


def _find_once(text: str, needle: str) -> int | None:
    offsets = action_service.quote_occurrences(text, needle)
    return offsets[0] if len(offsets) == 1 else None


def load_plan(path: Path) -> SeedPlan:
    """Read and check one seed file against its text; SeedError lists every problem."""
    _, seed = _read_seed_file(path)
    text_path = path.parent / seed.source.file
    try:
        text = text_path.read_bytes().decode("utf-8")  # verbatim: no newline translation
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: source.file: cannot read {text_path} as UTF-8: {exc}") from exc
    problems: list[str] = []
    for section, names in (
        ("units", [u.name for u in seed.units]),
        ("speeches", [s.key for s in seed.speeches]),
        ("actions", [a.key for a in seed.actions]),
    ):
        problems += [f"{section}: {name!r} appears more than once" for name in _duplicates(names)]
    unit_names = {unit.name for unit in seed.units}
    speeches = _plan_speeches(seed.speeches, text, unit_names, problems)
    actions = []
    for index, entry in enumerate(seed.actions):
        where = f"actions[{index}] (key={entry.key})"
        planned = _plan_action(entry, text, speeches, unit_names, where, problems)
        if planned is not None:
            actions.append(planned)
    if problems:
        raise SeedError("\n".join(f"{path}: {problem}" for problem in problems))
    return SeedPlan(
        path=str(path),
        source=seed.source,
        text=text,
        units=seed.units,
        speeches=list(speeches.values()),
        actions=actions,
    )


def _plan_speeches(
    entries: list[SeedSpeechEntry], text: str, unit_names: set[str], problems: list[str]
) -> dict[str, PlannedSpeech]:
    """Each speech's span found in text, by key; problems collects what is wrong."""
    speeches: dict[str, PlannedSpeech] = {}
    for index, entry in enumerate(entries):
        where = f"speeches[{index}] (key={entry.key})"
        if entry.unit not in unit_names:
            problems.append(f"{where}: unit {entry.unit!r} is not one of [[units]]")
        begins, ends = _find_once(text, entry.begins), _find_once(text, entry.ends)
        if begins is None or ends is None:
            problems.append(f"{where}: begins and ends must each occur exactly once in the text")
        elif ends + len(entry.ends) <= begins:
            problems.append(f"{where}: ends comes before begins")
        else:
            speeches[entry.key] = PlannedSpeech(
                heading=entry.heading,
                speaker=entry.speaker,
                unit=entry.unit,
                start=begins,
                end=ends + len(entry.ends),
            )
    return speeches


def _plan_action(
    entry: SeedActionEntry,
    text: str,
    speeches: dict[str, PlannedSpeech],
    unit_names: set[str],
    where: str,
    problems: list[str],
) -> PlannedAction | None:
    """The action with its quote located in text, or None with problems appended."""
    if entry.owner not in unit_names:
        problems.append(f"{where}: owner {entry.owner!r} is not one of [[units]]")
    problems += [f"{where}: {problem}" for problem in _co_owner_problems(entry, unit_names)]
    speech = speeches.get(entry.speech)
    if speech is None:
        problems.append(f"{where}: speech {entry.speech!r} is not a valid [[speeches]] key")
    if entry.quote != entry.quote.strip():
        problems.append(f"{where}: quote starts or ends with whitespace")
        return None
    try:
        start, end = action_service.locate_quote(text, entry.quote, entry.quote_start)
    except InvalidInput as exc:
        problems.append(f"{where}: {exc.detail}")
        return None
    if speech is None:
        return None
    if not (speech.start <= start and end <= speech.end):
        problems.append(f"{where}: the quote lies outside speech {entry.speech!r}")
        return None
    return PlannedAction(
        **entry.model_dump(exclude={"speech", "quote_start"}),
        quote_start=start,
        quote_end=end,
        speech_start=speech.start,
    )


def _co_owner_problems(entry: SeedActionEntry, unit_names: set[str]) -> list[str]:
    """What is wrong with an action's co_owners: units not in [[units]], the lead among them,
    a unit listed twice."""
    problems = [
        f"co_owners: unit {name!r} is not one of [[units]]"
        for name in entry.co_owners
        if name not in unit_names
    ]
    if entry.owner in entry.co_owners:
        problems.append(
            f"co_owners: {entry.owner!r} is the owner (the lead unit) and cannot also cooperate"
        )
    problems += [
        f"co_owners: {name!r} is listed more than once" for name in _duplicates(entry.co_owners)
    ]
    return problems


def user_owned(changed: set[str]) -> set[str]:
    """The seed-owned fields users have taken over, given the fields they changed: those, and
    the cooperating units once they changed the lead."""
    owned = changed & set(SEED_OWNED)
    if "owner_id" in changed:
        owned.add("co_owner_ids")
    return owned


def seed_database(engine: Engine, path: Path) -> SeedReport:
    """Check every seed file at path, then apply them all in one transaction."""
    plans = [load_plan(file) for file in seed_files(path)]
    report = SeedReport()
    with write_session(engine) as session:
        for plan in plans:
            apply_plan(session, plan, report)
    return report


def apply_plan(
    session: Session, plan: SeedPlan, report: SeedReport, actor: Actor = SEED_ACTOR
) -> None:
    """Upsert the plan's rows by their natural keys; flushes, the caller commits."""
    units = _upsert_units(session, plan, report)
    source = _upsert_source(session, plan, report)
    speeches = _upsert_speeches(session, source, plan, units, report)
    _upsert_actions(session, source, plan, units, speeches, report, actor)


def _upsert_units(session: Session, plan: SeedPlan, report: SeedReport) -> dict[str, Unit]:
    # Existing units are left as they are: users may have renamed or reclassified them.
    units: dict[str, Unit] = {}
    for entry in plan.units:
        unit = unit_service.find_unit_by_name(session, entry.name)
        if unit is None:
            unit = Unit(name=entry.name, kind=entry.kind)
            session.add(unit)
            session.flush()
            report.units.created += 1
        else:
            report.units.unchanged += 1
        units[entry.name] = unit
    return units


def _upsert_source(session: Session, plan: SeedPlan, report: SeedReport) -> Source:
    entry = plan.source
    sha256 = source_service.text_sha256(plan.text)
    source = source_service.find_source_by_slug(session, entry.slug)
    metadata = entry.model_dump(include=set(source_service.SOURCE_METADATA))
    if source is None:
        source = Source(
            slug=entry.slug, text=plan.text, sha256=sha256, char_count=len(plan.text), **metadata
        )
        session.add(source)
        session.flush()
        report.sources.created += 1
        return source
    if source.sha256 != sha256:
        raise SeedError(
            f"{plan.path}: source {entry.slug!r} is stored with a different text (sha256 "
            f"{source.sha256[:12]}…); a source's text never changes, so give the corrected "
            "text a new slug"
        )
    changed = {k: v for k, v in metadata.items() if getattr(source, k) != v}
    source.sqlmodel_update(changed)
    _count(report.sources, bool(changed))
    return source


def _upsert_speeches(
    session: Session, source: Source, plan: SeedPlan, units: dict[str, Unit], report: SeedReport
) -> dict[int, Speech]:
    existing = {
        speech.start: speech for speech in source_service.speeches_of(session, source.id or 0)
    }
    for planned in plan.speeches:
        wanted: dict[str, Any] = {
            "heading": planned.heading,
            "speaker": planned.speaker,
            "unit_id": units[planned.unit].id,
            "end": planned.end,
        }
        speech = existing.get(planned.start)
        if speech is None:
            speech = Speech(source_id=source.id or 0, start=planned.start, **wanted)
            session.add(speech)
            existing[planned.start] = speech
            report.speeches.created += 1
            continue
        changed = {k: v for k, v in wanted.items() if getattr(speech, k) != v}
        speech.sqlmodel_update(changed)
        _count(report.speeches, bool(changed))
    session.flush()
    return existing


def fields_changed_by_others(
    session: Session, action_ids: list[int], actor: Actor
) -> dict[int, set[str]]:
    """For each action, the fields that anyone but actor changed through an update."""
    changed: dict[int, set[str]] = {}
    if not action_ids:
        return changed
    rows = session.exec(
        select(ActionEvent.action_id, ActionEvent.changes).where(
            col(ActionEvent.action_id).in_(action_ids),
            ActionEvent.kind == EventKind.updated,
            ActionEvent.actor != actor.name,
        )
    ).all()
    for action_id, changes in rows:
        changed.setdefault(action_id, set()).update(changes or {})
    return changed


def desired_fields(
    planned: PlannedAction, speech_id: int | None, co_owner_ids: list[int]
) -> dict[str, Any]:
    """What the seed file says the seed-owned and anchor fields of an action should be, given
    the ids of its cooperating units."""
    return {
        **planned.model_dump(include=set(SEED_OWNED)),
        "co_owner_ids": sorted(co_owner_ids),
        "quote": planned.quote,
        "quote_start": planned.quote_start,
        "quote_end": planned.quote_end,
        "speech_id": speech_id,
    }


def _upsert_actions(
    session: Session,
    source: Source,
    plan: SeedPlan,
    units: dict[str, Unit],
    speeches: dict[int, Speech],
    report: SeedReport,
    actor: Actor,
) -> None:
    assert source.id is not None
    existing = {
        action.seed_key: action
        for action in session.exec(
            select(Action).where(Action.source_id == source.id, col(Action.seed_key).is_not(None))
        ).all()
    }
    user_changed = fields_changed_by_others(
        session, [a.id for a in existing.values() if a.id is not None], actor
    )
    quoted = [
        (
            action.quote_start,
            action.quote_end,
            source_service.action_label(action.id, action.seed_key, action.title),
        )
        for action in session.exec(
            select(Action).where(Action.source_id == source.id, col(Action.archived).is_(False))
        ).all()
    ]
    for planned in plan.actions:
        speech_id = speeches[planned.speech_start].id
        action = existing.get(planned.key)
        if action is None and note_overlap(planned, quoted, report):
            continue
        if action is None:
            action_service.create_action(
                session, _create_request(source.id, planned, units, speech_id), actor
            )
            report.actions.created += 1
            continue
        desired = desired_fields(planned, speech_id, _unit_ids(units, planned.co_owners))
        kept = sorted(user_owned(user_changed.get(action.id or 0, set())))
        for field in kept:
            if action_service.field_value(action, field) != desired.pop(field):
                report.kept_user_changes.append(f"{planned.key}.{field}")
        if action.owner_id in desired.get("co_owner_ids", []):
            desired.pop("co_owner_ids")
            report.warnings.append(lead_among_co_owners(planned))
        changes = action_service.apply_changes(
            session, action, desired, actor, note=f"seed file {Path(plan.path).name}"
        )
        _count(report.actions, bool(changes))


def note_overlap(
    planned: PlannedAction, quoted: list[tuple[int, int, str]], report: SeedReport
) -> bool:
    """Whether a new action's quote overlaps one an action of the source (start, end, label)
    had before this run, noted in the report: a draft of an article already curated
    proposes what is loaded already, and loading it again would track it twice."""
    overlapping = [
        label
        for start, end, label in quoted
        if start < planned.quote_end and planned.quote_start < end
    ]
    if overlapping:
        report.overlaps.append(f"{planned.key} overlaps {', '.join(overlapping)}")
    return bool(overlapping)


def lead_among_co_owners(planned: PlannedAction) -> str:
    """The warning when the file's co_owners name the action's stored lead unit."""
    return (
        f"{planned.key}: co_owners names the action's lead unit (set when it was first seeded "
        "or by a user, and never changed by the seed); its cooperating units are kept as they are"
    )


def _unit_ids(units: dict[str, Unit], names: list[str]) -> list[int]:
    ids = [units[name].id for name in names]
    return [unit_id for unit_id in ids if unit_id is not None]


def _create_request(
    source_id: int, planned: PlannedAction, units: dict[str, Unit], speech_id: int | None
) -> ActionCreate:
    owner_id = units[planned.owner].id
    assert owner_id is not None
    return ActionCreate(
        source_id=source_id,
        quote=planned.quote,
        quote_start=planned.quote_start,
        title=planned.title,
        kind=planned.kind,
        owner_id=owner_id,
        co_owner_ids=_unit_ids(units, planned.co_owners),
        leader=planned.leader,
        detail=planned.detail,
        themes=planned.themes,
        speech_id=speech_id,
        priority=planned.priority,
        seed_key=planned.key,
    )


def _count(counts: UpsertCounts, changed: bool) -> None:
    if changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
