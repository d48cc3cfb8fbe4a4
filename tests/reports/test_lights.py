"""Every report format shows each action's light (红黄绿灯) as the API does, and its counts:
CSV, Markdown and JSON the value (its Chinese label in zh), XLSX a filled cell in 明细 and
the counts in 概览, HTML a coloured mark and the counts beside the chart."""

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.helpers import created_action, patched_action, transitioned

ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", None: ""}
FILLS = {"green": "63BE7B", "yellow": "FFD966", "red": "F8696B"}


@pytest.fixture
def lit(client: TestClient, seeded: Any, set_clock: Callable[[str], None]) -> dict[int, Any]:
    """At 2 July 2026, actions started 1 Jan and due 31 Dec at 45% (green), 35% (yellow),
    15% (red), blocked at 60% (yellow), and one proposed; every action's light by id."""
    set_clock("2026-07-02 09:00")
    made = []
    for progress in (45, 35, 15, 60, None):
        action = created_action(client, start_on="2026-01-01", due_on="2026-12-31")
        if progress is not None:
            transitioned(client, action["id"], "accepted")
            patched_action(client, action["id"], {"progress": progress})
        made.append(action["id"])
    transitioned(client, made[3], "blocked", note="等待用地指标")
    listed = client.get("/api/v1/actions", params={"limit": 200}).json()["items"]
    lights = {a["id"]: a["light"] for a in listed}
    assert [lights[i] for i in made] == ["green", "yellow", "red", "yellow", None]
    return lights


def _report(client: TestClient, **params: Any) -> Any:
    response = client.get("/api/v1/reports/status", params=params)
    assert response.status_code == 200, response.text
    return response


def _counts(lights: dict[int, Any]) -> dict[str, int]:
    return {c: sum(v == c for v in lights.values()) for c in ("green", "yellow", "red")}


def test_json_lines_carry_the_light_and_the_headline_counts_them(
    client: TestClient, lit: dict[int, Any]
) -> None:
    report = json.loads(_report(client, format="json").content)
    assert {line["id"]: line["light"] for line in report["actions"]} == lit
    assert {line["id"]: line["light_label"] or "" for line in report["actions"]} == {
        i: ZH[v] for i, v in lit.items()
    }
    assert report["headline"]["lights"] == _counts(lit)
    stats = client.get("/api/v1/stats").json()
    assert report["headline"]["lights"] == stats["lights"]
    assert all("red" in unit for unit in report["ranking"])
    english = json.loads(_report(client, format="json", lang="en").content)
    assert {line["id"]: line["light_label"] for line in english["actions"]} == lit


def test_csv_and_markdown_show_the_light(client: TestClient, lit: dict[int, Any]) -> None:
    text = _report(client, format="csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index("红黄绿灯")
    assert rows[0][column + 3] == "序时进度"
    assert {int(row[0]): row[column] for row in rows[1:]} == {i: ZH[v] for i, v in lit.items()}
    english = _report(client, format="csv", lang="en").content.decode("utf-8-sig")
    en_rows = list(csv.reader(io.StringIO(english)))
    en_column = en_rows[0].index("Light")
    assert {int(r[0]): r[en_column] or None for r in en_rows[1:]} == lit
    markdown = _report(client, format="md").content.decode()
    counts = _counts(lit)
    assert f"红黄绿灯**：绿灯 {counts['green']}，黄灯 {counts['yellow']}，红灯 {counts['red']}" in (
        markdown
    )
    header = next(line for line in markdown.splitlines() if line.startswith("| 编号"))
    assert "| 红黄绿灯 |" in header and "| 序时进度 |" in header


def test_xlsx_fills_each_light_and_counts_them_in_the_overview(
    client: TestClient, lit: dict[int, Any]
) -> None:
    book = load_workbook(io.BytesIO(_report(client, format="xlsx").content))
    sheet = book["明细"]
    headers = [cell.value for cell in sheet[1]]
    column = headers.index("红黄绿灯")
    for row in sheet.iter_rows(min_row=2):
        colour = lit[row[0].value]
        cell = row[column]
        assert (cell.value or "") == ZH[colour]
        if colour is None:
            assert cell.fill.fill_type is None
        else:
            assert cell.fill.fill_type == "solid"
            assert cell.fill.fgColor.rgb.endswith(FILLS[colour])
    overview = {row[0].value: row for row in book["概览"].iter_rows(min_row=3) if row[0].value}
    assert "红黄绿灯" in overview
    for colour, count in _counts(lit).items():
        label_cell, count_cell = overview[ZH[colour]][:2]
        assert count_cell.value == count
        assert label_cell.fill.fgColor.rgb.endswith(FILLS[colour])
    ranking = book["排名"]
    assert "红灯" in [cell.value for cell in ranking[1]]


def test_html_marks_each_light_and_counts_them_beside_the_chart(
    client: TestClient, lit: dict[int, Any]
) -> None:
    page = _report(client, format="html").content.decode()
    chart = page.split("<h2>各单位完成率</h2>")[1].split("</section>")[0]
    counts = _counts(lit)
    for colour, count in counts.items():
        assert f'<span class="mark {colour}"></span>{ZH[colour]}</th><td>{count}</td>' in chart
    actions = page.split("<h2>明细</h2>")[1]
    for colour in ("green", "yellow", "red"):
        marked = actions.count(f'<span class="mark {colour}"></span>{ZH[colour]}</td>')
        assert marked == counts[colour]


def test_the_light_filter_selects_a_reports_actions(
    client: TestClient, lit: dict[int, Any]
) -> None:
    report = json.loads(_report(client, format="json", light=["red", "yellow"]).content)
    wanted = {i for i, v in lit.items() if v in ("red", "yellow")}
    assert {line["id"] for line in report["actions"]} == wanted
    assert report["filters"] == {"light": ["red", "yellow"]}
    bad = client.get("/api/v1/reports/status", params={"format": "json", "light": "blue"})
    assert bad.status_code == 422
