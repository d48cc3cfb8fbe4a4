"""HTTP contract of /api/v1/sources."""

import hashlib
from itertools import pairwise
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.actions.models import Action
from app.config import Settings
from app.main import create_app
from app.seeding.schemas import SeedReport
from app.sources.models import Source
from tests.helpers import ARTICLE, assert_problem

SOURCES = "/api/v1/sources"
SLUG = "xiuzhou-secondment-2022-01-28"
# Chinese prose with layout breaks, a CRLF, an astral-plane character (𠮷, two UTF-16 units,
# four UTF-8 bytes) and surrounding whitespace that must all be kept verbatim.
TEXT = "  凌兵奎强调：要培、要带。\n\n谢纳说：𠮷祥招商，\r\n党建联\n\n盟。\n"
SPEECH_ONE = (TEXT.index("凌"), TEXT.index("\n\n"))
SPEECH_TWO = (TEXT.index("谢"), len(TEXT) - 1)


def unit_id(client: TestClient, name: str = "区党工委") -> int:
    response = client.post("/api/v1/units", json={"name": name, "kind": "committee"})
    assert response.status_code == 201, response.text
    value: int = response.json()["id"]
    return value


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "ling-remarks",
        "title": "凌兵奎讲话",
        "publisher": "平顶山高新区",
        "published_on": "2022-01-28",
        "url": "https://example.org/a",
        "language": "zh-CN",
        "text": TEXT,
        "speeches": [
            {"heading": "讲话", "speaker": "凌兵奎", "start": SPEECH_ONE[0], "end": SPEECH_ONE[1]},
            {"heading": "分享", "speaker": "谢纳", "start": SPEECH_TWO[0], "end": SPEECH_TWO[1]},
        ],
    }
    return {**body, **overrides}


