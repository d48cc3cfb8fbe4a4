"""GET /api/v1/actions/{id}, and the JSON of an action wherever the API answers with one."""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.actions.schemas import ActionRead
from app.pagination import Page
from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    PAST,
    assert_explained_problem,
    create_action,
    create_source,
    get_action,
    patched_action,
)


def test_get_action_has_etag_and_honours_if_none_match(
    client: TestClient, seeded: SeedReport
) -> None:
    response = client.get(f"{ACTIONS}/16")
    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"1"'
    assert response.json()["id"] == 16
    assert response.json()["title"] == "加快“标准地”改革"
    cached = client.get(f"{ACTIONS}/16", headers={"If-None-Match": 'W/"1"'})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == 'W/"1"'
    stale = client.get(f"{ACTIONS}/16", headers={"If-None-Match": 'W/"7"'})
    assert stale.status_code == 200
    assert stale.json()["id"] == 16


def test_get_action_after_change_is_not_304_for_the_old_etag(
    client: TestClient, seeded: SeedReport
) -> None:
    patched_action(client, 16, {"progress": 10})
    response = client.get(f"{ACTIONS}/16", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"2"'
    assert response.json()["progress"] == 10


def test_get_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(client.get(f"{ACTIONS}/999"), 404)
    assert "999" in body["detail"]


@pytest.mark.parametrize("bad_id", ["0", "-1", str(2**40), str(2**31), "abc", "1.5"])
def test_get_action_with_an_invalid_id_is_422(
    client: TestClient, seeded: SeedReport, bad_id: str
) -> None:
    assert_explained_problem(client.get(f"{ACTIONS}/{bad_id}"), 422, ["path", "action_id"])


def test_every_answer_is_what_action_read_writes(client: TestClient, seeded: SeedReport) -> None:
    # The API writes an action's JSON straight from database values, without building an
    # ActionRead: byte for byte it must be what ActionRead, strictly validating it, writes
    # back; for every kind of action and every route that answers with one.
    archived = write_answer(client, 3, "archive", {})
    answers = [
        write_answer(client, 1, "transitions", {"to": "accepted"}),
        write_answer(client, 1, "transitions", {"to": "in_progress"}),
        write_answer(client, 1, "updates", {"note": "进展", "progress": 30}),
        write_answer(client, 1, "transitions", {"to": "completed"}),  # completed_at set
        write_answer(client, 2, "patch", {"due_on": PAST, "assignee": "张明"}),  # overdue
        archived,
    ]
    source = create_source(client, "no-speeches", "建议推进“一网通办”改革。")
    answers.append(create_action(client, source_id=source["id"], quote="推进“一网通办”改革"))
    listed = client.get(ACTIONS, params={"include_archived": True, "limit": 200})
    gets = [client.get(f"{ACTIONS}/{item['id']}") for item in listed.json()["items"]]
    for response in answers + gets:
        assert response.status_code in (200, 201), response.text
        assert as_action_read_writes(response.content) == response.content
    page = Page[ActionRead].model_validate_json(listed.content, strict=True)
    assert page.model_dump_json().encode() == listed.content
    assert {item.proposer is None for item in page.items} == {True, False}
    assert all(item.created_at.tzinfo and item.updated_at.tzinfo for item in page.items)
    assert archived.content == client.get(f"{ACTIONS}/3").content


def as_action_read_writes(body: bytes) -> bytes:
    """body read strictly into an ActionRead and written back."""
    return ActionRead.model_validate_json(body, strict=True).model_dump_json().encode()


def write_answer(
    client: TestClient, action_id: int, path: str, body: dict[str, Any]
) -> httpx.Response:
    """The answer to one write to an action at its current ETag; path as write_action's."""
    version = get_action(client, action_id)["version"]
    headers = {"If-Match": f'W/"{version}"'}
    url = f"{ACTIONS}/{action_id}"
    if path == "patch":
        return client.patch(url, json=body, headers=headers)
    if path == "archive":
        return client.delete(url, headers=headers)
    return client.post(f"{url}/{path}", json=body, headers=headers)
