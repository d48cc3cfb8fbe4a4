"""Who is acting. API keys and roles come with the keys issue; until then writes are anonymous."""

from typing import Annotated

from fastapi import Depends

ANONYMOUS = "anonymous"


def current_actor() -> str:
    """The name recorded as the actor of every event this request writes."""
    return ANONYMOUS


ActorDep = Annotated[str, Depends(current_actor)]
