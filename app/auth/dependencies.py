"""Who is calling, and whether their role, and a unit key's unit, allow the route: every route
states its role, and every write route which unit keys it admits.

For a route that writes, pick the alias by who may write:

- EditorDep: office-wide editors only (sources, units, reports, …); a unit key gets 403.
- LeadEditorDep: a write on the action in the path ({action_id}): office-wide editors and
  keys of the action's lead unit (PATCH, transitions, extension requests).
- LeadOrCooperatingEditorDep: the same, and keys of its cooperating units too (progress
  updates, evidence).
- UnitEditorDep: editors, unit keys included, for a route that checks each action it writes
  itself with app.auth.units (creating an action: its lead; an import: each row).
- SupervisorDep, AdminDep: unit keys never pass (they are editor keys).

Or build one: Depends(unit_may(Rule.lead)). What the rules are is decided in app.auth.units.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.actions import service as action_service
from app.auth import service as auth_service
from app.auth import units
from app.auth.models import Role
from app.auth.schemas import Principal
from app.auth.units import ActionUnits, Rule
from app.db import WriteSessionDep
from app.errors import Forbidden, Unauthorized
from app.fields import Id

ANONYMOUS = "anonymous"

bearer_scheme = HTTPBearer(
    auto_error=False, description="Authorization: Bearer tsk_… (a key from `tashan keys create`)"
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="X-API-Key: tsk_… (the same keys)"
)


async def current_principal(
    request: Request, bearer: HTTPAuthorizationCredentials | None, header_key: str | None
) -> Principal | None:
    """The caller named by the key sent (bearer, header_key), None when no key was sent; 401
    for a bad key, an Authorization header that is not Bearer, or two headers naming
    different keys. A key authenticated lately is known without the database."""
    if bearer is None and request.headers.get("authorization") is not None:
        raise Unauthorized("the Authorization header must be: Bearer <key>")
    keys = {key for key in (header_key, bearer.credentials if bearer else None) if key}
    if len(keys) > 1:
        raise Unauthorized("Authorization and X-API-Key name different keys; send one")
    if not keys:
        return None
    plaintext = keys.pop()
    engine = request.app.state.engine
    key = auth_service.recently_authenticated(engine, plaintext)
    if key is None:
        key = await run_in_threadpool(auth_service.authenticate, engine, plaintext)
    if key is None:
        raise Unauthorized("the API key is not valid: unknown, revoked or expired")
    return Principal(
        name=key.name, role=key.role, key_id=key.id, unit_id=key.unit_id, unit_name=key.unit_name
    )


def require(role: Role, *, unit_keys: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers whose role includes role; above viewer, unit
    keys only with unit_keys (the route then checks their unit: see unit_may)."""

    # async: it needs no thread-pool hop. One dependency, not one for the key and one for
    # the role: each costs FastAPI ~10 us of solving on every request.
    async def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
        header_key: Annotated[str | None, Security(api_key_scheme)],
    ) -> Principal:
        principal = await current_principal(request, bearer, header_key)
        if principal is None:
            if role == Role.viewer and request.app.state.settings.anonymous_read:
                return Principal(name=ANONYMOUS, role=Role.viewer, key_id=None)
            raise Unauthorized(
                "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>"
            )
        if not principal.role.includes(role):
            raise Forbidden(
                f"this needs the {role} role; key {principal.name!r} has the {principal.role} role"
            )
        if role != Role.viewer and not unit_keys:
            units.ensure_allowed(units.refusal(principal.actor, Rule.office))
        return principal

    return dependency


def unit_may(rule: Rule, role: Role = Role.editor) -> Callable[..., Awaitable[Principal]]:
    """A dependency for a write on the action in the path ({action_id}) that lets through
    callers of role whose key acts for the whole office or for a unit that rule admits on
    that action (Rule.lead, Rule.lead_or_cooperating; Rule.office is require(role)).

    The checks, in order: 401 no or bad key; 403 role too low; then, for a unit key only,
    404 no such action and 403 the unit rule (the detail says which rule refused) — all
    before the body is checked (422) or If-Match (428, 412). An office-wide key costs no
    query here. The action is loaded in the request's write session, so the use case that
    follows finds it there without reading it again; a 403 leaves nothing changed."""
    if rule == Rule.office:
        return require(role)

    async def dependency(
        principal: Annotated[Principal, Depends(require(role, unit_keys=True))],
        action_id: Annotated[Id, Path(description="action id", examples=[1])],
        session: WriteSessionDep,
    ) -> Principal:
        if principal.unit_id is None:
            return principal
        action = await run_in_threadpool(_units_of_action, session, action_id)
        units.ensure_allowed(units.refusal(principal.actor, rule, action), action_id)
        return principal

    return dependency


def _units_of_action(session: Session, action_id: int) -> ActionUnits:
    """The units of the action with action_id; 404 when there is none."""
    return ActionUnits.of(action_service.get_action(session, action_id))


ViewerDep = Annotated[Principal, Depends(require(Role.viewer))]
EditorDep = Annotated[Principal, Depends(require(Role.editor))]
SupervisorDep = Annotated[Principal, Depends(require(Role.supervisor))]
AdminDep = Annotated[Principal, Depends(require(Role.admin))]
LeadEditorDep = Annotated[Principal, Depends(unit_may(Rule.lead))]
LeadOrCooperatingEditorDep = Annotated[Principal, Depends(unit_may(Rule.lead_or_cooperating))]
UnitEditorDep = Annotated[Principal, Depends(require(Role.editor, unit_keys=True))]
