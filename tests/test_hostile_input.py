"""Hostile input through the whole stack: bodies that are not JSON or too big or too deep,
numbers out of range, SQL and HTML in every text field, formula-like text in the
spreadsheets. Each gets a 4xx problem+json and loses nothing, or is kept as plain text."""

import csv
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import assert_problem

SQL = "'; DROP TABLE actions; --"
HTML = "<script>alert(1)</script>"
HOSTILE = f"{SQL} {HTML}"
ESCAPED_HTML = "&lt;script&gt;alert(1)&lt;/script&gt;"
# Text a spreadsheet would run as a formula; the last only looks guarded already.
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "'=quoted"]
JSON = {"Content-Type": "application/json"}
WRITES = ["/api/v1/units", "/api/v1/sources", "/api/v1/actions", "/api/v1/keys"]


def unit_count(client: TestClient) -> int:
    total: int = client.get("/api/v1/units").json()["total"]
    return total


def if_match(client: TestClient, action_id: int) -> dict[str, str]:
    return {"If-Match": client.get(f"/api/v1/actions/{action_id}").headers["ETag"]}


# ------------------------------------------------------------------ bodies and numbers


@pytest.mark.parametrize("path", WRITES)
def test_a_body_that_is_not_utf8_is_422(client: TestClient, seeded: SeedReport, path: str) -> None:
    before = unit_count(client)
    body = assert_problem(client.post(path, content=b'{"name": "\xff\xfe\xc0"}', headers=JSON), 422)
    assert body["errors"][0]["type"] == "json_invalid"
    assert unit_count(client) == before


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"name": ' + b"[" * 100_000 + b"]" * 100_000])
def test_deeply_nested_json_is_422_not_a_crash(
    client: TestClient, seeded: SeedReport, body: bytes
) -> None:
    before = unit_count(client)
    assert_problem(client.post("/api/v1/units", content=body, headers=JSON), 422)
    assert unit_count(client) == before


@pytest.mark.parametrize("path", WRITES)
def test_a_ten_megabyte_body_is_413_and_stores_nothing(
    client: TestClient, seeded: SeedReport, path: str
) -> None:
    before = unit_count(client)
    padding = "单" * (10 * 1024 * 1024 // 3)
    response = client.post(path, content=f'{{"name": "{padding}"}}'.encode(), headers=JSON)
    assert assert_problem(response, 413)["type"] == "urn:tashan:problem:body-too-large"
    assert unit_count(client) == before


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/actions?limit={10**20}",
        f"/api/v1/actions?offset={10**20}",
        f"/api/v1/actions?owner_id={10**20}",
        f"/api/v1/actions?owner_id=-{10**20}",
        f"/api/v1/actions/{10**20}",
        f"/api/v1/actions/{10**20}/events",
        f"/api/v1/units/{10**20}",
        f"/api/v1/units?limit={10**20}",
        f"/api/v1/sources?offset={10**20}",
        f"/api/v1/reports/{10**20}",
        f"/api/v1/stats?stale_days={10**20}",
        "/api/v1/actions?limit=1e3",
        "/api/v1/actions?limit=NaN",
        "/api/v1/actions?updated_since=0.5",
        "/api/v1/actions?as_of=0001-01-01",
        "/api/v1/stats?as_of=0001-01-01",
        "/api/v1/reports/status?period_start=0001-01-01&period_end=0001-01-02",
        "/api/v1/reports/status?period_start=9999-12-30&period_end=9999-12-31",
        "/api/v1/actions?due_before=9999-12-31",
        "/api/v1/actions?updated_since=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_numbers_and_dates_out_of_range_are_422(
    client: TestClient, seeded: SeedReport, url: str
) -> None:
    assert_problem(client.get(url), 422)


