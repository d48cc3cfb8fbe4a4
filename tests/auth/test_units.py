"""Unit keys through the API (app/auth/units.py): the unit matrix over every write route, and
the rules one by one: a key of the lead unit writes its actions, a cooperating unit's key
reports progress only, any other unit's key writes nothing, an office-wide key everything
its role allows; a 403 changes nothing; every event names the acting key's unit."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth.models import Role
from tests.helpers import (
    ACTIONS,
    CALLERS,
    COOPERATING,
    LEAD,
    OFFICE,
    TODAY,
    UNIT_NAMES,
    UNIT_WORLD_QUOTES,
    UNIT_WORLD_TEXT,
    UNRELATED,
    UnitWorld,
    assert_problem,
    attach_evidence,
    events_of,
    get_action,
    make_key,
    unit_world,
)

# What a caller gets besides a plain status: 403 from the unit rule (the detail names the
# key and its unit), 403 from the role (unit keys are editor keys), or 200 with the sheet's
# row refused.
UNIT = "403 unit rule"
ROLE = "403 role"
ROW_REFUSED = "200, row refused"
Expected = int | str
World = UnitWorld


@pytest.fixture
def world(client: TestClient, engine: Engine) -> World:
    make_key(engine, Role.viewer, name="target-key")  # the DELETE /keys row's target
    return unit_world(client, engine)


@pytest.fixture
def as_key(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A client sending the given key (and answering a server error as 500, not raising)."""
    clients: list[TestClient] = []

    def client_for(key: str) -> TestClient:
        test_client = TestClient(app, headers={"X-API-Key": key}, raise_server_exceptions=False)
        clients.append(test_client.__enter__())
        return test_client

    yield client_for
    for test_client in clients:
        test_client.__exit__(None, None, None)


def if_match(admin: TestClient, action_id: int) -> dict[str, str]:
    return {"If-Match": f'W/"{get_action(admin, action_id)["version"]}"'}


# --- the requests of the matrix: each valid, so that whoever is let through succeeds ------

Call = tuple[str, str, dict[str, Any]]


def new_action(admin: TestClient, w: World) -> Call:
    body = {
        "source_id": w.source_id,
        "quote": UNIT_WORLD_QUOTES[1],
        "title": "建设科技孵化器",
        "kind": "recommendation",
        "owner_id": w.unit_ids[LEAD],
    }
    return "POST", ACTIONS, {"json": body}


def edit_action(admin: TestClient, w: World) -> Call:
    url = f"{ACTIONS}/{w.action_id}"
    return "PATCH", url, {"json": {"assignee": "王五"}, "headers": if_match(admin, w.action_id)}


def archive_action(admin: TestClient, w: World) -> Call:
    return "DELETE", f"{ACTIONS}/{w.action_id}", {"headers": if_match(admin, w.action_id)}


def accept_action(admin: TestClient, w: World) -> Call:
    body = {"to": "accepted", "note": "研究同意"}
    headers = if_match(admin, w.action_id)
    return "POST", f"{ACTIONS}/{w.action_id}/transitions", {"json": body, "headers": headers}


def report_progress(admin: TestClient, w: World) -> Call:
    body = {"note": "已走访企业", "progress": 20}
    headers = if_match(admin, w.action_id)
    return "POST", f"{ACTIONS}/{w.action_id}/updates", {"json": body, "headers": headers}


def _extendable(admin: TestClient, w: World) -> str:
    """The world's action accepted, with a due date; its extension requests' URL."""
    action = get_action(admin, w.action_id)
    if action["status"] == "proposed":
        body = {"to": "accepted", "note": "研究同意"}
        url = f"{ACTIONS}/{w.action_id}/transitions"
        assert admin.post(url, json=body, headers=if_match(admin, w.action_id)).is_success
    if action["due_on"] is None:
        due = {"due_on": (TODAY + timedelta(days=30)).isoformat()}
        url = f"{ACTIONS}/{w.action_id}"
        assert admin.patch(url, json=due, headers=if_match(admin, w.action_id)).is_success
    return f"{ACTIONS}/{w.action_id}/extensions"


