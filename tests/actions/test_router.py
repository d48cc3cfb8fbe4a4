"""HTTP tests of /api/v1/actions, its timeline and /api/v1/stats."""

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.actions.models import Action
from app.actions.schemas import ActionRead
from app.actions.workflow import Status
from app.pagination import Page
from app.seeding.schemas import SeedReport
from tests.helpers import ARTICLE, PROBLEM_JSON

ACTIONS = "/api/v1/actions"
STANDARD_LAND = "建议我区加快“标准地”改革，实现工程项目拿地即开工。"
SEEDED_TOTAL = 43
PAST = "2020-01-01"
FUTURE = "2099-12-31"


# ---------------------------------------------------------------- helpers


def unit_id(client: TestClient, name: str) -> int:
    """The id of the unit called name."""
    response = client.get("/api/v1/units", params={"limit": 200})
    assert response.status_code == 200
    ids = [unit["id"] for unit in response.json()["items"] if unit["name"] == name]
    assert len(ids) == 1, f"no unit {name}"
    return int(ids[0])


def create_action(client: TestClient, **overrides: Any) -> httpx.Response:
    """POST a valid action against the seeded source (id 1), with overrides applied."""
    body: dict[str, Any] = {
        "source_id": 1,
        "quote": STANDARD_LAND,
        "title": "测试事项：推行标准地改革",
        "kind": "recommendation",
        "owner_id": overrides.pop("owner_id", None) or unit_id(client, "区经济发展局"),
        **overrides,
    }
    return client.post(ACTIONS, json=body)


