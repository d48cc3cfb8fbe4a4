"""The API's shapes of extension requests (延期申请): what an editor asks (ExtensionCreate),
what a supervisor decides (ExtensionDecision) and what everyone reads (ExtensionRead)."""

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from app.extensions.models import ExtensionState
from app.fields import Date, Id, Prose, no_control_characters

# What str.strip() removes (the C0 controls are refused anyway): a reason needs one other
# character. The pattern states it for clients; the validator enforces it with a message.
_BLANK = r"\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*[^{_BLANK}][^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must say something: it is empty or only white space")
    return value.strip()


Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20_000),
    AfterValidator(no_control_characters),
    AfterValidator(_not_blank),
    Field(
        description="why the action needs more time (required, not blank)",
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
    ),
]


class ExtensionCreate(BaseModel):
    """A request to move an action's due date to a later day."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"new_due_on": "2027-03-31", "reason": "土地报批手续尚在省厅审核，需延期一个季度"}
            ]
        },
    )

    new_due_on: Annotated[Date, Field(description="the day asked for; after the current due date")]
    reason: Reason


def _blank_is_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


class ExtensionDecision(BaseModel):
    """A supervisor's decision on a pending request; rejecting needs a note saying why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"approve": True, "note": "同意延期，请于新时限前办结"},
                {"approve": False, "note": "理由不充分，请按原定时限推进"},
            ]
        },
    )

    approve: StrictBool
    note: Annotated[
        Prose | None,
        AfterValidator(_blank_is_none),
        Field(description="the supervisor's note; required to reject"),
    ] = None


class ExtensionRead(BaseModel):
    """An extension request and, once decided, its decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action_id: int
    from_due_on: date = Field(description="the due date when the request was made")
    new_due_on: date
    reason: str
    late: bool = Field(description="asked after the due date had passed")
    state: ExtensionState
    requested_by: str
    requested_unit: str | None = Field(description="the unit of the key that asked, if any")
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class ExtensionFilters(BaseModel):
    """Which requests a list across actions shows."""

    state: ExtensionState | None = Field(default=None, description="e.g. pending: the queue")
    action_id: Id | None = Field(default=None, description="one action's requests")
