"""HTTP layer of reports and their schedules."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.actions.filter_references import FiltersDep
from app.auth.dependencies import AdminDep, EditorDep, ViewerDep
from app.config import SettingsDep
from app.db import SessionDep, WriteSessionDep
from app.errors import InvalidInput, problem_responses
from app.fields import Date, Id
from app.pagination import Page, PageDep, PageParams, make_page, set_link_header
from app.reports import service as report_service
from app.reports.builder import current_week
from app.reports.document import MEDIA_TYPES, ReportFormat
from app.reports.models import ReportSchedule
from app.reports.periods import CADENCE_LABELS, Cadence
from app.reports.schemas import ReportCreate, ReportRead, ScheduleRead, ScheduleUpdate, check_period
from app.spreadsheet import Lang

router = APIRouter(tags=["reports"])
READ_ERRORS = problem_responses(401, 403, 404, 422)


def file_response(content: bytes, file_name: str, fmt: ReportFormat) -> Response:
    """A download: the media type of fmt and a Content-Disposition naming the file (RFC 6266)."""
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=_disposition(file_name))


def _disposition(file_name: str) -> dict[str, str]:
    disposition = f"attachment; filename=\"{file_name}\"; filename*=UTF-8''{quote(file_name)}"
    return {"Content-Disposition": disposition}


@router.get(
    "/reports/status",
    summary="Download a status report now",
    response_class=Response,
    responses={200: {"description": "the report file"}, **READ_ERRORS},
)
def download_status_report(
    _: ViewerDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    format: ReportFormat = ReportFormat.xlsx,
    lang: Lang = Lang.zh,
    period_start: Annotated[Date | None, Query(description="default: this week's Monday")] = None,
    period_end: Annotated[Date | None, Query(description="default: this week's Sunday")] = None,
    template: Annotated[
        bool,
        Query(
            description="a unit's fill-in workbook (format=xlsx): the 明细 sheet alone, its "
            "✎ columns validated, to fill in and upload to /api/v1/imports; pick the unit "
            "with owner_id"
        ),
    ] = False,
) -> Response:
    """The report of the actions the filters select, over a period (this ISO week by default);
    a period that has ended shows the figures as they were at its end. With template=true, a
    fill-in workbook of the actions as they are now (so the period must not have ended)."""
    today = settings.today()
    week = current_week(today)
    period = (period_start or week[0], period_end or week[1])
    try:
        check_period(*period)
    except ValueError as exc:
        raise InvalidInput(str(exc), ["query", "period_end"]) from exc
    if template and format != ReportFormat.xlsx:
        raise InvalidInput(
            f"a fill-in template is an xlsx workbook; format={format} has none",
            ["query", "template"],
        )
    if template and period[1] < today:
        raise InvalidInput(
            "a fill-in template shows the actions as they are now; its period must not have "
            f"ended (period_end {period[1].isoformat()} is before today)",
            ["query", "period_end"],
        )
    if format == ReportFormat.csv:
        chunks, file_name = report_service.stream_status_csv(
            request.app.state.engine, settings, filters, period, lang
        )
        return StreamingResponse(
            chunks, media_type=MEDIA_TYPES[format], headers=_disposition(file_name)
        )
    content, file_name = report_service.render_status_report(
        session, settings, filters, period, lang, format, template
    )
    return file_response(content, file_name, format)


@router.post(
    "/reports",
    status_code=201,
    summary="Generate and keep a report",
    responses=problem_responses(401, 403, 422),
)
def create_report(
    editor: EditorDep,
    data: ReportCreate,
    session: WriteSessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> ReportRead:
    """Generate a report now and keep it: in the database, and in the export folder."""
    report = report_service.create_report(session, settings, data, editor.name)
    response.headers["Location"] = request.app.url_path_for("get_report", report_id=report.id)
    return ReportRead.model_validate(report)


@router.get("/reports", summary="List kept reports", responses=problem_responses(401, 403, 422))
def list_reports(
    _: ViewerDep, request: Request, response: Response, session: SessionDep, page: PageDep
) -> Page[ReportRead]:
    """Kept reports, newest first, scheduled and made on request."""
    rows, total = report_service.list_reports(session, page)
    set_link_header(request, response, page, total)
    return make_page([ReportRead.model_validate(row) for row in rows], total, page)


@router.get("/reports/{report_id}", summary="Get a kept report", responses=READ_ERRORS)
def get_report(_: ViewerDep, report_id: Annotated[Id, Path()], session: SessionDep) -> ReportRead:
    """A kept report's period, format, size, sha256 and row count."""
    return ReportRead.model_validate(report_service.get_report(session, report_id))


@router.get(
    "/reports/{report_id}/file",
    summary="Download a kept report",
    response_class=Response,
    responses={200: {"description": "the report file"}, **READ_ERRORS},
)
def download_report(
    _: ViewerDep, report_id: Annotated[Id, Path()], session: SessionDep
) -> Response:
    """The kept file, byte for byte as made."""
    report = report_service.get_report(session, report_id)
    response = file_response(report.content, report.file_name, ReportFormat(report.format))
    response.headers["ETag"] = f'"{report.sha256}"'
    return response


def _schedule_read(schedule: ReportSchedule) -> ScheduleRead:
    return ScheduleRead.model_validate(
        {**schedule.model_dump(), "label": CADENCE_LABELS[Cadence(schedule.name)]}
    )


@router.get(
    "/report-schedules",
    summary="The 五个一 report schedules",
    responses=problem_responses(401, 403),
)
def list_schedules(_: ViewerDep, session: SessionDep) -> Page[ScheduleRead]:
    """weekly 一周一汇总, monthly 一月一通报, quarterly 一季一排名, half-yearly 半年一评比,
    annual 全年一考核 — cron times in the deployment time zone."""
    schedules = [_schedule_read(s) for s in report_service.list_schedules(session)]
    return make_page(schedules, len(schedules), PageParams(limit=len(schedules), offset=0))


@router.put(
    "/report-schedules/{name}",
    summary="Change a report schedule",
    responses=problem_responses(401, 403, 404, 422),
)
def update_schedule(
    _: AdminDep,
    name: Annotated[str, Path(max_length=20, examples=["weekly"])],
    data: ScheduleUpdate,
    session: WriteSessionDep,
) -> ScheduleRead:
    """Set a schedule's cron, formats, language, filters and whether it runs."""
    return _schedule_read(report_service.update_schedule(session, name, data))