def ask_extension(admin: TestClient, w: World) -> Call:
    body = {"new_due_on": (TODAY + timedelta(days=60)).isoformat(), "reason": "企业签约推迟"}
    return "POST", _extendable(admin, w), {"json": body}


def decide_extension(admin: TestClient, w: World) -> Call:
    _, url, request = ask_extension(admin, w)
    asked = admin.post(url, **request)
    assert asked.status_code == 201, asked.text
    return "POST", f"{url}/{asked.json()['id']}/decision", {"json": {"approve": True}}


def press_action(admin: TestClient, w: World) -> Call:
    return "POST", f"{ACTIONS}/{w.action_id}/reminders", {"json": {"note": "请尽快报送进展"}}


def upload_evidence(admin: TestClient, w: World) -> Call:
    files = {"file": ("会议纪要.txt", "专班会议纪要\n".encode(), "text/plain")}
    return "POST", f"{ACTIONS}/{w.action_id}/evidence", {"files": files}


def withdraw_evidence(admin: TestClient, w: World) -> Call:
    """An evidence file uploaded by the office (the admin's key), withdrawn."""
    evidence = attach_evidence(admin, w.action_id)
    return "DELETE", f"/api/v1/evidence/{evidence['id']}", {}


def new_source(admin: TestClient, w: World) -> Call:
    return (
        "POST",
        "/api/v1/sources",
        {"json": {"slug": "matrix", "title": "矩阵", "text": UNIT_WORLD_TEXT}},
    )


def new_unit(admin: TestClient, w: World) -> Call:
    return "POST", "/api/v1/units", {"json": {"name": "丁新局", "kind": "bureau"}}


def edit_unit(admin: TestClient, w: World) -> Call:
    return "PATCH", f"/api/v1/units/{w.unit_ids[LEAD]}", {"json": {"kind": "other"}}


def new_key(admin: TestClient, w: World) -> Call:
    return "POST", "/api/v1/keys", {"json": {"name": "made-here", "role": "viewer"}}


def revoke_key(admin: TestClient, w: World) -> Call:
    [target] = [k for k in admin.get("/api/v1/keys").json()["items"] if k["name"] == "target-key"]
    return "DELETE", f"/api/v1/keys/{target['id']}", {}


def keep_report(admin: TestClient, w: World) -> Call:
    period = {
        "period_start": (TODAY - timedelta(days=6)).isoformat(),
        "period_end": TODAY.isoformat(),
    }
    return "POST", "/api/v1/reports", {"json": {"format": "json", **period}}


def change_schedule(admin: TestClient, w: World) -> Call:
    return "PUT", "/api/v1/report-schedules/weekly", {"json": {"enabled": False}}


def import_note(admin: TestClient, w: World) -> Call:
    version = get_action(admin, w.action_id)["version"]
    sheet = f"编号,版本,本次进展\n{w.action_id},{version},表格报送进展\n".encode()
    files = {"file": ("进展.csv", sheet)}
    return "POST", "/api/v1/imports", {"params": {"dry_run": "false"}, "files": files}


def new_channel(admin: TestClient, w: World) -> Call:
    body = {"name": "群", "kind": "webhook", "url": "https://hooks.example.org/t"}
    return "POST", "/api/v1/channels", {"json": body}


def a_channel(admin: TestClient) -> int:
    response = admin.post(
        "/api/v1/channels",
        json={"name": "已有的群", "kind": "webhook", "url": "https://hooks.example.org/u"},
    )
    assert response.status_code == 201, response.text
    channel_id: int = response.json()["id"]
    return channel_id


def edit_channel(admin: TestClient, w: World) -> Call:
    return "PATCH", f"/api/v1/channels/{a_channel(admin)}", {"json": {"enabled": False}}


def delete_channel(admin: TestClient, w: World) -> Call:
    return "DELETE", f"/api/v1/channels/{a_channel(admin)}", {}


