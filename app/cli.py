"""The `tashan` command: db upgrade and backup, seed, serve, keys, report, evidence."""

import copy
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine, make_url
from sqlmodel import Session
from uvicorn.config import LOGGING_CONFIG

from app import capacity, clock, migrations
from app.actions.filter_references import check_references
from app.actions.schemas import ActionFilters
from app.actions.service import Mover
from app.actions.workflow import Status
from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.schemas import Actor, KeyCreate
from app.config import SEEDS_DIR, Settings, get_settings
from app.db import backup_problem, backup_sqlite, create_db_engine, write_session
from app.errors import AppError, InvalidInput
from app.evidence.backup import CopyReport, copy_evidence
from app.evidence.store import DirectoryStore, EvidenceStore, store_for
from app.evidence.verify import referenced_digests, verify_store
from app.imports import service as import_service
from app.imports.reader import read_upload
from app.imports.schemas import Outcome
from app.notifications import reminders
from app.notifications.delivery import deliver_due
from app.reports import service as report_service
from app.reports.builder import current_week
from app.reports.document import ReportFormat
from app.reports.schemas import check_period
from app.seeding.remote import RemoteSeedError, seed_over_http
from app.seeding.schemas import SeedReport, SeedSourceEntry
from app.seeding.service import DRAFT_SUFFIX, SeedError, seed_database
from app.sources import service as source_service
from app.sources.draft import found_metadata, render_draft
from app.sources.speeches import detect_speeches
from app.spreadsheet import Lang
from app.units import service as unit_service
from app.units.models import Unit

# uvicorn kills a worker that does not answer its parent within this many seconds; its
# default of 5 kills workers still starting up on a busy machine.
WORKER_HEALTHCHECK_SECONDS = 60

cli = typer.Typer(help="他山 Tashan: track the proposals of a source document through to done.")
db_cli = typer.Typer(help="Database schema and backups.")
keys_cli = typer.Typer(help="API keys: only a hash of each is stored.")
cli.add_typer(db_cli, name="db")
cli.add_typer(keys_cli, name="keys")
report_cli = typer.Typer(help="Status reports and the 五个一 schedules.")
cli.add_typer(report_cli, name="report")
evidence_cli = typer.Typer(help="Evidence files (佐证材料): verify, back up, restore.")
cli.add_typer(evidence_cli, name="evidence")
notify_cli = typer.Typer(help="Reminders and 催办 to 企业微信, 钉钉 and webhooks.")
cli.add_typer(notify_cli, name="notify")
sources_cli = typer.Typer(help="Source documents: a new article as a draft seed file.")
cli.add_typer(sources_cli, name="sources")


