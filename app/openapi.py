"""The OpenAPI document as client generators need it: operation ids that are the endpoints'
own names (list_actions, update_action), and every error response declared as what it is,
application/problem+json with the Problem schema (FastAPI would declare it, and its own 422,
under application/json)."""

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.errors import PROBLEM_JSON

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def operation_id(route: APIRoute) -> str:
    """The endpoint function's name: stable, snake_case and (a test checks) unique."""
    return route.name


def install_problem_responses(app: FastAPI) -> None:
    """Make app.openapi() declare every 4xx and 5xx response as problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()
        declare_problems(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def declare_problems(spec: dict[str, Any]) -> None:
    """Rewrite spec in place (idempotent): the content of every error response is the Problem
    schema as application/problem+json, and FastAPI's unused error schemas are gone."""
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if str(status)[0] in "45":
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
    schemas = spec.get("components", {}).get("schemas", {})
    for name in FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    text = json.dumps(spec)
    dangling = [name for name in FASTAPI_ERROR_SCHEMAS if f'/schemas/{name}"' in text]
    assert not dangling, f"still referenced: {dangling}"