def send_test_message(admin: TestClient, w: World) -> Call:
    return "POST", f"/api/v1/channels/{a_channel(admin)}/test", {}


def retry_delivery(admin: TestClient, w: World) -> Call:
    return "POST", "/api/v1/deliveries/1/retry", {}


def everyone(expected: Expected) -> dict[str, Expected]:
    return dict.fromkeys(CALLERS, expected)


def office_only(status: int) -> dict[str, Expected]:
    return {LEAD: UNIT, COOPERATING: UNIT, UNRELATED: UNIT, OFFICE: status}


def lead_only(status: int) -> dict[str, Expected]:
    return {LEAD: status, COOPERATING: UNIT, UNRELATED: UNIT, OFFICE: status}


# Every write route of the API and what each of the four keys gets; a route missing here
# fails test_unit_matrix_covers_every_write_route.
UNIT_MATRIX: dict[tuple[str, str], tuple[Callable[[TestClient, World], Call], dict]] = {
    ("POST", "/api/v1/actions"): (new_action, lead_only(201)),
    ("PATCH", "/api/v1/actions/{action_id}"): (edit_action, lead_only(200)),
    ("DELETE", "/api/v1/actions/{action_id}"): (archive_action, everyone(ROLE)),
    ("POST", "/api/v1/actions/{action_id}/transitions"): (accept_action, lead_only(200)),
    ("POST", "/api/v1/actions/{action_id}/updates"): (
        report_progress,
        {LEAD: 200, COOPERATING: 200, UNRELATED: UNIT, OFFICE: 200},
    ),
    ("POST", "/api/v1/actions/{action_id}/extensions"): (ask_extension, lead_only(201)),
    ("POST", "/api/v1/actions/{action_id}/extensions/{extension_id}/decision"): (
        decide_extension,
        everyone(ROLE),
    ),
    ("POST", "/api/v1/actions/{action_id}/reminders"): (press_action, everyone(ROLE)),
    ("POST", "/api/v1/actions/{action_id}/evidence"): (
        upload_evidence,
        {LEAD: 201, COOPERATING: 201, UNRELATED: UNIT, OFFICE: 201},
    ),
    # Uploaded by an office-wide key: the office withdraws it, a unit key may not.
    ("DELETE", "/api/v1/evidence/{evidence_id}"): (withdraw_evidence, office_only(200)),
    ("POST", "/api/v1/sources"): (new_source, office_only(201)),
    ("POST", "/api/v1/units"): (new_unit, office_only(201)),
    ("PATCH", "/api/v1/units/{unit_id}"): (edit_unit, office_only(200)),
    ("POST", "/api/v1/keys"): (new_key, everyone(ROLE)),
    ("DELETE", "/api/v1/keys/{key_id}"): (revoke_key, everyone(ROLE)),
    ("POST", "/api/v1/reports"): (keep_report, office_only(201)),
    ("PUT", "/api/v1/report-schedules/{name}"): (change_schedule, everyone(ROLE)),
    ("POST", "/api/v1/imports"): (
        import_note,
        {LEAD: 200, COOPERATING: 200, UNRELATED: ROW_REFUSED, OFFICE: 200},
    ),
    ("POST", "/api/v1/channels"): (new_channel, everyone(ROLE)),
    ("PATCH", "/api/v1/channels/{channel_id}"): (edit_channel, everyone(ROLE)),
    ("DELETE", "/api/v1/channels/{channel_id}"): (delete_channel, everyone(ROLE)),
    ("POST", "/api/v1/channels/{channel_id}/test"): (send_test_message, everyone(ROLE)),
    ("POST", "/api/v1/deliveries/{delivery_id}/retry"): (retry_delivery, everyone(ROLE)),
}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def write_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every write operation under /api/v1. From the OpenAPI, as the role matrix takes them:
    FastAPI 0.165 keeps an included router's routes behind it, out of app.routes."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
        if method.upper() in WRITE_METHODS
    }


