"""PATCH /api/v1/actions/{id}: If-Match, the fields it changes and the event that records
them, and what it refuses."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    STANDARD_LAND,
    assert_explained_problem,
    events_of,
    get_action,
    patch_action,
    patched_action,
    unit_id,
)


def test_patch_without_if_match_is_428(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(patch_action(client, 16, {"title": "无条件修改"}, None), 428)
    assert body["current_version"] == 1
    assert get_action(client, 16)["title"] == "加快“标准地”改革"
    assert len(events_of(client, 16)) == 1


def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: TestClient, seeded: SeedReport
) -> None:
    patched_action(client, 16, {"progress": 20})
    before = get_action(client, 16)
    assert before["version"] == 2
    body = assert_explained_problem(
        patch_action(client, 16, {"title": "过期修改", "progress": 90}, 1), 412
    )
    assert body["current_version"] == 2
    after = get_action(client, 16)
    assert after == before
    assert after["title"] == "加快“标准地”改革"
    assert after["progress"] == 20
    assert [e["kind"] for e in events_of(client, 16)] == ["created", "updated"]


def test_patch_with_malformed_if_match_is_rejected(client: TestClient, seeded: SeedReport) -> None:
    response = client.patch(f"{ACTIONS}/16", json={"progress": 5}, headers={"If-Match": "one"})
    assert_explained_problem(response, 412)
    assert get_action(client, 16)["progress"] == 0


def test_patch_updates_fields_and_records_the_changes(
    client: TestClient, seeded: SeedReport
) -> None:
    before = get_action(client, 16)
    owner = unit_id(client, "国资公司")
    response = patch_action(
        client,
        16,
        {
            "title": "加快推进“标准地”改革",
            "progress": 40,
            "due_on": "2026-12-31",
            "owner_id": owner,
            "assignee": "王强",
        },
        1,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert response.headers["etag"] == 'W/"2"'
    assert body["title"] == "加快推进“标准地”改革"
    assert body["progress"] == 40
    assert body["due_on"] == "2026-12-31"
    assert body["owner"] == {"id": owner, "name": "国资公司"}
    assert body["assignee"] == "王强"
    assert body["quote"] == before["quote"]
    assert body["status"] == "proposed"
    assert body["updated_at"] > before["updated_at"]
    assert get_action(client, 16) == body

    timeline = events_of(client, 16)
    assert [e["kind"] for e in timeline] == ["created", "updated"]
    assert timeline[1]["actor"] == "test-admin"  # the key the client sends
    assert timeline[1]["changes"] == {
        "title": ["加快“标准地”改革", "加快推进“标准地”改革"],
        "progress": [0, 40],
        "due_on": [None, "2026-12-31"],
        "owner_id": [before["owner"]["id"], owner],
        "assignee": [None, "王强"],
    }


def test_patch_themes_records_sorted_lists(client: TestClient, seeded: SeedReport) -> None:
    before = get_action(client, 16)
    response = patch_action(client, 16, {"themes": ["营商环境", "项目审批", "营商环境"]}, 1)
    assert response.status_code == 200, response.text
    assert response.json()["themes"] == sorted(["营商环境", "项目审批"])
    assert response.json()["version"] == 2
    assert events_of(client, 16)[-1]["changes"] == {
        "themes": [sorted(before["themes"]), sorted(["营商环境", "项目审批"])]
    }


def test_patch_title_and_themes_together_is_one_version(
    client: TestClient, seeded: SeedReport
) -> None:
    response = patch_action(client, 16, {"title": "新标题", "themes": ["营商环境"]}, 1)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2, "one PATCH must make exactly one new version"
    assert response.headers["etag"] == 'W/"2"'
    assert [e["kind"] for e in events_of(client, 16)] == ["created", "updated"]


def test_patch_that_changes_nothing_keeps_the_version(
    client: TestClient, seeded: SeedReport
) -> None:
    before = get_action(client, 16)
    response = patch_action(
        client,
        16,
        {
            "title": before["title"],
            "priority": before["priority"],
            "themes": before["themes"][::-1],
        },
        1,
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert response.headers["etag"] == 'W/"1"'
    assert response.json()["updated_at"] == before["updated_at"]
    assert len(events_of(client, 16)) == 1
    empty = patch_action(client, 16, {}, 1)
    assert empty.status_code == 200
    assert empty.json()["version"] == 1
    assert len(events_of(client, 16)) == 1


def test_patch_can_clear_nullable_fields(client: TestClient, seeded: SeedReport) -> None:
    patched_action(client, 16, {"due_on": "2026-12-31", "assignee": "王强"})
    body = patched_action(client, 16, {"due_on": None, "assignee": None, "detail": None})
    assert body["due_on"] is None
    assert body["assignee"] is None
    assert body["detail"] is None
    assert body["version"] == 3
    assert events_of(client, 16)[-1]["changes"]["due_on"] == ["2026-12-31", None]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"status": "completed"}, ["body", "status"]),
        ({"quote": STANDARD_LAND}, ["body", "quote"]),
        ({"quote_start": 0}, ["body", "quote_start"]),
        ({"quote_end": 10}, ["body", "quote_end"]),
        ({"version": 9}, ["body", "version"]),
        ({"title": None}, ["body", "title"]),
        ({"title": ""}, ["body", "title"]),
        ({"title": " 前后空格 "}, ["body", "title"]),
        ({"kind": None}, ["body", "kind"]),
        ({"progress": 101}, ["body", "progress"]),
        ({"progress": -1}, ["body", "progress"]),
        ({"progress": None}, ["body", "progress"]),
        ({"priority": "urgent"}, ["body", "priority"]),
        ({"owner_id": 0}, ["body", "owner_id"]),
        ({"detail": "含有\x00字符"}, ["body", "detail"]),
    ],
)
def test_patch_invalid_body_is_422(
    client: TestClient, seeded: SeedReport, body: dict[str, Any], loc: list[str]
) -> None:
    before = get_action(client, 16)
    assert_explained_problem(patch_action(client, 16, body, 1), 422, loc)
    assert get_action(client, 16) == before
    assert len(events_of(client, 16)) == 1


def test_patch_owner_that_does_not_exist_is_422(client: TestClient, seeded: SeedReport) -> None:
    before = get_action(client, 16)
    body = assert_explained_problem(
        patch_action(client, 16, {"owner_id": 999, "progress": 5}, 1), 422, ["body", "owner_id"]
    )
    assert "999" in body["detail"]
    assert get_action(client, 16) == before
    assert len(events_of(client, 16)) == 1


def test_patch_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    assert_explained_problem(patch_action(client, 999, {"progress": 5}, 1), 404)


def test_malformed_if_match_is_judged_after_the_path_and_the_action(
    client: TestClient, seeded: SeedReport
) -> None:
    bad = {"If-Match": "rgT+m[)$JU="}
    out_of_range = client.patch(f"/api/v1/actions/{2**40}", json={"assignee": "张三"}, headers=bad)
    assert out_of_range.status_code == 422
    assert out_of_range.json()["errors"][0]["loc"] == ["path", "action_id"]
    missing = client.patch("/api/v1/actions/9999", json={"assignee": "张三"}, headers=bad)
    assert missing.status_code == 404
    existing = client.patch("/api/v1/actions/1", json={"assignee": "张三"}, headers=bad)
    assert existing.status_code == 412
    assert "rgT+m[)$JU=" in existing.json()["detail"] and existing.json()["current_version"] == 1
    assert client.get("/api/v1/actions/1").json()["assignee"] is None


@pytest.mark.parametrize("path", ["/api/v1/units", "/api/v1/actions/1/updates"])
@pytest.mark.parametrize("body", [b"\xc3\x28\x07 bad utf-8", b"{not json", b"\xff\xfe\x07"])
def test_a_body_that_is_not_utf8_json_is_422(
    client: TestClient, seeded: SeedReport, path: str, body: bytes
) -> None:
    response = client.post(
        path, content=body, headers={"Content-Type": "application/json", "If-Match": 'W/"1"'}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert (error["loc"][0], error["type"]) == ("body", "json_invalid")
    assert client.get("/api/v1/actions/1").json()["version"] == 1


def test_an_if_match_newer_than_the_action_is_said_not_to_exist(
    client: TestClient, seeded: SeedReport
) -> None:
    body = assert_explained_problem(patch_action(client, 16, {"title": "未来版本"}, 7), 412)
    assert body["detail"] == "version 7 does not exist (yet); the current version is 1"
    patched_action(client, 16, {"progress": 20})
    stale = assert_explained_problem(patch_action(client, 16, {"title": "过期"}, 1), 412)
    assert stale["detail"] == "version 1 is stale; the current version is 2"


def test_patching_status_points_to_the_transitions(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(
        patch_action(client, 16, {"status": "in_progress"}, 1), 422, ["body", "status"]
    )
    assert body["errors"][0]["type"] == "status_not_patchable"
    assert "/api/v1/actions/{id}/transitions" in body["detail"]
    assert get_action(client, 16)["status"] == "proposed"


def test_progress_on_a_proposed_action_is_kept_with_a_warning(
    client: TestClient, seeded: SeedReport
) -> None:
    patched = patch_action(client, 16, {"progress": 20}, 1)
    update = client.post(
        f"{ACTIONS}/16/updates",
        json={"note": "已开展调研", "progress": 30},
        headers={"If-Match": 'W/"2"'},
    )
    note_only = client.post(
        f"{ACTIONS}/16/updates", json={"note": "继续推进"}, headers={"If-Match": 'W/"3"'}
    )

    for response in (patched, update):
        assert response.status_code == 200, response.text
        assert response.headers["Warning"].startswith('299 tashan "progress on a proposed action')
        assert "/api/v1/actions/16/transitions" in response.headers["Warning"]
    assert note_only.status_code == 200 and "Warning" not in note_only.headers
    assert get_action(client, 16)["progress"] == 30


def test_a_body_without_a_json_content_type_is_told_so(
    client: TestClient, seeded: SeedReport
) -> None:
    response = client.patch(
        f"{ACTIONS}/16",
        content=b'{"title": "\xe6\x96\xb0"}',
        headers={"If-Match": 'W/"1"', "Content-Type": "text/plain"},
    )

    body = assert_explained_problem(response, 422, ["body"])
    assert "Content-Type: application/json" in body["detail"]
    assert "text/plain" in body["detail"]
    assert get_action(client, 16)["version"] == 1
