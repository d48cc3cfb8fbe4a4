"""The seed file format (TOML, human-edited) and the plan resolved from it."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.actions.schemas import Leader, Themes
from app.actions.workflow import ActionKind, Priority
from app.fields import Line, Name, Prose, ResourceSlug, Slug
from app.units.models import UnitKind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedSourceEntry(_Strict):
    """[source]: the document's metadata; `file` is the text beside the seed file."""

    slug: ResourceSlug
    file: Annotated[str, Field(min_length=1)]
    title: Name
    publisher: Name | None = None
    byline: Name | None = None
    published_on: date | None = None
    published_on_note: Prose | None = None
    url: Line | None = None
    language: str = "zh-CN"


class SeedUnitEntry(_Strict):
    """[[units]]: a unit that speaks or owns actions."""

    name: Name
    kind: UnitKind


class SeedSpeechEntry(_Strict):
    """[[speeches]]: a span from the text `begins` to the end of the text `ends`."""

    key: Slug
    heading: Name
    speaker: Name
    unit: Name
    begins: Annotated[str, Field(min_length=1)]
    ends: Annotated[str, Field(min_length=1)]


class SeedActionEntry(_Strict):
    """[[actions]]: one proposal; `key` is its natural key and never changes. `co_owners` are
    the cooperating units (配合单位) by name, only where the source names them; `leader` is
    责任领导."""

    key: Slug
    speech: Slug
    title: Name
    detail: Prose | None = None
    kind: ActionKind
    themes: Themes
    owner: Name
    co_owners: Annotated[list[Name], Field(max_length=50)] = []
    leader: Leader | None = None
    priority: Priority
    quote: Annotated[str, Field(min_length=1)]
    quote_start: Annotated[int, Field(ge=0)] | None = None


class SeedFile(_Strict):
    """A whole seed file."""

    source: SeedSourceEntry
    units: list[SeedUnitEntry] = []
    speeches: list[SeedSpeechEntry] = []
    actions: list[SeedActionEntry] = []


class PlannedSpeech(BaseModel):
    """A speech with its offsets found in the text."""

    heading: str
    speaker: str
    unit: str
    start: int
    end: int


class PlannedAction(BaseModel):
    """An action with its quote located and its speech resolved."""

    key: str
    title: str
    detail: str | None
    kind: ActionKind
    themes: list[str]
    owner: str
    co_owners: list[str] = []
    leader: str | None = None
    priority: Priority
    quote: str
    quote_start: int
    quote_end: int
    speech_start: int


class SeedPlan(BaseModel):
    """Everything one seed file asks for, checked against its text."""

    path: str
    source: SeedSourceEntry
    text: str
    units: list[SeedUnitEntry]
    speeches: list[PlannedSpeech]
    actions: list[PlannedAction]


class UpsertCounts(BaseModel):
    """How many rows of one kind a seed run created, updated or left alone."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


class SeedReport(BaseModel):
    """The outcome of one seed run."""

    units: UpsertCounts = UpsertCounts()
    sources: UpsertCounts = UpsertCounts()
    speeches: UpsertCounts = UpsertCounts()
    actions: UpsertCounts = UpsertCounts()
    kept_user_changes: list[str] = []
    overlaps: list[str] = []
    warnings: list[str] = []

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        tallies = [
            f"{name}: {getattr(self, name)}" for name in ("sources", "units", "speeches", "actions")
        ]
        kept = [f"kept user change: {item}" for item in self.kept_user_changes]
        overlaps = [f"overlap, not loaded: {item}" for item in self.overlaps]
        return [*tallies, *kept, *overlaps, *(f"warning: {w}" for w in self.warnings)]
