"""HTTP layer of keys (admin) and of /me."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.auth import service as auth_service
from app.auth.dependencies import AdminDep, ViewerDep
from app.auth.schemas import KeyCreate, KeyCreated, KeyRead, Principal
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.fields import Id
from app.pagination import Page, PageDep, make_page, set_link_header

router = APIRouter(tags=["keys"])
AUTH_ERRORS = problem_responses(401, 403)


@router.get("/me", summary="Who am I", responses=problem_responses(401))
def get_me(principal: ViewerDep) -> Principal:
    """The name, role and unit (none: the whole office) of the key this request carries."""
    return principal


@router.get("/keys", summary="List keys", responses={**AUTH_ERRORS, **problem_responses(422)})
def list_keys(
    _: AdminDep, request: Request, response: Response, session: SessionDep, page: PageDep
) -> Page[KeyRead]:
    """Every key, revoked ones too; secrets are never shown again."""
    rows, total = auth_service.list_keys(session, page)
    set_link_header(request, response, page, total)
    return make_page([KeyRead.model_validate(row) for row in rows], total, page)


@router.post(
    "/keys",
    status_code=201,
    summary="Create a key",
    responses={**AUTH_ERRORS, **problem_responses(409, 422)},
)
def create_key(
    _: AdminDep, data: KeyCreate, session: WriteSessionDep, request: Request, response: Response
) -> KeyCreated:
    """Create a key; the response carries its plaintext this once — only a hash is kept. An
    editor key may belong to a unit (unit_id): it then writes only where that unit leads, and
    reports progress where it cooperates."""
    key, plaintext = auth_service.create_key(session, data)
    response.headers["Location"] = request.app.url_path_for("revoke_key", key_id=key.id)
    response.headers["Cache-Control"] = "no-store"
    return KeyCreated(**KeyRead.model_validate(key).model_dump(), key=plaintext)


@router.delete(
    "/keys/{key_id}",
    summary="Revoke a key",
    responses={**AUTH_ERRORS, **problem_responses(404, 422)},
)
def revoke_key(_: AdminDep, key_id: Annotated[Id, Path()], session: WriteSessionDep) -> KeyRead:
    """Revoke a key at once; requests with it get 401 from now on."""
    return KeyRead.model_validate(auth_service.revoke_key(session, key_id))