def _upgrade(url: str) -> None:
    """Migrate the database to head, or exit 1 saying in one line why it cannot be."""
    try:
        migrations.upgrade(url)
    except migrations.MigrationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _migrated_engine() -> Engine:
    """An engine on the configured database, migrated to head first."""
    url = get_settings().database_url
    _upgrade(url)
    return create_db_engine(url)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to head (idempotent)."""
    url = get_settings().database_url
    _upgrade(url)
    typer.echo(f"database at revision {migrations.head_revision(url)}")


@db_cli.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="the backup file to write; must not exist")],
) -> None:
    """Copy the SQLite database to a file, safely while the server runs, and the evidence
    files to FILE.evidence/ (PostgreSQL: pg_dump; an S3 bucket: says how)."""
    settings = get_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        typer.echo(
            "db backup copies SQLite files; for PostgreSQL use pg_dump -Fc, and copy the "
            "evidence files with: tashan evidence backup DIR",
            err=True,
        )
        raise typer.Exit(1)
    source = Path(url.database)
    store = store_for(settings)
    evidence_target = evidence_backup_dir(target) if isinstance(store, DirectoryStore) else None
    problem = backup_problem(source, target)
    if not problem and evidence_target and evidence_target.exists():
        problem = f"{evidence_target} exists; pick a new file name"
    if problem:
        typer.echo(f"cannot back up: {problem}", err=True)
        raise typer.Exit(1)
    # The database first, then the files: files are stored before the rows that name them and
    # never deleted, so every file the copied database names is in the store by now.
    backup_sqlite(source, target)
    typer.echo(f"backed up {source} to {target} ({target.stat().st_size:,} bytes)")
    if evidence_target is None:
        typer.echo(
            f"evidence files are in {store.location} and were not copied: keep the bucket "
            "versioned (or replicated), or copy it with: tashan evidence backup DIR"
        )
        return
    _copy_or_exit(store, DirectoryStore(evidence_target))


def evidence_backup_dir(target: Path) -> Path:
    """Where `tashan db backup FILE` puts the evidence files: FILE.evidence, beside it."""
    return target.with_name(f"{target.name}.evidence")


def _print_report(report: SeedReport) -> None:
    for line in report.lines():
        typer.echo(line)


@cli.command()
def seed(
    path: Annotated[Path, typer.Argument(help="a seed .toml file or a folder of them")] = SEEDS_DIR,
    url: Annotated[
        str | None, typer.Option(help="seed a running server through its HTTP API")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="TASHAN_API_KEY", help="key for --url")
    ] = None,
) -> None:
    """Load seed data: an idempotent upsert that never overwrites what users changed."""
    try:
        if url:
            report = seed_over_http(url, api_key, path)
        else:
            engine = _migrated_engine()
            try:
                report = seed_database(engine, path)
            finally:
                engine.dispose()
    except (SeedError, RemoteSeedError) as exc:
        typer.echo(f"seed failed, nothing was changed:\n{exc}", err=True)
        raise typer.Exit(1) from exc
    _print_report(report)


@sources_cli.command("draft")
def sources_draft(
    article: Annotated[Path, typer.Argument(help="the article, a UTF-8 text file")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="the draft to write (default: ARTICLE.draft.toml beside it; - for stdout)"
        ),
    ] = None,
    slug: Annotated[
        str | None, typer.Option(help="default: the file name, or the stored one")
    ] = None,
    title: Annotated[str | None, typer.Option(help="default: the article's title line")] = None,
    publisher: Annotated[str | None, typer.Option()] = None,
    byline: Annotated[str | None, typer.Option(help="default: the dateline's 记者/通讯员")] = None,
    published_on: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (default: a date in the file name or dateline)")
    ] = None,
    url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """A new article -> a draft seed file with its speeches and candidate actions, for a
    person to correct and load with `tashan seed FILE`."""
    target = out or article.with_suffix(DRAFT_SUFFIX)
    to_stdout = str(target) == "-"
    if not to_stdout and target.exists():
        typer.echo(f"error: {target} exists; name another file with --out", err=True)
        raise typer.Exit(1)
    try:
        text = article.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {article} as UTF-8 text: {exc}", err=True)
        raise typer.Exit(1) from exc
    given = {"slug": slug, "title": title, "publisher": publisher, "byline": byline}
    given |= {"published_on": published_on, "url": url}
    engine = _migrated_engine()
    try:
        with Session(engine) as session:
            known = source_service.draft_context(session, text)
    finally:
        engine.dispose()
    # The same text stored already: its metadata and speeches, so that loading the draft
    # adds actions and changes nothing else.
    found = found_metadata(article, text, Path.cwd() if to_stdout else target.parent)
    found |= known.source or {}
    found |= {name: value for name, value in given.items() if value is not None}
    try:
        metadata = SeedSourceEntry.model_validate({"slug": "new-article", **found})
    except ValidationError as exc:
        typer.echo(f"error: {_reason(exc)}", err=True)
        raise typer.Exit(1) from exc
    speeches = known.speeches or detect_speeches(text)
    draft = render_draft(text, metadata, speeches, known.units, known.actions)
    if to_stdout:
        sys.stdout.write(draft)
        return
    target.write_text(draft, encoding="utf-8")
    typer.echo(f"wrote {target}; correct it, then load it with: tashan seed {target}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: TASHAN_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: TASHAN_PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Upgrade the database once, print a first admin key if there is none, then serve (with
    --workers N, in N processes that share the port)."""
    settings = get_settings()
    engine = _migrated_engine()
    try:
        _check_pools_fit(engine, settings, workers)
        bootstrap_key = auth_service.ensure_bootstrap_key(engine)
    finally:
        engine.dispose()
    if bootstrap_key:
        typer.echo(
            "No API key existed, so an admin key named 'bootstrap' was created. It is shown "
            f"only this once; keep it safe:\n\n    {bootstrap_key}\n\n"
            "Use it as  Authorization: Bearer <key>  or  X-API-Key: <key>. Make more with:\n"
            f"    {_this_command()} keys create --name NAME --role viewer|editor|supervisor|admin\n"
        )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # X-Forwarded-Proto/-For are believed from a proxy on the same host only (uvicorn's
        # FORWARDED_ALLOW_IPS changes that), so Link headers say https behind a TLS proxy.
        proxy_headers=True,
        log_config=_log_config(),
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def _this_command() -> str:
    """The path of this `tashan` as the user can type it (.venv/bin/tashan in the clone):
    the command is in the virtualenv, which is rarely on PATH."""
    command = Path(sys.executable).with_name("tashan")
    try:
        return str(command.relative_to(Path.cwd()))
    except ValueError:
        return str(command)


