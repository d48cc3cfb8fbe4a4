"""The XLSX report as a person sees it printed: converted to PDF by LibreOffice (headless), its
pages' text read with poppler's pdftotext. One conversion, a few seconds; scripts/test installs
both (scripts/setup-office)."""

import subprocess
from itertools import count, takewhile
from pathlib import Path
from statistics import median

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.actions.workflow import Status
from app.seeding.schemas import SeedReport
from tests.helpers import set_status

REPORT = "/api/v1/reports/status"
COMPLETED = {1: 2, 5: 1, 10: 3}  # first action id of a unit's run in the seed: how many to complete
MIN_TEXT_HEIGHT = 5.5  # points; the 明细 pages' text was 3.9 high (a 27 % scale) before


@pytest.fixture
def printed(client: TestClient, session: Session, seeded: SeedReport, tmp_path: Path) -> Path:
    """This week's report of the seed data with a few actions completed, as LibreOffice prints
    it to PDF."""
    for first, how_many in COMPLETED.items():
        for action_id in range(first, first + how_many):
            set_status(session, action_id, Status.completed)
    response = client.get(REPORT, params={"format": "xlsx"})
    assert response.status_code == 200, response.text
    workbook = tmp_path / "report.xlsx"
    workbook.write_bytes(response.content)
    profile = tmp_path / "libreoffice-profile"  # its own, so parallel runs do not share a lock
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return tmp_path / "report.pdf"


def page_texts(pdf: Path) -> list[str]:
    """The text of each page, in order (pdftotext ends each page with a form feed)."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")[:-1]


def word_heights(pdf: Path, page: int) -> list[float]:
    """The height of each word's box on page (1-based), in points: its printed font size."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    heights = []
    for line in xhtml.splitlines():
        if "<word " in line:
            attributes = dict(
                part.split("=", 1) for part in line.split(">")[0].split()[1:] if "=" in part
            )
            heights.append(
                float(attributes["yMax"].strip('"')) - float(attributes["yMin"].strip('"'))
            )
    return heights


def test_printed_report_chart_labels_values_and_detail_pages_repeat_their_header(
    client: TestClient, printed: Path
) -> None:
    pages = page_texts(printed)
    rates = {
        unit["unit_name"]: unit["completion_rate"]
        for unit in client.get("/api/v1/stats").json()["units"]
    }
    assert sum(rate > 0 for rate in rates.values()) == len(COMPLETED)

    # the chart, beside the overview's figures: each bar labelled with its rate alone, not
    # "区经济发展局; 完成率; 25.0%" with a legend key
    overview = pages[0]
    assert "各单位完成率" in overview
    assert ";" not in overview and "；" not in overview
    words = overview.split()
    assert all(f"{rate * 100:.1f}%" in words for rate in rates.values())

    # 明细 (the sheet after 概览 and 排名): its pages are those from the third on that hold
    # the start of an action's quote; fitted to the page's width, its rows go on over several
    # pages, each under the sheet's header, at a size that can be read
    actions = client.get("/api/v1/actions", params={"limit": 100}).json()["items"]
    quotes = [action["quote"][:6] for action in actions]
    detail = list(takewhile(lambda n: any(q in pages[n - 1] for q in quotes), count(3)))
    assert len(detail) >= 2
    for number in detail:
        text = pages[number - 1]
        assert "编号" in text and "本次进展" in text and "原文摘录" in text, number
    assert median(word_heights(printed, detail[0])) >= MIN_TEXT_HEIGHT
