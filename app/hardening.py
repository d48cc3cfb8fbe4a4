"""Limits and headers every request and answer goes through: body size, security headers,
CORS when a deployment asks for it."""

import re
from collections.abc import Sequence

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import problem_response
from app.evidence.upload import FORM_OVERHEAD


class SecurityHeaders:
    """nosniff on everything; API answers are private and revalidated (they carry ETags)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if is_api:
                    headers.setdefault("Cache-Control", "private, no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyLimit:
    """413 problem+json for a body over max_bytes, before it is read whole; the routes
    matched by larger (path patterns: uploads) have their own, larger limits.

    FastAPI's own max_body_size answers a too-large Content-Length in plain text."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Sequence[tuple[re.Pattern[str], int]]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger

    def _limit(self, path: str) -> int:
        for path_regex, limit in self.larger:
            if path_regex.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = problem_response(Request(scope), 413, _detail(limit), "body-too-large")
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # Raised inside the route's body reading, so the problem+json handler answers.
                raise HTTPException(413, _detail(limit))
            return message

        await self.app(scope, counting_receive, send)


def _path_regex(app: FastAPI, name: str, *params: str) -> re.Pattern[str]:
    """The paths of the route called name, whatever its path parameters (params) hold."""
    marker = "PATHPARAMETER"
    path = app.url_path_for(name, **dict.fromkeys(params, marker))
    return re.compile("^" + re.escape(path).replace(marker, "[^/]+") + "$")


def install_hardening(app: FastAPI, settings: Settings) -> None:
    """Add the body limit and header middleware, and CORS for the configured origins; after
    the routes, whose paths it reads."""
    # An evidence file's own limit is checked as it streams in (413 naming it); the body
    # may carry the form's other fields besides.
    evidence_limit = settings.max_evidence_bytes + FORM_OVERHEAD
    larger = [
        (_path_regex(app, "import_progress_sheet"), settings.max_import_bytes),
        (_path_regex(app, "upload_evidence", "action_id"), evidence_limit),
    ]
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, larger=larger)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "If-Match",
                "If-None-Match",
                "Content-Type",
            ],
            expose_headers=["ETag", "Link", "Location"],
        )
