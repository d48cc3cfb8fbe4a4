"""API shapes of keys and of the caller, and the Actor every change records."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AliasPath, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.auth.models import Role
from app.fields import Id, Name, written_out


class KeyCreate(BaseModel):
    """A new key: who it is for (its name is the actor on every change), its role and, for an
    editor key that writes only for one unit, that unit."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "zhang-ming", "role": "editor"},
                {"name": "jingfa-liu", "role": "editor", "unit_id": 5},
            ]
        },
    )

    name: Annotated[Name, Field(max_length=100)]
    role: Role
    unit_id: Id | None = Field(
        default=None,
        description="editor keys only: the key writes only where this unit leads (and reports "
        "progress where it cooperates); none: the key acts for the whole office",
    )
    expires_at: Annotated[AwareDatetime, BeforeValidator(written_out)] | None = Field(
        default=None, description="RFC 3339 with an offset; none: never"
    )


class KeyRead(BaseModel):
    """A key without its secret."""

    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: int
    name: str
    role: Role
    unit_id: int | None = Field(description="the unit the key writes for; none: the whole office")
    unit_name: str | None = Field(default=None, validation_alias=AliasPath("unit", "name"))
    prefix: str = Field(description="the start of the key, to recognise it")
    created_at: datetime
    last_used_at: datetime | None = Field(description="to within a few minutes")
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    """A new key, with the plaintext shown this once and never again."""

    key: str


class Principal(BaseModel):
    """Who is calling: the key's name, role and unit (or anonymous, when reads are open)."""

    name: str
    role: Role
    key_id: int | None
    unit_id: int | None = Field(
        default=None, description="a unit key's unit; none: the key acts for the whole office"
    )
    unit_name: str | None = None

    @property
    def actor(self) -> "Actor":
        """Who the timeline says made a change this key makes."""
        return Actor(self.name, self.unit_id, self.unit_name)


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as its event records it: the key's name (`actor`) and, for a unit
    key, its unit (`actor_unit`, the unit's name). The unit also decides, in app.auth.units,
    what the actor may write."""

    name: str
    unit_id: int | None = None
    unit_name: str | None = None
