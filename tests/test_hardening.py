"""Hardening: body size limit, security headers, CORS, and keys kept out of answers and logs."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.auth.models import ApiKey, Role
from app.config import Settings
from app.main import create_app
from app.sources.models import Source
from tests.helpers import assert_problem, make_key

SOURCES = "/api/v1/sources"
ALLOWED_ORIGIN = "https://oa.example.gov.cn"
JSON_HEADERS = {"Content-Type": "application/json"}


def source_body(slug: str, text_length: int) -> bytes:
    """A valid POST /sources body whose text has text_length characters (3 bytes each)."""
    payload = {"slug": slug, "title": "秀洲高新区挂职汇报", "text": "甲" * text_length}
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def source_count(engine: Engine) -> int:
    with Session(engine) as db_session:
        return db_session.exec(select(func.count()).select_from(Source)).one()


def chunks(data: bytes, size: int = 256) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def client_for(settings: Settings, key: str | None) -> TestClient:
    headers = {"X-API-Key": key} if key else {}
    return TestClient(create_app(settings), headers=headers, raise_server_exceptions=False)


@pytest.fixture
def small_limit_client(database_url: str, admin_key: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, max_body_bytes=1000, _env_file=None)
    with client_for(settings, admin_key) as test_client:
        yield test_client


# --- body size --------------------------------------------------------------------------


def test_body_over_the_limit_with_content_length_is_413_and_nothing_stored(
    small_limit_client: TestClient, engine: Engine
) -> None:
    big = source_body("too-big", 400)
    assert len(big) > 1000
    response = small_limit_client.post(SOURCES, content=big, headers=JSON_HEADERS)
    body = assert_problem(response, 413)
    assert "1000" in body["detail"]
    assert body["instance"] == SOURCES
    assert response.headers["x-content-type-options"] == "nosniff"
    assert source_count(engine) == 0
    assert small_limit_client.get(f"{SOURCES}/too-big").status_code == 404

    small = source_body("small-enough", 100)
    assert len(small) < 1000
    created = small_limit_client.post(SOURCES, content=small, headers=JSON_HEADERS)
    assert created.status_code == 201, created.text
    assert source_count(engine) == 1


def test_streamed_body_over_the_limit_is_413_and_nothing_stored(
    small_limit_client: TestClient, engine: Engine
) -> None:
    big = source_body("streamed-big", 400)
    response = small_limit_client.post(SOURCES, content=chunks(big), headers=JSON_HEADERS)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    body = assert_problem(response, 413)
    assert "1000" in body["detail"]
    assert source_count(engine) == 0

    small = source_body("streamed-small", 100)
    created = small_limit_client.post(SOURCES, content=chunks(small), headers=JSON_HEADERS)
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "streamed-small"
    assert source_count(engine) == 1


def test_body_limit_applies_before_the_key_check(database_url: str, engine: Engine) -> None:
    settings = Settings(database_url=database_url, max_body_bytes=1000, _env_file=None)
    with client_for(settings, None) as anonymous:
        response = anonymous.post(SOURCES, content=source_body("x-big", 400), headers=JSON_HEADERS)
    assert_problem(response, 413)
    assert source_count(engine) == 0


def test_default_limit_is_one_mebibyte(client: TestClient, engine: Engine) -> None:
    assert Settings.model_fields["max_body_bytes"].default == 1024 * 1024
    two_mib = source_body("two-mib", 2 * 1024 * 1024 // 3 + 10)
    assert len(two_mib) > 2 * 1024 * 1024
    body = assert_problem(client.post(SOURCES, content=two_mib, headers=JSON_HEADERS), 413)
    assert str(1024 * 1024) in body["detail"]
    streamed = client.post(SOURCES, content=chunks(two_mib, 65536), headers=JSON_HEADERS)
    assert_problem(streamed, 413)
    assert source_count(engine) == 0

    under = source_body("under-one-mib", 300_000)
    assert 800_000 < len(under) < 1024 * 1024
    created = client.post(SOURCES, content=under, headers=JSON_HEADERS)
    assert created.status_code == 201, created.text[:300]
    assert source_count(engine) == 1


# --- security headers -------------------------------------------------------------------


def assert_api_headers(response: Any) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", response.headers
    cache = {part.strip() for part in response.headers.get("cache-control", "").split(",")}
    assert {"private", "no-cache"} <= cache, response.headers


def test_api_answers_carry_nosniff_and_private_no_cache(
    client: TestClient, anonymous_client: TestClient
) -> None:
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert_api_headers(me)
    created = client.post("/api/v1/units", json={"name": "区经济发展局", "kind": "bureau"})
    assert created.status_code == 201
    assert_api_headers(created)
    assert_api_headers(assert_problem_response(anonymous_client.get("/api/v1/units"), 401))
    assert_api_headers(assert_problem_response(client.get("/api/v1/no-such-thing"), 404))
    assert_api_headers(assert_problem_response(client.get("/api/v1/units/999999"), 404))
    health = anonymous_client.get("/healthz")
    assert health.status_code == 200
    assert health.headers["x-content-type-options"] == "nosniff"


def assert_problem_response(response: Any, status: int) -> Any:
    assert_problem(response, status)
    return response


def test_new_key_answer_is_not_stored_by_caches(client: TestClient) -> None:
    response = client.post("/api/v1/keys", json={"name": "fresh", "role": "viewer"})
    assert response.status_code == 201
    assert response.json()["key"].startswith("tsk_")
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"


# --- CORS -------------------------------------------------------------------------------


def test_cors_is_off_by_default(client: TestClient) -> None:
    simple = client.get("/api/v1/me", headers={"Origin": ALLOWED_ORIGIN})
    assert simple.status_code == 200
    assert simple.json()["name"] == "test-admin"
    assert "access-control-allow-origin" not in simple.headers
    preflight = client.options(
        "/api/v1/units",
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-methods" not in preflight.headers


@pytest.fixture
def cors_client(database_url: str, admin_key: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, cors_origins=[ALLOWED_ORIGIN], _env_file=None)
    with client_for(settings, admin_key) as test_client:
        yield test_client


def test_cors_allows_the_configured_origin(cors_client: TestClient) -> None:
    preflight = cors_client.options(
        "/api/v1/actions/1",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "x-api-key, if-match, content-type",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    allowed_headers = preflight.headers["access-control-allow-headers"].lower()
    for header in ("x-api-key", "if-match", "authorization", "content-type"):
        assert header in allowed_headers

    simple = cors_client.get("/api/v1/me", headers={"Origin": ALLOWED_ORIGIN})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "etag" in simple.headers["access-control-expose-headers"].lower()


def test_cors_refuses_other_origins(cors_client: TestClient) -> None:
    for origin in ("https://evil.example.com", "http://oa.example.gov.cn", "null"):
        preflight = cors_client.options(
            "/api/v1/units",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 400, (origin, preflight.text)
        assert "access-control-allow-origin" not in preflight.headers
        simple = cors_client.get("/api/v1/me", headers={"Origin": origin})
        assert simple.status_code == 200
        assert "access-control-allow-origin" not in simple.headers


# --- keys stay secret -------------------------------------------------------------------

FAKE_KEY = "tsk_abcdefgh_" + "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tX"


def test_error_bodies_never_echo_the_key_sent(
    anonymous_client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = make_key(engine, Role.viewer, name="echo-viewer")
    revoked = make_key(engine, Role.editor, name="echo-revoked")
    with Session(engine) as db_session:
        row = db_session.exec(select(ApiKey).where(ApiKey.name == "echo-revoked")).one()
    admin = make_key(engine, Role.admin, name="echo-admin")
    assert (
        anonymous_client.delete(f"/api/v1/keys/{row.id}", headers={"X-API-Key": admin}).status_code
        == 200
    )

    caplog.set_level(logging.DEBUG)
    answers = []
    for key in (FAKE_KEY, revoked, FAKE_KEY[:-1], "not-a-key-" + FAKE_KEY[13:]):
        for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
            response = anonymous_client.get("/api/v1/me", headers=headers)
            body = assert_problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
            answers.append((key, response.text + json.dumps(body)))
    forbidden = anonymous_client.post(
        "/api/v1/units", json={"name": "丁局", "kind": "bureau"}, headers={"X-API-Key": viewer}
    )
    assert_problem(forbidden, 403)
    answers.append((viewer, forbidden.text))
    for key, text in answers:
        assert key not in text
        assert key[13:] not in text
    secrets = [FAKE_KEY[13:], revoked[13:], viewer[13:], admin[13:]]
    for record in caplog.records:
        message = record.getMessage()
        assert not any(secret in message for secret in secrets), message
