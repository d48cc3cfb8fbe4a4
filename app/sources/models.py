"""Source documents, kept verbatim, and the speeches within them."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from app import clock
from app.db import UTCDateTime
from app.units.models import Unit


class Source(SQLModel, table=True):
    """A document kept verbatim (来源); its text never changes once created."""

    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(100), unique=True)
    title: str = Field(sa_type=String(200))
    publisher: str | None = Field(default=None, sa_type=String(200))
    byline: str | None = Field(default=None, sa_type=String(200))
    published_on: date | None = None
    published_on_note: str | None = Field(default=None, sa_type=Text)
    url: str | None = Field(default=None, sa_type=String(2000))
    language: str = Field(default="zh-CN", sa_type=String(20))
    text: str = Field(sa_type=Text)
    sha256: str = Field(sa_type=String(64))
    char_count: int
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Speech(SQLModel, table=True):
    """The part of a source by one speaker of one unit (发言); offsets are code points."""

    __tablename__ = "speeches"
    __table_args__ = (
        UniqueConstraint("source_id", "start"),
        CheckConstraint('start >= 0 AND "end" > start', name="span"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    heading: str = Field(sa_type=String(200))
    speaker: str = Field(sa_type=String(100))
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    start: int
    end: int

    unit: Unit | None = Relationship(sa_relationship_kwargs={"lazy": "joined"})
