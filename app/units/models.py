"""Organisation units that own actions."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class UnitKind(StrEnum):
    """What kind of organisation a unit is."""

    bureau = "bureau"  # 局、中心
    park = "park"  # 园区
    committee = "committee"  # 党工委、管委会
    other = "other"


UNIT_KIND_LABELS = {
    UnitKind.bureau: "局/中心",
    UnitKind.park: "园区",
    UnitKind.committee: "党工委/管委会",
    UnitKind.other: "其他",
}


class Unit(SQLModel, table=True):
    """An organisation unit (单位)."""

    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), unique=True)
    kind: UnitKind = Field(sa_type=String(20))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
