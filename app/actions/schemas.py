"""The API's shapes of actions and their events: what a client writes (ActionCreate,
ActionUpdate, TransitionCreate, ProgressUpdateCreate), what it reads (ActionRead, EventRead)
and which actions a list, /stats or a report covers (ActionFilters).

These classes validate input and document the API. ActionRead is not built on the read
path: reads.action_read writes its fields straight from database rows (a new field goes in
both). A new filter is a field of ActionFilters here and its clause in
listing.filter_clauses."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from app.actions.derived import Light
from app.actions.models import EventKind
from app.actions.workflow import ActionKind, Priority, Status
from app.fields import (
    EXCERPT_PATTERN,
    PROSE_PATTERN,
    Date,
    DateTime,
    Id,
    Name,
    Omittable,
    Prose,
    Slug,
    no_control_characters,
    not_boolean,
    reject_null,
)

ThemeName = Annotated[Name, StringConstraints(max_length=50)]
Themes = Annotated[list[ThemeName], Field(max_length=20)]
Progress = Annotated[int, Field(ge=0, le=100), BeforeValidator(not_boolean)]
Quote = Annotated[
    str,
    StringConstraints(min_length=1, max_length=5000),
    AfterValidator(no_control_characters),
    Field(json_schema_extra={"pattern": EXCERPT_PATTERN}),
]

STANDARD_LAND: dict[str, Any] = {
    "source_id": 1,
    "quote": "建议我区加快“标准地”改革，实现工程项目拿地即开工。",
    "title": "加快“标准地”改革",
    "kind": "recommendation",
    "owner_id": 3,
    "themes": ["项目审批", "土地要素"],
    "priority": "high",
    "due_on": "2026-12-31",
}


def _distinct_ids(value: list[int] | None) -> list[int] | None:
    if value is not None and len(set(value)) != len(value):
        repeated = sorted({i for i in value if value.count(i) > 1})
        raise ValueError(
            f"co_owner_ids names unit {', '.join(map(str, repeated))} more than once; "
            "each cooperating unit is listed once"
        )
    return value


CoOwnerIds = Annotated[
    list[Id],
    Field(
        max_length=50,
        description="cooperating units (配合单位): distinct, never the lead unit (owner_id)",
    ),
    AfterValidator(_distinct_ids),
]
Leader = Annotated[Name, Field(description="责任领导, the leader in charge")]
StartOn = Annotated[
    Date, Field(description="the day the work is counted from; default: the day it is accepted")
]


def _quote_without_surrounding_whitespace(value: str) -> str:
    if value != value.strip():
        raise ValueError(
            "quote starts or ends with whitespace; send the exact text without it "
            "(it is not trimmed for you, because offsets depend on it)"
        )
    return value


class ActionCreate(BaseModel):
    """A new action; the server finds `quote` in the source text and stores its offsets."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [dict(STANDARD_LAND)]})

    source_id: Id
    quote: Annotated[Quote, AfterValidator(_quote_without_surrounding_whitespace)]
    quote_start: Annotated[
        int | None,
        Field(ge=0, le=5_000_000, description="picks the occurrence when the quote recurs"),
    ] = None
    title: Name
    kind: ActionKind
    owner_id: Id
    co_owner_ids: CoOwnerIds = []
    detail: Prose | None = None
    themes: Themes = []
    speech_id: Annotated[
        Id | None, Field(description="defaults to the speech containing the quote")
    ] = None
    assignee: Name | None = None
    leader: Leader | None = None
    priority: Priority = Priority.medium
    due_on: Date | None = None
    start_on: StartOn | None = None
    seed_key: Annotated[
        Slug | None, Field(description="natural key used by the seed loader; unique per source")
    ] = None