def test_unit_matrix_covers_every_write_route(app: FastAPI) -> None:
    routes = write_routes(app)
    missing, stale = sorted(routes - set(UNIT_MATRIX)), sorted(set(UNIT_MATRIX) - routes)
    assert not missing, (
        f"write routes with no row in UNIT_MATRIX: {missing}; add a row saying what a key of "
        "the lead unit, of a cooperating unit, of an unrelated unit and an office-wide editor "
        "key get there (and apply the unit rule to the route: app/auth/dependencies.py)"
    )
    assert not stale, f"rows of UNIT_MATRIX for routes that no longer exist: {stale}"
    for route, (_, expected) in UNIT_MATRIX.items():
        assert set(expected) == set(CALLERS), route


def state(admin: TestClient, w: World) -> dict[str, Any]:
    """Everything a write of the matrix could change, read as the admin."""
    lists = {
        path: admin.get(path, params={"limit": 200}).json()["items"]
        for path in ("/api/v1/units", "/api/v1/sources", "/api/v1/reports", "/api/v1/keys")
    }
    for key in lists["/api/v1/keys"]:
        key.pop("last_used_at")  # using a key is not a change
    return {
        "action": get_action(admin, w.action_id),
        "events": events_of(admin, w.action_id),
        "actions": admin.get(ACTIONS, params={"include_archived": "true"}).json()["total"],
        "schedules": admin.get("/api/v1/report-schedules").json()["items"],
        **lists,
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(UNIT_MATRIX), ids=" ".join)
def test_unit_matrix(
    client: TestClient,
    world: World,
    as_key: Callable[[str], TestClient],
    route: tuple[str, str],
    caller: str,
) -> None:
    build, expectations = UNIT_MATRIX[route]
    expected = expectations[caller]
    method, url, request = build(client, world)
    before = state(client, world)
    response = as_key(world.keys[caller]).request(method, url, **request)
    where = f"{method} {url} with the {caller} key"

    if expected in (UNIT, ROLE):
        body = assert_problem(response, 403)
        if expected == UNIT:
            acts_for = f"key '{world.key_name(caller)}' acts for {UNIT_NAMES[caller]}"
            assert acts_for in body["detail"], (where, body)
        else:
            assert "role" in body["detail"], (where, body)
        assert state(client, world) == before, f"{where}: a 403 changed something"
        return
    if expected == ROW_REFUSED:
        assert response.status_code == 200, (where, response.text)
        [row] = response.json()["results"]
        assert row["outcome"] == "error", (where, row)
        assert UNIT_NAMES[caller] in row["errors"][0]["reason"], (where, row)
        assert state(client, world) == before, f"{where}: a refused row changed something"
        return
    assert response.status_code == expected, (where, response.text)
    written = response.json()["id"] if route == ("POST", "/api/v1/actions") else world.action_id
    events = events_of(client, written)
    if len(events) > len(before["events"]) or written != world.action_id:
        assert events[-1]["actor"] == world.key_name(caller), (where, events[-1])
        assert events[-1]["actor_unit"] == UNIT_NAMES.get(caller), (where, events[-1])


# --- the rules one by one -----------------------------------------------------------------


