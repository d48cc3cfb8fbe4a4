"""The FastAPI application: routers, error handlers, offline docs, lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import metadata

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline

from app import health
from app.actions.cache import ReadCache
from app.actions.router import router as actions_router
from app.actions.router import stats_router
from app.auth.router import router as auth_router
from app.config import Settings, get_settings
from app.db import LoopReads, ShortReads, create_db_engine
from app.errors import install_error_handlers
from app.evidence.router import router as evidence_router
from app.evidence.store import store_for
from app.extensions.router import queue_router as extensions_queue_router
from app.extensions.router import router as extensions_router
from app.hardening import install_hardening
from app.imports.router import router as imports_router
from app.migrations import head_revision
from app.notifications.delivery import Deliverer
from app.notifications.router import deliveries_router, reminders_router
from app.notifications.router import router as channels_router
from app.openapi import install_problem_responses, operation_id
from app.query_params import reject_unknown_query_parameters
from app.reports.router import router as reports_router
from app.reports.scheduler import start_scheduler
from app.sources.router import router as sources_router
from app.units.router import router as units_router

DESCRIPTION = """
他山 Tashan tracks the proposals of a source document — first, the Pingdingshan High-tech
Zone officials' report on their secondment to the Xiuzhou High-tech Zone — as **actions**, each
with an owner unit, a status and the verbatim quote it came from.

Every request needs an API key (**Authorize** above): `Authorization: Bearer tsk_…` or
`X-API-Key: tsk_…`. Roles: `viewer` reads, `editor` also writes actions, sources and units
and submits completed work for review, `supervisor` (督查) also approves or sends it back
and decides extension requests (延期申请), `admin` also manages keys and archives. An editor
key may belong to a unit (`unit_id`): it reads everything but writes only the actions its unit
leads (creating them too) and posts progress updates and evidence files (佐证材料) where its unit
cooperates; 403 elsewhere. Submitting for review needs an evidence file on the action.
`tashan serve` prints a first admin key; make more with `tashan keys create`.

Errors are `application/problem+json` (RFC 9457). Writes to an action need `If-Match` with the
ETag from `GET` (428 without it, 412 when stale).
"""

TAGS = [
    {"name": "actions", "description": "Trackable proposals (事项), each anchored to a quote"},
    {
        "name": "extensions",
        "description": "Extension requests (延期申请): editors ask, supervisors decide",
    },
    {
        "name": "evidence",
        "description": "Evidence files (佐证材料): uploaded by the units, kept byte for byte",
    },
    {"name": "sources", "description": "Documents kept verbatim (来源) and their speeches"},
    {"name": "units", "description": "Organisation units (单位) that own actions"},
    {"name": "stats", "description": "Counts and the unit ranking (一季一排名)"},
    {
        "name": "reports",
        "description": "Status reports (XLSX, CSV, Markdown, HTML, JSON) and the 五个一 schedules",
    },
    {
        "name": "notifications",
        "description": "Channels (企业微信, 钉钉, webhooks) for reminders and 催办, and deliveries",
    },
    {"name": "imports", "description": "Upload a filled-in progress sheet (dry run first)"},
    {"name": "keys", "description": "API keys (admin) and who am I"},
    {"name": "service", "description": "Health and readiness probes, open to all"},
]


def api_router() -> APIRouter:
    """Every domain's routes under /api/v1, the one place the API's version is spelled."""
    api = APIRouter(prefix="/api/v1")
    for router in (
        actions_router,
        stats_router,
        extensions_router,
        extensions_queue_router,
        evidence_router,
        reminders_router,
        sources_router,
        units_router,
        reports_router,
        imports_router,
        channels_router,
        deliveries_router,
        auth_router,
    ):
        api.include_router(router)
    return api


# Container objects allocated (net of those freed) between collections of the youngest.
YOUNG_COLLECTION_THRESHOLD = 10_000


@cache  # once a process: the objects of an app built later (tests build hundreds) stay collectable
def _tune_garbage_collector() -> None:
    """Leave what the process has built to serve (modules, routes, schemas, mappers: most of
    its objects, which live as long as it does) out of every later cyclic garbage collection,
    and collect the youngest objects after YOUNG_COLLECTION_THRESHOLD allocations rather than
    700. During a report of 100,000 actions, which allocates and frees a chunk's rows, lines
    and cells over and over, the collector took a third of the CPU (CSV in a bare process:
    1.17 s of 3.85 s in 1,019 young collections and 9 full ones, each full one re-scanning
    the startup objects); frozen, 0.35 s; with the higher threshold too, none to speak of."""
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for settings (default: from the environment)."""
    settings = settings or get_settings()
    settings.start_clock()
    engine = create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
    )

    short_reads = ShortReads(settings.short_read_threads)
    loop_reads = LoopReads(
        engine, settings.loop_read_connections, settings.db_statement_timeout_seconds
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _tune_garbage_collector()
        await loop_reads.open()
        scheduler = start_scheduler(engine, settings) if settings.scheduler else None
        deliverer = Deliverer(settings.database_url, settings) if settings.deliverer else None
        if deliverer is not None:
            deliverer.start()
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if deliverer is not None:
            deliverer.stop()
        short_reads.close()
        await loop_reads.close()
        engine.dispose()

    app = FastAPIOffline(
        # ASCII, for the package names client generators derive from it (他山-tashan-client
        # is no distribution name pip accepts); 他山 is in the summary and the description.
        title="Tashan",
        summary="他山 Tashan: a source document's proposals, tracked to done",
        version=metadata.version("tashan"),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        dependencies=[Depends(reject_unknown_query_parameters)],
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.short_reads = short_reads
    app.state.loop_reads = loop_reads
    app.state.read_cache = ReadCache(
        settings.read_cache_totals, settings.read_cache_actions, settings.read_cache_pages
    )
    app.state.evidence_store = store_for(settings)
    app.state.head_revision = head_revision(settings.database_url)
    app.include_router(api_router())
    app.include_router(health.router)
    install_error_handlers(app)
    install_problem_responses(app)
    install_hardening(app, settings)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