def speech(start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {"heading": "讲话", "speaker": "凌兵奎", "start": start, "end": end, **extra}


def test_post_source_is_201_with_hash_counts_and_location(client: TestClient) -> None:
    response = client.post(SOURCES, json=payload())
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{SOURCES}/{body['id']}"
    assert body["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    assert body["char_count"] == len(TEXT)
    assert body["char_count"] != len(TEXT.encode("utf-16-le")) // 2  # code points, not UTF-16
    assert body["text"] == TEXT
    assert (body["speech_count"], body["action_count"]) == (2, 0)
    assert [(s["start"], s["end"]) for s in body["speeches"]] == [SPEECH_ONE, SPEECH_TWO]
    assert body["slug"] == "ling-remarks"
    assert body["published_on"] == "2022-01-28"
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_text_is_returned_byte_identical(client: TestClient) -> None:
    created = client.post(SOURCES, json=payload()).json()
    for key in (created["id"], "ling-remarks"):
        response = client.get(f"{SOURCES}/{key}")
        assert response.status_code == 200
        assert response.json()["text"].encode("utf-8") == TEXT.encode("utf-8")
    assert "\n\n" in TEXT and "\r\n" in TEXT


def test_speech_offsets_are_code_points(client: TestClient) -> None:
    created = client.post(SOURCES, json=payload()).json()
    second = created["speeches"][1]
    assert TEXT[second["start"] : second["end"]] == "谢纳说：𠮷祥招商，\r\n党建联\n\n盟。"


def test_get_by_id_and_by_slug_are_identical(client: TestClient) -> None:
    created = client.post(SOURCES, json=payload()).json()
    by_id = client.get(f"{SOURCES}/{created['id']}")
    by_slug = client.get(f"{SOURCES}/ling-remarks")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json() == created
    assert by_id.headers["etag"] == by_slug.headers["etag"]
    speech_keys = {"id", "heading", "speaker", "unit_id", "start", "end"}
    assert all(set(s) == speech_keys for s in by_id.json()["speeches"])


def test_get_honours_if_none_match(client: TestClient) -> None:
    client.post(SOURCES, json=payload())
    etag = client.get(f"{SOURCES}/ling-remarks").headers["etag"]
    cached = client.get(f"{SOURCES}/ling-remarks", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""


def test_speech_unit_is_stored(client: TestClient) -> None:
    unit = unit_id(client)
    body = payload(speeches=[speech(*SPEECH_ONE, unit_id=unit)])
    response = client.post(SOURCES, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["speeches"][0]["unit_id"] == unit


@pytest.mark.parametrize(
    ("speeches", "fragment"),
    [
        ([speech(0, len(TEXT) + 1)], "past the text"),
        ([speech(5, 5)], "greater than start"),
        ([speech(6, 5)], "greater than start"),
        ([speech(0, 10), speech(9, 20)], "overlap"),
        ([speech(9, 20), speech(0, 10)], "overlap"),
    ],
    ids=["end-past-text", "empty", "end-before-start", "overlap", "overlap-unsorted"],
)
def test_bad_speech_offsets_are_422(
    client: TestClient, speeches: list[dict[str, Any]], fragment: str
) -> None:
    body = assert_problem(client.post(SOURCES, json=payload(speeches=speeches)), 422)
    assert fragment in body["detail"]
    assert body["errors"]
    assert client.get(SOURCES).json()["total"] == 0


def test_speech_ending_exactly_at_text_end_is_accepted(client: TestClient) -> None:
    response = client.post(SOURCES, json=payload(speeches=[speech(0, len(TEXT))]))
    assert response.status_code == 201, response.text


def test_unknown_speech_unit_is_422_naming_the_field(client: TestClient) -> None:
    body = assert_problem(
        client.post(SOURCES, json=payload(speeches=[speech(0, 5, unit_id=777)])), 422
    )
    assert ["body", "speeches", 0, "unit_id"] in [e["loc"] for e in body["errors"]]
    assert client.get(SOURCES).json()["total"] == 0


def test_duplicate_slug_is_409(client: TestClient) -> None:
    first = client.post(SOURCES, json=payload())
    assert first.status_code == 201
    body = assert_problem(client.post(SOURCES, json=payload(text="更正后的文本", speeches=[])), 409)
    assert "ling-remarks" in body["detail"]
    assert client.get(f"{SOURCES}/ling-remarks").json()["text"] == TEXT


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"slug": "Not A Slug"}, ["body", "slug"]),
        ({"slug": "trailing-"}, ["body", "slug"]),
        ({"text": ""}, ["body", "text"]),
        ({"text": "含有\x00空字符"}, ["body", "text"]),
        ({"title": " 标题"}, ["body", "title"]),
        ({"language": "中文"}, ["body", "language"]),
        ({"sha256": "0" * 64}, ["body", "sha256"]),
    ],
    ids=["spaces", "trailing-dash", "empty-text", "nul", "spaced-title", "language", "extra"],
)
def test_invalid_source_is_422(client: TestClient, overrides: dict[str, Any], loc: list) -> None:
    body = assert_problem(client.post(SOURCES, json=payload(**overrides)), 422)
    assert loc in [e["loc"] for e in body["errors"]]


def test_numeric_slug_is_rejected_or_reachable(client: TestClient) -> None:
    """A slug of digits would be read as an id by GET /{id_or_slug}."""
    response = client.post(SOURCES, json=payload(slug="2022", speeches=[]))
    if response.status_code == 201:
        fetched = client.get(f"{SOURCES}/2022")
        assert fetched.status_code == 200, "a source created with slug 2022 cannot be fetched"
        assert fetched.json()["slug"] == "2022"
    else:
        assert_problem(response, 422)


def test_list_has_no_text_and_counts(client: TestClient, seeded: SeedReport) -> None:
    client.post(SOURCES, json=payload())
    response = client.get(SOURCES)
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (2, 50, 0)
    by_slug = {item["slug"]: item for item in body["items"]}
    assert all("text" not in item and "speeches" not in item for item in body["items"])
    assert by_slug[SLUG]["speech_count"] == 8
    assert by_slug[SLUG]["action_count"] == 43
    assert by_slug[SLUG]["char_count"] == len(ARTICLE)
    assert by_slug["ling-remarks"]["speech_count"] == 2
    assert by_slug["ling-remarks"]["action_count"] == 0


