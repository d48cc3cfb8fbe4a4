"""Probes, docs served offline, OpenAPI, and the problem+json shape of framework errors."""

import re
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_DIR, Settings
from app.main import create_app
from app.migrations import head_revision
from tests.helpers import assert_problem

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
OPENAPI_PATHS = {
    "/api/v1/units": {"get", "post"},
    "/api/v1/units/{unit_id}": {"get", "patch"},
    "/api/v1/sources": {"get", "post"},
    "/api/v1/sources/{id_or_slug}": {"get"},
    "/api/v1/sources/{id_or_slug}/annotated": {"get"},
    "/api/v1/sources/{id_or_slug}/candidates": {"get"},
    "/api/v1/actions": {"get", "post"},
    "/api/v1/actions/{action_id}": {"get", "patch", "delete"},
    "/api/v1/actions/{action_id}/transitions": {"post"},
    "/api/v1/actions/{action_id}/updates": {"post"},
    "/api/v1/actions/{action_id}/events": {"get"},
    "/api/v1/stats": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
}


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_migrated(client: TestClient, database_url: str) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["revision"] == head_revision(database_url) is not None


def test_readyz_is_503_when_not_migrated(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/empty.db", _env_file=None)
    with TestClient(create_app(settings)) as client:
        body = assert_problem(client.get("/readyz"), 503)
        assert body["instance"] == "/readyz"
        assert "upgrade" in body["detail"]
        assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_database_unreachable(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}", _env_file=None)  # a directory
    with TestClient(create_app(settings)) as client:
        body = assert_problem(client.get("/readyz"), 503)
        assert "unreachable" in body["detail"]
        assert str(tmp_path) not in body["detail"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_local_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = ASSET.findall(response.text)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        assert "http" not in asset and "cdn" not in asset.lower(), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.content
    assert "https://" not in response.text
    assert "cdn" not in response.text.lower()


def test_openapi_lists_paths_with_tags_and_summaries(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    for path, methods in OPENAPI_PATHS.items():
        assert path in spec["paths"], path
        operations = spec["paths"][path]
        assert methods <= set(operations), (path, set(operations))
        for method in methods:
            assert operations[method].get("tags"), (path, method)
            assert operations[method].get("summary"), (path, method)
    tag_names = {tag["name"] for tag in spec["tags"]}
    assert {"units", "sources", "actions", "service"} <= tag_names


def test_openapi_version_is_the_package_version(client: TestClient) -> None:
    """pyproject.toml is the one place the version is written; a stale install fails here."""
    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["version"] == pyproject["project"]["version"]


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v1/units/1/nope"])
def test_unknown_route_is_404_problem(client: TestClient, path: str) -> None:
    body = assert_problem(client.get(path), 404)
    assert body["instance"] == path
    assert path in body["detail"]
    assert body["title"] == "Not Found"


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    response = client.put("/api/v1/units", json={"name": "区经济发展局"})
    body = assert_problem(response, 405)
    assert body["instance"] == "/api/v1/units"
    assert "PUT" in body["detail"]


def test_wrong_method_names_the_allowed_methods(client: TestClient) -> None:
    response = client.put("/api/v1/units", json={"name": "区经济发展局"})
    body = assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
    assert {"GET", "POST"} <= allowed, response.headers.get("allow")
    assert "GET" in body["detail"] and "POST" in body["detail"], body["detail"]


def test_malformed_json_is_422_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/units",
        content='{"name": "区'.encode(),
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"]
    assert body["errors"][0]["type"] == "json_invalid"
    assert body["errors"][0]["loc"][0] == "body"
    assert client.get("/api/v1/units").json()["total"] == 0


def test_chinese_is_raw_utf8(client: TestClient) -> None:
    response = client.post("/api/v1/units", json={"name": "区经济发展局", "kind": "bureau"})
    assert response.status_code == 201
    assert "区经济发展局".encode() in response.content
    assert b"\\u" not in response.content
    conflict = client.post("/api/v1/units", json={"name": "区经济发展局"})
    assert conflict.status_code == 409
    assert "区经济发展局".encode() in conflict.content
    assert b"\\u" not in conflict.content
    listed = client.get("/api/v1/units")
    assert "区经济发展局".encode() in listed.content and b"\\u" not in listed.content
