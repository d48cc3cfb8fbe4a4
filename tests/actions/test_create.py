"""POST /api/v1/actions: an action anchored in its source's text, and every way a create
is refused."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    ARTICLE,
    SEEDED_TOTAL,
    STANDARD_LAND,
    assert_explained_problem,
    create_action,
    create_source,
    created_action,
    unit_id,
)


def stored_count(client: TestClient) -> int:
    """How many actions exist, archived ones too."""
    response = client.get(ACTIONS, params={"include_archived": True, "limit": 1})
    assert response.status_code == 200
    total: int = response.json()["total"]
    return total


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
    assert (body["original_due_on"], body["extension_count"]) == ("2026-12-31", 0)
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
    body = assert_explained_problem(response, 422, ["body", "quote"])
    assert "does not occur" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_half_width_variant_of_quote_is_422(
    client: TestClient, seeded: SeedReport
) -> None:
    response = create_action(client, quote='建议我区加快"标准地"改革,实现工程项目拿地即开工.')
    assert_explained_problem(response, 422, ["body", "quote"])
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
    assert_explained_problem(half, 422, ["body", "quote"])


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
    body = assert_explained_problem(ambiguous, 422, ["body", "quote_start"])
    assert "3 times" in body["detail"]
    assert "0, 10, 20" in body["detail"]

    wrong = create_action(client, source_id=source["id"], quote=phrase, quote_start=5)
    body = assert_explained_problem(wrong, 422, ["body", "quote_start"])
    assert "0, 10, 20" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL

    picked = created_action(client, source_id=source["id"], quote=phrase, quote_start=10)
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
    body = assert_explained_problem(response, 422, ["body", "quote"])
    assert "whitespace" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_unknown_source_is_422(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(
        create_action(client, source_id=999), 422, ["body", "source_id"]
    )
    assert "999" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_unknown_owner_is_422(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(create_action(client, owner_id=999), 422, ["body", "owner_id"])
    assert "999" in body["detail"]
    assert stored_count(client) == SEEDED_TOTAL


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "completed"), ("version", 5), ("quote_end", 10), ("archived", True)],
)
def test_create_action_with_an_unknown_field_is_422(
    client: TestClient, seeded: SeedReport, field: str, value: Any
) -> None:
    body = assert_explained_problem(create_action(client, **{field: value}), 422, ["body", field])
    assert body["errors"][0]["type"] == "extra_forbidden"
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_nul_in_title_is_422(client: TestClient, seeded: SeedReport) -> None:
    assert_explained_problem(create_action(client, title="标准地\x00改革"), 422, ["body", "title"])
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
    assert_explained_problem(client.post(ACTIONS, json=body), 422, ["body", missing])
    assert stored_count(client) == SEEDED_TOTAL


def test_create_action_duplicate_seed_key_is_409(client: TestClient, seeded: SeedReport) -> None:
    first = created_action(client, seed_key="new-key")
    assert first["seed_key"] == "new-key"
    body = assert_explained_problem(create_action(client, seed_key="new-key"), 409)
    assert "new-key" in body["detail"]
    seeded_key = assert_explained_problem(
        create_action(client, seed_key="standard-land-reform"), 409
    )
    assert "standard-land-reform" in seeded_key["detail"]
    assert stored_count(client) == SEEDED_TOTAL + 1


def test_create_action_with_speech_id_checks_it(client: TestClient, seeded: SeedReport) -> None:
    source = client.get("/api/v1/sources/1").json()
    at = ARTICLE.index(STANDARD_LAND)
    inside = next(s for s in source["speeches"] if s["start"] <= at < s["end"])
    outside = next(s for s in source["speeches"] if s["id"] != inside["id"])
    body = created_action(client, speech_id=inside["id"])
    assert body["speech_id"] == inside["id"]
    assert_explained_problem(
        create_action(client, speech_id=outside["id"]), 422, ["body", "speech_id"]
    )
    assert_explained_problem(create_action(client, speech_id=999), 422, ["body", "speech_id"])
    assert stored_count(client) == SEEDED_TOTAL + 1