def test_list_sort(client: TestClient) -> None:
    client.post(SOURCES, json=payload(slug="b-source", published_on="2021-01-01"))
    client.post(SOURCES, json=payload(slug="a-source", published_on="2023-01-01"))
    by_slug = client.get(SOURCES, params={"sort": "slug"}).json()["items"]
    assert [s["slug"] for s in by_slug] == ["a-source", "b-source"]
    newest = client.get(SOURCES, params={"sort": "-published_on"}).json()["items"]
    assert [s["slug"] for s in newest] == ["a-source", "b-source"]
    assert_problem(client.get(SOURCES, params={"sort": "text"}), 422)


def test_seeded_source_detail(client: TestClient, seeded: SeedReport) -> None:
    response = client.get(f"{SOURCES}/{SLUG}")
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == ARTICLE
    assert body["sha256"] == hashlib.sha256(ARTICLE.encode()).hexdigest()
    assert (body["speech_count"], body["action_count"]) == (8, 43)
    assert len(body["speeches"]) == 8
    starts = [s["start"] for s in body["speeches"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize("key", ["no-such-source", "999"])
def test_unknown_source_is_404_problem(client: TestClient, key: str) -> None:
    body = assert_problem(client.get(f"{SOURCES}/{key}"), 404)
    assert key in body["detail"]
    assert body["instance"] == f"{SOURCES}/{key}"
    assert_problem(client.get(f"{SOURCES}/{key}/annotated"), 404)


def test_annotated_spans_cover_text_and_quotes(
    client: TestClient, seeded: SeedReport, session: Session
) -> None:
    response = client.get(f"{SOURCES}/{SLUG}/annotated")
    assert response.status_code == 200
    body = response.json()
    spans = body["spans"]
    source = session.exec(select(Source).where(Source.slug == SLUG)).one()
    assert (body["source_id"], body["slug"], body["char_count"]) == (source.id, SLUG, len(ARTICLE))
    assert spans[0]["start"] == 0
    assert spans[-1]["end"] == len(ARTICLE)
    for span, following in pairwise(spans):
        assert span["end"] == following["start"]
    assert all(span["start"] < span["end"] for span in spans)
    assert all(ARTICLE[s["start"] : s["end"]] == s["text"] for s in spans)
    assert "".join(span["text"] for span in spans) == ARTICLE
    actions = session.exec(select(Action)).all()
    assert len(actions) == 43
    for action in actions:
        inside = [
            s for s in spans if action.quote_start <= s["start"] and s["end"] <= action.quote_end
        ]
        assert "".join(s["text"] for s in inside) == action.quote
        for span in spans:
            covered = action.quote_start <= span["start"] and span["end"] <= action.quote_end
            assert (action.id in span["action_ids"]) == covered, (action.seed_key, span)
    assert any(not span["action_ids"] for span in spans)


def test_annotated_without_actions_is_one_span(client: TestClient) -> None:
    client.post(SOURCES, json=payload())
    response = client.get(f"{SOURCES}/ling-remarks/annotated")
    assert response.status_code == 200
    assert response.json()["spans"] == [
        {"start": 0, "end": len(TEXT), "text": TEXT, "action_ids": []}
    ]


@pytest.mark.parametrize(
    "key",
    ["²", "①", "١٢", "%00", "Upper-Case", "9" * 30],
    ids=["superscript", "circled", "arabic-indic", "nul", "not-a-slug", "huge-number"],
)
def test_unicode_digit_key_is_404_not_500(settings: Settings, admin_key: str, key: str) -> None:
    """str.isdigit() is true for these, yet int() rejects some of them."""
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, headers={"X-API-Key": admin_key}) as client:
        for path in (f"{SOURCES}/{key}", f"{SOURCES}/{key}/annotated"):
            body = assert_problem(client.get(path), 404)
            # instance is a URI reference: the path as sent, percent-encoded
            assert unquote(body["instance"]) == unquote(path)


@pytest.mark.parametrize("field", ["title", "publisher", "published_on_note", "url", "text"])
def test_nul_in_any_text_field_is_422_and_stores_nothing(client: TestClient, field: str) -> None:
    body = payload()
    body[field] = "平顶山\x00高新区"
    assert_problem(client.post(SOURCES, json=body), 422)
    assert client.get(SOURCES).json()["total"] == 0