class ActionUpdate(BaseModel):
    """Changes to an action; status, quote and offsets cannot be changed here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"assignee": "张明", "due_on": "2026-06-30", "progress": 20}]
        },
    )

    title: Omittable[Name] = None
    detail: Prose | None = None
    kind: Omittable[ActionKind] = None
    themes: Omittable[Themes] = None
    owner_id: Omittable[Id] = None
    co_owner_ids: Omittable[CoOwnerIds] = None
    assignee: Name | None = None
    leader: Leader | None = None
    priority: Omittable[Priority] = None
    progress: Omittable[Progress] = None
    due_on: Annotated[
        Date | None,
        Field(
            description="once an action has a due date, only a supervisor or admin changes it "
            "here; an editor asks for an extension (POST /api/v1/actions/{id}/extensions)"
        ),
    ] = None
    start_on: StartOn | None = None
    # Not writable here; declared (out of the schema) only to answer with the way that is.
    status: SkipJsonSchema[None] = None

    _not_null = field_validator(
        "title", "kind", "themes", "owner_id", "co_owner_ids", "priority", "progress"
    )(reject_null)

    @field_validator("status", mode="before")
    @classmethod
    def _status_moves_by_transition(cls, value: Any) -> None:
        raise PydanticCustomError(
            "status_not_patchable",
            "status is not changed by PATCH: POST /api/v1/actions/{id}/transitions with "
            '{"to": "<status>"} moves an action along the workflow',
        )


class OwnerRead(BaseModel):
    """The unit responsible for an action (the lead, 牵头单位), or one cooperating with it."""

    id: int
    name: str


class ProposerRead(BaseModel):
    """Who proposed an action: the speaker of its speech and their unit."""

    speaker: str
    unit_id: int | None
    unit_name: str | None


# reads.action_read gives each field its value (this class only documents and checks the
# shape): a new field goes in both, in the same order.
class ActionRead(BaseModel):
    """An action as the API shows it."""

    id: int
    title: str
    detail: str | None
    kind: ActionKind
    kind_label: str
    themes: list[str]
    source_id: int
    speech_id: int | None
    proposer: ProposerRead | None
    quote: str
    quote_start: int
    quote_end: int
    owner: OwnerRead
    co_owners: list[OwnerRead]
    assignee: str | None
    leader: str | None
    status: Status
    status_label: str
    priority: Priority
    priority_label: str
    progress: int
    due_on: date | None
    overdue: bool
    original_due_on: date | None = Field(
        description="the first due date ever set; due_on moves on through approved extensions"
    )
    extension_count: int = Field(description="how many extensions were approved (延期次数)")
    start_on: date | None
    expected_progress: int | None = Field(
        description="序时进度: the share of the days from start_on to due_on gone, 0..100; "
        "null without both dates"
    )
    light: Light | None = Field(
        description="红黄绿灯: green, yellow or red; null unless accepted, in_progress, blocked "
        "or submitted"
    )
    due_soon: bool = Field(
        description="active and due today or within remind_days_before days (setting, "
        "default 3); an overdue action is not due soon"
    )
    completed_at: datetime | None
    evidence_count: int = Field(
        description="evidence files (佐证材料) attached and not withdrawn: "
        "GET /api/v1/actions/{id}/evidence"
    )
    created_at: datetime
    updated_at: datetime
    version: int
    archived: bool
    seed_key: str | None


class EventRead(BaseModel):
    """One entry of an action's timeline."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str = Field(description="the name of the key that made the change")
    actor_unit: str | None = Field(
        description="the unit a unit key acts for (its name then); null: an office-wide key"
    )
    kind: EventKind
    from_status: Status | None
    to_status: Status | None
    changes: dict[str, Any] | None
    note: str | None
    progress: int | None
    evidence_url: str | None


class ActionFilters(BaseModel):
    """Which actions a list, stats or report covers."""

    status: list[Status] = Field(
        default=[], description="repeatable: status=accepted&status=blocked"
    )
    owner_id: Id | None = Field(default=None, description="the lead unit (牵头单位)")
    unit_id: Id | None = Field(default=None, description="the lead or a cooperating unit")
    co_owner_id: Id | None = Field(default=None, description="a cooperating unit (配合单位)")
    theme: ThemeName | None = None
    kind: ActionKind | None = None
    priority: Priority | None = None
    source_id: Id | None = None
    speech_id: Id | None = None
    light: list[Light] = Field(default=[], description="repeatable: light=red&light=yellow")
    overdue: bool | None = None
    stale: bool | None = Field(
        default=None, description="open and no event for stale_days (setting, default 30)"
    )
    due_before: Date | None = Field(default=None, description="due strictly before this date")
    due_after: Date | None = Field(default=None, description="due strictly after this date")
    updated_since: DateTime | None = Field(
        default=None, description="RFC 3339; without an offset, the deployment time zone"
    )
    q: Annotated[
        str | None,
        StringConstraints(max_length=200),
        AfterValidator(lambda v: v if v is None else no_control_characters(v)),
        Field(
            description="search title, detail and quote; any length, e.g. 招商 or 党建",
            json_schema_extra={"pattern": PROSE_PATTERN},
        ),
    ] = None
    include_archived: bool = False


class TransitionCreate(BaseModel):
    """A move to another status; blocked, declined, reopen and reconsider need a note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to": "accepted", "note": "党工委会议研究同意推进"}]},
    )

    to: Status
    note: Prose | None = None


class ProgressUpdateCreate(BaseModel):
    """A progress report on an action: a note, optionally a new progress and evidence."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "note": "已完成标准地出让方案初稿，报区管委会审议",
                    "progress": 40,
                    "evidence_url": "https://example.gov.cn/notice/123",
                }
            ]
        },
    )

    note: Annotated[Prose, StringConstraints(min_length=1)]
    progress: Progress | None = None
    evidence_url: (
        Annotated[HttpUrl, Field(json_schema_extra={"pattern": "^[hH][tT][tT][pP][sS]?://"})] | None
    ) = None