def created(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """Create an action that must succeed; its body."""
    response = create_action(client, **overrides)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_source(client: TestClient, slug: str, text: str) -> dict[str, Any]:
    """POST a small source with text (no speeches); its body."""
    response = client.post(
        "/api/v1/sources", json={"slug": slug, "title": f"测试来源 {slug}", "text": text}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def get_action(client: TestClient, action_id: int) -> dict[str, Any]:
    """GET one action that must exist."""
    response = client.get(f"{ACTIONS}/{action_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def patch(
    client: TestClient, action_id: int, body: dict[str, Any], version: int | None
) -> httpx.Response:
    """PATCH an action, with If-Match W/"version" unless version is None."""
    headers = {} if version is None else {"If-Match": f'W/"{version}"'}
    return client.patch(f"{ACTIONS}/{action_id}", json=body, headers=headers)


def patched(client: TestClient, action_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """PATCH an action at its current version; must succeed."""
    version = get_action(client, action_id)["version"]
    response = patch(client, action_id, body, version)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def list_items(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every action a list request returns (must fit in one page of 200)."""
    response = client.get(ACTIONS, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def list_ids(client: TestClient, **params: Any) -> list[int]:
    """Ids of the actions a list request returns, in order."""
    return [item["id"] for item in list_items(client, **params)]


def events(client: TestClient, action_id: int) -> list[dict[str, Any]]:
    """An action's whole timeline."""
    response = client.get(f"{ACTIONS}/{action_id}/events", params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def assert_problem(
    response: httpx.Response, status: int, loc: Sequence[str | int] | None = None
) -> dict[str, Any]:
    """Check response is a problem+json with status (and an error at loc); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["title"]
    if loc is not None:
        assert list(loc) in [error["loc"] for error in body["errors"]], body
    return body


def next_link(response: httpx.Response) -> str | None:
    """The rel="next" URL of a list response, if any."""
    header = response.headers.get("link")
    if header is None:
        return None
    match = re.search(r'<([^>]+)>;\s*rel="next"', header)
    assert match is not None, header
    return match.group(1)


def walk_pages(client: TestClient, **params: Any) -> tuple[list[int], int]:
    """Follow rel="next" from the first page; every id seen, in order, and the pages walked."""
    response = client.get(ACTIONS, params=params)
    ids, pages = [], 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        pages += 1
        url = next_link(response)
        if url is None:
            assert body["offset"] + len(body["items"]) == body["total"]
            return ids, pages
        response = client.get(url)


def stored_count(client: TestClient) -> int:
    """How many actions exist, archived ones too."""
    response = client.get(ACTIONS, params={"include_archived": True, "limit": 1})
    assert response.status_code == 200
    total: int = response.json()["total"]
    return total


# ---------------------------------------------------------------- POST


def test_create_action_returns_it_anchored_in_the_source(
    client: TestClient, seeded: SeedReport
) -> None:
    owner = unit_id(client, "区经济发展局")
    response = create_action(
        client,
        owner_id=owner,
        themes=["项目审批", "土地要素"],
        priority="high",
        due_on="2026-12-31",
        detail="推行“标准地”出让。",
        assignee="张明",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{ACTIONS}/{body['id']}"
    assert response.headers["etag"] == 'W/"1"'
    assert body["id"] == SEEDED_TOTAL + 1
    assert body["quote"] == STANDARD_LAND
    assert ARTICLE[body["quote_start"] : body["quote_end"]] == STANDARD_LAND
    assert body["quote_start"] == ARTICLE.index(STANDARD_LAND)
    assert body["status"] == "proposed"
    assert body["status_label"] == "待研究"
    assert body["kind"] == "recommendation"
    assert body["title"] == "测试事项：推行标准地改革"
    assert body["detail"] == "推行“标准地”出让。"
    assert body["assignee"] == "张明"
    assert body["priority"] == "high"
    assert body["progress"] == 0
    assert body["due_on"] == "2026-12-31"
    assert body["themes"] == sorted(["项目审批", "土地要素"])
    assert body["owner"] == {"id": owner, "name": "区经济发展局"}
    assert body["version"] == 1
    assert body["archived"] is False
    assert body["source_id"] == 1

    source = client.get("/api/v1/sources/1").json()
    speech = next(s for s in source["speeches"] if s["start"] <= body["quote_start"] < s["end"])
    assert body["speech_id"] == speech["id"]
    assert body["proposer"] == {
        "speaker": speech["speaker"],
        "unit_id": speech["unit_id"],
        "unit_name": "区经济发展局",
    }
    assert body["proposer"]["speaker"] == "高健"

    again = client.get(response.headers["location"])
    assert again.status_code == 200
    assert again.json() == body


def test_create_action_quote_not_in_source_is_422(client: TestClient, seeded: SeedReport) -> None:
    response = create_action(client, quote="这句话并不在原文里。")
    body = assert_problem(response, 422, ["body", "quote"])
    assert "does not occur" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_half_width_variant_of_quote_is_422(
    client: TestClient, seeded: SeedReport
) -> None:
    response = create_action(client, quote='建议我区加快"标准地"改革,实现工程项目拿地即开工.')
    assert_problem(response, 422, ["body", "quote"])
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_full_width_quote_matches_exactly(client: TestClient) -> None:
    text = "今年营收增长（同比）２０％，达到“预期”目标。"
    source = create_source(client, "full-width", text)
    owner = created_unit(client)
    response = client.post(
        ACTIONS,
        json={
            "source_id": source["id"],
            "quote": "增长（同比）２０％",
            "title": "全角字符",
            "kind": "lesson",
            "owner_id": owner,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["quote_start"], body["quote_end"]) == (4, 13)
    assert text[4:13] == body["quote"]
    assert body["proposer"] is None
    half = client.post(
        ACTIONS,
        json={
            "source_id": source["id"],
            "quote": "增长(同比)20%",
            "title": "半角字符",
            "kind": "lesson",
            "owner_id": owner,
        },
    )
    assert_problem(half, 422, ["body", "quote"])


def created_unit(client: TestClient) -> int:
    """A new unit's id (for tests without seed data)."""
    response = client.post("/api/v1/units", json={"name": "测试单位", "kind": "other"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_create_action_ambiguous_quote_needs_quote_start(
    client: TestClient, seeded: SeedReport
) -> None:
    text = "建设标准化厂房。加快建设标准化厂房。还要建设标准化厂房。"
    source = create_source(client, "repeats", text)
    phrase = "建设标准化厂房"
    offsets = [0, 10, 20]
    assert [text.index(phrase, at) for at in offsets] == offsets

    ambiguous = create_action(client, source_id=source["id"], quote=phrase)
    body = assert_problem(ambiguous, 422, ["body", "quote_start"])
    assert "3 times" in body["detail"]
    assert "0, 10, 20" in body["detail"]

    wrong = create_action(client, source_id=source["id"], quote=phrase, quote_start=5)
    body = assert_problem(wrong, 422, ["body", "quote_start"])
    assert "0, 10, 20" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL

    picked = created(client, source_id=source["id"], quote=phrase, quote_start=10)
    assert (picked["quote_start"], picked["quote_end"]) == (10, 17)
    assert text[picked["quote_start"] : picked["quote_end"]] == phrase
    assert picked["source_id"] == source["id"]
    assert picked["speech_id"] is None


@pytest.mark.parametrize(
    "quote",
    [
        " " + STANDARD_LAND,
        STANDARD_LAND + " ",
        STANDARD_LAND + "\n",
        "\n" + STANDARD_LAND,
        "\u3000" + STANDARD_LAND,
        STANDARD_LAND + "\u3000",
    ],
    ids=[
        "space-before",
        "space-after",
        "newline-after",
        "newline-before",
        "ideo-before",
        "ideo-after",
    ],
)
def test_create_action_quote_with_surrounding_whitespace_is_422(
    client: TestClient, seeded: SeedReport, quote: str
) -> None:
    response = create_action(client, quote=quote)
    body = assert_problem(response, 422, ["body", "quote"])
    assert "whitespace" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_unknown_source_is_422(client: TestClient, seeded: SeedReport) -> None:
    body = assert_problem(create_action(client, source_id=999), 422, ["body", "source_id"])
    assert "999" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_unknown_owner_is_422(client: TestClient, seeded: SeedReport) -> None:
    body = assert_problem(create_action(client, owner_id=999), 422, ["body", "owner_id"])
    assert "999" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "completed"), ("version", 5), ("quote_end", 10), ("archived", True)],
)
def test_create_action_with_an_unknown_field_is_422(
    client: TestClient, seeded: SeedReport, field: str, value: Any
) -> None:
    body = assert_problem(create_action(client, **{field: value}), 422, ["body", field])
    assert body["errors"][0]["type"] == "extra_forbidden"
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_nul_in_title_is_422(client: TestClient, seeded: SeedReport) -> None:
    assert_problem(create_action(client, title="标准地\x00改革"), 422, ["body", "title"])
    assert stored_count(client) == SEEDED_TOTAL


@pytest.mark.parametrize("missing", ["source_id", "quote", "title", "kind", "owner_id"])
def test_create_action_without_a_required_field_is_422(
    client: TestClient, seeded: SeedReport, missing: str
) -> None:
    body = {
        "source_id": 1,
        "quote": STANDARD_LAND,
        "title": "缺字段",
        "kind": "lesson",
        "owner_id": 1,
    }
    del body[missing]
    assert_problem(client.post(ACTIONS, json=body), 422, ["body", missing])
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_duplicate_seed_key_is_409(client: TestClient, seeded: SeedReport) -> None:
    first = created(client, seed_key="new-key")
    assert first["seed_key"] == "new-key"
    body = assert_problem(create_action(client, seed_key="new-key"), 409)
    assert "new-key" in body["detail"]
    seeded_key = assert_problem(create_action(client, seed_key="standard-land-reform"), 409)
    assert "standard-land-reform" in seeded_key["detail"]
    assert stored_count(client) == SEEDED_TOTAL + 1


# ---------------------------------------------------------------- GET list: paging


def test_list_default_page(client: TestClient, seeded: SeedReport) -> None:
    for n in range(8):
        created(client, title=f"补充事项{n}")
    response = client.get(ACTIONS)
    assert response.status_code == 200
    body = response.json()
    assert (body["limit"], body["offset"], body["total"]) == (50, 0, SEEDED_TOTAL + 8)
    assert len(body["items"]) == 50
    assert [item["id"] for item in body["items"]] == list(range(1, 51))
    url = next_link(response)
    assert url is not None
    rest = client.get(url)
    assert rest.status_code == 200
    assert [item["id"] for item in rest.json()["items"]] == [51]
    assert rest.json()["offset"] == 50
    assert next_link(rest) is None


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 201}, ["query", "limit"]),
        ({"limit": -5}, ["query", "limit"]),
        ({"limit": 10**20}, ["query", "limit"]),
        ({"limit": "ten"}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"offset": 10**20}, ["query", "offset"]),
    ],
)
def test_list_out_of_range_page_is_422(
    client: TestClient, seeded: SeedReport, params: dict[str, Any], loc: list[str]
) -> None:
    assert_problem(client.get(ACTIONS, params=params), 422, loc)


