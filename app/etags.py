"""Weak ETags on single resources, If-None-Match (304) and If-Match (428/412)."""

import hashlib
import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from app.errors import PreconditionFailed, PreconditionRequired

_VERSION_TAG = re.compile(r'^(?:W/)?"(\d+)"$')


def version_etag(version: int) -> str:
    """The ETag of a versioned resource."""
    return f'W/"{version}"'


def content_etag(model: BaseModel) -> str:
    """The ETag of an unversioned resource: a digest of its JSON."""
    digest = hashlib.sha256(model.model_dump_json().encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's If-None-Match already names etag."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    weak = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == weak for tag in header.split(","))


def not_modified_response(etag: str) -> Response:
    """304 with the ETag and no body."""
    return Response(status_code=304, headers={"ETag": etag})


# What If-Match said: a version, a value that is no version ETag (kept to say so), or nothing.
ExpectedVersion = int | str | None


IF_MATCH_DESCRIPTION = 'The ETag from GET, e.g. W/"3"; 428 without it, 412 when stale'
# The schema declares If-Match required, as it is; the parameter itself stays optional so
# that a missing header is answered 428 (RFC 6585) rather than FastAPI's 422.
IF_MATCH_REQUIRED: dict[str, Any] = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": IF_MATCH_DESCRIPTION,
            "schema": {"type": "string", "examples": ['W/"1"']},
        }
    ]
}


def if_match_version(
    if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ExpectedVersion:
    """The version If-Match names; the header as sent if it names none (refused later, once
    the path and body are known to be valid); None when absent."""
    if if_match is None or not if_match.strip():
        return None
    match = _VERSION_TAG.match(if_match.strip())
    return int(match.group(1)) if match else if_match.strip()


IfMatchDep = Annotated[ExpectedVersion, Depends(if_match_version)]


def check_version(current_version: int, expected_version: ExpectedVersion) -> None:
    """428 when no version was sent, 412 when it is not the current one."""
    if expected_version is None:
        raise PreconditionRequired(
            f'If-Match is required; send the ETag from GET, e.g. If-Match: W/"{current_version}"',
            current_version=current_version,
        )
    if isinstance(expected_version, str):
        raise PreconditionFailed(
            f'If-Match {expected_version!r} is not an ETag like W/"{current_version}"',
            current_version=current_version,
            current_etag=version_etag(current_version),
        )
    if expected_version != current_version:
        state = "is stale" if expected_version < current_version else "does not exist (yet)"
        raise PreconditionFailed(
            f"version {expected_version} {state}; the current version is {current_version}",
            current_version=current_version,
            current_etag=version_etag(current_version),
        )
