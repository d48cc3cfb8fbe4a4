"""Settings read from TASHAN_* environment variables (and a .env file), one instance."""

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import clock
from app.actions.derived import LightRules
from app.evidence.urls import check_endpoint, parse_s3_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_DIR / "seeds"
MIGRATIONS_DIR = PROJECT_DIR / "migrations"


class Settings(BaseSettings):
    """Deployment settings; every command and the server read the same ones."""

    # An empty variable (TASHAN_CLOCK_START=) means unset, as in a shell, not an invalid value.
    model_config = SettingsConfigDict(
        env_prefix="TASHAN_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    # The project's own var/ folder, so every command finds the same database wherever it runs.
    database_url: str = f"sqlite:///{PROJECT_DIR / 'var' / 'tashan.db'}"
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "Asia/Shanghai"
    stale_days: int = 30
    # Warning lights (红黄绿灯, app/actions/derived.py): an active action is red when overdue or
    # its progress lags expected progress (序时进度) by light_red_lag points or more, yellow when
    # blocked or lagging by light_yellow_lag or more; due soon within remind_days_before days.
    light_red_lag: Annotated[int, Field(ge=1, le=100)] = 30
    light_yellow_lag: Annotated[int, Field(ge=1, le=100)] = 10
    remind_days_before: Annotated[int, Field(ge=0, le=365)] = 3
    # Reads without a key (as role viewer); writes always need one.
    anonymous_read: bool = False
    max_body_bytes: int = 1024 * 1024
    # Uploaded progress sheets may be larger (10,000 rows of quotes and notes).
    max_import_bytes: int = 20 * 1024 * 1024
    # Reminders and 催办 (app/notifications): 催办 again every this many days past due; the
    # address people open the action at, for the link in every message; the only hosts a
    # channel may send to (empty: any), so a channel cannot be pointed inside the network.
    overdue_remind_every_days: Annotated[int, Field(ge=1, le=365)] = 1
    public_url: str = "http://127.0.0.1:8000"
    notify_allowed_hosts: list[str] = []
    # Send due deliveries from inside `tashan serve` (every worker; their claims keep each
    # delivery to one sender), checking every this many seconds and at once after a write
    # that made some. Off: only `tashan notify run-due` sends.
    deliverer: bool = True
    delivery_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 5
    # Submitting an action for review (to: submitted) needs at least one evidence file on it
    # (not withdrawn); false lets a unit submit without one.
    review_needs_evidence: bool = True
    # Evidence files (佐证材料): the content-addressed store's directory (app/evidence/store.py).
    evidence_dir: Path = PROJECT_DIR / "var" / "evidence"
    # Or an S3-compatible bucket, s3://bucket/prefix (app/evidence/s3.py), for deployments on
    # several machines; set, it replaces evidence_dir. The endpoint (MinIO, Ceph, OSS, COS …;
    # unset: AWS), region and credentials below, or, unset, boto3's own sources
    # (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3, ~/.aws, an
    # instance role).
    evidence_url: str | None = None
    evidence_s3_endpoint: str | None = None
    evidence_s3_region: str | None = None
    evidence_s3_access_key_id: str | None = None
    evidence_s3_secret_access_key: SecretStr | None = Field(default=None, validate_default=True)
    # The largest evidence file accepted (413 above it, refused while it streams in).
    max_evidence_bytes: Annotated[int, Field(ge=1)] = 20 * 1024 * 1024
    # Browser origins allowed to call the API (CORS); none by default.
    cors_origins: list[str] = []
    # Kept reports are also written here, for people who collect files from a folder.
    export_dir: Path = PROJECT_DIR / "var" / "exports"
    # Run the 五个一 report schedules inside `tashan serve` (else use `tashan report run-due`).
    scheduler: bool = False
    # How often the scheduler looks for due reports; tests make it short.
    scheduler_interval_seconds: Annotated[int, Field(ge=1)] = 60
    # Database connections each server process keeps open; as many as the thread pool has
    # workers (anyio's default, 40), so a busy server reuses them instead of opening more.
    db_pool_size: Annotated[int, Field(ge=1)] = 40
    # Connections each server process may open beyond those at a peak, closed again after.
    db_max_overflow: Annotated[int, Field(ge=0)] = 10
    # PostgreSQL cancels any statement of the server (requests, its scheduler) that runs longer
    # (0: never), so one runaway query cannot hold a connection and its locks for good.
    # Commands (db upgrade, seed, report export, bench loads) have none: their bulk work may
    # rightly take longer.
    db_statement_timeout_seconds: Annotated[float, Field(ge=0)] = 30
    # What each server process keeps of the reads of actions (app/actions/cache.py), as
    # entries of a least-recently-used map: list totals (by filters), and actions' JSON
    # (about 1 KB each, so 20,000 take some 20 MB), and whole list pages by their ETag (a
    # page of 50 is about 50 KB, so 200 take some 10 MB). 0 keeps none.
    read_cache_totals: Annotated[int, Field(ge=0)] = 1_000
    read_cache_actions: Annotated[int, Field(ge=0)] = 20_000
    read_cache_pages: Annotated[int, Field(ge=0)] = 200
    # Threads that run the short reads of actions (app/db.ShortReads): a get, a list page
    # without a search or as_of; 0 runs them on the event loop itself. Unset: 1 on SQLite
    # (in-process: more threads only take turns at the GIL), 2 on PostgreSQL (a thread
    # waiting for the server's answer lets another run; at 32 connections, with a read one
    # round trip, 2 beat 1 and 4: get 1,761 / 1,871–1,880 / 1,449–1,587 req/s).
    read_threads: Annotated[int | None, Field(ge=0, le=64)] = None
    # Connections of each server process that answer a kept get or list page on the event
    # loop itself (app/db.LoopReads), no thread: on PostgreSQL psycopg's async ones, the
    # requests waiting at once sharing one statement (at 32 connections, 1 and 2 were level:
    # get 2,914 / 3,013 req/s); on SQLite one, read in line, whatever the number. 0: none
    # (every read on the threads above).
    loop_read_connections: Annotated[int, Field(ge=0, le=64)] = 2

    # Run the clock as if the process had started at this instant (see app/clock.py); unset
    # in production. An instant without an offset is read in the deployment time zone.
    clock_start: datetime | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone, so a typo fails at start-up
        return value

    @field_validator("evidence_url")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_s3_url(value)  # raises for a URL that names no bucket, so it fails at start-up
        return value

    @field_validator("evidence_s3_endpoint")
    @classmethod
    def _s3_endpoint(cls, value: str | None) -> str | None:
        return None if value is None else check_endpoint(value)

    @field_validator("evidence_s3_secret_access_key")
    @classmethod
    def _s3_key_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # A key id without its secret (or the reverse) is a half-done setup, not a fallback to
        # boto3's own credentials.
        if (value is None) != (info.data.get("evidence_s3_access_key_id") is None):
            raise ValueError(
                "set TASHAN_EVIDENCE_S3_ACCESS_KEY_ID and TASHAN_EVIDENCE_S3_SECRET_ACCESS_KEY "
                "together, or neither"
            )
        return value

    @property
    def short_read_threads(self) -> int:
        """read_threads, or its default for the database."""
        if self.read_threads is not None:
            return self.read_threads
        return 1 if self.database_url.startswith("sqlite") else 2

    @property
    def light_rules(self) -> LightRules:
        """The thresholds of the warning lights and of due-soon."""
        return LightRules(
            red_lag=self.light_red_lag,
            yellow_lag=self.light_yellow_lag,
            remind_days=self.remind_days_before,
        )

    @property
    def tz(self) -> ZoneInfo:
        """The deployment time zone, in which calendar dates are read."""
        return ZoneInfo(self.timezone)

    def now(self) -> datetime:
        """The current instant in the deployment time zone (calendar dates are read in it)."""
        return clock.now().astimezone(self.tz)

    def today(self) -> date:
        """Today's date in the deployment time zone."""
        return clock.today(self.tz)

    def start_clock(self) -> None:
        """Set this process's clock from clock_start (the machine's clock when unset)."""
        start = self.clock_start
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=self.tz)
        clock.start_at(start)


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, for code outside a request (the CLI, the app
    factory); request code takes SettingsDep, the settings its app was created with."""
    return Settings()


async def _app_settings(request: Request) -> Settings:
    """The settings the running app was created with."""
    # async: a plain def dependency costs a hop through the thread pool on every request.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_app_settings)]
