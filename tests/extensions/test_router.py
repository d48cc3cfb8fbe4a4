"""Extension requests (延期申请) through the HTTP API: an editor asks for a later due date, a
supervisor approves (the due date moves, the first one is kept, the count goes up) or rejects
it with a note; what is refused and why; the lists; the events on the timeline."""

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from app.actions.workflow import Status
from app.auth.models import Role
from app.extensions import service as extension_service
from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    TODAY,
    assert_explained_problem,
    created_action,
    events_of,
    get_action,
    listed_actions,
    make_key,
    next_link,
    set_status,
    transitioned,
    write_action,
)

EDITOR, SUPERVISOR = "wang-editor", "li-ducha"
DUE = TODAY + timedelta(days=30)
LATER = DUE + timedelta(days=90)
REASON = "土地报批手续尚在省厅审核，需延期一个季度"


def extensions_url(action_id: int) -> str:
    return f"{ACTIONS}/{action_id}/extensions"


def decision_url(action_id: int, extension_id: int) -> str:
    return f"{extensions_url(action_id)}/{extension_id}/decision"


@pytest.fixture
def keys(engine: Engine) -> dict[Role, dict[str, str]]:
    """Headers of an editor's, a viewer's and a supervisor's key."""
    return {
        Role.viewer: {"X-API-Key": make_key(engine, Role.viewer, name="zhao-viewer")},
        Role.editor: {"X-API-Key": make_key(engine, Role.editor, name=EDITOR)},
        Role.supervisor: {"X-API-Key": make_key(engine, Role.supervisor, name=SUPERVISOR)},
    }


def active_action(client: TestClient, due_on: date | None = DUE) -> dict[str, Any]:
    """A new action, accepted, due on due_on."""
    action = created_action(client, due_on=due_on.isoformat() if due_on else None)
    return transitioned(client, action["id"], "accepted")


@pytest.fixture
def action(client: TestClient, seeded: SeedReport) -> dict[str, Any]:
    return active_action(client)


def ask(
    client: TestClient,
    action_id: int,
    headers: dict[str, str],
    new_due_on: date | str | None = LATER,
    reason: str | None = REASON,
) -> Any:
    body: dict[str, Any] = {}
    if new_due_on is not None:
        body["new_due_on"] = new_due_on if isinstance(new_due_on, str) else new_due_on.isoformat()
    if reason is not None:
        body["reason"] = reason
    return client.post(extensions_url(action_id), json=body, headers=headers)


def asked(client: TestClient, action_id: int, headers: dict[str, str], **body: Any) -> Any:
    response = ask(client, action_id, headers, **body)
    assert response.status_code == 201, response.text
    return response.json()


def decide(
    client: TestClient,
    action_id: int,
    extension_id: int,
    headers: dict[str, str],
    approve: bool,
    note: str | None = None,
) -> Any:
    body: dict[str, Any] = {"approve": approve}
    if note is not None:
        body["note"] = note
    return client.post(decision_url(action_id, extension_id), json=body, headers=headers)


def dates_of(action: dict[str, Any]) -> tuple[Any, Any, Any]:
    return action["due_on"], action["original_due_on"], action["extension_count"]


def test_an_editor_asks_and_gets_the_request_with_its_location(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    response = ask(client, action["id"], keys[Role.editor])

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        *("id", "action_id", "from_due_on", "new_due_on", "reason", "late", "state"),
        *("requested_by", "requested_unit", "requested_at"),
        *("decided_by", "decided_at", "decision_note"),
    }
    assert body["action_id"] == action["id"]
    assert (body["from_due_on"], body["new_due_on"]) == (DUE.isoformat(), LATER.isoformat())
    assert (body["reason"], body["late"], body["state"]) == (REASON, False, "pending")
    assert (body["requested_by"], body["requested_unit"]) == (EDITOR, None)  # office-wide key
    assert body["requested_at"].startswith(str(TODAY.year))
    assert (body["decided_by"], body["decided_at"], body["decision_note"]) == (None, None, None)
    location = response.headers["location"]
    assert location == f"{extensions_url(action['id'])}/{body['id']}"
    fetched = client.get(location)
    assert fetched.status_code == 200 and fetched.json() == body
    assert fetched.headers["etag"] == response.headers["etag"]
    assert (
        client.get(location, headers={"If-None-Match": fetched.headers["etag"]}).status_code == 304
    )

    # The due date does not move until a supervisor approves; the timeline tells the request.
    after = get_action(client, action["id"])
    assert (after["due_on"], after["original_due_on"], after["extension_count"]) == (
        DUE.isoformat(),
        DUE.isoformat(),
        0,
    )
    assert after["version"] == action["version"] + 1
    event = events_of(client, action["id"])[-1]
    assert (event["kind"], event["actor"], event["changes"]) == (
        "extension_requested",
        EDITOR,
        None,
    )
    assert REASON in event["note"]
    assert DUE.isoformat() in event["note"] and LATER.isoformat() in event["note"]