def _check_pools_fit(engine: Engine, settings: Settings, workers: int) -> None:
    """Exit 1 saying what to set when the workers' pools can never fit in PostgreSQL's
    max_connections; warn when they fit but not beside the sessions open now, which come and
    go (another instance being replaced, a backup) and so are no reason to refuse."""
    limits = capacity.read_limits(engine)
    if limits is None:
        return
    pools = capacity.Pools(
        workers, settings.db_pool_size, settings.db_max_overflow, settings.loop_read_connections
    )
    if problem := capacity.overcommitment(pools, limits):
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    if crowded := capacity.crowding(pools, limits):
        typer.echo(f"warning: {crowded}", err=True)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus Tashan's own messages (such as the reports the scheduler made)
    with the id of the worker process that wrote them."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["tashan"] = {
        "()": "uvicorn.logging.DefaultFormatter",
        "fmt": "%(levelprefix)s [%(process)d] %(message)s",
    }
    config["handlers"]["tashan"] = {**config["handlers"]["default"], "formatter": "tashan"}
    config["loggers"]["tashan"] = {"handlers": ["tashan"], "level": "INFO", "propagate": False}
    # Its warnings say a check was skipped while the previous one still ran: expected, harmless.
    config["loggers"]["apscheduler"] = {
        "handlers": ["tashan"],
        "level": "ERROR",
        "propagate": False,
    }
    return config


UNIT_OPTION = typer.Option(
    "--unit",
    help="an editor key that writes only for this unit (its id or exact name): the actions it "
    "leads, and progress where it cooperates",
)


def _ensure_unit_role(unit: str | None, role: Role) -> None:
    """Exit 2 when --unit comes with a role other than editor."""
    if unit is not None and role != Role.editor:
        typer.echo(
            f"--unit is for editor keys only: a {role} key acts for the whole office", err=True
        )
        raise typer.Exit(2)


