"""The AppError family and the handlers that turn every error into RFC 9457 problem+json."""

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, InternalError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.db import is_read_only_error

PROBLEM_JSON = "application/problem+json"
BODY_PARSE_ERROR = "There was an error parsing the body"
logger = logging.getLogger("tashan")


class FieldError(BaseModel):
    """Where a request is wrong and why."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries declaring that a route answers statuses with problem+json."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {}},
        }
        for status in statuses
    }


class AppError(Exception):
    """A domain error; services raise these and never HTTPException."""

    status: int = 400
    slug: str = "bad-request"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(AppError):
    """No key, or a key that is unknown, revoked or expired."""

    status, slug = 401, "unauthorized"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    """A valid key whose role is too low."""

    status, slug = 403, "forbidden"


class NotFound(AppError):
    status, slug = 404, "not-found"


class Conflict(AppError):
    status, slug = 409, "conflict"


class InvalidInput(AppError):
    """Input that is well-formed but wrong; `errors` lists where and why."""

    status, slug = 422, "invalid-input"

    def __init__(self, detail: str, loc: list[str | int], error_type: str = "value_error") -> None:
        super().__init__(detail, errors=[{"loc": loc, "msg": detail, "type": error_type}])


class TooLarge(AppError):
    """A body or file over the deployment's limit."""

    status, slug = 413, "body-too-large"


class UnsupportedMediaType(AppError):
    """Content that is none of the kinds a route accepts."""

    status, slug = 415, "unsupported-media-type"


class PreconditionFailed(AppError):
    status, slug = 412, "stale-version"


class PreconditionRequired(AppError):
    status, slug = 428, "if-match-required"


def _request_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded, so it is a URI reference)."""
    raw: bytes | None = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path


def problem_response(
    request: Request,
    status: int,
    detail: str,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response for status."""
    body = {
        "type": f"urn:tashan:problem:{slug}" if slug else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": _request_path(request),
        **extra,
    }
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request, exc.status, exc.detail, exc.slug, headers=exc.headers, **exc.extra
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
    if (media_type := _not_json(request)) and any(e["loc"] == ["body"] for e in errors):
        summary = f"send the body as JSON with Content-Type: application/json, not {media_type!r}"
    return problem_response(request, 422, summary, "invalid-input", errors=errors)


def _not_json(request: Request) -> str | None:
    """The declared media type of a body that was not read as JSON for that reason, or None."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not media_type or media_type == "application/json" or media_type.endswith("+json"):
        return None
    return media_type


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such path: {request.url.path}"
    elif exc.status_code == 405:
        allowed = ", ".join(_allowed_methods(request))
        detail = f"{request.method} is not allowed here; allowed: {allowed}"
        return problem_response(request, 405, detail, headers={"Allow": allowed})
    if exc.status_code == 400:
        # FastAPI's and Starlette's answers to a body they cannot parse (not UTF-8 JSON, or
        # broken multipart form data); it is bad input like any other.
        if detail == BODY_PARSE_ERROR:
            message, kind = "the request body is not valid JSON in UTF-8", "json_invalid"
        else:
            message, kind = f"the request body cannot be read: {detail}", "body_invalid"
        error = {"loc": ["body"], "msg": message, "type": kind}
        return problem_response(request, 422, message, "invalid-input", errors=[error])
    slug = "body-too-large" if exc.status_code == 413 else None
    return problem_response(request, exc.status_code, detail, slug, headers=dict(exc.headers or {}))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's Allow names only one route's)."""
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


async def _stale_data(request: Request, exc: Exception) -> JSONResponse:
    # The version check lost a race after the early If-Match check passed.
    return problem_response(
        request, 412, "the resource was changed by someone else; fetch it again", "stale-version"
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    logger.warning("integrity error on %s: %s", request.url.path, exc.orig)
    return problem_response(
        request, 409, "the change conflicts with existing data; fetch it and retry", "conflict"
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if is_cancelled_query(exc.orig):
        logger.warning("query cancelled on %s: %s", request.url.path, exc.orig)
        return problem_response(request, 503, CANCELLED_QUERY, "database-timeout")
    logger.error("database error on %s: %s", request.url.path, exc)
    return problem_response(request, 503, database_trouble(exc), "database-unavailable")


CANCELLED_QUERY = (
    "the database cancelled this request's query because it ran too long (the server's "
    "statement timeout); nothing was changed; narrow the request or try again later"
)


def is_cancelled_query(error: BaseException | None) -> bool:
    """Whether PostgreSQL cancelled the statement: its statement timeout, or an operator's
    pg_cancel_backend."""
    return getattr(error, "sqlstate", "") == "57014"


async def _database_internal_error(request: Request, exc: Exception) -> JSONResponse:
    # psycopg raises a read-only PostgreSQL's refusal of a write as an InternalError.
    assert isinstance(exc, InternalError)
    if is_read_only_error(exc.orig):
        return await _database_unavailable(request, exc)
    return await _unexpected(request, exc)


def database_trouble(exc: DBAPIError) -> str:
    """What a client is told about a database failure that is not its fault."""
    if is_read_only_error(exc.orig):
        return "the database is read-only, so nothing can be changed now; reads still work"
    sqlite_error = getattr(exc.orig, "sqlite_errorname", "")
    if sqlite_error == "SQLITE_FULL" or getattr(exc.orig, "sqlstate", "") == "53100":
        return "the disk holding the database is full; nothing was changed"
    if sqlite_error.startswith("SQLITE_IOERR"):
        return "the database could not write to its disk (is it full?); nothing was changed"
    return "the database is unavailable; try again shortly"


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s", request.url.path)
    return problem_response(request, 500, "internal error; it has been logged", "internal")


def install_error_handlers(app: FastAPI) -> None:
    """Register the one mapping from errors to problem+json."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InternalError, _database_internal_error)
    app.add_exception_handler(Exception, _unexpected)