def test_a_cooperating_unit_key_reports_progress_but_cannot_change_the_action(
    client: TestClient, world: World, as_key: Callable[[str], TestClient]
) -> None:
    cooperating = as_key(world.keys[COOPERATING])
    action = f"{ACTIONS}/{world.action_id}"
    reported = cooperating.post(
        f"{action}/updates",
        json={"note": "配合提供企业名单", "progress": 10},
        headers=if_match(client, world.action_id),
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["progress"] == 10
    before = state(client, world)

    patched = cooperating.patch(
        action, json={"assignee": "赵六"}, headers=if_match(client, world.action_id)
    )
    body = assert_problem(patched, 403)
    assert body["detail"] == (
        f"key 'cooperating-key' acts for 乙配合局, which cooperates on action {world.action_id}: "
        "a cooperating unit may post progress updates, not change the action (its lead unit "
        "is 甲牵头局)"
    )
    assert body["action_id"] == world.action_id
    moved = cooperating.post(
        f"{action}/transitions",
        json={"to": "accepted", "note": "同意"},
        headers=if_match(client, world.action_id),
    )
    assert "cooperates on action" in assert_problem(moved, 403)["detail"]
    assert state(client, world) == before
    last = events_of(client, world.action_id)[-1]
    assert (last["kind"], last["actor"], last["actor_unit"]) == (
        "progress",
        "cooperating-key",
        "乙配合局",
    )


def action_writes(admin: TestClient, w: World) -> list[Call]:
    """Every write on the world's action, and creating one the lead unit leads."""
    return [
        new_action(admin, w),
        edit_action(admin, w),
        accept_action(admin, w),
        report_progress(admin, w),
        ("PATCH", f"{ACTIONS}/{w.action_id}", {"json": {"owner_id": w.unit_ids[UNRELATED]}}),
    ]


def test_an_unrelated_unit_key_gets_403_everywhere_and_nothing_changes(
    client: TestClient, world: World, as_key: Callable[[str], TestClient]
) -> None:
    unrelated = as_key(world.keys[UNRELATED])
    before = state(client, world)
    for method, url, request in action_writes(client, world):
        body = assert_problem(unrelated.request(method, url, **request), 403)
        assert body["detail"].startswith("key 'unrelated-key' acts for 丙无关局"), body
        if url != ACTIONS:
            assert f"neither leads nor cooperates on action {world.action_id}" in body["detail"]
            assert "its lead unit is 甲牵头局" in body["detail"]
    # Whatever else is wrong with the request: the unit rule answers first (no 422, 428).
    for request in ({"json": {"progress": "lots"}}, {"json": {"assignee": "x"}}):
        patched = unrelated.patch(f"{ACTIONS}/{world.action_id}", **request)
        assert_problem(patched, 403)
    assert state(client, world) == before


def test_a_lead_unit_key_creates_only_actions_its_unit_leads_and_keeps_the_lead(
    client: TestClient, world: World, as_key: Callable[[str], TestClient]
) -> None:
    lead = as_key(world.keys[LEAD])
    _, url, request = new_action(client, world)
    for owner in (UNRELATED, COOPERATING):
        body = {**request["json"], "owner_id": world.unit_ids[owner]}
        refused = assert_problem(lead.post(url, json=body), 403)
        assert refused["detail"] == (
            "key 'lead-key' acts for 甲牵头局: a unit key creates only actions its unit leads "
            f"(owner_id {world.unit_ids[LEAD]}), not for unit {world.unit_ids[owner]}"
        )
    assert client.get(ACTIONS).json()["total"] == 1
    created = lead.post(url, **request)
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == {"id": world.unit_ids[LEAD], "name": "甲牵头局"}
    [event] = events_of(client, created.json()["id"])
    assert (event["kind"], event["actor"], event["actor_unit"]) == (
        "created",
        "lead-key",
        "甲牵头局",
    )

    action = f"{ACTIONS}/{world.action_id}"
    before = state(client, world)
    moved_away = lead.patch(
        action,
        json={"owner_id": world.unit_ids[UNRELATED], "assignee": "钱七"},
        headers=if_match(client, world.action_id),
    )
    assert assert_problem(moved_away, 403)["detail"] == (
        f"key 'lead-key' acts for 甲牵头局, which leads action {world.action_id}: moving the "
        f"lead to another unit (owner_id {world.unit_ids[UNRELATED]}) is for keys of the whole "
        "office"
    )
    assert state(client, world) == before
    # Its own unit as the lead changes nothing about the lead; the cooperating units are its call.
    kept = lead.patch(
        action,
        json={"owner_id": world.unit_ids[LEAD], "co_owner_ids": [world.unit_ids[UNRELATED]]},
        headers=if_match(client, world.action_id),
    )
    assert kept.status_code == 200, kept.text
    assert [unit["name"] for unit in kept.json()["co_owners"]] == ["丙无关局"]
    # The whole office reassigns the lead.
    office = as_key(world.keys[OFFICE])
    reassigned = office.patch(
        action,
        json={"owner_id": world.unit_ids[COOPERATING]},
        headers=if_match(client, world.action_id),
    )
    assert reassigned.status_code == 200, reassigned.text
    assert reassigned.json()["owner"]["name"] == "乙配合局"
    # … after which the former lead unit's key writes no more on it.
    refused = lead.patch(
        action, json={"assignee": "孙八"}, headers=if_match(client, world.action_id)
    )
    assert "neither leads nor cooperates" in assert_problem(refused, 403)["detail"]


def test_events_name_the_unit_a_key_acts_for_by_its_current_name(
    client: TestClient, world: World, as_key: Callable[[str], TestClient]
) -> None:
    lead, office = as_key(world.keys[LEAD]), as_key(world.keys[OFFICE])
    action = f"{ACTIONS}/{world.action_id}"
    for who, assignee in ((lead, "周一"), (office, "吴二")):
        response = who.patch(
            action, json={"assignee": assignee}, headers=if_match(client, world.action_id)
        )
        assert response.status_code == 200, response.text
    renamed = client.patch(f"/api/v1/units/{world.unit_ids[LEAD]}", json={"name": "甲牵头局（新）"})
    assert renamed.status_code == 200, renamed.text
    moved = lead.post(
        f"{action}/transitions",
        json={"to": "accepted", "note": "同意"},
        headers=if_match(client, world.action_id),
    )
    assert moved.status_code == 200, moved.text
    events = events_of(client, world.action_id)
    assert [(e["kind"], e["actor"], e["actor_unit"]) for e in events] == [
        ("created", "test-admin", None),
        ("updated", "lead-key", "甲牵头局"),
        ("updated", "office-key", None),
        ("transition", "lead-key", "甲牵头局（新）"),
    ]
    me = lead.get("/api/v1/me").json()
    assert (me["unit_id"], me["unit_name"]) == (world.unit_ids[LEAD], "甲牵头局（新）")


def test_a_lead_unit_asks_for_an_extension_in_its_name_and_a_supervisor_decides(
    client: TestClient, engine: Engine, world: World, as_key: Callable[[str], TestClient]
) -> None:
    _, url, request = ask_extension(client, world)
    asked = as_key(world.keys[LEAD]).post(url, **request)
    assert asked.status_code == 201, asked.text
    assert (asked.json()["requested_by"], asked.json()["requested_unit"]) == (
        "lead-key",
        "甲牵头局",
    )
    supervisor = as_key(make_key(engine, Role.supervisor, name="督查-key"))
    decided = supervisor.post(f"{url}/{asked.json()['id']}/decision", json={"approve": True})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "督查-key"
    events = events_of(client, world.action_id)[-2:]
    assert [(e["kind"], e["actor"], e["actor_unit"]) for e in events] == [
        ("extension_requested", "lead-key", "甲牵头局"),
        ("extension_decided", "督查-key", None),
    ]


def test_the_order_of_refusals_for_a_unit_key(
    client: TestClient,
    engine: Engine,
    world: World,
    anonymous_client: TestClient,
    as_key: Callable[[str], TestClient],
) -> None:
    lead, cooperating = as_key(world.keys[LEAD]), as_key(world.keys[COOPERATING])
    action = f"{ACTIONS}/{world.action_id}"
    # 401 before anything
    assert_problem(anonymous_client.patch(f"{ACTIONS}/999999", json={}), 401)
    # 403 of the role before the action is looked up
    viewer = as_key(make_key(engine, Role.viewer))
    assert (
        "editor role" in assert_problem(viewer.patch(f"{ACTIONS}/999999", json={}), 403)["detail"]
    )
    # 404 for an action that does not exist, before the unit rule and the body
    assert "999999" in assert_problem(lead.patch(f"{ACTIONS}/999999", json={"x": 1}), 404)["detail"]
    # 403 of the unit rule before the body (422) and If-Match (428)
    assert_problem(cooperating.patch(action, json={"progress": "lots"}), 403)
    assert_problem(cooperating.patch(action, json={"assignee": "x"}), 403)
    # and a key the rule lets through meets those next
    assert_problem(lead.patch(action, json={"progress": "lots"}), 422)
    assert_problem(lead.patch(action, json={"assignee": "x"}), 428)
    assert_problem(lead.patch(action, json={"assignee": "x"}, headers={"If-Match": 'W/"9"'}), 412)
    assert get_action(client, world.action_id)["version"] == 1


def test_unit_keys_read_everything(
    client: TestClient, world: World, as_key: Callable[[str], TestClient]
) -> None:
    unrelated = as_key(world.keys[UNRELATED])
    for path in (
        ACTIONS,
        f"{ACTIONS}/{world.action_id}",
        f"{ACTIONS}/{world.action_id}/events",
        "/api/v1/stats",
        "/api/v1/units",
        f"/api/v1/sources/{world.source_id}",
        "/api/v1/reports/status?format=json",
        "/api/v1/me",
    ):
        response = unrelated.get(path)
        assert response.status_code == 200, (path, response.text)
    assert unrelated.get(f"{ACTIONS}/{world.action_id}").json()["owner"]["name"] == "甲牵头局"


# --- keys that belong to a unit -------------------------------------------------------------


def test_a_key_of_a_unit_shows_its_unit_in_keys_and_me(
    client: TestClient, anonymous_client: TestClient, world: World
) -> None:
    unit_id = world.unit_ids[COOPERATING]
    created = client.post(
        "/api/v1/keys", json={"name": "yi-li", "role": "editor", "unit_id": unit_id}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["unit_id"], body["unit_name"]) == (unit_id, "乙配合局")
    listed = {key["name"]: key for key in client.get("/api/v1/keys").json()["items"]}
    assert (listed["yi-li"]["unit_id"], listed["yi-li"]["unit_name"]) == (unit_id, "乙配合局")
    assert (listed["office-key"]["unit_id"], listed["office-key"]["unit_name"]) == (None, None)
    me = anonymous_client.get("/api/v1/me", headers={"X-API-Key": body["key"]})
    assert me.json() == {
        "name": "yi-li",
        "role": "editor",
        "key_id": body["id"],
        "unit_id": unit_id,
        "unit_name": "乙配合局",
    }
    revoked = client.delete(f"/api/v1/keys/{body['id']}")
    assert (revoked.json()["unit_name"], revoked.json()["revoked_at"] is not None) == (
        "乙配合局",
        True,
    )


@pytest.mark.parametrize("role", [Role.viewer, Role.supervisor, Role.admin])
def test_only_an_editor_key_may_belong_to_a_unit(
    client: TestClient, world: World, role: Role
) -> None:
    keys_before = client.get("/api/v1/keys").json()["total"]
    response = client.post(
        "/api/v1/keys", json={"name": "no-such", "role": role, "unit_id": world.unit_ids[LEAD]}
    )
    body = assert_problem(response, 422)
    assert ["body", "unit_id"] in [error["loc"] for error in body["errors"]]
    assert f"a {role} key acts for the whole office" in body["detail"]
    assert client.get("/api/v1/keys").json()["total"] == keys_before


@pytest.mark.parametrize("unit_id", [999999, 0, "甲牵头局"])
def test_a_key_of_an_unknown_unit_is_422(
    client: TestClient, world: World, unit_id: int | str
) -> None:
    keys_before = client.get("/api/v1/keys").json()["total"]
    response = client.post("/api/v1/keys", json={"name": "x", "role": "editor", "unit_id": unit_id})
    body = assert_problem(response, 422)
    assert ["body", "unit_id"] in [error["loc"] for error in body["errors"]]
    if unit_id == 999999:
        assert body["detail"] == "unit 999999 does not exist"
    assert client.get("/api/v1/keys").json()["total"] == keys_before
