"""The caches of the read path (app/actions/cache.py) and of /stats never answer what an uncached read
would not: writes of every kind interleaved with cached reads, each answer compared with a
second app over the same database that keeps nothing; two apps (two server processes) see
each other's writes on their next request; a list's ETag and If-None-Match."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from app.config import Settings
from app.main import create_app
from app.seeding.schemas import SeedReport
from tests.helpers import ACTIONS, SEEDED_TOTAL, attach_evidence, get_action
from tests.test_query_counts import counting

FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "status": st.lists(st.sampled_from(["proposed", "accepted", "in_progress"]), max_size=2),
        "owner_id": st.integers(1, 12),
        "theme": st.sampled_from(["招商引资", "科技创新", "项目审批"]),
        "include_archived": st.booleans(),
        "overdue": st.booleans(),
        "light": st.sampled_from(["green", "yellow", "red"]),
        "offset": st.integers(0, 40),
        "limit": st.integers(1, 20),
        "sort": st.sampled_from(["-updated_at", "title", "status,-id"]),
    },
)
ACTION_IDS = st.integers(1, SEEDED_TOTAL)


@pytest.fixture
def uncached(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """A second app over the same database keeping nothing."""
    keep_nothing = {"read_cache_totals": 0, "read_cache_actions": 0, "read_cache_pages": 0}
    bare = settings.model_copy(update=keep_nothing)
    with TestClient(create_app(bare), headers=dict(client.headers)) as other:
        yield other


def _write(client: TestClient, engine: Engine, kind: str, action_id: int, n: int) -> None:
    """One write of kind to action_id (n makes its values new)."""
    action = get_action(client, action_id)
    if action["archived"] and not kind.startswith("raw"):
        return  # the API refuses most writes to an archived action (tested elsewhere)
    match_ = {"If-Match": f'W/"{action["version"]}"'}
    url = f"{ACTIONS}/{action_id}"
    if kind == "patch":
        body = {"title": f"标题{n}", "themes": ["招商引资"] if n % 2 else ["新主题"]}
        assert client.patch(url, json=body, headers=match_).status_code == 200
    elif kind == "move":
        target = {"proposed": "accepted", "accepted": "in_progress"}.get(action["status"])
        if target:
            response = client.post(f"{url}/transitions", json={"to": target}, headers=match_)
            assert response.status_code == 200, response.text
    elif kind == "due":
        assert client.patch(url, json={"due_on": "2020-01-01"}, headers=match_).status_code in (
            200,
            403,
        )
    elif kind == "archive":
        assert client.delete(url, headers=match_).status_code == 200
    elif kind == "evidence":
        attach_evidence(client, action_id)
    elif kind == "rename unit":
        # The database lives on across hypothesis's examples: a name no example used.
        owner = action["owner"]["id"]
        name = f"单位{uuid.uuid4().hex[:8]}"
        response = client.patch(f"/api/v1/units/{owner}", json={"name": name})
        assert response.status_code == 200, response.text
    elif kind == "raw title":
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE actions SET title = :t WHERE id = :id"),
                {"t": f"直改{n}", "id": action_id},
            )
    elif kind == "raw theme":
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE themes SET name = :name WHERE id = (SELECT min(id) FROM themes)"),
                {"name": f"主题{uuid.uuid4().hex[:8]}"},
            )


def _same(cached: TestClient, bare: TestClient, path: str, params: dict[str, Any]) -> None:
    first = cached.get(path, params=params)
    again = cached.get(path, params=params)  # now from the cache
    truth = bare.get(path, params=params)
    assert first.status_code == again.status_code == truth.status_code, truth.text
    assert first.json() == again.json() == truth.json()
    assert first.headers.get("etag") == again.headers.get("etag") == truth.headers.get("etag")


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("list"), FILTERS),
        st.tuples(st.just("get"), ACTION_IDS),
        st.tuples(
            st.sampled_from(
                [
                    "patch",
                    "move",
                    "due",
                    "archive",
                    "evidence",
                    "rename unit",
                    "raw title",
                    "raw theme",
                ]
            ),
            ACTION_IDS,
        ),
    ),
    min_size=1,
    max_size=8,
)


@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_cached_reads_answer_what_uncached_reads_do(
    steps: list[tuple[str, Any]],
    client: TestClient,
    uncached: TestClient,
    seeded: SeedReport,
    engine: Engine,
) -> None:
    for n, (kind, value) in enumerate(steps):
        if kind == "list":
            _same(client, uncached, ACTIONS, value)
        elif kind == "get":
            _same(client, uncached, f"{ACTIONS}/{value}", {})
        else:
            _write(client, engine, kind, value, n)
        _same(client, uncached, ACTIONS, {"limit": 50, "include_archived": True})
        _same(client, uncached, "/api/v1/stats", {})
        _same(client, uncached, "/api/v1/stats", {"include_archived": True, "owner_id": 5})


def test_two_apps_on_one_database_see_each_others_writes(
    settings: Settings, client: TestClient, seeded: SeedReport
) -> None:
    with TestClient(create_app(settings), headers=dict(client.headers)) as other:
        for app_client in (client, other):  # both keep what they read
            assert app_client.get(ACTIONS, params={"status": "accepted"}).json()["total"] == 0
            assert app_client.get(f"{ACTIONS}/1").json()["status"] == "proposed"
        version = other.get(f"{ACTIONS}/1").json()["version"]
        moved = other.post(
            f"{ACTIONS}/1/transitions",
            json={"to": "accepted"},
            headers={"If-Match": f'W/"{version}"'},
        )
        assert moved.status_code == 200, moved.text
        owner = moved.json()["owner"]["id"]
        assert other.patch(f"/api/v1/units/{owner}", json={"name": "新名字"}).status_code == 200

        assert client.get(ACTIONS, params={"status": "accepted"}).json()["total"] == 1
        assert client.get(f"{ACTIONS}/1").json()["status"] == "accepted"
        assert client.get(f"{ACTIONS}/2").json()["owner"]["name"] in (
            "新名字",
            get_action(other, 2)["owner"]["name"],
        )
        shown = [a for a in client.get(ACTIONS, params={"owner_id": owner}).json()["items"]]
        assert shown and all(a["owner"]["name"] == "新名字" for a in shown)


def test_a_list_answers_304_to_its_etag_until_the_data_changes(
    client: TestClient, seeded: SeedReport
) -> None:
    params = {"status": "proposed", "limit": 5}
    first = client.get(ACTIONS, params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    # The same question, its parameters in another order: the same ETag.
    same = client.get(f"{ACTIONS}?limit=5&status=proposed&status=proposed")
    assert same.headers["etag"] == etag
    assert client.get(ACTIONS, params={"status": "proposed", "limit": 6}).headers["etag"] != etag

    unchanged = client.get(ACTIONS, params=params, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", etag)

    version = get_action(client, 1)["version"]
    response = client.patch(
        f"{ACTIONS}/1", json={"title": "新"}, headers={"If-Match": f'W/"{version}"'}
    )
    assert response.status_code == 200
    changed = client.get(ACTIONS, params=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["items"][0]["title"] == "新"


def test_a_list_asked_again_reads_no_action_until_the_data_changes(
    client: TestClient, app: FastAPI, seeded: SeedReport
) -> None:
    params = {"status": "proposed", "limit": 5, "sort": "-id"}
    first = client.get(ACTIONS, params=params)
    with counting(app.state.engine) as statements:
        again = client.get(ACTIONS, params=params)
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["link"] == first.headers["link"]
    assert [s for s in statements if "action" in s] == []  # the generation alone was read

    newest = first.json()["items"][0]
    response = client.patch(
        f"{ACTIONS}/{newest['id']}",
        json={"title": "改过的标题"},
        headers={"If-Match": f'W/"{newest["version"]}"'},
    )
    assert response.status_code == 200
    with counting(app.state.engine) as statements:
        changed = client.get(ACTIONS, params=params)
    assert changed.json()["items"][0]["title"] == "改过的标题"
    assert [s for s in statements if "action" in s]


def test_a_stale_list_has_no_etag(client: TestClient, seeded: SeedReport) -> None:
    response = client.get(ACTIONS, params={"stale": True})
    assert response.status_code == 200
    assert "etag" not in response.headers
