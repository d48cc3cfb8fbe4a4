"""API shapes of units."""

from pydantic import BaseModel, ConfigDict, field_validator

from app.fields import Name, Omittable, reject_null
from app.units.models import UnitKind


class UnitCreate(BaseModel):
    """A new unit."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "区经济发展局", "kind": "bureau"}]}
    )

    name: Name
    kind: UnitKind = UnitKind.other


class UnitUpdate(BaseModel):
    """Changes to a unit; absent fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "沙河产业园区", "kind": "park"}]}
    )

    name: Omittable[Name] = None
    kind: Omittable[UnitKind] = None

    _not_null = field_validator("name", "kind")(reject_null)


class UnitRead(BaseModel):
    """A unit as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: UnitKind
