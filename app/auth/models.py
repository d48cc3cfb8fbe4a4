"""API keys: only a hash of each key is stored."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, Relationship, SQLModel

from app import clock
from app.db import UTCDateTime
from app.units.models import Unit


class Role(StrEnum):
    """What a key may do; each role includes the ones before it."""

    viewer = "viewer"  # read
    editor = "editor"  # read, and write actions, sources and units (a unit key: its unit's)
    supervisor = "supervisor"  # 督查: also review completions (approve, send back, reopen)
    admin = "admin"  # everything, including keys and archiving

    def includes(self, other: "Role") -> bool:
        """Whether this role may do what other may."""
        order = list(Role)
        return order.index(self) >= order.index(other)


class ApiKey(SQLModel, table=True):
    """An API key; `prefix` finds it, `key_hash` (SHA-256 of the whole key) proves it."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    role: Role = Field(sa_type=String(10))
    # A unit key (editor only) writes only where its unit leads or cooperates; none: office-wide.
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    prefix: str = Field(sa_type=String(16), unique=True)
    key_hash: str = Field(sa_type=String(64))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    unit: Unit | None = Relationship(sa_relationship_kwargs={"lazy": "joined"})
