"""The API's shapes of evidence files (佐证材料): the form fields that come with an upload
(EvidenceForm; the file itself is streamed, see upload.py), what everyone reads
(EvidenceRead) and which of an action's files a list shows (EvidenceFilters)."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.fields import Date, Prose


class EvidenceForm(BaseModel):
    """The fields of an upload besides the file."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[Prose | None, Field(description="what the file shows")] = None
    evidence_date: Annotated[
        Date | None,
        Field(description="the day the evidence is about (default: today); not in the future"),
    ] = None


class EvidenceRead(BaseModel):
    """An evidence file as the API shows it; its bytes are at /api/v1/evidence/{id}/file."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action_id: int
    filename: str = Field(description="the name it was uploaded under, without any folder")
    media_type: str = Field(description="what its bytes are (sniffed, not as declared)")
    bytes: int
    sha256: str = Field(description="lowercase hex sha256 of the bytes, the store's name for them")
    note: str | None
    evidence_date: date = Field(description="the day the evidence is about")
    uploaded_by: str = Field(description="the name of the key that uploaded it")
    uploaded_unit: str | None = Field(description="the unit of that key; null: office-wide")
    uploaded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def withdrawn(self) -> bool:
        """Withdrawn files are kept, bytes and all, but hidden from lists by default."""
        return self.withdrawn_at is not None


class EvidenceFilters(BaseModel):
    """Which of an action's files a list shows."""

    include_withdrawn: bool = Field(default=False, description="also list withdrawn files")
