"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.errors import problem_response, problem_responses
from app.migrations import current_revision

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="Process alive")
def healthz() -> dict[str, str]:
    """Answers while the process runs; touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", summary="Database reachable and migrated", responses=problem_responses(503))
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and is at the newest migration, else 503."""
    head = request.app.state.head_revision
    try:
        current = current_revision(request.app.state.engine)
    except Exception as exc:  # any failure to reach the database means not ready
        return problem_response(
            request, 503, f"database unreachable: {type(exc).__name__}", "not-ready"
        )
    if current != head:
        return problem_response(
            request,
            503,
            f"database is at revision {current}, not {head}; run `tashan db upgrade`",
            "not-ready",
        )
    return JSONResponse({"status": "ready", "revision": current})