def test_list_limit_200_is_allowed(client: TestClient, seeded: SeedReport) -> None:
    response = client.get(ACTIONS, params={"limit": 200})
    assert response.status_code == 200
    assert response.json()["limit"] == 200
    assert len(response.json()["items"]) == SEEDED_TOTAL
    assert next_link(response) is None


def test_list_link_next_while_more_remain(client: TestClient, seeded: SeedReport) -> None:
    first = client.get(ACTIONS, params={"limit": 7})
    assert first.status_code == 200
    url = next_link(first)
    assert url is not None
    assert "offset=7" in url
    assert "limit=7" in url
    last = client.get(ACTIONS, params={"limit": 7, "offset": 42})
    assert last.status_code == 200
    assert [item["id"] for item in last.json()["items"]] == [43]
    assert next_link(last) is None
    exact = client.get(ACTIONS, params={"limit": 43})
    assert len(exact.json()["items"]) == SEEDED_TOTAL
    assert next_link(exact) is None
    beyond = client.get(ACTIONS, params={"offset": 100})
    assert beyond.status_code == 200
    assert beyond.json()["items"] == []
    assert beyond.json()["total"] == SEEDED_TOTAL


def test_list_pages_cover_every_action_exactly_once(client: TestClient, seeded: SeedReport) -> None:
    ids, pages = walk_pages(client, limit=7)
    assert pages == 7
    assert len(ids) == len(set(ids)) == SEEDED_TOTAL
    assert sorted(ids) == list_ids(client)


