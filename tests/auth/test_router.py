"""HTTP contract of auth: the role every route needs, the keys API, /me, the actor of
changes, and anonymous read."""

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select
from time_machine import TimeMachineFixture

from app import clock
from app.actions.models import Action
from app.actions.workflow import TRANSITIONS, Status
from app.auth import service as auth_service
from app.auth.models import ApiKey, Role
from app.config import Settings
from app.db import write_session
from app.main import create_app
from app.seeding.schemas import SeedReport
from app.sources.models import Source
from app.units.models import Unit
from tests.helpers import assert_problem, make_key

KEYS = "/api/v1/keys"
ME = "/api/v1/me"
OPEN = "open"
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}

# The role every operation of the API needs; a route missing here fails the matrix test.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/actions"): Role.viewer,
    ("POST", "/api/v1/actions"): Role.editor,
    ("GET", "/api/v1/actions/{action_id}"): Role.viewer,
    ("PATCH", "/api/v1/actions/{action_id}"): Role.editor,
    ("DELETE", "/api/v1/actions/{action_id}"): Role.admin,
    ("POST", "/api/v1/actions/{action_id}/transitions"): Role.editor,
    ("POST", "/api/v1/actions/{action_id}/updates"): Role.editor,
    ("GET", "/api/v1/actions/{action_id}/events"): Role.viewer,
    ("POST", "/api/v1/actions/{action_id}/extensions"): Role.editor,
    ("GET", "/api/v1/actions/{action_id}/extensions"): Role.viewer,
    ("GET", "/api/v1/actions/{action_id}/extensions/{extension_id}"): Role.viewer,
    ("POST", "/api/v1/actions/{action_id}/extensions/{extension_id}/decision"): Role.supervisor,
    ("GET", "/api/v1/extensions"): Role.viewer,
    ("POST", "/api/v1/actions/{action_id}/reminders"): Role.supervisor,
    ("POST", "/api/v1/actions/{action_id}/evidence"): Role.editor,
    ("GET", "/api/v1/actions/{action_id}/evidence"): Role.viewer,
    ("GET", "/api/v1/evidence/{evidence_id}"): Role.viewer,
    ("GET", "/api/v1/evidence/{evidence_id}/file"): Role.viewer,
    ("DELETE", "/api/v1/evidence/{evidence_id}"): Role.editor,
    ("GET", "/api/v1/stats"): Role.viewer,
    ("GET", "/api/v1/sources"): Role.viewer,
    ("POST", "/api/v1/sources"): Role.editor,
    ("GET", "/api/v1/sources/{id_or_slug}"): Role.viewer,
    ("GET", "/api/v1/sources/{id_or_slug}/annotated"): Role.viewer,
    ("GET", "/api/v1/sources/{id_or_slug}/candidates"): Role.viewer,
    ("GET", "/api/v1/units"): Role.viewer,
    ("POST", "/api/v1/units"): Role.editor,
    ("GET", "/api/v1/units/{unit_id}"): Role.viewer,
    ("PATCH", "/api/v1/units/{unit_id}"): Role.editor,
    ("GET", "/api/v1/me"): Role.viewer,
    ("GET", "/api/v1/keys"): Role.admin,
    ("POST", "/api/v1/keys"): Role.admin,
    ("DELETE", "/api/v1/keys/{key_id}"): Role.admin,
    ("GET", "/api/v1/reports/status"): Role.viewer,
    ("POST", "/api/v1/reports"): Role.editor,
    ("GET", "/api/v1/reports"): Role.viewer,
    ("GET", "/api/v1/reports/{report_id}"): Role.viewer,
    ("GET", "/api/v1/reports/{report_id}/file"): Role.viewer,
    ("GET", "/api/v1/report-schedules"): Role.viewer,
    ("PUT", "/api/v1/report-schedules/{name}"): Role.admin,
    ("POST", "/api/v1/imports"): Role.editor,
    ("GET", "/api/v1/channels"): Role.admin,
    ("POST", "/api/v1/channels"): Role.admin,
    ("GET", "/api/v1/channels/{channel_id}"): Role.admin,
    ("PATCH", "/api/v1/channels/{channel_id}"): Role.admin,
    ("DELETE", "/api/v1/channels/{channel_id}"): Role.admin,
    ("POST", "/api/v1/channels/{channel_id}/test"): Role.admin,
    ("GET", "/api/v1/deliveries"): Role.admin,
    ("POST", "/api/v1/deliveries/{delivery_id}/retry"): Role.admin,
    ("GET", "/healthz"): OPEN,
    ("GET", "/readyz"): OPEN,
}
# The test's own ranking of roles (not the app's), so the expectation is independent of it.
RANK = {Role.viewer: 1, Role.editor: 2, Role.supervisor: 3, Role.admin: 4}
# Served outside the OpenAPI schema, open to all.
OPEN_OUTSIDE_SCHEMA = ("/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")


