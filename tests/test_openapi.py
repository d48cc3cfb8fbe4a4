"""The OpenAPI document as client generators read it: an ASCII title, clean unique operation
ids, and every error response declared as problem+json with the Problem schema. (A client
generated from it drives the real server in tests/e2e/test_generated_client.py.)"""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """'METHOD /path' → operation, for every operation."""
    return {
        f"{method.upper()} {path}": operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_title_makes_a_valid_package_name_and_the_chinese_name_stays(
    spec: dict[str, Any],
) -> None:
    assert spec["info"]["title"] == "Tashan"
    assert spec["info"]["title"].isascii()
    assert "他山" in spec["info"]["summary"] and "他山" in spec["info"]["description"]


def test_every_operation_id_is_snake_case_and_unique(spec: dict[str, Any]) -> None:
    ids = {name: operation.get("operationId", "") for name, operation in operations(spec).items()}

    assert not [name for name, op_id in ids.items() if not SNAKE_CASE.fullmatch(op_id)], ids
    assert len(set(ids.values())) == len(ids), sorted(ids.values())
    assert ids["GET /api/v1/actions"] == "list_actions"
    assert ids["GET /api/v1/actions/{action_id}"] == "get_action"
    assert ids["PATCH /api/v1/actions/{action_id}"] == "update_action"
    assert ids["PUT /api/v1/report-schedules/{name}"] == "update_schedule"


def test_every_error_response_is_declared_as_a_problem(spec: dict[str, Any]) -> None:
    declared = {
        (name, status): response.get("content")
        for name, operation in operations(spec).items()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    }

    assert len(declared) > 100
    assert {key: content for key, content in declared.items() if content != PROBLEM} == {}
    schemas = spec["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "instance"}
    assert "HTTPValidationError" not in json.dumps(spec)


def test_a_declared_problem_is_what_the_server_sends(client: TestClient) -> None:
    """The 422 the document declares for a bad query is the body that comes back."""
    body = assert_problem(client.get("/api/v1/actions", params={"limit": 0}), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]
