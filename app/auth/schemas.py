"""API shapes of keys and of the caller."""

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.auth.models import Role
from app.fields import Name, written_out


class KeyCreate(BaseModel):
    """A new key: who it is for (its name is the actor on every change) and its role."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "zhang-ming", "role": "editor"}]},
    )

    name: Annotated[Name, Field(max_length=100)]
    role: Role
    expires_at: Annotated[AwareDatetime, BeforeValidator(written_out)] | None = Field(
        default=None, description="RFC 3339 with an offset; none: never"
    )


class KeyRead(BaseModel):
    """A key without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    prefix: str = Field(description="the start of the key, to recognise it")
    created_at: datetime
    last_used_at: datetime | None = Field(description="to within a few minutes")
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    """A new key, with the plaintext shown this once and never again."""

    key: str


class Principal(BaseModel):
    """Who is calling: the key's name and role (or anonymous, when reads are open)."""

    name: str
    role: Role
    key_id: int | None
