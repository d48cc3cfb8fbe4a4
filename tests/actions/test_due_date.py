"""The due-date rule: the first due date ever set is kept as original_due_on; once an action
has a due date an editor's PATCH may not change or clear it (403 naming the extension route),
while a supervisor's or an admin's may, leaving original_due_on and extension_count alone."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth.models import Role
from app.seeding.schemas import SeedReport
from tests.helpers import (
    assert_explained_problem,
    created_action,
    events_of,
    get_action,
    make_key,
    patch_action,
)

FIRST, SECOND, THIRD = "2026-12-31", "2027-03-31", "2027-06-30"


@pytest.fixture
def headers(engine: Engine) -> dict[Role, dict[str, str]]:
    return {
        role: {"X-API-Key": make_key(engine, role, name=f"due-{role}")}
        for role in (Role.editor, Role.supervisor)
    }


def patch_as(
    client: TestClient, headers: dict[str, str], action_id: int, body: dict[str, Any]
) -> Any:
    version = get_action(client, action_id)["version"]
    return client.patch(
        f"/api/v1/actions/{action_id}",
        json=body,
        headers={**headers, "If-Match": f'W/"{version}"'},
    )


def dates(body: dict[str, Any]) -> tuple[Any, Any, Any]:
    return body["due_on"], body["original_due_on"], body["extension_count"]


def test_a_new_action_keeps_its_first_due_date(client: TestClient, seeded: SeedReport) -> None:
    assert dates(created_action(client, due_on=FIRST)) == (FIRST, FIRST, 0)
    assert dates(created_action(client)) == (None, None, 0)
    assert dates(get_action(client, 1)) == (None, None, 0)  # seeded without one


def test_an_editor_sets_a_first_due_date_but_may_not_move_or_clear_it(
    client: TestClient, seeded: SeedReport, headers: dict[Role, dict[str, str]]
) -> None:
    editor = headers[Role.editor]
    first = patch_as(client, editor, 16, {"due_on": FIRST, "assignee": "张明"})
    assert first.status_code == 200, first.text
    assert dates(first.json()) == (FIRST, FIRST, 0)
    before, timeline = get_action(client, 16), events_of(client, 16)

    for body in ({"due_on": SECOND}, {"due_on": None}, {"due_on": SECOND, "assignee": "李华"}):
        refused = patch_as(client, editor, 16, body)
        problem = assert_explained_problem(refused, 403)
        assert "POST /api/v1/actions/16/extensions" in problem["detail"]
        assert problem["extension_route"] == "/api/v1/actions/16/extensions"
        assert "supervisor" in problem["detail"] and FIRST in problem["detail"]
    assert get_action(client, 16) == before
    assert events_of(client, 16) == timeline

    # The same date again is no change, and other fields stay open to the editor.
    same = patch_as(client, editor, 16, {"due_on": FIRST, "assignee": "李华"})
    assert same.status_code == 200, same.text
    assert (same.json()["assignee"], dates(same.json())) == ("李华", (FIRST, FIRST, 0))
    assert events_of(client, 16)[-1]["changes"] == {"assignee": ["张明", "李华"]}


@pytest.mark.parametrize("role", [Role.supervisor, Role.admin])
def test_a_supervisor_or_admin_moves_and_clears_it_keeping_the_first(
    client: TestClient, seeded: SeedReport, headers: dict[Role, dict[str, str]], role: Role
) -> None:
    caller = headers.get(role, {})  # the client's own key is an admin's
    created = created_action(client, due_on=FIRST)
    moved = patch_as(client, caller, created["id"], {"due_on": SECOND})
    assert moved.status_code == 200, moved.text
    assert dates(moved.json()) == (SECOND, FIRST, 0)
    assert events_of(client, created["id"])[-1]["changes"] == {"due_on": [FIRST, SECOND]}

    cleared = patch_as(client, caller, created["id"], {"due_on": None})
    assert dates(cleared.json()) == (None, FIRST, 0)
    # With no due date left, setting one is open to an editor again; the first stays first.
    again = patch_as(client, headers[Role.editor], created["id"], {"due_on": THIRD})
    assert again.status_code == 200, again.text
    assert dates(again.json()) == (THIRD, FIRST, 0)


def test_the_rule_is_checked_after_if_match(
    client: TestClient, seeded: SeedReport, headers: dict[Role, dict[str, str]]
) -> None:
    created = created_action(client, due_on=FIRST)
    editor = headers[Role.editor]
    missing = client.patch(
        f"/api/v1/actions/{created['id']}", json={"due_on": SECOND}, headers=editor
    )
    assert_explained_problem(missing, 428)
    stale = patch_action(client, created["id"], {"due_on": SECOND}, 7)
    assert_explained_problem(stale, 412)
    assert dates(get_action(client, created["id"])) == (FIRST, FIRST, 0)