def _unit_named(session: Session, given: str) -> Unit:
    """The unit whose id or exact name given is; exit 2 naming the units when none is."""
    as_id = given.isascii() and given.isdigit() and len(given) < 10
    unit = session.get(Unit, int(given)) if as_id else None
    unit = unit or unit_service.find_unit_by_name(session, given)
    if unit is None:
        known = ", ".join(f"{u.id} {u.name}" for u in unit_service.all_units(session))
        typer.echo(
            f"no unit {given!r}: give a unit's id or exact name ({known or 'there are none yet'})",
            err=True,
        )
        raise typer.Exit(2)
    return unit


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who the key is for; the actor in timelines")],
    role: Annotated[Role, typer.Option(help="viewer, editor, supervisor (督查) or admin")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="expire after this many days (default: never)")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="print the key alone")] = False,
    unit: Annotated[str | None, UNIT_OPTION] = None,
) -> None:
    """Create a key and print it; it cannot be shown again."""
    expires_at = clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
    _ensure_unit_role(unit, role)
    engine = _migrated_engine()
    try:
        with write_session(engine) as session:
            unit_id = None if unit is None else _unit_named(session, unit).id
            data = KeyCreate(name=name, role=role, unit_id=unit_id, expires_at=expires_at)
            key, plaintext = auth_service.create_key(session, data)
            unit_name = key.unit.name if key.unit else None
    except (ValidationError, AppError) as exc:
        typer.echo(f"cannot create the key: {_reason(exc)}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    if quiet:
        typer.echo(plaintext)
    else:
        acts_for = f" for {unit_name} (unit {key.unit_id})" if unit_name else ""
        typer.echo(
            f"created key {key.id} {key.name!r} ({key.role}){acts_for}; shown only this once:"
        )
        typer.echo(f"    {plaintext}")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    engine = _migrated_engine()
    try:
        with Session(engine) as session:
            keys = auth_service.all_keys(session)
    finally:
        engine.dispose()
    now = clock.now()
    typer.echo(
        f"{'id':>4}  {'name':<20} {'role':<10} {'prefix':<9} {'state':<8} {'last used':<22} unit"
    )
    for key in keys:
        state = (
            "active"
            if auth_service.is_active(key, now)
            else ("revoked" if key.revoked_at else "expired")
        )
        used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "never"
        unit = f"{key.unit_id} {key.unit.name}" if key.unit else "- (whole office)"
        typer.echo(
            f"{key.id:>4}  {key.name:<20} {key.role:<10} {key.prefix:<9} {state:<8} {used:<22} "
            f"{unit}"
        )


@keys_cli.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="the key's id (see keys list)")],
) -> None:
    """Revoke a key at once."""
    engine = _migrated_engine()
    try:
        with write_session(engine) as session:
            key = auth_service.revoke_key(session, key_id)
    except AppError as exc:
        typer.echo(f"cannot revoke: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"revoked key {key.id} {key.name!r}")


DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])]


@report_cli.command("export")
def report_export(
    format: Annotated[ReportFormat, typer.Option(help="xlsx, csv, md, html or json")] = (
        ReportFormat.xlsx
    ),
    lang: Annotated[Lang, typer.Option(help="zh or en")] = Lang.zh,
    out: Annotated[
        Path | None, typer.Option(help="file to write (default: its name, here)")
    ] = None,
    period_start: DateOption = None,
    period_end: DateOption = None,
    status: Annotated[list[Status] | None, typer.Option(help="repeatable")] = None,
    owner_id: Annotated[int | None, typer.Option()] = None,
    theme: Annotated[str | None, typer.Option()] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue")] = None,
) -> None:
    """Write a status report file (this ISO week unless a period is given)."""
    settings = get_settings()
    week = current_week(settings.today())
    period = (
        period_start.date() if period_start else week[0],
        period_end.date() if period_end else week[1],
    )
    try:
        check_period(*period)
        filters = ActionFilters(
            status=status or [], owner_id=owner_id, theme=theme, overdue=overdue
        )
    except ValueError as exc:
        typer.echo(f"cannot export: {exc}", err=True)
        raise typer.Exit(1) from exc
    engine = _migrated_engine()
    try:
        with _progress(f"building the {format} report"), Session(engine) as session:
            _check_filter_references(session, filters)
            content, file_name = report_service.render_status_report(
                session, settings, filters, period, lang, format
            )
    finally:
        engine.dispose()
    target = out or Path(file_name)
    target.write_bytes(content)
    typer.echo(f"wrote {target} ({len(content):,} bytes)")


def _check_filter_references(session: Session, filters: ActionFilters) -> None:
    """Exit 1 naming a filter whose unit or theme does not exist."""
    try:
        check_references(session.connection(), filters, [])
    except InvalidInput as exc:
        typer.echo(f"cannot export: {exc.detail}", err=True)
        raise typer.Exit(1) from exc


