"""A filter naming a unit, source, speech or theme that does not exist is 422 naming the
filter, on the list, /stats and the status report, not an empty answer."""

import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import assert_explained_problem, unit_id

FILTERED_ROUTES = ["/api/v1/actions", "/api/v1/stats", "/api/v1/reports/status"]
MISSING = {
    "owner_id": "9999",
    "unit_id": "9999",
    "co_owner_id": "9999",
    "source_id": "9999",
    "speech_id": "9999",
    "theme": "没有这个主题",
}


@pytest.mark.parametrize("path", FILTERED_ROUTES)
@pytest.mark.parametrize("name", MISSING)
def test_a_filter_naming_nothing_is_422_naming_the_filter(
    client: TestClient, seeded: SeedReport, path: str, name: str
) -> None:
    response = client.get(path, params={name: MISSING[name]})

    body = assert_explained_problem(response, 422, ["query", name])
    assert name in body["detail"] and MISSING[name] in body["detail"]


def test_a_misspelt_theme_names_the_close_ones(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(
        client.get("/api/v1/actions", params={"theme": "招商"}), 422, ["query", "theme"]
    )
    assert "did you mean '招商引资'" in body["detail"]


@pytest.mark.parametrize("path", FILTERED_ROUTES)
def test_filters_naming_what_exists_answer(
    client: TestClient, seeded: SeedReport, path: str
) -> None:
    unit = unit_id(client, "区经济发展局")
    params = {"owner_id": unit, "unit_id": unit, "source_id": 1, "theme": "招商引资"}

    response = client.get(
        path, params={**params, "format": "json"} if "reports" in path else params
    )

    assert response.status_code == 200, response.text
