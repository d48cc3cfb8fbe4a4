"""Who is calling, and whether their role allows the route: every route states its role."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.schemas import Principal
from app.config import SettingsDep
from app.errors import Forbidden, Unauthorized

ANONYMOUS = "anonymous"

bearer_scheme = HTTPBearer(
    auto_error=False, description="Authorization: Bearer tsk_… (a key from `tashan keys create`)"
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="X-API-Key: tsk_… (the same keys)"
)


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    header_key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal | None:
    """The caller named by the key sent, None when no key was sent; 401 for a bad key, an
    Authorization header that is not Bearer, or two headers naming different keys.

    async: a key authenticated lately is known without the database, so without a thread."""
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
    return Principal(name=key.name, role=key.role, key_id=key.id)


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers whose role includes role."""

    async def dependency(  # async: it only compares, so it needs no thread-pool hop
        principal: Annotated[Principal | None, Depends(current_principal)],
        settings: SettingsDep,
    ) -> Principal:
        if principal is None:
            if role == Role.viewer and settings.anonymous_read:
                return Principal(name=ANONYMOUS, role=Role.viewer, key_id=None)
            raise Unauthorized(
                "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>"
            )
        if not principal.role.includes(role):
            raise Forbidden(
                f"this needs the {role} role; key {principal.name!r} has the {principal.role} role"
            )
        return principal

    return dependency


ViewerDep = Annotated[Principal, Depends(require(Role.viewer))]
EditorDep = Annotated[Principal, Depends(require(Role.editor))]
SupervisorDep = Annotated[Principal, Depends(require(Role.supervisor))]
AdminDep = Annotated[Principal, Depends(require(Role.admin))]