def assert_unauthorized(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 401)
    assert response.headers.get("www-authenticate") == "Bearer"
    return body


def key_row(engine: Engine, name: str) -> ApiKey:
    with Session(engine) as db_session:
        return db_session.exec(select(ApiKey).where(ApiKey.name == name)).one()


def key_count(engine: Engine) -> int:
    with Session(engine) as db_session:
        return db_session.exec(select(func.count()).select_from(ApiKey)).one()


def set_key_columns(engine: Engine, name: str, **values: Any) -> None:
    with write_session(engine) as db_session:
        db_session.execute(update(ApiKey).where(col(ApiKey.name) == name).values(**values))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def first_id(engine: Engine, model: Any) -> int:
    with Session(engine) as db_session:
        found = db_session.exec(select(model.id).order_by(model.id)).first()
    assert found is not None, f"no {model.__name__} seeded"
    return int(found)


@pytest.fixture
def role_keys(engine: Engine) -> dict[Role, str]:
    return {role: make_key(engine, role, name=f"matrix-{role}") for role in Role}


def operations_of(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def concrete_path(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no value for a parameter of {path}; add it to the matrix test"
    return path


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, path, headers=headers, **body)


def test_role_matrix_covers_every_operation(
    app: FastAPI, engine: Engine, seeded: SeedReport, role_keys: dict[Role, str]
) -> None:
    assert set(RANK) == set(Role), f"roles without a rank in this test: {set(Role) - set(RANK)}"
    operations = operations_of(app)
    assert operations == set(EXPECTED), (
        f"routes without an entry: {sorted(operations - set(EXPECTED))}; "
        f"entries without a route: {sorted(set(EXPECTED) - operations)}"
    )
    make_key(engine, Role.viewer, name="matrix-target")  # DELETE /keys/{key_id} revokes this
    params = {
        "action_id": str(first_id(engine, Action)),
        "id_or_slug": str(first_id(engine, Source)),
        "unit_id": str(first_id(engine, Unit)),
        "key_id": str(key_row(engine, "matrix-target").id),
        "report_id": "1",  # none kept yet: a 404 for those let through
        "extension_id": "1",  # none asked for yet: a 404 for those let through
        "evidence_id": "1",  # none uploaded yet: a 404 for those let through
        "channel_id": "1",  # none made yet: a 404 for those let through
        "delivery_id": "1",  # none made yet: a 404 for those let through
        "name": "weekly",
    }
    tally = {"401": 0, "403": 0, "allowed": 0}
    with TestClient(app, raise_server_exceptions=False) as client:
        for (method, template), required in sorted(EXPECTED.items()):
            path = concrete_path(template, params)
            where = f"{method} {path}"

            response = call(client, method, path, {})
            if required == OPEN:
                assert response.status_code == 200, (where, response.text)
                tally["allowed"] += 1
            else:
                body = assert_unauthorized(response)
                assert body["instance"] == path
                tally["401"] += 1

            for role in Role:
                response = call(client, method, path, {"X-API-Key": role_keys[role]})
                if required != OPEN and RANK[role] < RANK[Role(required)]:
                    body = assert_problem(response, 403)
                    assert str(required) in body["detail"], (where, role, body)
                    assert role_keys[role] not in response.text
                    tally["403"] += 1
                else:
                    assert response.status_code not in (401, 403), (where, role, response.text)
                    assert response.status_code < 500, (where, role, response.text)
                    tally["allowed"] += 1

    callers = 1 + len(Role)
    assert sum(tally.values()) == len(EXPECTED) * callers
    opened = sum(1 for required in EXPECTED.values() if required == OPEN)
    print(
        f"\nrole matrix: {len(EXPECTED)} operations ({opened} open) x {callers} callers "
        f"(no key, {', '.join(Role)}) = {sum(tally.values())} requests: "
        f"{tally['401']} x 401, {tally['403']} x 403, {tally['allowed']} let through"
    )


def test_admin_only_routes_leave_nothing_changed_for_lower_roles(
    client: TestClient, engine: Engine, role_keys: dict[Role, str]
) -> None:
    admin_id = key_row(engine, "test-admin").id
    before = key_count(engine)
    for role in (Role.viewer, Role.editor, Role.supervisor):
        headers = {"X-API-Key": role_keys[role]}
        assert_problem(client.get(KEYS, headers=headers), 403)
        created = client.post(
            KEYS, json={"name": f"made-by-{role}", "role": "admin"}, headers=headers
        )
        assert_problem(created, 403)
        assert_problem(client.delete(f"{KEYS}/{admin_id}", headers=headers), 403)
    assert key_count(engine) == before
    assert key_row(engine, "test-admin").revoked_at is None
    assert client.get(ME).json()["name"] == "test-admin"


@pytest.mark.parametrize("path", OPEN_OUTSIDE_SCHEMA)
def test_service_and_docs_routes_are_open(anonymous_client: TestClient, path: str) -> None:
    response = anonymous_client.get(path)
    assert response.status_code == 200, response.text
    if path == "/openapi.json":
        assert "/api/v1/keys" in response.json()["paths"]
    elif path in ("/docs", "/redoc"):
        assert response.headers["content-type"].startswith("text/html")
    else:
        assert response.json()["status"] in ("ok", "ready")


# --- which keys are accepted ------------------------------------------------------------


def test_valid_key_works_in_either_header(
    anonymous_client: TestClient, engine: Engine, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.editor]
    for headers in (
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"bearer {key}"},
        {"X-API-Key": key},
    ):
        response = anonymous_client.get(ME, headers=headers)
        assert response.status_code == 200, (headers, response.text)
        assert response.json() == {
            "name": "matrix-editor",
            "role": "editor",
            "key_id": key_row(engine, "matrix-editor").id,
            "unit_id": None,
            "unit_name": None,
        }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic x"},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
        {"X-API-Key": ""},
        {"Authorization": "Bearer 0123456789abcdef0123456789abcdef"},
        {"X-API-Key": "0123456789abcdef0123456789abcdef"},
        {"X-API-Key": "tsk_"},
        {"X-API-Key": "tsk_unknown1_" + "A" * 43},
        {"Authorization": "Bearer tsk_unknown1_" + "A" * 43},
    ],
    ids=lambda headers: repr(headers)[:40],
)
def test_missing_malformed_or_unknown_key_is_401(
    anonymous_client: TestClient, role_keys: dict[Role, str], headers: dict[str, str]
) -> None:
    body = assert_unauthorized(anonymous_client.get(ME, headers=headers))
    assert body["type"] == "urn:tashan:problem:unauthorized"
    sent = headers.get("X-API-Key") or headers.get("Authorization", "").removeprefix("Bearer ")
    if len(sent) > 8:
        assert sent not in body["detail"]


