"""What an import answers: per-row results and the counts."""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Outcome(StrEnum):
    """What happened, or would happen, to one row."""

    unchanged = "unchanged"
    will_update = "will_update"
    updated = "updated"
    error = "error"


class RowError(BaseModel):
    """Why a row is refused: the column's key (status, progress, …) and the reason, which
    starts with the cell as the sheet prints it: 进度 ✎ (column I, row 3): …"""

    column: str
    reason: str


class RowResult(BaseModel):
    """One row of the sheet."""

    row: int
    action_id: int | None
    outcome: Outcome
    changes: dict[str, list[Any]] = {}
    errors: list[RowError] = []


class ImportResult(BaseModel):
    """The outcome of an import (or of its dry run)."""

    file_name: str | None
    format: str
    dry_run: bool
    all_or_nothing: bool
    applied: bool
    counts: dict[Outcome, int]
    results: list[RowResult]