@pytest.mark.parametrize("sort", ["-priority,id", "title", "-title", "status", "-progress"])
def test_list_sorted_pages_cover_every_action_exactly_once(
    client: TestClient, seeded: SeedReport, sort: str
) -> None:
    ids, _ = walk_pages(client, limit=7, sort=sort)
    assert len(ids) == len(set(ids)) == SEEDED_TOTAL
    assert ids == list_ids(client, sort=sort)


def test_list_link_keeps_filters(client: TestClient, seeded: SeedReport) -> None:
    ids, pages = walk_pages(client, limit=5, q="招商", sort="-title")
    assert ids == list_ids(client, q="招商", sort="-title")
    assert pages > 1


# ---------------------------------------------------------------- GET list: sorting


def test_list_sort_by_priority_breaks_ties_by_id(client: TestClient, seeded: SeedReport) -> None:
    order = {"high": 0, "medium": 1, "low": 2}
    descending = list_items(client, sort="-priority,id")
    ascending = list_items(client, sort="priority")
    assert len(descending) == len(ascending) == SEEDED_TOTAL
    # Priorities form contiguous groups in rank order, -priority reverses them, ids break ties.
    groups = list(dict.fromkeys(item["priority"] for item in ascending))
    assert groups in (
        sorted(order, key=order.__getitem__),
        sorted(order, key=order.__getitem__)[::-1],
    )
    assert list(dict.fromkeys(item["priority"] for item in descending)) == groups[::-1]
    for listing, ranked in ((ascending, groups), (descending, groups[::-1])):
        keys = [(ranked.index(item["priority"]), item["id"]) for item in listing]
        assert keys == sorted(keys)


def test_list_sort_by_title_is_total(client: TestClient, seeded: SeedReport) -> None:
    twins = [created(client, title="同名事项")["id"] for _ in range(3)]
    items = list_items(client, sort="title")
    assert [(i["title"], i["id"]) for i in items] == sorted((i["title"], i["id"]) for i in items)
    descending = list_items(client, sort="-title")
    titles = [i["title"] for i in descending]
    assert titles == sorted(titles, reverse=True)
    # ties are broken by id ascending in both directions
    assert [i["id"] for i in descending if i["title"] == "同名事项"] == twins
    assert [i["id"] for i in items if i["title"] == "同名事项"] == twins


def test_list_sort_by_several_fields(client: TestClient, seeded: SeedReport) -> None:
    items = list_items(client, sort="owner_id,-quote_start")
    keys = [(i["owner"]["id"], -i["quote_start"], i["id"]) for i in items]
    assert keys == sorted(keys)
    assert len(items) == SEEDED_TOTAL


@pytest.mark.parametrize("sort", ["nonsense", "-nonsense", "id,quote", "title;drop"])
def test_list_unknown_sort_field_is_422(client: TestClient, seeded: SeedReport, sort: str) -> None:
    body = assert_problem(client.get(ACTIONS, params={"sort": sort}), 422, ["query", "sort"])
    assert "sort" in body["detail"]


# ---------------------------------------------------------------- GET list: filters


def set_status(session: Session, action_id: int, status: Status) -> None:
    """Put an action into status directly (the workflow endpoint is tested elsewhere)."""
    action = session.get(Action, action_id)
    assert action is not None
    action.status = status
    session.add(action)
    session.commit()


def test_list_filter_status_is_repeatable(
    client: TestClient, seeded: SeedReport, session: Session
) -> None:
    set_status(session, 5, Status.accepted)
    set_status(session, 9, Status.blocked)
    set_status(session, 30, Status.accepted)
    assert list_ids(client, status="accepted") == [5, 30]
    assert list_ids(client, status=["accepted", "blocked"]) == [5, 9, 30]
    proposed = list_ids(client, status="proposed")
    assert len(proposed) == SEEDED_TOTAL - 3
    assert {5, 9, 30}.isdisjoint(proposed)
    assert list_ids(client, status="completed") == []
    assert_problem(client.get(ACTIONS, params={"status": "done"}), 422, ["query", "status", 0])


@pytest.mark.parametrize(
    ("param", "value", "matches"),
    [
        ("owner_id", 5, lambda a: a["owner"]["id"] == 5),
        ("theme", "党建引领", lambda a: "党建引领" in a["themes"]),
        ("theme", "招商引资", lambda a: "招商引资" in a["themes"]),
        ("kind", "lesson", lambda a: a["kind"] == "lesson"),
        ("priority", "low", lambda a: a["priority"] == "low"),
        ("speech_id", 4, lambda a: a["speech_id"] == 4),
    ],
)
def test_list_filter_selects_exactly_the_matching_actions(
    client: TestClient, seeded: SeedReport, param: str, value: Any, matches: Any
) -> None:
    everything = list_items(client)
    expected = [a["id"] for a in everything if matches(a)]
    assert 0 < len(expected) < SEEDED_TOTAL
    assert list_ids(client, **{param: value}) == expected