@report_cli.command("run-due")
def report_run_due() -> None:
    """Make every scheduled report whose period has ended and is not made yet (for cron)."""
    settings = get_settings()
    engine = _migrated_engine()
    try:
        with _progress("making due reports"):
            made = report_service.run_due(engine, settings)
    finally:
        engine.dispose()
    for report in made:
        typer.echo(
            f"made {report.file_name} ({report.size_bytes:,} bytes, {report.row_count} actions)"
        )
    if not made:
        typer.echo("nothing due")


@notify_cli.command("run-due")
def notify_run_due() -> None:
    """Make every reminder and 催办 due today and not made yet, then send every delivery due
    (retries included). For cron, as often as you like: each is made and sent once."""
    settings = get_settings()
    engine = _migrated_engine()
    try:
        with _progress("making due reminders"):
            made = reminders.make_due(engine, settings)
        with _progress("sending due deliveries"):
            sent = deliver_due(engine, settings)
    finally:
        engine.dispose()
    for one in made:
        level = f" level {one.level}" if one.level is not None else ""
        typer.echo(f"made {one.event}{level} for action {one.action_id} ({one.channels} channels)")
    typer.echo(f"made {len(made)} reminders" if made else "no reminder due")
    typer.echo(f"deliveries: {sent.sent} sent, {sent.failed} failed (to retry), {sent.dead} dead")


@cli.command("import")
def import_sheet(
    file: Annotated[Path, typer.Argument(help="a filled-in progress sheet: .xlsx or .csv")],
    apply: Annotated[bool, typer.Option(help="apply the valid rows (default: a dry run)")] = False,
    all_or_nothing: Annotated[bool, typer.Option(help="apply nothing if a row is refused")] = False,
    actor: Annotated[str, typer.Option("--as", help="the name recorded on the timeline")] = "cli",
    role: Annotated[
        Role,
        typer.Option(
            help="the role whose workflow rules apply: an editor submits for review, only a "
            "supervisor or admin completes, sends back or reopens"
        ),
    ] = Role.editor,
    unit: Annotated[str | None, UNIT_OPTION] = None,
) -> None:
    """Check a filled-in progress sheet against the actions and, with --apply, apply it, as a
    key of --role (and of --unit) would through the API."""
    _ensure_unit_role(unit, role)
    try:
        sheet = read_upload(file.read_bytes(), file.name)
    except (OSError, AppError) as exc:
        typer.echo(f"cannot read {file}: {_reason(exc)}", err=True)
        raise typer.Exit(1) from exc
    engine = _migrated_engine()
    try:
        with _progress("checking the sheet"), write_session(engine) as session:
            found = None if unit is None else _unit_named(session, unit)
            acting = Actor(actor, found.id, found.name) if found else Actor(actor)
            result = import_service.import_sheet(
                session,
                sheet,
                Mover(acting, role, get_settings().review_needs_evidence),
                file_name=file.name,
                today=get_settings().today(),
                dry_run=not apply,
                all_or_nothing=all_or_nothing,
            )
    finally:
        engine.dispose()
    for row in result.results:
        # A reason names its cell as the sheet heads it: 状态 ✎ (column F, row 3): …
        detail = "; ".join(e.reason for e in row.errors) or ", ".join(
            f"{name} {before} → {after}" for name, (before, after) in row.changes.items()
        )
        typer.echo(
            f"row {row.row:>5}  action {row.action_id or '-':>5}  {row.outcome:<11} {detail}"
        )
    counts = ", ".join(f"{count} {outcome}" for outcome, count in result.counts.items())
    typer.echo(f"{counts or 'no rows'}; {'applied' if result.applied else 'nothing applied'}")
    if result.counts.get(Outcome.error):
        raise typer.Exit(2)


