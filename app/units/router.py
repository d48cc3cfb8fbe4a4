"""HTTP layer of units."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.dependencies import EditorDep, ViewerDep
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.etags import content_etag, not_modified, not_modified_response
from app.fields import Id
from app.pagination import Page, PageDep, make_page, set_link_header, sort_pattern
from app.units import service as unit_service
from app.units.models import UnitKind
from app.units.schemas import UnitCreate, UnitRead, UnitUpdate

router = APIRouter(prefix="/units", tags=["units"], responses=problem_responses(401))


@router.get("", summary="List units", responses=problem_responses(422))
def list_units(
    _: ViewerDep,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    kind: UnitKind | None = None,
    sort: Annotated[
        str | None,
        Query(
            description="e.g. name or -id",
            json_schema_extra={"pattern": sort_pattern(unit_service.SORTABLE)},
        ),
    ] = None,
) -> Page[UnitRead]:
    """Units that can own actions, by id unless `sort` says otherwise."""
    rows, total = unit_service.list_units(session, page, kind=kind, sort=sort)
    set_link_header(request, response, page, total)
    return make_page([UnitRead.model_validate(row) for row in rows], total, page)


@router.post(
    "", status_code=201, summary="Create a unit", responses=problem_responses(403, 409, 422)
)
def create_unit(
    _: EditorDep, data: UnitCreate, session: WriteSessionDep, request: Request, response: Response
) -> UnitRead:
    """Create a unit; names are unique."""
    unit = UnitRead.model_validate(unit_service.create_unit(session, data))
    response.headers["Location"] = request.app.url_path_for("get_unit", unit_id=unit.id)
    response.headers["ETag"] = content_etag(unit)
    return unit


@router.get(
    "/{unit_id}",
    response_model=UnitRead,
    summary="Get a unit",
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
)
def get_unit(
    _: ViewerDep,
    unit_id: Annotated[Id, Path()],
    request: Request,
    response: Response,
    session: SessionDep,
) -> Response | UnitRead:
    """One unit, with an ETag."""
    unit = UnitRead.model_validate(unit_service.get_unit(session, unit_id))
    etag = content_etag(unit)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return unit


@router.patch(
    "/{unit_id}", summary="Update a unit", responses=problem_responses(403, 404, 409, 422)
)
def update_unit(
    _: EditorDep,
    unit_id: Annotated[Id, Path()],
    data: UnitUpdate,
    session: WriteSessionDep,
    response: Response,
) -> UnitRead:
    """Rename or reclassify a unit."""
    unit = UnitRead.model_validate(unit_service.update_unit(session, unit_id, data))
    response.headers["ETag"] = content_etag(unit)
    return unit