@pytest.mark.parametrize(
    "content",
    [
        b'{"note": "n", "progress": 100000000000000000000}',
        b'{"note": "n", "progress": true}',
        b'{"note": "n", "progress": 1e400}',
        b'{"note": "n", "progress": ' + b"9" * 5000 + b"}",
        b'{"note": "\\u0000"}',
        b'{"note": ""}',
        b'{"note": "n", "evidence_url": "javascript:alert(1)"}',
        b"",
        b"null",
    ],
)
def test_odd_values_in_a_progress_update_are_422_and_change_nothing(
    client: TestClient, seeded: SeedReport, content: bytes
) -> None:
    headers = {**JSON, **if_match(client, 16)}
    assert_problem(client.post("/api/v1/actions/16/updates", content=content, headers=headers), 422)
    assert client.get("/api/v1/actions/16").json()["version"] == 1


@pytest.mark.parametrize(
    "name",
    ["\u202e局经发区", "区经发局🎉", "Z\u0351\u0337a\u0336l\u0353g\u034fo", "区\u200b经发局"],
)
def test_odd_but_valid_unicode_is_kept_exactly(client: TestClient, name: str) -> None:
    created = client.post("/api/v1/units", json={"name": name})
    assert created.status_code == 201, created.text
    assert client.get(created.headers["Location"]).json()["name"] == name


@pytest.mark.parametrize(
    "name", [" 区经发局", "区经发局\u3000", "区\x00经发局", "区\n经发局", "\u2028", ""]
)
def test_names_the_schema_refuses_are_422(client: TestClient, name: str) -> None:
    assert_problem(client.post("/api/v1/units", json={"name": name}), 422)


def test_a_lone_surrogate_is_422(client: TestClient) -> None:
    for content in (b'{"name": "\\ud800"}', b'{"name": "a\\udfffb"}'):
        assert_problem(client.post("/api/v1/units", content=content, headers=JSON), 422)
    assert client.get("/api/v1/units").json()["total"] == 0


# ------------------------------------------------------------------ SQL and HTML as text


def create_hostile_action(client: TestClient) -> dict[str, Any]:
    """A unit, a source and an action with SQL and HTML in every text field."""
    unit = client.post("/api/v1/units", json={"name": f"单位 {HOSTILE}"})
    assert unit.status_code == 201, unit.text
    assert unit.json()["name"] == f"单位 {HOSTILE}"
    text = f"前言。{HOSTILE}。结尾"
    source = client.post(
        "/api/v1/sources",
        json={
            "slug": "hostile",
            "title": HOSTILE,
            "publisher": HOSTILE,
            "byline": HOSTILE,
            "published_on_note": HOSTILE,
            "url": f"https://example.gov.cn/?q={HTML}",
            "text": text,
            "speeches": [{"heading": HOSTILE, "speaker": HOSTILE, "start": 0, "end": len(text)}],
        },
    )
    assert source.status_code == 201, source.text
    stored_source = client.get("/api/v1/sources/hostile").json()
    assert stored_source["text"] == text
    assert {stored_source[k] for k in ("title", "publisher", "byline", "published_on_note")} == {
        HOSTILE
    }
    assert stored_source["speeches"][0]["heading"] == HOSTILE
    action = client.post(
        "/api/v1/actions",
        json={
            "source_id": source.json()["id"],
            "quote": HOSTILE,
            "title": HOSTILE,
            "kind": "recommendation",
            "owner_id": unit.json()["id"],
            "detail": HOSTILE,
            "themes": [SQL, HTML],
            "assignee": HOSTILE,
        },
    )
    assert action.status_code == 201, action.text
    created: dict[str, Any] = action.json()
    return created


