"""API shapes of reports and schedules."""

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from app.actions.schemas import ActionFilters
from app.fields import Date
from app.query_params import suggestion
from app.reports.document import ReportFormat
from app.spreadsheet import Lang

MAX_PERIOD_DAYS = 3660


class BodyFilters(ActionFilters):
    """The action filters inside a JSON body, where a boolean is true or false as the schema
    says (in a query string, "true" and "1" are the only spelling there is). An unknown key
    is refused, naming the closest filter: {"owner": 5} must not report on every unit."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    hint = suggestion(str(key), set(cls.model_fields))
                    raise PydanticCustomError(
                        "extra_forbidden",
                        "unknown filter {key}; {hint}",
                        {"key": repr(key), "hint": hint},
                    )
        return data

    overdue: StrictBool | None = None
    stale: StrictBool | None = None
    include_archived: StrictBool = False


class ReportCreate(BaseModel):
    """A report to generate and keep."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "format": "xlsx",
                    "lang": "zh",
                    "period_start": "2026-10-01",
                    "period_end": "2026-12-31",
                    "filters": {"owner_id": 5},
                }
            ]
        },
    )

    format: ReportFormat = ReportFormat.xlsx
    lang: Lang = Lang.zh
    period_start: Date
    period_end: Date
    filters: BodyFilters = BodyFilters()

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        check_period(self.period_start, self.period_end)
        return self


def check_period(start: date, end: date) -> None:
    """A period runs forwards and spans at most ten years."""
    if end < start:
        raise ValueError("period_end is before period_start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValueError(f"a period spans at most {MAX_PERIOD_DAYS} days")


class ReportRead(BaseModel):
    """A kept report without its bytes (GET /reports/{id}/file has them)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    schedule: str | None
    period_start: date
    period_end: date
    format: ReportFormat
    lang: Lang
    filters: dict[str, Any]
    file_name: str
    created_at: datetime
    created_by: str
    bytes: int = Field(validation_alias="size_bytes")
    sha256: str
    row_count: int


class ScheduleUpdate(BaseModel):
    """A whole schedule, as PUT replaces it (a field left out takes its default); cron in the
    deployment time zone (e.g. "0 8 * * mon")."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cron": "0 8 * * mon",
                    "formats": ["xlsx", "html"],
                    "lang": "zh",
                    "enabled": True,
                    "filters": {},
                }
            ]
        },
    )

    cron: Annotated[str, Field(min_length=9, max_length=100)]
    formats: Annotated[list[ReportFormat], Field(min_length=1, max_length=5)]
    lang: Lang = Lang.zh
    enabled: StrictBool = True
    filters: BodyFilters = BodyFilters()


class ScheduleRead(BaseModel):
    """A 五个一 schedule."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    label: str
    cron: str
    formats: list[ReportFormat]
    lang: Lang
    enabled: bool
    filters: dict[str, Any]
    updated_at: datetime
