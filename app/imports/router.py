"""HTTP layer of sheet imports."""

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from app.actions.service import Mover
from app.auth.dependencies import UnitEditorDep
from app.config import SettingsDep
from app.db import WriteSessionDep
from app.errors import problem_responses
from app.imports import service as import_service
from app.imports.reader import read_upload
from app.imports.schemas import ImportResult

router = APIRouter(prefix="/imports", tags=["imports"])


@router.post(
    "",
    summary="Upload a filled-in progress sheet",
    responses=problem_responses(401, 403, 412, 413, 422),
)
def import_progress_sheet(
    editor: UnitEditorDep,
    session: WriteSessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the exported XLSX (sheet 明细) or CSV")],
    dry_run: Annotated[bool, Query(description="only say what would change")] = True,
    all_or_nothing: Annotated[
        bool, Query(description="apply no row if any row is refused")
    ] = False,
) -> ImportResult:
    """Check each row of an exported sheet filled in by a unit (status, progress, assignee,
    due date, cooperating units by name separated by 、, leader, new note) against the current
    actions: unchanged, will_update with the field changes, or error with the row, column and
    reason. With dry_run=false the valid rows are applied in one transaction, through the same
    rules as the API for your key's role (an editor's 已完成 is refused: submit for review,
    待审核), with your key as actor. A unit key's rows may change only actions its unit leads,
    and only 进度 and 本次进展 of actions it cooperates on; other rows are refused."""
    # A sync route, so FastAPI runs it in the thread pool: parsing up to 20 MiB of workbook and
    # checking every row must not hold up the event loop and every other request with it.
    sheet = read_upload(file.file.read(), file.filename)
    return import_service.import_sheet(
        session,
        sheet,
        Mover(editor.actor, editor.role, settings.review_needs_evidence),
        file_name=file.filename,
        today=settings.today(),
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
    )
