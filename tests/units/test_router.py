"""HTTP contract of /api/v1/units."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem

UNITS = "/api/v1/units"


def create(client: TestClient, name: str, kind: str = "bureau") -> dict[str, Any]:
    response = client.post(UNITS, json={"name": name, "kind": kind})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def error_locs(body: dict[str, Any]) -> list[list[str | int]]:
    return [error["loc"] for error in body["errors"]]


def test_list_is_empty_page_on_empty_database(client: TestClient) -> None:
    response = client.get(UNITS)
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_list_shape_and_default_order_by_id(client: TestClient) -> None:
    created = [create(client, name) for name in ("区经济发展局", "沙河产业园区", "区党工委")]
    response = client.get(UNITS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["total"] == 3
    assert (body["limit"], body["offset"]) == (50, 0)
    assert body["items"] == created
    assert set(body["items"][0]) == {"id", "name", "kind"}


def test_list_sorted_by_name(client: TestClient) -> None:
    names = ["区经济发展局", "沙河产业园区", "创新创业服务园区", "区党工委"]
    for name in names:
        create(client, name)
    ascending = client.get(UNITS, params={"sort": "name"})
    descending = client.get(UNITS, params={"sort": "-name"})
    assert ascending.status_code == descending.status_code == 200
    assert [u["name"] for u in ascending.json()["items"]] == sorted(names)
    assert [u["name"] for u in descending.json()["items"]] == sorted(names, reverse=True)


def test_list_filters_by_kind(client: TestClient) -> None:
    create(client, "区经济发展局", "bureau")
    park = create(client, "沙河产业园区", "park")
    other_park = create(client, "皇台产业园区", "park")
    response = client.get(UNITS, params={"kind": "park"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert body["items"] == [park, other_park]


def test_list_rejects_unknown_kind_filter_and_sort_field(client: TestClient) -> None:
    assert_problem(client.get(UNITS, params={"kind": "ministry"}), 422)
    body = assert_problem(client.get(UNITS, params={"sort": "colour"}), 422)
    assert ["query", "sort"] in error_locs(body)


def test_list_pages_with_link_header(client: TestClient) -> None:
    for name in ("甲局", "乙局", "丙局"):
        create(client, name)
    first = client.get(UNITS, params={"limit": 2})
    assert first.status_code == 200
    assert len(first.json()["items"]) == 2
    assert 'rel="next"' in first.headers["link"]
    last = client.get(UNITS, params={"limit": 2, "offset": 2})
    assert [u["name"] for u in last.json()["items"]] == ["丙局"]
    assert "link" not in last.headers
    assert_problem(client.get(UNITS, params={"limit": 0}), 422)
    assert_problem(client.get(UNITS, params={"limit": 201}), 422)


def test_create_returns_201_with_location_and_body(client: TestClient) -> None:
    response = client.post(UNITS, json={"name": "区经济发展局", "kind": "bureau"})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "name": "区经济发展局", "kind": "bureau"}
    assert response.headers["location"] == f"{UNITS}/{body['id']}"
    fetched = client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_create_defaults_kind_to_other(client: TestClient) -> None:
    response = client.post(UNITS, json={"name": "国资公司"})
    assert response.status_code == 201
    assert response.json()["kind"] == "other"


def test_create_duplicate_name_is_409_problem(client: TestClient) -> None:
    first = create(client, "区经济发展局")
    response = client.post(UNITS, json={"name": "区经济发展局", "kind": "park"})
    body = assert_problem(response, 409)
    assert "区经济发展局" in body["detail"]
    assert body["instance"] == UNITS
    listed = client.get(UNITS).json()
    assert listed["total"] == 1
    assert listed["items"] == [first]


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"name": "", "kind": "bureau"}, ["body", "name"]),
        ({"name": " 区经济发展局", "kind": "bureau"}, ["body", "name"]),
        ({"name": "区经济发展局 ", "kind": "bureau"}, ["body", "name"]),
        ({"name": "区经济发展局\n", "kind": "bureau"}, ["body", "name"]),
        ({"name": "区经济发展局", "kind": "ministry"}, ["body", "kind"]),
        ({"name": "区经济发展局", "kind": "bureau", "colour": "red"}, ["body", "colour"]),
        ({"kind": "bureau"}, ["body", "name"]),
        ({"name": "x" * 201}, ["body", "name"]),
    ],
    ids=[
        "blank",
        "leading-space",
        "trailing-space",
        "trailing-newline",
        "unknown-kind",
        "extra-field",
        "missing-name",
        "too-long",
    ],
)
def test_create_invalid_is_422_with_loc(
    client: TestClient, payload: dict[str, Any], loc: list[str]
) -> None:
    body = assert_problem(client.post(UNITS, json=payload), 422)
    assert loc in error_locs(body)
    assert all({"loc", "msg", "type"} <= error.keys() for error in body["errors"])
    assert client.get(UNITS).json()["total"] == 0


def test_get_has_etag_and_honours_if_none_match(client: TestClient) -> None:
    unit = create(client, "沙河产业园区", "park")
    response = client.get(f"{UNITS}/{unit['id']}")
    assert response.status_code == 200
    assert response.json() == unit
    etag = response.headers["etag"]
    assert etag.startswith('W/"') and etag.endswith('"')
    cached = client.get(f"{UNITS}/{unit['id']}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    other = client.get(f"{UNITS}/{unit['id']}", headers={"If-None-Match": 'W/"stale"'})
    assert other.status_code == 200
    assert other.json() == unit


def test_etag_changes_when_unit_changes(client: TestClient) -> None:
    unit = create(client, "沙河产业园区", "park")
    before = client.get(f"{UNITS}/{unit['id']}").headers["etag"]
    assert client.patch(f"{UNITS}/{unit['id']}", json={"kind": "other"}).status_code == 200
    response = client.get(f"{UNITS}/{unit['id']}", headers={"If-None-Match": before})
    assert response.status_code == 200
    assert response.json()["kind"] == "other"
    assert response.headers["etag"] != before


def test_get_unknown_is_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get(f"{UNITS}/999"), 404)
    assert "999" in body["detail"]
    assert body["instance"] == f"{UNITS}/999"


@pytest.mark.parametrize("bad_id", ["0", "abc", "99999999999"])
def test_get_malformed_id_is_422(client: TestClient, bad_id: str) -> None:
    body = assert_problem(client.get(f"{UNITS}/{bad_id}"), 422)
    assert ["path", "unit_id"] in error_locs(body)


def test_patch_renames(client: TestClient) -> None:
    unit = create(client, "区经发局", "bureau")
    response = client.patch(f"{UNITS}/{unit['id']}", json={"name": "区经济发展局"})
    assert response.status_code == 200
    assert response.json() == {"id": unit["id"], "name": "区经济发展局", "kind": "bureau"}
    assert response.headers["etag"].startswith('W/"')
    assert client.get(f"{UNITS}/{unit['id']}").json()["name"] == "区经济发展局"


def test_patch_to_own_name_is_allowed(client: TestClient) -> None:
    unit = create(client, "区经济发展局", "bureau")
    response = client.patch(f"{UNITS}/{unit['id']}", json={"name": "区经济发展局", "kind": "other"})
    assert response.status_code == 200
    assert response.json() == {**unit, "kind": "other"}


def test_patch_rename_to_existing_name_is_409(client: TestClient) -> None:
    create(client, "区经济发展局")
    unit = create(client, "区科技创新局")
    body = assert_problem(client.patch(f"{UNITS}/{unit['id']}", json={"name": "区经济发展局"}), 409)
    assert "区经济发展局" in body["detail"]
    assert client.get(f"{UNITS}/{unit['id']}").json()["name"] == "区科技创新局"


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"name": None}, ["body", "name"]),
        ({"kind": None}, ["body", "kind"]),
        ({"name": " 区科技创新局"}, ["body", "name"]),
        ({"kind": "ministry"}, ["body", "kind"]),
        ({"id": 7}, ["body", "id"]),
    ],
    ids=["null-name", "null-kind", "spaced-name", "unknown-kind", "extra-field"],
)
def test_patch_invalid_is_422(client: TestClient, payload: dict[str, Any], loc: list[str]) -> None:
    unit = create(client, "区科技创新局")
    body = assert_problem(client.patch(f"{UNITS}/{unit['id']}", json=payload), 422)
    assert loc in error_locs(body)
    assert client.get(f"{UNITS}/{unit['id']}").json() == unit


def test_patch_unknown_is_404(client: TestClient) -> None:
    assert_problem(client.patch(f"{UNITS}/42", json={"name": "区科技创新局"}), 404)
