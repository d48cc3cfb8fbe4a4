"""No silent typos: a query parameter a route does not declare is 422 naming it and the
closest valid name, on every route, rather than an answer that ignored it."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import SEEDED_TOTAL, assert_explained_problem

UNKNOWN = "no_such_parameter"


@pytest.mark.parametrize(
    ("path", "params", "closest"),
    [
        ("/api/v1/actions", {"prority": "high"}, "priority"),
        ("/api/v1/actions", {"limt": "5"}, "limit"),  # the page's parameters
        ("/api/v1/actions", {"asof": "2026-01-01"}, "as_of"),  # a dependency's parameter
        ("/api/v1/reports/status", {"owner": "5"}, "owner_id"),
        ("/api/v1/stats", {"stale_day": "7"}, "stale_days"),
        ("/api/v1/units", {"knd": "district"}, "kind"),
    ],
)
def test_a_misspelt_parameter_is_422_naming_it_and_the_closest_name(
    client: TestClient, seeded: SeedReport, path: str, params: dict[str, str], closest: str
) -> None:
    [name] = params
    body = assert_explained_problem(client.get(path, params=params), 422, ["query", name])
    [error] = body["errors"]
    assert error["type"] == "extra_forbidden"
    assert f"'{name}'" in error["msg"] and f"did you mean '{closest}'?" in error["msg"]
    assert error["msg"] in body["detail"]


def test_without_a_close_name_the_valid_names_are_listed(client: TestClient) -> None:
    body = assert_explained_problem(
        client.get("/api/v1/units", params={"zzz": "1"}), 422, ["query", "zzz"]
    )
    assert "valid: kind, limit, offset, sort" in body["detail"]
    body = assert_explained_problem(client.get("/healthz?x=1"), 422, ["query", "x"])
    assert "this route takes no query parameters" in body["detail"]


def test_every_unknown_parameter_is_named_once(client: TestClient) -> None:
    response = client.get("/api/v1/actions?prority=high&prority=low&ownr=1&limit=5")
    body = assert_explained_problem(response, 422)
    assert [error["loc"] for error in body["errors"]] == [["query", "prority"], ["query", "ownr"]]


def test_declared_parameters_answer_as_before(client: TestClient, seeded: SeedReport) -> None:
    everything = client.get("/api/v1/actions", params={"limit": 200})
    assert everything.status_code == 200 and everything.json()["total"] == SEEDED_TOTAL
    high = client.get(
        "/api/v1/actions",
        params={"priority": "high", "status": ["proposed", "accepted"], "sort": "-id"},
    )
    assert high.status_code == 200, high.text
    assert 0 < high.json()["total"] < SEEDED_TOTAL


def operations(client: TestClient) -> list[tuple[str, str]]:
    """(method, path with every path parameter 1) of each operation in the OpenAPI document."""
    spec: dict[str, Any] = client.get("/openapi.json").json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_route_refuses_an_unknown_parameter(client: TestClient, seeded: SeedReport) -> None:
    answers = {
        (method, path): client.request(method, f"{path}?{UNKNOWN}=1")
        for method, path in operations(client)
    }
    assert len(answers) > 40
    wrong = {
        route: (response.status_code, response.text[:200])
        for route, response in answers.items()
        if response.status_code != 422 or ["query", UNKNOWN] not in locs(response)
    }
    assert not wrong
    assert client.get("/api/v1/actions", params={"limit": 200}).json()["total"] == SEEDED_TOTAL


def locs(response: Any) -> list[list[str | int]]:
    return [error["loc"] for error in response.json().get("errors", [])]


def test_the_list_reads_a_repeated_parameter_as_fastapi_does(
    client: TestClient, seeded: SeedReport
) -> None:
    # A repeatable filter takes every value; any other parameter its last one.
    both = client.get("/api/v1/actions?status=proposed&status=accepted&limit=1&limit=3")
    assert both.status_code == 200, both.text
    assert len(both.json()["items"]) == 3
    proposed = client.get("/api/v1/actions", params={"status": "proposed"}).json()["total"]
    assert both.json()["total"] >= proposed > 0