def test_sql_and_html_are_stored_and_returned_verbatim(
    client: TestClient, seeded: SeedReport
) -> None:
    action_id = create_hostile_action(client)["id"]
    url = f"/api/v1/actions/{action_id}"
    moved = client.post(
        f"{url}/transitions",
        json={"to": "accepted", "note": HOSTILE},
        headers=if_match(client, action_id),
    )
    assert moved.status_code == 200, moved.text
    noted = client.post(
        f"{url}/updates", json={"note": HOSTILE}, headers=if_match(client, action_id)
    )
    assert noted.status_code == 200, noted.text

    stored = client.get(url).json()
    assert {stored[k] for k in ("title", "detail", "quote", "assignee")} == {HOSTILE}
    assert stored["themes"] == [SQL, HTML]
    assert stored["owner"]["name"] == f"单位 {HOSTILE}"
    notes = [event["note"] for event in client.get(f"{url}/events").json()["items"]]
    assert notes.count(HOSTILE) == 2
    found = client.get("/api/v1/actions", params={"q": SQL}).json()
    assert [item["id"] for item in found["items"]] == [action_id]
    assert client.get("/api/v1/actions", params={"limit": 1}).json()["total"] == 44  # table intact


def test_the_html_and_markdown_reports_escape_user_text(
    client: TestClient, seeded: SeedReport
) -> None:
    action = create_hostile_action(client)
    for fmt in ("html", "md"):
        response = client.get(
            "/api/v1/reports/status", params={"format": fmt, "source_id": action["source_id"]}
        )
        assert response.status_code == 200, response.text
        assert HTML not in response.text
        assert ESCAPED_HTML in response.text
        assert "<script" not in response.text.lower()


# ------------------------------------------------------------------ formulas in spreadsheets


def give_formula_like_values(client: TestClient) -> list[int]:
    """Seeded actions 16.. with formula-like titles' companions: assignees (a column a unit
    fills in) and notes starting with a formula character, a tab or a carriage return."""
    action_ids = []
    for action_id, text in enumerate(FORMULAS, start=16):
        patched = client.patch(
            f"/api/v1/actions/{action_id}",
            json={"assignee": text, "title": text},
            headers=if_match(client, action_id),
        )
        assert patched.status_code == 200, patched.text
        note = {"note": ("\t", "\r", "")[action_id % 3] + text}
        noted = client.post(
            f"/api/v1/actions/{action_id}/updates", json=note, headers=if_match(client, action_id)
        )
        assert noted.status_code == 200, noted.text
        action_ids.append(action_id)
    return action_ids


def report(client: TestClient, fmt: str, **params: str) -> bytes:
    response = client.get("/api/v1/reports/status", params={"format": fmt, **params})
    assert response.status_code == 200, response.text
    return response.content


def test_formula_like_text_stays_text_in_the_xlsx_report_and_template(
    client: TestClient, seeded: SeedReport
) -> None:
    give_formula_like_values(client)
    for params in ({}, {"template": "true"}):
        workbook = openpyxl.load_workbook(io.BytesIO(report(client, "xlsx", **params)))
        cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
        assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
        texts = [cell.value for cell in cells if cell.data_type == "s"]
        for text in FORMULAS:
            assert text in texts  # title and assignee, exactly
            assert any(str(t).endswith(text) and str(t)[0] in "\t\r'=+-@" for t in texts)


def test_formula_like_text_is_guarded_in_the_csv_report(
    client: TestClient, seeded: SeedReport
) -> None:
    give_formula_like_values(client)
    text = report(client, "csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [cell for cell in cells if cell.startswith("-") and not cell[1:].isdigit()]
    for formula in FORMULAS:
        assert f"'{formula}" in cells  # OWASP: one leading quote


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_formula_like_values_survive_the_round_trip_unchanged(
    client: TestClient, seeded: SeedReport, fmt: str
) -> None:
    action_ids = give_formula_like_values(client)
    params = {"template": "true"} if fmt == "xlsx" else {}
    content = report(client, fmt, **params)
    files = {"file": (f"sheet.{fmt}", content)}
    applied = client.post("/api/v1/imports", params={"dry_run": "false"}, files=files)
    assert applied.status_code == 200, applied.text
    by_action = {row["action_id"]: row for row in applied.json()["results"]}
    for action_id in action_ids:
        assert by_action[action_id]["outcome"] == "unchanged", by_action[action_id]
    assert [client.get(f"/api/v1/actions/{i}").json()["assignee"] for i in action_ids] == FORMULAS
