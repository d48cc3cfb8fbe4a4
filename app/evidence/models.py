"""Evidence files (佐证材料): what the database keeps about each file attached to an action.
The bytes live in the content-addressed store (store.py), under the sha256 kept here, so two
rows may name the same stored file. Nothing is deleted: a withdrawn file keeps its row, with
who withdrew it and when, and its bytes."""

from datetime import date, datetime

from sqlalchemy import BigInteger, String, Text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class Evidence(SQLModel, table=True):
    """One file attached to an action as proof of its progress or completion."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="actions.id", index=True, ondelete="CASCADE")
    sha256: str = Field(sa_type=String(64), index=True)
    bytes: int = Field(sa_type=BigInteger)
    filename: str = Field(sa_type=String(255))
    media_type: str = Field(sa_type=String(100))
    note: str | None = Field(default=None, sa_type=Text)
    # The day the evidence is about (a meeting, a signing), not the day it was uploaded.
    evidence_date: date
    uploaded_by: str = Field(sa_type=String(100))
    uploaded_unit: str | None = Field(default=None, sa_type=String(200))
    # The unit of the uploading key (null: an office-wide key): who may withdraw it.
    uploaded_unit_id: int | None = Field(default=None, foreign_key="units.id")
    uploaded_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: str | None = Field(default=None, sa_type=String(100))