def test_list_filter_by_source(client: TestClient, seeded: SeedReport) -> None:
    other = create_source(client, "other", "另一篇来源：推动企业上云。")
    mine = created(client, source_id=other["id"], quote="推动企业上云")
    assert list_ids(client, source_id=other["id"]) == [mine["id"]]
    assert list_ids(client, source_id=1) == list(range(1, SEEDED_TOTAL + 1))
    assert list_ids(client, source_id=999) == []


def test_list_filter_due_before_and_after(client: TestClient, seeded: SeedReport) -> None:
    patched(client, 3, {"due_on": "2026-03-01"})
    patched(client, 7, {"due_on": "2026-06-01"})
    patched(client, 11, {"due_on": "2026-09-01"})
    assert list_ids(client, due_before="2026-06-01") == [3]
    assert list_ids(client, due_after="2026-06-01") == [11]
    assert list_ids(client, due_after="2026-02-01", due_before="2026-07-01") == [3, 7]
    assert list_ids(client, due_before="2027-01-01") == [3, 7, 11]
    assert list_ids(client, due_after="2026-09-01") == []
    assert_problem(client.get(ACTIONS, params={"due_before": "2026-13-01"}), 422)


def test_list_filter_overdue(client: TestClient, seeded: SeedReport) -> None:
    late = patched(client, 12, {"due_on": PAST})
    assert late["overdue"] is True
    assert get_action(client, 12)["overdue"] is True
    upcoming = patched(client, 13, {"due_on": FUTURE})
    assert upcoming["overdue"] is False
    assert list_ids(client, overdue=True) == [12]
    not_overdue = list_ids(client, overdue=False)
    assert len(not_overdue) == SEEDED_TOTAL - 1
    assert 12 not in not_overdue
    assert 13 in not_overdue


def test_list_filter_updated_since(client: TestClient, seeded: SeedReport) -> None:
    changed = patched(client, 20, {"assignee": "李华"})
    since = changed["updated_at"]
    assert list_ids(client, updated_since=since) == [20]
    earlier = datetime.fromisoformat(since) - timedelta(days=1)
    assert len(list_ids(client, updated_since=earlier.isoformat())) == SEEDED_TOTAL
    later = datetime.fromisoformat(since) + timedelta(seconds=1)
    assert list_ids(client, updated_since=later.isoformat()) == []
    assert_problem(client.get(ACTIONS, params={"updated_since": "yesterday"}), 422)


def test_list_filter_updated_since_without_offset_is_deployment_time(
    client: TestClient, seeded: SeedReport
) -> None:
    changed = patched(client, 20, {"assignee": "李华"})
    at = datetime.fromisoformat(changed["updated_at"])
    shanghai = (at + timedelta(hours=8)).replace(tzinfo=None)
    assert list_ids(client, updated_since=shanghai.isoformat()) == [20]
    later = shanghai + timedelta(microseconds=1)
    assert list_ids(client, updated_since=later.isoformat()) == []
    utc_read_as_local = at.replace(tzinfo=None)  # 8 hours earlier than meant
    assert len(list_ids(client, updated_since=utc_read_as_local.isoformat())) == SEEDED_TOTAL


def test_list_filter_include_archived(client: TestClient, seeded: SeedReport) -> None:
    response = client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.text
    visible = list_ids(client)
    assert 8 not in visible
    assert len(visible) == SEEDED_TOTAL - 1
    assert list_ids(client, include_archived=True) == list(range(1, SEEDED_TOTAL + 1))
    assert list_ids(client, include_archived=False) == visible


# ---------------------------------------------------------------- GET list: search


def expected_matches(client: TestClient, term: str) -> set[int]:
    """Ids of the actions whose title, detail or quote contains term, judged here."""
    return {
        a["id"]
        for a in list_items(client)
        if term in a["title"] or term in (a["detail"] or "") or term in a["quote"]
    }


@pytest.mark.parametrize("term", ["招", "党", "招商", "党建", "环保", "孵化器", "标准地", "五个一"])
def test_search_finds_every_match(client: TestClient, seeded: SeedReport, term: str) -> None:
    expected = expected_matches(client, term)
    assert expected
    got = list_ids(client, q=term)
    assert len(got) == len(set(got))
    assert set(got) == expected


