"""GET /api/v1/sources/{id}/candidates on a database with the curated seed and on one without
it, and POST /api/v1/sources without speeches: the server finds them."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.actions.models import Action
from app.auth.models import Role
from app.seeding.schemas import SeedReport
from app.units.models import Unit
from tests.helpers import ARTICLE, assert_problem, make_key

SOURCES = "/api/v1/sources"
SLUG = "xiuzhou-secondment-2022-01-28"
FIELDS = {
    "quote",
    "quote_start",
    "quote_end",
    "speech_id",
    "speaker",
    "unit_id",
    "title",
    "kind",
    "themes",
    "score",
    "cues",
    "action_ids",
}
SPEAKERS = ["凌兵奎", "谢纳", "马骏", "高健", "陈家宝", "梁成", "余佳沛", "袁梦哲"]


def all_candidates(client: TestClient, source: str | int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = client.get(
            f"{SOURCES}/{source}/candidates", params={"limit": 200, "offset": len(items)}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if len(items) >= page["total"]:
            return items


def action_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Action)).one()


def test_candidates_of_the_seeded_article_name_the_actions_they_overlap(
    client: TestClient, seeded: SeedReport, engine: Engine
) -> None:
    before = action_count(engine)
    source = client.get(f"{SOURCES}/{SLUG}").json()
    items = all_candidates(client, SLUG)
    assert 43 <= len(items) <= 86
    speeches = {s["id"]: s for s in source["speeches"]}
    actions = client.get("/api/v1/actions", params={"source_id": source["id"], "limit": 200})
    by_id = {a["id"]: a for a in actions.json()["items"]}
    for item in items:
        assert set(item) == FIELDS
        assert ARTICLE[item["quote_start"] : item["quote_end"]] == item["quote"]
        assert "\n" not in item["quote"]
        speech = speeches.get(item["speech_id"])
        if speech is None:  # outside every speech: no speaker, no suggested owner
            assert (item["speaker"], item["unit_id"]) == (None, None)
            assert not any(s["start"] <= item["quote_start"] < s["end"] for s in speeches.values())
            continue
        assert speech["start"] <= item["quote_start"] < item["quote_end"] <= speech["end"]
        assert (item["speaker"], item["unit_id"]) == (speech["speaker"], speech["unit_id"])
        overlapping = sorted(
            action_id
            for action_id, action in by_id.items()
            if action["quote_start"] < item["quote_end"]
            and item["quote_start"] < action["quote_end"]
        )
        assert item["action_ids"] == overlapping
    standard_land = next(a for a in by_id.values() if a["title"] == "加快“标准地”改革")
    [proposal] = [i for i in items if "建议我区加快“标准地”改革" in i["quote"]]
    assert proposal["action_ids"] == [standard_land["id"]]
    assert proposal["unit_id"] == standard_land["owner"]["id"]
    assert (proposal["speaker"], proposal["kind"]) == ("高健", "recommendation")
    assert sum(bool(i["action_ids"]) for i in items) >= 39
    assert sum(i["speech_id"] is None for i in items) <= 3
    assert action_count(engine) == before  # nothing is created


def test_candidates_are_paginated_with_a_link_to_the_next_page(
    client: TestClient, seeded: SeedReport
) -> None:
    everything = all_candidates(client, SLUG)
    response = client.get(f"{SOURCES}/{SLUG}/candidates", params={"limit": 10, "offset": 5})
    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (len(everything), 10, 5)
    assert page["items"] == everything[5:15]
    assert 'rel="next"' in response.headers["link"] and "offset=15" in response.headers["link"]
    assert_problem(client.get(f"{SOURCES}/{SLUG}/candidates", params={"limit": 0}), 422)


def test_posting_the_article_without_speeches_finds_them_and_their_units(
    client: TestClient, engine: Engine
) -> None:
    existing = client.post("/api/v1/units", json={"name": "区经济发展局", "kind": "bureau"}).json()
    response = client.post(SOURCES, json={"slug": SLUG, "title": "赴秀洲", "text": ARTICLE})
    assert response.status_code == 201, response.text
    body = response.json()
    assert [s["speaker"] for s in body["speeches"]] == SPEAKERS
    assert body["speech_count"] == 8
    units = {u["id"]: u for u in client.get("/api/v1/units").json()["items"]}
    names = [units[s["unit_id"]]["name"] for s in body["speeches"]]
    assert names == [
        "区党工委",
        "区科技创新局",
        "沙河产业园区",
        "区经济发展局",
        "区经济发展局",
        "区城乡建设和生态环境局",
        "创新创业服务园区",
        "皇台产业园区",
    ]
    assert body["speeches"][3]["unit_id"] == existing["id"]  # matched, not made twice
    assert len(units) == 7
    assert {units[s["unit_id"]]["kind"] for s in body["speeches"][1:3]} == {"bureau", "park"}
    assert body["speeches"][1]["heading"] == "党建引领 集群发展 全员招商"
    assert ARTICLE[body["speeches"][0]["start"] :].startswith("对此，凌兵奎强调")

    items = all_candidates(client, body["id"])
    assert items and all(i["action_ids"] == [] for i in items)
    assert {i["speaker"] for i in items} == {*SPEAKERS, None}
    assert {i["speech_id"] for i in items} == {*(s["id"] for s in body["speeches"]), None}
    assert action_count(engine) == 0


def test_speeches_sent_empty_are_none_and_candidates_still_name_the_speakers(
    client: TestClient,
) -> None:
    body = client.post(
        SOURCES, json={"slug": SLUG, "title": "赴秀洲", "text": ARTICLE, "speeches": []}
    ).json()
    assert body["speeches"] == []
    items = all_candidates(client, body["id"])
    assert {i["speaker"] for i in items} == {*SPEAKERS, None}
    assert all(i["speech_id"] is None for i in items)
    assert {i["unit_id"] for i in items} == {None}  # no units exist to suggest


def test_a_text_without_proposals_has_no_candidates_and_no_speeches(client: TestClient) -> None:
    for slug, text in [("english", "We propose an incubator reward scheme."), ("dots", "。。。")]:
        created = client.post(SOURCES, json={"slug": slug, "title": "t", "text": text})
        assert created.status_code == 201, created.text
        assert created.json()["speeches"] == []
        page = client.get(f"{SOURCES}/{slug}/candidates").json()
        assert (page["items"], page["total"]) == ([], 0)


def test_candidates_need_a_reader_and_an_existing_source(
    client: TestClient, anonymous_client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    viewer = make_key(engine, Role.viewer)
    response = client.get(f"{SOURCES}/{SLUG}/candidates", headers={"X-API-Key": viewer})
    assert response.status_code == 200
    assert_problem(anonymous_client.get(f"{SOURCES}/{SLUG}/candidates"), 401)
    assert_problem(client.get(f"{SOURCES}/no-such-source/candidates"), 404)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Unit)).one() == 9