def test_key_without_its_tsk_prefix_is_401(
    anonymous_client: TestClient, role_keys: dict[Role, str]
) -> None:
    bare = role_keys[Role.admin].removeprefix("tsk_")
    assert_unauthorized(anonymous_client.get(ME, headers={"X-API-Key": bare}))
    assert_unauthorized(anonymous_client.get(ME, headers={"Authorization": f"Bearer {bare}"}))


def test_right_prefix_wrong_secret_is_401(
    anonymous_client: TestClient, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.admin]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert_unauthorized(anonymous_client.get(ME, headers={"X-API-Key": forged}))
    assert anonymous_client.get(ME, headers={"X-API-Key": key}).status_code == 200


def test_bad_api_key_header_is_not_rescued_by_a_good_bearer(
    anonymous_client: TestClient, role_keys: dict[Role, str]
) -> None:
    headers = {
        "X-API-Key": "tsk_unknown1_" + "A" * 43,
        "Authorization": f"Bearer {role_keys[Role.admin]}",
    }
    assert_unauthorized(anonymous_client.get(ME, headers=headers))


def test_revoked_key_is_401_at_once(client: TestClient, anonymous_client: TestClient) -> None:
    created = client.post(KEYS, json={"name": "short-lived", "role": "editor"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    assert anonymous_client.get(ME, headers={"X-API-Key": key}).status_code == 200
    revoked = client.delete(f"{KEYS}/{key_id}")
    assert revoked.status_code == 200, revoked.text
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        body = assert_unauthorized(anonymous_client.get(ME, headers=headers))
        assert key not in body["detail"]
        assert_unauthorized(
            anonymous_client.post(
                "/api/v1/units", json={"name": "甲局", "kind": "bureau"}, headers=headers
            )
        )


def test_expired_key_is_401(
    anonymous_client: TestClient,
    engine: Engine,
    role_keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Keys are read again on every request, so the edits in the database count at once.
    monkeypatch.setattr(auth_service, "KEY_CACHE_SECONDS", 0.0)
    key = role_keys[Role.admin]
    set_key_columns(engine, "matrix-admin", expires_at=clock.now() + timedelta(hours=1))
    assert anonymous_client.get(ME, headers={"X-API-Key": key}).status_code == 200
    set_key_columns(engine, "matrix-admin", expires_at=clock.now() - timedelta(seconds=1))
    assert_unauthorized(anonymous_client.get(ME, headers={"X-API-Key": key}))
    assert_unauthorized(anonymous_client.get(KEYS, headers={"Authorization": f"Bearer {key}"}))


def test_a_recently_used_key_expires_on_time(
    anonymous_client: TestClient,
    engine: Engine,
    role_keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
    time_machine: TimeMachineFixture,
) -> None:
    monkeypatch.setattr(auth_service, "KEY_CACHE_SECONDS", 3600.0)
    key = role_keys[Role.admin]
    set_key_columns(engine, "matrix-admin", expires_at=clock.now() + timedelta(hours=1))
    assert anonymous_client.get(ME, headers={"X-API-Key": key}).status_code == 200
    time_machine.shift(timedelta(hours=2))
    assert_unauthorized(anonymous_client.get(ME, headers={"X-API-Key": key}))


def test_a_key_revoked_by_another_process_is_refused_within_the_cache_time(
    anonymous_client: TestClient,
    engine: Engine,
    role_keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth_service, "KEY_CACHE_SECONDS", 3600.0)
    key = role_keys[Role.editor]
    assert anonymous_client.get(ME, headers={"X-API-Key": key}).status_code == 200
    # As `tashan keys revoke` does, from a process whose revocation this one does not hear of.
    set_key_columns(engine, "matrix-editor", revoked_at=clock.now())
    assert anonymous_client.get(ME, headers={"X-API-Key": key}).status_code == 200
    monkeypatch.setattr(auth_service, "KEY_CACHE_SECONDS", 0.0)  # the cache time has passed
    assert_unauthorized(anonymous_client.get(ME, headers={"X-API-Key": key}))


def test_no_key_is_401_even_when_the_request_is_otherwise_wrong(
    anonymous_client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    # "No or bad key -> 401" on every route: the role check must come before any other check
    # of the request, such as a malformed If-Match.
    action = f"/api/v1/actions/{first_id(engine, Action)}"
    bad_etag = {"If-Match": "not-an-etag"}
    answers = {
        f"{method} {path}": call(anonymous_client, method, path, bad_etag)
        for method, path in (
            ("PATCH", action),
            ("DELETE", action),
            ("POST", f"{action}/transitions"),
            ("POST", f"{action}/updates"),
        )
    }
    wrong = {where: r.status_code for where, r in answers.items() if r.status_code != 401}
    assert wrong == {}, f"expected 401 without a key, got {wrong}"
    for response in answers.values():
        assert_unauthorized(response)


# --- keys API ---------------------------------------------------------------------------

KEY_READ_FIELDS = {
    "id",
    "name",
    "role",
    "unit_id",
    "unit_name",
    "prefix",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
}


def test_create_key_returns_the_plaintext_once_and_it_works(
    client: TestClient, anonymous_client: TestClient, engine: Engine
) -> None:
    response = client.post(KEYS, json={"name": "li-viewer", "role": "viewer"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == KEY_READ_FIELDS | {"key"}
    key = body["key"]
    assert key.startswith("tsk_" + body["prefix"] + "_")
    assert len(key) >= 40
    assert (body["name"], body["role"]) == ("li-viewer", "viewer")
    assert (body["last_used_at"], body["expires_at"], body["revoked_at"]) == (None, None, None)
    assert response.headers["location"] == f"/api/v1/keys/{body['id']}"
    assert "no-store" in response.headers["cache-control"]
    assert key_row(engine, "li-viewer").key_hash == sha256_hex(key)

    me = anonymous_client.get(ME, headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200, me.text
    assert me.json() == {
        "name": "li-viewer",
        "role": "viewer",
        "key_id": body["id"],
        "unit_id": None,
        "unit_name": None,
    }
    assert_problem(
        anonymous_client.post(
            "/api/v1/units", json={"name": "乙局", "kind": "bureau"}, headers={"X-API-Key": key}
        ),
        403,
    )


def test_me_names_the_admin_key(client: TestClient, engine: Engine) -> None:
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "name": "test-admin",
        "role": "admin",
        "key_id": key_row(engine, "test-admin").id,
        "unit_id": None,
        "unit_name": None,
    }


def test_list_keys_never_shows_a_plaintext_or_hash(client: TestClient, admin_key: str) -> None:
    created = [
        client.post(KEYS, json={"name": name, "role": role}).json()
        for name, role in (("zhao-viewer", "viewer"), ("qian-editor", "editor"))
    ]
    plaintexts = [admin_key, *(c["key"] for c in created)]
    for plaintext in plaintexts[1:]:  # use them, so last_used_at is set
        assert client.get(ME, headers={"X-API-Key": plaintext}).status_code == 200

    response = client.get(KEYS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    assert [item["name"] for item in body["items"]] == ["test-admin", "zhao-viewer", "qian-editor"]
    for item in body["items"]:
        assert set(item) == KEY_READ_FIELDS
        assert item["last_used_at"] is not None
    for plaintext in plaintexts:
        assert plaintext not in response.text
        assert plaintext[len("tsk_12345678_") :] not in response.text
        assert sha256_hex(plaintext) not in response.text


def test_list_keys_pages(client: TestClient, engine: Engine) -> None:
    for i in range(3):
        make_key(engine, Role.viewer, name=f"page-{i}")
    response = client.get(KEYS, params={"limit": 2, "offset": 1})
    assert response.status_code == 200
    body = response.json()
    assert [item["name"] for item in body["items"]] == ["page-0", "page-1"]
    assert body["total"] == 4
    assert 'rel="next"' in response.headers["link"]
    assert_problem(client.get(KEYS, params={"limit": 0}), 422)


def test_duplicate_key_name_is_409(client: TestClient, engine: Engine) -> None:
    first = client.post(KEYS, json={"name": "sun-editor", "role": "editor"})
    assert first.status_code == 201
    body = assert_problem(client.post(KEYS, json={"name": "sun-editor", "role": "admin"}), 409)
    assert "sun-editor" in body["detail"]
    assert "tsk_" not in body["detail"]
    assert_problem(client.post(KEYS, json={"name": "test-admin", "role": "viewer"}), 409)
    assert key_row(engine, "sun-editor").role == Role.editor
    assert key_count(engine) == 2


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"name": "x", "role": "superuser"}, ["body", "role"]),
        ({"name": "x", "role": "Admin"}, ["body", "role"]),
        ({"name": "x"}, ["body", "role"]),
        ({"role": "viewer"}, ["body", "name"]),
        ({"name": "", "role": "viewer"}, ["body", "name"]),
        ({"name": " x", "role": "viewer"}, ["body", "name"]),
        ({"name": "x" * 101, "role": "viewer"}, ["body", "name"]),
        ({"name": "x", "role": "viewer", "key_hash": "0" * 64}, ["body", "key_hash"]),
        ({"name": "x", "role": "viewer", "prefix": "aaaaaaaa"}, ["body", "prefix"]),
        ({"name": "x", "role": "viewer", "expires_at": "soon"}, ["body", "expires_at"]),
    ],
)
def test_invalid_key_request_is_422(
    client: TestClient, engine: Engine, payload: dict[str, Any], loc: list[str]
) -> None:
    body = assert_problem(client.post(KEYS, json=payload), 422)
    assert loc in [error["loc"] for error in body["errors"]]
    assert key_count(engine) == 1


def test_expires_at_in_the_past_is_422(client: TestClient, engine: Engine) -> None:
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    body = assert_problem(
        client.post(KEYS, json={"name": "old", "role": "viewer", "expires_at": past}), 422
    )
    assert ["body", "expires_at"] in [error["loc"] for error in body["errors"]]
    assert key_count(engine) == 1


def test_expires_at_without_offset_is_422_not_500(client: TestClient, engine: Engine) -> None:
    # API.md: timestamps are RFC 3339 with offset; a naive one must be refused, not crash.
    with TestClient(client.app, headers=dict(client.headers), raise_server_exceptions=False) as c:
        response = c.post(
            KEYS, json={"name": "naive", "role": "viewer", "expires_at": "2099-01-01T00:00:00"}
        )
    body = assert_problem(response, 422)
    assert ["body", "expires_at"] in [error["loc"] for error in body["errors"]]
    assert key_count(engine) == 1


def test_key_with_future_expiry_works_until_then(
    client: TestClient, anonymous_client: TestClient
) -> None:
    expires = clock.now() + timedelta(days=30)
    response = client.post(
        KEYS, json={"name": "temp", "role": "editor", "expires_at": expires.isoformat()}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expires_at"] is not None
    assert abs(datetime.fromisoformat(body["expires_at"]) - expires) < timedelta(seconds=1)
    me = anonymous_client.get(ME, headers={"X-API-Key": body["key"]})
    assert me.json()["name"] == "temp"


def test_delete_revokes_a_key(
    client: TestClient, anonymous_client: TestClient, engine: Engine
) -> None:
    created = client.post(KEYS, json={"name": "zhou-editor", "role": "editor"}).json()
    response = client.delete(f"{KEYS}/{created['id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == KEY_READ_FIELDS
    assert body["name"] == "zhou-editor"
    assert body["revoked_at"] is not None
    assert key_row(engine, "zhou-editor").revoked_at is not None
    assert_unauthorized(anonymous_client.get(ME, headers={"X-API-Key": created["key"]}))

    again = client.delete(f"{KEYS}/{created['id']}")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == body["revoked_at"]
    listed = {item["name"]: item for item in client.get(KEYS).json()["items"]}
    assert listed["zhou-editor"]["revoked_at"] == body["revoked_at"]
    assert listed["test-admin"]["revoked_at"] is None


def test_delete_unknown_key_is_404(client: TestClient) -> None:
    body = assert_problem(client.delete(f"{KEYS}/999999"), 404)
    assert "999999" in body["detail"]
    assert_problem(client.delete(f"{KEYS}/0"), 422)
    assert_problem(client.delete(f"{KEYS}/abc"), 422)


# --- actor of changes -------------------------------------------------------------------


def test_key_name_is_the_actor_of_every_change(
    client: TestClient, anonymous_client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    editor = {"X-API-Key": make_key(engine, Role.editor, name="zhang-editor")}
    action = f"/api/v1/actions/{first_id(engine, Action)}"
    current = anonymous_client.get(action, headers=editor)
    assert current.status_code == 200, current.text
    before_events = anonymous_client.get(f"{action}/events", headers=editor).json()["total"]

    patched = anonymous_client.patch(
        action, json={"assignee": "张明"}, headers={**editor, "If-Match": current.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text
    target = TRANSITIONS[Status(patched.json()["status"])][0]
    moved = anonymous_client.post(
        f"{action}/transitions",
        json={"to": target, "note": "党工委会议研究"},
        headers={**editor, "If-Match": patched.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    progressed = anonymous_client.post(
        f"{action}/updates",
        json={"note": "已形成初稿"},
        headers={**editor, "If-Match": moved.headers["etag"]},
    )
    assert progressed.status_code == 200, progressed.text
    archived = client.delete(action, headers={"If-Match": progressed.headers["etag"]})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True

    events = anonymous_client.get(f"{action}/events", headers=editor)
    assert events.status_code == 200
    new = events.json()["items"][before_events:]
    assert [(e["kind"], e["actor"]) for e in new] == [
        ("updated", "zhang-editor"),
        ("transition", "zhang-editor"),
        ("progress", "zhang-editor"),
        ("archived", "test-admin"),
    ]
    assert new[0]["changes"]["assignee"][1] == "张明"
    assert new[1]["to_status"] == target
    assert "tsk_" not in events.text


# --- anonymous read ---------------------------------------------------------------------


@pytest.fixture
def anonymous_read_client(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, anonymous_read=True, _env_file=None)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_anonymous_read_lets_reads_through_without_a_key(
    anonymous_read_client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    me = anonymous_read_client.get(ME)
    assert me.status_code == 200, me.text
    assert me.json() == {
        "name": "anonymous",
        "role": "viewer",
        "key_id": None,
        "unit_id": None,
        "unit_name": None,
    }
    actions = anonymous_read_client.get("/api/v1/actions")
    assert actions.status_code == 200
    assert actions.json()["total"] > 0
    unit = anonymous_read_client.get(f"/api/v1/units/{first_id(engine, Unit)}")
    assert unit.status_code == 200 and unit.json()["name"]


def test_anonymous_read_still_needs_a_key_to_write_or_to_manage_keys(
    anonymous_read_client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    units_before = anonymous_read_client.get("/api/v1/units").json()["total"]
    assert_unauthorized(
        anonymous_read_client.post("/api/v1/units", json={"name": "丙局", "kind": "bureau"})
    )
    assert anonymous_read_client.get("/api/v1/units").json()["total"] == units_before
    assert_unauthorized(anonymous_read_client.get(KEYS))
    assert_unauthorized(anonymous_read_client.post(KEYS, json={"name": "me", "role": "admin"}))
    assert key_count(engine) == 0
    # a bad key is refused, not treated as anonymous
    assert_unauthorized(
        anonymous_read_client.get(ME, headers={"X-API-Key": "tsk_unknown1_" + "A" * 43})
    )


def test_anonymous_read_matrix(
    anonymous_read_client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    make_key(engine, Role.viewer, name="anon-target")
    params = {
        "action_id": str(first_id(engine, Action)),
        "id_or_slug": str(first_id(engine, Source)),
        "unit_id": str(first_id(engine, Unit)),
        "key_id": str(key_row(engine, "anon-target").id),
        "report_id": "1",
        "extension_id": "1",
        "evidence_id": "1",
        "channel_id": "1",
        "delivery_id": "1",
        "name": "weekly",
    }
    for (method, template), required in EXPECTED.items():
        response = call(anonymous_read_client, method, concrete_path(template, params), {})
        if required in (OPEN, Role.viewer):
            assert response.status_code not in (401, 403), (method, template, response.text)
            assert response.status_code < 500, (method, template, response.text)
        else:
            assert_unauthorized(response)
    assert key_row(engine, "anon-target").revoked_at is None


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "garbage", "Bearer tsk_unknown_key"]
)
def test_a_bad_authorization_header_is_401_even_beside_a_good_x_api_key(
    app: FastAPI, admin_key: str, authorization: str
) -> None:
    with TestClient(app) as anonymous:
        headers = {"X-API-Key": admin_key, "Authorization": authorization}
        body = assert_unauthorized(anonymous.get(ME, headers=headers))
        assert admin_key not in str(body)
        both = {"X-API-Key": admin_key, "Authorization": f"Bearer {admin_key}"}
        assert anonymous.get(ME, headers=both).json()["name"] == "test-admin"