def test_search_covers_title_detail_and_quote(client: TestClient, seeded: SeedReport) -> None:
    in_title = created(client, title="甲乙丙标题词")["id"]
    in_detail = created(client, detail="说明里有甲乙丙说明词")["id"]
    in_quote_only = created(client, quote="实现工程项目拿地即开工")["id"]
    assert list_ids(client, q="甲乙丙标题词") == [in_title]
    assert list_ids(client, q="甲乙丙说明词") == [in_detail]
    assert in_quote_only in list_ids(client, q="拿地即开工")
    assert list_ids(client, q="甲乙丙") == [in_title, in_detail]


def test_search_treats_like_wildcards_literally(client: TestClient, seeded: SeedReport) -> None:
    assert list_ids(client, q="_") == []
    assert list_ids(client, q="招_") == []
    assert list_ids(client, q="招%商") == []
    assert set(list_ids(client, q="%")) == expected_matches(client, "%")
    percent = created(client, title="增长10%目标")["id"]
    underscore = created(client, title="代号a_b事项")["id"]
    assert list_ids(client, q="10%") == [percent]
    assert list_ids(client, q="1_%") == []
    assert list_ids(client, q="a_b") == [underscore]
    assert list_ids(client, q="a%b") == []
    assert list_ids(client, q="\\") == []


def test_search_with_no_match_is_empty(client: TestClient, seeded: SeedReport) -> None:
    response = client.get(ACTIONS, params={"q": "量子计算"})
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 0


# ---------------------------------------------------------------- GET one


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
    patched(client, 16, {"progress": 10})
    response = client.get(f"{ACTIONS}/16", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"2"'
    assert response.json()["progress"] == 10


def test_get_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    body = assert_problem(client.get(f"{ACTIONS}/999"), 404)
    assert "999" in body["detail"]


@pytest.mark.parametrize("bad_id", ["0", "-1", str(2**40), str(2**31), "abc", "1.5"])
def test_get_action_with_an_invalid_id_is_422(
    client: TestClient, seeded: SeedReport, bad_id: str
) -> None:
    assert_problem(client.get(f"{ACTIONS}/{bad_id}"), 422, ["path", "action_id"])


# ---------------------------------------------------------------- PATCH


def test_patch_without_if_match_is_428(client: TestClient, seeded: SeedReport) -> None:
    body = assert_problem(patch(client, 16, {"title": "无条件修改"}, None), 428)
    assert body["current_version"] == 1
    assert get_action(client, 16)["title"] == "加快“标准地”改革"
    assert len(events(client, 16)) == 1


def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: TestClient, seeded: SeedReport
) -> None:
    patched(client, 16, {"progress": 20})
    before = get_action(client, 16)
    assert before["version"] == 2
    body = assert_problem(patch(client, 16, {"title": "过期修改", "progress": 90}, 1), 412)
    assert body["current_version"] == 2
    after = get_action(client, 16)
    assert after == before
    assert after["title"] == "加快“标准地”改革"
    assert after["progress"] == 20
    assert [e["kind"] for e in events(client, 16)] == ["created", "updated"]


def test_patch_with_malformed_if_match_is_rejected(client: TestClient, seeded: SeedReport) -> None:
    response = client.patch(f"{ACTIONS}/16", json={"progress": 5}, headers={"If-Match": "one"})
    assert_problem(response, 412)
    assert get_action(client, 16)["progress"] == 0