def test_a_request_after_the_due_date_is_late(
    client: TestClient,
    seeded: SeedReport,
    keys: dict[Role, dict[str, str]],
    set_clock: Callable[[str], None],
) -> None:
    on_time, late = active_action(client), active_action(client)
    set_clock(f"{DUE.isoformat()} 23:30")  # the due date itself: not late yet
    assert asked(client, on_time["id"], keys[Role.editor])["late"] is False
    set_clock(f"{(DUE + timedelta(days=1)).isoformat()} 00:10")  # Shanghai's next day
    body = asked(client, late["id"], keys[Role.editor])
    assert (body["late"], body["from_due_on"]) == (True, DUE.isoformat())
    assert get_action(client, late["id"])["overdue"] is True


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"new_due_on": LATER.isoformat()}, ["body", "reason"]),
        ({"new_due_on": LATER.isoformat(), "reason": ""}, ["body", "reason"]),
        ({"new_due_on": LATER.isoformat(), "reason": " \u3000\n "}, ["body", "reason"]),
        ({"reason": REASON}, ["body", "new_due_on"]),
        ({"new_due_on": DUE.isoformat(), "reason": REASON}, ["body", "new_due_on"]),
        (
            {"new_due_on": (DUE - timedelta(days=1)).isoformat(), "reason": REASON},
            ["body", "new_due_on"],
        ),
        ({"new_due_on": LATER.isoformat(), "reason": REASON, "late": True}, ["body", "late"]),
    ],
    ids=["no reason", "empty", "blank", "no date", "same day", "earlier", "extra field"],
)
def test_a_request_without_reason_or_a_later_day_is_422(
    client: TestClient,
    action: dict[str, Any],
    keys: dict[Role, dict[str, str]],
    body: dict[str, Any],
    loc: list[str] | None,
) -> None:
    response = client.post(extensions_url(action["id"]), json=body, headers=keys[Role.editor])
    problem = assert_explained_problem(response, 422, loc)
    if "not after" in problem["detail"]:
        assert DUE.isoformat() in problem["detail"]  # the current due date it must pass
    assert client.get(extensions_url(action["id"])).json()["total"] == 0
    assert events_of(client, action["id"])[-1]["kind"] == "transition"


def test_an_action_without_a_due_date_has_nothing_to_extend(
    client: TestClient, seeded: SeedReport, keys: dict[Role, dict[str, str]]
) -> None:
    action = active_action(client, due_on=None)
    problem = assert_explained_problem(
        ask(client, action["id"], keys[Role.editor]), 422, ["body", "new_due_on"]
    )
    assert "no due date" in problem["detail"]