def _copy_or_exit(source: EvidenceStore, target: EvidenceStore) -> CopyReport:
    """Copy source's files into target, print what was done and each file not copied; exit 1
    when any was not (the files that could be are copied all the same)."""
    try:
        with _progress(f"copying evidence files to {target.location} …"):
            report = copy_evidence(source, target)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: evidence files: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(report.summary())
    if not report.ok:
        for problem in report.problems:
            typer.echo(problem.line(), err=True)
        typer.echo(
            f"{len(report.problems)} evidence file(s) in {source.location} are missing or "
            "altered and were not copied; see tashan evidence verify",
            err=True,
        )
        raise typer.Exit(1)
    return report


@evidence_cli.command("verify")
def evidence_verify() -> None:
    """Re-hash every evidence file the database refers to and every file in the store; name
    each missing or altered one and exit 1 if there is any."""
    store = store_for(get_settings())
    engine = _migrated_engine()
    try:
        references = referenced_digests(engine)
    finally:
        engine.dispose()
    if references is None:
        typer.echo("the database has no evidence table: checking the store's files alone")
    try:
        with _progress(f"re-hashing the evidence files in {store.location} …"):
            result = verify_store(store, references or [])
    except (OSError, ValueError) as exc:
        typer.echo(f"error: evidence files: {exc}", err=True)
        raise typer.Exit(1) from exc
    for problem in result.problems:
        typer.echo(problem.line(), err=True)
    if not result.ok:
        typer.echo(result.summary(), err=True)
        raise typer.Exit(1)
    typer.echo(result.summary())


@evidence_cli.command("backup")
def evidence_backup(
    target: Annotated[
        Path, typer.Argument(help="a folder; files already in it are kept, new ones added")
    ],
) -> None:
    """Copy the evidence files (from the folder or the bucket) into a folder, each re-hashed;
    run again to add only the new ones. For PostgreSQL deployments, beside pg_dump."""
    store = store_for(get_settings())
    if isinstance(store, DirectoryStore) and _same_folder(store.root, target):
        typer.echo(f"cannot back up: {target} is the evidence store itself", err=True)
        raise typer.Exit(1)
    if target.exists() and not target.is_dir():
        typer.echo(f"cannot back up: {target} is not a folder", err=True)
        raise typer.Exit(1)
    _copy_or_exit(store, DirectoryStore(target))


@evidence_cli.command("restore")
def evidence_restore(
    source: Annotated[
        Path, typer.Argument(help="a backup folder: FILE.evidence or a tashan evidence backup")
    ],
) -> None:
    """Copy a backup folder's evidence files into the configured store (folder or bucket),
    each re-hashed; files the store has already are kept. Then run tashan evidence verify."""
    store = store_for(get_settings())
    if not source.is_dir():
        typer.echo(f"cannot restore: there is no folder at {source}", err=True)
        raise typer.Exit(1)
    if isinstance(store, DirectoryStore) and _same_folder(store.root, source):
        typer.echo(f"cannot restore: {source} is the evidence store itself", err=True)
        raise typer.Exit(1)
    report = _copy_or_exit(DirectoryStore(source), store)
    if not report.copied and not report.present:
        typer.echo(
            f"warning: {source} holds no evidence files in the store's layout "
            "(<first two hex digits>/<sha256>); is it the right folder?",
            err=True,
        )
    typer.echo("now check the restore with: tashan evidence verify")


def _same_folder(one: Path, other: Path) -> bool:
    return one.resolve() == other.resolve()


def _progress(what: str) -> AbstractContextManager[object]:
    """A spinner on a terminal; silence when output goes to a file or a pipe."""
    console = Console(stderr=True)
    return console.status(what) if console.is_terminal else nullcontext()


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return exc.detail if isinstance(exc, AppError) else str(exc)


def main() -> None:
    """Console-script entry point; a setting that cannot be read stops it in one line saying
    which, as an unreachable database does, rather than a traceback."""
    try:
        settings = get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"TASHAN_{str(e['loc'][0]).upper()}: {e['msg']}" for e in error.errors()
        )
        print(f"error: a setting is not valid: {problems}", file=sys.stderr)
        raise SystemExit(1) from None
    settings.start_clock()
    cli()