def test_patch_updates_fields_and_records_the_changes(
    client: TestClient, seeded: SeedReport
) -> None:
    before = get_action(client, 16)
    owner = unit_id(client, "国资公司")
    response = patch(
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

    timeline = events(client, 16)
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
    response = patch(client, 16, {"themes": ["营商环境", "项目审批", "营商环境"]}, 1)
    assert response.status_code == 200, response.text
    assert response.json()["themes"] == sorted(["营商环境", "项目审批"])
    assert response.json()["version"] == 2
    assert events(client, 16)[-1]["changes"] == {
        "themes": [sorted(before["themes"]), sorted(["营商环境", "项目审批"])]
    }


def test_patch_title_and_themes_together_is_one_version(
    client: TestClient, seeded: SeedReport
) -> None:
    response = patch(client, 16, {"title": "新标题", "themes": ["营商环境"]}, 1)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2, "one PATCH must make exactly one new version"
    assert response.headers["etag"] == 'W/"2"'
    assert [e["kind"] for e in events(client, 16)] == ["created", "updated"]


def test_patch_that_changes_nothing_keeps_the_version(
    client: TestClient, seeded: SeedReport
) -> None:
    before = get_action(client, 16)
    response = patch(
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
    assert len(events(client, 16)) == 1
    empty = patch(client, 16, {}, 1)
    assert empty.status_code == 200
    assert empty.json()["version"] == 1
    assert len(events(client, 16)) == 1


def test_patch_can_clear_nullable_fields(client: TestClient, seeded: SeedReport) -> None:
    patched(client, 16, {"due_on": "2026-12-31", "assignee": "王强"})
    body = patched(client, 16, {"due_on": None, "assignee": None, "detail": None})
    assert body["due_on"] is None
    assert body["assignee"] is None
    assert body["detail"] is None
    assert body["version"] == 3
    assert events(client, 16)[-1]["changes"]["due_on"] == ["2026-12-31", None]


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
    assert_problem(patch(client, 16, body, 1), 422, loc)
    assert get_action(client, 16) == before
    assert len(events(client, 16)) == 1


def test_patch_owner_that_does_not_exist_is_422(client: TestClient, seeded: SeedReport) -> None:
    before = get_action(client, 16)
    body = assert_problem(
        patch(client, 16, {"owner_id": 999, "progress": 5}, 1), 422, ["body", "owner_id"]
    )
    assert "999" in body["detail"]
    assert get_action(client, 16) == before
    assert len(events(client, 16)) == 1


def test_patch_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    assert_problem(patch(client, 999, {"progress": 5}, 1), 404)


# ---------------------------------------------------------------- DELETE


def test_delete_requires_if_match(client: TestClient, seeded: SeedReport) -> None:
    body = assert_problem(client.delete(f"{ACTIONS}/8"), 428)
    assert body["current_version"] == 1
    stale = assert_problem(client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"3"'}), 412)
    assert stale["current_version"] == 1
    assert get_action(client, 8)["archived"] is False
    assert 8 in list_ids(client)
    assert [e["kind"] for e in events(client, 8)] == ["created"]


def test_delete_archives_the_action(client: TestClient, seeded: SeedReport) -> None:
    assert client.get("/api/v1/sources/1").json()["action_count"] == SEEDED_TOTAL
    response = client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == 8
    assert body["archived"] is True
    assert body["version"] == 2
    assert response.headers["etag"] == 'W/"2"'

    assert 8 not in list_ids(client)
    assert 8 in list_ids(client, include_archived=True)
    still_there = get_action(client, 8)
    assert still_there["archived"] is True
    assert still_there["title"] == body["title"]

    timeline = events(client, 8)
    assert [e["kind"] for e in timeline] == ["created", "archived"]
    assert timeline[-1]["actor"] == "test-admin"  # the key the client sends
    assert client.get("/api/v1/sources/1").json()["action_count"] == SEEDED_TOTAL - 1


def test_delete_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    assert_problem(client.delete(f"{ACTIONS}/999", headers={"If-Match": 'W/"1"'}), 404)


# ---------------------------------------------------------------- events


def test_events_of_a_new_action_start_with_created(client: TestClient, seeded: SeedReport) -> None:
    action = created(client)
    patched(client, action["id"], {"progress": 10})
    patched(client, action["id"], {"progress": 20})
    response = client.get(f"{ACTIONS}/{action['id']}/events")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    items = body["items"]
    assert [e["kind"] for e in items] == ["created", "updated", "updated"]
    first = items[0]
    assert first["actor"] == "test-admin"  # the key the client sends
    assert first["to_status"] == "proposed"
    assert first["from_status"] is None
    assert first["progress"] == 0
    assert [e["changes"] for e in items[1:]] == [{"progress": [0, 10]}, {"progress": [10, 20]}]
    assert [e["id"] for e in items] == sorted(e["id"] for e in items)
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    assert set(first) >= {
        "id",
        "at",
        "actor",
        "kind",
        "from_status",
        "to_status",
        "changes",
        "note",
        "progress",
    }


def test_events_are_paginated(client: TestClient, seeded: SeedReport) -> None:
    patched(client, 16, {"progress": 10})
    patched(client, 16, {"progress": 20})
    first = client.get(f"{ACTIONS}/16/events", params={"limit": 2})
    assert first.status_code == 200
    assert [e["kind"] for e in first.json()["items"]] == ["created", "updated"]
    assert first.json()["total"] == 3
    url = next_link(first)
    assert url is not None
    second = client.get(url)
    assert second.status_code == 200
    assert [e["changes"] for e in second.json()["items"]] == [{"progress": [10, 20]}]
    assert next_link(second) is None
    assert_problem(client.get(f"{ACTIONS}/16/events", params={"limit": 0}), 422, ["query", "limit"])


def test_events_of_a_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    body = assert_problem(client.get(f"{ACTIONS}/999/events"), 404)
    assert "999" in body["detail"]
    assert_problem(client.get(f"{ACTIONS}/0/events"), 422, ["path", "action_id"])


# ---------------------------------------------------------------- stats


def get_stats(client: TestClient, **params: Any) -> dict[str, Any]:
    """GET /api/v1/stats; must succeed."""
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_stats_on_seeded_data(client: TestClient, seeded: SeedReport) -> None:
    stats = get_stats(client)
    assert stats["total"] == SEEDED_TOTAL
    assert sum(s["count"] for s in stats["by_status"]) == SEEDED_TOTAL
    assert {s["status"]: s["count"] for s in stats["by_status"]}["proposed"] == SEEDED_TOTAL
    assert {s["status"]: s["label"] for s in stats["by_status"]}["proposed"] == "待研究"
    units = stats["units"]
    assert sorted(u["rank"] for u in units) == list(range(1, len(units) + 1))
    assert [u["rank"] for u in units] == list(range(1, len(units) + 1))
    assert sum(u["total"] for u in units) == SEEDED_TOTAL
    everything = list_items(client)
    per_owner: dict[int, int] = {}
    for action in everything:
        per_owner[action["owner"]["id"]] = per_owner.get(action["owner"]["id"], 0) + 1
    assert {u["unit_id"]: u["total"] for u in units} == per_owner
    for unit in units:
        assert isinstance(unit["completion_rate"], float)
        assert isinstance(unit["average_progress"], float)
        assert unit["completion_rate"] == 0.0
        assert unit["average_progress"] == 0.0
    themes = {t["theme"]: t["count"] for t in stats["by_theme"]}
    assert themes["招商引资"] == sum("招商引资" in a["themes"] for a in everything)
    assert stats["overdue"] == 0


def test_stats_follow_progress_and_overdue(client: TestClient, seeded: SeedReport) -> None:
    patched(client, 35, {"progress": 60})  # 创新创业服务园区, 3 actions
    patched(client, 36, {"due_on": PAST})
    stats = get_stats(client)
    assert stats["overdue"] == 1
    unit = next(u for u in stats["units"] if u["unit_id"] == get_action(client, 35)["owner"]["id"])
    assert unit["total"] == 3
    assert unit["overdue"] == 1
    assert unit["average_progress"] == 20.0
    assert unit["rank"] == 1
    others = [u for u in stats["units"] if u is not unit]
    assert all(u["overdue"] == 0 for u in others)
    assert get_stats(client, overdue=True)["total"] == 1


def test_stats_exclude_archived_actions(client: TestClient, seeded: SeedReport) -> None:
    response = client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200
    stats = get_stats(client)
    assert stats["total"] == SEEDED_TOTAL - 1
    assert sum(s["count"] for s in stats["by_status"]) == SEEDED_TOTAL - 1
    assert get_stats(client, include_archived=True)["total"] == SEEDED_TOTAL


def test_stats_overdue_ignores_closed_actions(
    client: TestClient, seeded: SeedReport, session: Session
) -> None:
    patched(client, 36, {"due_on": PAST})
    patched(client, 37, {"due_on": PAST})
    assert get_stats(client)["overdue"] == 2
    set_status(session, 37, Status.completed)
    stats = get_stats(client)
    assert stats["overdue"] == 1
    assert {s["status"]: s["count"] for s in stats["by_status"]}["completed"] == 1
    unit = next(u for u in stats["units"] if u["unit_id"] == get_action(client, 37)["owner"]["id"])
    assert unit["completed"] == 1
    assert unit["overdue"] == 1
    assert unit["completion_rate"] == round(1 / 3, 4)
    assert unit["rank"] == 1
    assert list_ids(client, overdue=True) == [36]


def test_create_action_with_speech_id_checks_it(client: TestClient, seeded: SeedReport) -> None:
    source = client.get("/api/v1/sources/1").json()
    at = ARTICLE.index(STANDARD_LAND)
    inside = next(s for s in source["speeches"] if s["start"] <= at < s["end"])
    outside = next(s for s in source["speeches"] if s["id"] != inside["id"])
    body = created(client, speech_id=inside["id"])
    assert body["speech_id"] == inside["id"]
    assert_problem(create_action(client, speech_id=outside["id"]), 422, ["body", "speech_id"])
    assert_problem(create_action(client, speech_id=999), 422, ["body", "speech_id"])
    assert stored_count(client) == SEEDED_TOTAL + 1


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


def test_every_answer_is_what_action_read_writes(client: TestClient, seeded: SeedReport) -> None:
    # The API writes an action's JSON straight from database values, without building an
    # ActionRead: byte for byte it must be what ActionRead, strictly validating it, writes
    # back; for every kind of action and every route that answers with one.
    answers = [
        write_answer(client, 1, "transitions", {"to": "accepted"}),
        write_answer(client, 1, "transitions", {"to": "in_progress"}),
        write_answer(client, 1, "updates", {"note": "进展", "progress": 30}),
        write_answer(client, 1, "transitions", {"to": "completed"}),  # completed_at set
        write_answer(client, 2, "patch", {"due_on": "2020-01-01", "assignee": "张明"}),  # overdue
        write_answer(client, 3, "archive", {}),
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
    assert answers[-2].content == client.get(f"{ACTIONS}/3").content


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
