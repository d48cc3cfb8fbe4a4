"""GET /api/v1/actions through HTTP: pages and their Link header, sorting, every filter and
the q search. The query builder behind it is tested on its own in test_listing.py."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.actions.workflow import Status
from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    PAST,
    SEEDED_TOTAL,
    assert_explained_problem,
    create_source,
    created_action,
    get_action,
    listed_actions,
    listed_ids,
    next_link,
    patched_action,
    set_status,
)

FUTURE = "2099-12-31"


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


# ---------------------------------------------------------------- paging


def test_list_default_page(client: TestClient, seeded: SeedReport) -> None:
    for n in range(8):
        created_action(client, title=f"补充事项{n}")
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
    assert_explained_problem(client.get(ACTIONS, params=params), 422, loc)


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
    assert sorted(ids) == listed_ids(client)


@pytest.mark.parametrize("sort", ["-priority,id", "title", "-title", "status", "-progress"])
def test_list_sorted_pages_cover_every_action_exactly_once(
    client: TestClient, seeded: SeedReport, sort: str
) -> None:
    ids, _ = walk_pages(client, limit=7, sort=sort)
    assert len(ids) == len(set(ids)) == SEEDED_TOTAL
    assert ids == listed_ids(client, sort=sort)


def test_list_link_keeps_filters(client: TestClient, seeded: SeedReport) -> None:
    ids, pages = walk_pages(client, limit=5, q="招商", sort="-title")
    assert ids == listed_ids(client, q="招商", sort="-title")
    assert pages > 1


# ---------------------------------------------------------------- sorting


def test_list_sort_by_priority_breaks_ties_by_id(client: TestClient, seeded: SeedReport) -> None:
    order = {"high": 0, "medium": 1, "low": 2}
    descending = listed_actions(client, sort="-priority,id")
    ascending = listed_actions(client, sort="priority")
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
    twins = [created_action(client, title="同名事项")["id"] for _ in range(3)]
    items = listed_actions(client, sort="title")
    assert [(i["title"], i["id"]) for i in items] == sorted((i["title"], i["id"]) for i in items)
    descending = listed_actions(client, sort="-title")
    titles = [i["title"] for i in descending]
    assert titles == sorted(titles, reverse=True)
    # ties are broken by id ascending in both directions
    assert [i["id"] for i in descending if i["title"] == "同名事项"] == twins
    assert [i["id"] for i in items if i["title"] == "同名事项"] == twins


def test_list_sort_by_several_fields(client: TestClient, seeded: SeedReport) -> None:
    items = listed_actions(client, sort="owner_id,-quote_start")
    keys = [(i["owner"]["id"], -i["quote_start"], i["id"]) for i in items]
    assert keys == sorted(keys)
    assert len(items) == SEEDED_TOTAL


@pytest.mark.parametrize("sort", ["nonsense", "-nonsense", "id,quote", "title;drop"])
def test_list_unknown_sort_field_is_422(client: TestClient, seeded: SeedReport, sort: str) -> None:
    body = assert_explained_problem(
        client.get(ACTIONS, params={"sort": sort}), 422, ["query", "sort"]
    )
    assert "sort" in body["detail"]


# ---------------------------------------------------------------- filters


def test_list_filter_status_is_repeatable(
    client: TestClient, seeded: SeedReport, session: Session
) -> None:
    set_status(session, 5, Status.accepted)
    set_status(session, 9, Status.blocked)
    set_status(session, 30, Status.accepted)
    assert listed_ids(client, status="accepted") == [5, 30]
    assert listed_ids(client, status=["accepted", "blocked"]) == [5, 9, 30]
    proposed = listed_ids(client, status="proposed")
    assert len(proposed) == SEEDED_TOTAL - 3
    assert {5, 9, 30}.isdisjoint(proposed)
    assert listed_ids(client, status="completed") == []
    assert_explained_problem(
        client.get(ACTIONS, params={"status": "done"}), 422, ["query", "status", 0]
    )


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
    everything = listed_actions(client)
    expected = [a["id"] for a in everything if matches(a)]
    assert 0 < len(expected) < SEEDED_TOTAL
    assert listed_ids(client, **{param: value}) == expected


def test_list_filter_by_source(client: TestClient, seeded: SeedReport) -> None:
    other = create_source(client, "other", "另一篇来源：推动企业上云。")
    mine = created_action(client, source_id=other["id"], quote="推动企业上云")
    assert listed_ids(client, source_id=other["id"]) == [mine["id"]]
    assert listed_ids(client, source_id=1) == list(range(1, SEEDED_TOTAL + 1))
    # a source that does not exist is a typo, not a source without actions
    assert_explained_problem(client.get(ACTIONS, params={"source_id": 999}), 422)


def test_list_filter_due_before_and_after(client: TestClient, seeded: SeedReport) -> None:
    patched_action(client, 3, {"due_on": "2026-03-01"})
    patched_action(client, 7, {"due_on": "2026-06-01"})
    patched_action(client, 11, {"due_on": "2026-09-01"})
    assert listed_ids(client, due_before="2026-06-01") == [3]
    assert listed_ids(client, due_after="2026-06-01") == [11]
    assert listed_ids(client, due_after="2026-02-01", due_before="2026-07-01") == [3, 7]
    assert listed_ids(client, due_before="2027-01-01") == [3, 7, 11]
    assert listed_ids(client, due_after="2026-09-01") == []
    assert_explained_problem(client.get(ACTIONS, params={"due_before": "2026-13-01"}), 422)


def test_list_filter_overdue(client: TestClient, seeded: SeedReport) -> None:
    late = patched_action(client, 12, {"due_on": PAST})
    assert late["overdue"] is True
    assert get_action(client, 12)["overdue"] is True
    upcoming = patched_action(client, 13, {"due_on": FUTURE})
    assert upcoming["overdue"] is False
    assert listed_ids(client, overdue=True) == [12]
    not_overdue = listed_ids(client, overdue=False)
    assert len(not_overdue) == SEEDED_TOTAL - 1
    assert 12 not in not_overdue
    assert 13 in not_overdue


def test_list_filter_updated_since(client: TestClient, seeded: SeedReport) -> None:
    changed = patched_action(client, 20, {"assignee": "李华"})
    since = changed["updated_at"]
    assert listed_ids(client, updated_since=since) == [20]
    earlier = datetime.fromisoformat(since) - timedelta(days=1)
    assert len(listed_ids(client, updated_since=earlier.isoformat())) == SEEDED_TOTAL
    later = datetime.fromisoformat(since) + timedelta(seconds=1)
    assert listed_ids(client, updated_since=later.isoformat()) == []
    assert_explained_problem(client.get(ACTIONS, params={"updated_since": "yesterday"}), 422)


def test_list_filter_updated_since_without_offset_is_deployment_time(
    client: TestClient, seeded: SeedReport
) -> None:
    changed = patched_action(client, 20, {"assignee": "李华"})
    at = datetime.fromisoformat(changed["updated_at"])
    shanghai = (at + timedelta(hours=8)).replace(tzinfo=None)
    assert listed_ids(client, updated_since=shanghai.isoformat()) == [20]
    later = shanghai + timedelta(microseconds=1)
    assert listed_ids(client, updated_since=later.isoformat()) == []
    utc_read_as_local = at.replace(tzinfo=None)  # 8 hours earlier than meant
    assert len(listed_ids(client, updated_since=utc_read_as_local.isoformat())) == SEEDED_TOTAL


def test_list_filter_include_archived(client: TestClient, seeded: SeedReport) -> None:
    response = client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.text
    visible = listed_ids(client)
    assert 8 not in visible
    assert len(visible) == SEEDED_TOTAL - 1
    assert listed_ids(client, include_archived=True) == list(range(1, SEEDED_TOTAL + 1))
    assert listed_ids(client, include_archived=False) == visible


# ---------------------------------------------------------------- search (q)


def expected_matches(client: TestClient, term: str) -> set[int]:
    """Ids of the actions whose title, detail or quote contains term, judged here."""
    return {
        a["id"]
        for a in listed_actions(client)
        if term in a["title"] or term in (a["detail"] or "") or term in a["quote"]
    }


@pytest.mark.parametrize("term", ["招", "党", "招商", "党建", "环保", "孵化器", "标准地", "五个一"])
def test_search_finds_every_match(client: TestClient, seeded: SeedReport, term: str) -> None:
    expected = expected_matches(client, term)
    assert expected
    got = listed_ids(client, q=term)
    assert len(got) == len(set(got))
    assert set(got) == expected


def test_search_covers_title_detail_and_quote(client: TestClient, seeded: SeedReport) -> None:
    in_title = created_action(client, title="甲乙丙标题词")["id"]
    in_detail = created_action(client, detail="说明里有甲乙丙说明词")["id"]
    in_quote_only = created_action(client, quote="实现工程项目拿地即开工")["id"]
    assert listed_ids(client, q="甲乙丙标题词") == [in_title]
    assert listed_ids(client, q="甲乙丙说明词") == [in_detail]
    assert in_quote_only in listed_ids(client, q="拿地即开工")
    assert listed_ids(client, q="甲乙丙") == [in_title, in_detail]


def test_search_ignores_punctuation_and_never_treats_it_as_a_wildcard(
    client: TestClient, seeded: SeedReport
) -> None:
    assert listed_ids(client, q="_") == []  # punctuation alone is looked for as it is
    assert set(listed_ids(client, q="%")) == expected_matches(client, "%")
    assert listed_ids(client, q="\\") == []
    assert listed_ids(client, q="招_") == listed_ids(client, q="招")  # not 招 and one more
    assert listed_ids(client, q="招%商") == listed_ids(client, q="招商")  # not 招…商
    percent = created_action(client, title="增长10%目标")["id"]
    underscore = created_action(client, title="代号a_b事项")["id"]
    assert listed_ids(client, q="增长10%") == [percent]
    assert listed_ids(client, q="0%目") == [percent]
    assert listed_ids(client, q="a_b") == listed_ids(client, q="ab") == [underscore]
    assert listed_ids(client, q="号a%b事") == [underscore]


def test_search_with_no_match_is_empty(client: TestClient, seeded: SeedReport) -> None:
    response = client.get(ACTIONS, params={"q": "量子计算"})
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 0