def test_a_second_pending_request_is_409_and_a_decided_one_allows_another(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    first = asked(client, action["id"], keys[Role.editor])
    second = ask(client, action["id"], keys[Role.editor], new_due_on=LATER + timedelta(days=1))
    problem = assert_explained_problem(second, 409)
    assert "pending" in problem["detail"] and problem["pending_extension_id"] == first["id"]

    rejected = decide(client, action["id"], first["id"], keys[Role.supervisor], False, "理由不足")
    assert rejected.status_code == 200, rejected.text
    again = asked(client, action["id"], keys[Role.editor], reason="补充材料后再次申请")
    assert again["id"] != first["id"] and again["state"] == "pending"


def test_a_race_past_the_check_is_409_from_the_unique_index(
    client: TestClient,
    action: dict[str, Any],
    keys: dict[Role, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked(client, action["id"], keys[Role.editor])
    version = get_action(client, action["id"])["version"]
    # As if a concurrent request committed between this one's check and its insert.
    monkeypatch.setattr(extension_service, "_pending_request", lambda *_: None)

    response = ask(client, action["id"], keys[Role.editor], new_due_on=LATER + timedelta(days=7))

    problem = assert_explained_problem(response, 409)
    assert "already has a pending extension request" in problem["detail"]
    assert client.get(extensions_url(action["id"])).json()["total"] == 1
    assert get_action(client, action["id"])["version"] == version  # nothing of it was kept


@pytest.mark.parametrize("status", [Status.proposed, Status.completed, Status.declined])
def test_an_action_not_being_worked_on_takes_no_request(
    client: TestClient,
    seeded: SeedReport,
    session: Session,
    keys: dict[Role, dict[str, str]],
    status: Status,
) -> None:
    action = created_action(client, due_on=DUE.isoformat())
    set_status(session, action["id"], status)
    problem = assert_explained_problem(ask(client, action["id"], keys[Role.editor]), 409)
    assert str(status) in problem["detail"] and problem["current_status"] == status


def test_an_archived_action_takes_no_request(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    write_action(client, action["id"], "archive")
    problem = assert_explained_problem(ask(client, action["id"], keys[Role.editor]), 409)
    assert "archived" in problem["detail"]


def test_unknown_action_or_request_is_404(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    assert_explained_problem(ask(client, 99999, keys[Role.editor]), 404)
    assert_explained_problem(client.get(extensions_url(99999)), 404)
    assert_explained_problem(client.get(f"{extensions_url(action['id'])}/1"), 404)
    other = active_action(client)
    request = asked(client, other["id"], keys[Role.editor])
    # A request is reached only through its own action.
    assert_explained_problem(client.get(f"{extensions_url(action['id'])}/{request['id']}"), 404)
    wrong = decide(client, action["id"], request["id"], keys[Role.supervisor], True)
    assert_explained_problem(wrong, 404)


def test_approval_moves_the_due_date_keeps_the_first_and_counts(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    request = asked(client, action["id"], keys[Role.editor])
    before = get_action(client, action["id"])

    response = decide(client, action["id"], request["id"], keys[Role.supervisor], True, "同意")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["decided_by"], body["decision_note"]) == (
        "approved",
        SUPERVISOR,
        "同意",
    )
    assert body["decided_at"] is not None and body["id"] == request["id"]
    after = get_action(client, action["id"])
    assert (after["due_on"], after["original_due_on"], after["extension_count"]) == (
        LATER.isoformat(),
        DUE.isoformat(),
        1,
    )
    assert after["version"] == before["version"] + 1
    assert after["updated_at"] >= before["updated_at"]
    assert client.get(f"{ACTIONS}/{action['id']}").headers["etag"] == f'W/"{after["version"]}"'
    event = events_of(client, action["id"])[-1]
    assert (event["kind"], event["actor"]) == ("extension_decided", SUPERVISOR)
    assert event["changes"] == {
        "due_on": [DUE.isoformat(), LATER.isoformat()],
        "extension_count": [0, 1],
    }
    assert "同意" in event["note"]

    # The list reads them too, now and as of today's end (the dates are not rebuilt: current).
    for params in ({}, {"as_of": TODAY.isoformat()}):
        [listed] = [a for a in listed_actions(client, **params) if a["id"] == action["id"]]
        assert dates_of(listed) == (LATER.isoformat(), DUE.isoformat(), 1), params

    # 明细 shows the first due date beside the current one, and the count.
    report = client.get("/api/v1/reports/status", params={"format": "xlsx"})
    assert report.status_code == 200, report.text
    rows = load_workbook(io.BytesIO(report.content))["明细"].iter_rows(values_only=True)
    headings = [str(cell).replace(" ✎", "") for cell in next(rows)]
    line = next(dict(zip(headings, row, strict=True)) for row in rows if row[0] == action["id"])
    assert line["截止日期"].date() == LATER
    assert line["原定完成时限"].date() == DUE
    assert line["延期次数"] == 1

    # A second extension counts on and still keeps the first due date.
    second = asked(client, action["id"], keys[Role.editor], new_due_on=LATER + timedelta(days=30))
    assert second["from_due_on"] == LATER.isoformat()
    assert (
        decide(client, action["id"], second["id"], keys[Role.supervisor], True).status_code == 200
    )
    final = get_action(client, action["id"])
    assert (final["original_due_on"], final["extension_count"]) == (DUE.isoformat(), 2)
    assert events_of(client, action["id"])[-1]["changes"]["extension_count"] == [1, 2]


def test_rejection_needs_a_note_and_changes_no_date(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    request = asked(client, action["id"], keys[Role.editor])
    for note in (None, "", "  "):
        response = decide(client, action["id"], request["id"], keys[Role.supervisor], False, note)
        assert_explained_problem(response, 422, ["body", "note"])
    assert client.get(f"{extensions_url(action['id'])}/{request['id']}").json() == request

    response = decide(
        client, action["id"], request["id"], keys[Role.supervisor], False, "理由不充分"
    )

    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["decision_note"]) == (
        "rejected",
        "理由不充分",
    )
    after = get_action(client, action["id"])
    assert (after["due_on"], after["original_due_on"], after["extension_count"]) == (
        DUE.isoformat(),
        DUE.isoformat(),
        0,
    )
    event = events_of(client, action["id"])[-1]
    assert (event["kind"], event["changes"]) == ("extension_decided", None)
    assert "理由不充分" in event["note"]


def test_only_a_pending_request_is_decided(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    request = asked(client, action["id"], keys[Role.editor])
    assert (
        decide(client, action["id"], request["id"], keys[Role.supervisor], True).status_code == 200
    )
    for approve, note in ((True, None), (False, "再议")):
        again = decide(client, action["id"], request["id"], keys[Role.supervisor], approve, note)
        problem = assert_explained_problem(again, 409)
        assert "already approved" in problem["detail"] and problem["current_state"] == "approved"
    assert get_action(client, action["id"])["extension_count"] == 1


def test_an_approval_after_the_due_date_moved_otherwise_is_409(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    request = asked(client, action["id"], keys[Role.editor])
    write_action(client, action["id"], "patch", {"due_on": (DUE + timedelta(days=5)).isoformat()})
    problem = assert_explained_problem(
        decide(client, action["id"], request["id"], keys[Role.supervisor], True), 409
    )
    assert "reject this request" in problem["detail"]
    rejected = decide(client, action["id"], request["id"], keys[Role.supervisor], False, "已调整")
    assert rejected.status_code == 200


def test_editors_ask_and_only_supervisors_decide(
    client: TestClient, action: dict[str, Any], keys: dict[Role, dict[str, str]]
) -> None:
    assert_explained_problem(ask(client, action["id"], keys[Role.viewer]), 403)
    request = asked(client, action["id"], keys[Role.editor])
    refused = decide(client, action["id"], request["id"], keys[Role.editor], True)
    assert "supervisor" in assert_explained_problem(refused, 403)["detail"]
    assert (
        client.get(f"{extensions_url(action['id'])}/{request['id']}").json()["state"] == "pending"
    )
    # admin includes supervisor
    assert decide(client, action["id"], request["id"], {}, False, "管理员驳回").status_code == 200


def test_the_lists_of_one_action_and_of_all(
    client: TestClient, seeded: SeedReport, keys: dict[Role, dict[str, str]]
) -> None:
    first, second, third = (active_action(client) for _ in range(3))
    approved = asked(client, first["id"], keys[Role.editor])
    decide(client, first["id"], approved["id"], keys[Role.supervisor], True)
    pending_first = asked(client, first["id"], keys[Role.editor], new_due_on=LATER + timedelta(1))
    pending_second = asked(client, second["id"], keys[Role.editor])
    rejected = asked(client, third["id"], keys[Role.editor])
    decide(client, third["id"], rejected["id"], keys[Role.supervisor], False, "不同意")

    of_first = client.get(extensions_url(first["id"]), headers=keys[Role.viewer])
    assert of_first.status_code == 200
    assert [item["id"] for item in of_first.json()["items"]] == [
        approved["id"],
        pending_first["id"],
    ]
    assert [item["state"] for item in of_first.json()["items"]] == ["approved", "pending"]

    queue = client.get("/api/v1/extensions", params={"state": "pending"})
    assert queue.status_code == 200, queue.text
    assert queue.json()["total"] == 2
    assert [item["id"] for item in queue.json()["items"]] == [
        pending_first["id"],
        pending_second["id"],
    ]
    every = client.get("/api/v1/extensions").json()
    assert (every["total"], every["limit"], every["offset"]) == (4, 50, 0)
    by_action = client.get("/api/v1/extensions", params={"action_id": first["id"]}).json()
    assert {item["action_id"] for item in by_action["items"]} == {first["id"]}
    newest = client.get("/api/v1/extensions", params={"sort": "-id", "state": "pending"}).json()
    assert [item["id"] for item in newest["items"]] == [pending_second["id"], pending_first["id"]]

    page = client.get("/api/v1/extensions", params={"limit": 3})
    assert len(page.json()["items"]) == 3
    link = next_link(page)
    assert link is not None and "offset=3" in link
    rest = client.get(link).json()
    assert [item["id"] for item in rest["items"]] == [rejected["id"]] and next_link(
        client.get(link)
    ) is None

    assert_explained_problem(client.get("/api/v1/extensions", params={"state": "maybe"}), 422)
    assert_explained_problem(client.get("/api/v1/extensions", params={"sort": "reason"}), 422)
    assert_explained_problem(client.get("/api/v1/extensions", params={"limit": 201}), 422)
