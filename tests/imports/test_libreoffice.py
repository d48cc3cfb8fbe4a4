"""The round trip with files a spreadsheet program wrote, not this project: the exported
template, filled in the way Excel stores what a person types (50% in 进度 is 0.5 shown as a
percentage; dates shown as Chinese Windows shows them), then saved by LibreOffice as Excel on
Chinese Windows saves a CSV (GBK, so ✎ becomes ?), as its "Unicode text" (UTF-16, tabs) and
as .xlsx, and uploaded through the API. scripts/setup-office installs LibreOffice."""

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import patched_action, transitioned

IMPORTS = "/api/v1/imports"
UNIT = 5  # 区经济发展局
CSV_FILTER = "Text - txt - csv (StarCalc)"
# LibreOffice's CSV options: field separator, text delimiter (as character codes), charset
# (rtl_TextEncoding: 61 is MS_936, the GBK of Excel on Chinese Windows; 65535 is UTF-16).
EXCEL_CSV = f"csv:{CSV_FILTER}:44,34,61"
UNICODE_TEXT = f"csv:{CSV_FILTER}:9,34,65535"
XLSX = "xlsx:Calc MS Excel 2007 XML"


@pytest.fixture(scope="session")
def libreoffice_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One LibreOffice user profile per test process: made once (the slow part of a first
    start), never shared by two processes at a time."""
    return tmp_path_factory.mktemp("libreoffice-profile")


def libreoffice(source: Path, convert_to: str, profile: Path) -> bytes:
    """source converted by LibreOffice headless (convert_to: extension:filter:options)."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: run scripts/setup-office"
    outdir = source.parent / convert_to.split(":")[0].replace(" ", "")
    command = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--convert-to",
        convert_to,
        "--outdir",
        str(outdir),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    target = outdir / f"{source.stem}.{convert_to.split(':')[0]}"
    assert done.returncode == 0 and target.exists(), done.stdout + done.stderr
    return target.read_bytes()


def filled_template(client: TestClient, folder: Path) -> Path:
    """The template of 区经济发展局 after a due date was set on 16 and 17 was accepted, filled
    in as Excel stores it: every date shown yyyy/m/d (what Excel shows a date of a CSV in on
    Chinese Windows), 17's progress typed 50% and its due date written 2027年7月1日, a note on
    19."""
    patched_action(client, 16, {"due_on": "2027-06-30"})
    transitioned(client, 17, "accepted")
    response = client.get(
        "/api/v1/reports/status", params={"format": "xlsx", "template": "true", "owner_id": UNIT}
    )
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["明细"]
    column = {str(cell.value).replace("✎", "").strip(): cell.column for cell in sheet[1]}
    row = {sheet.cell(number, 1).value: number for number in range(2, sheet.max_row + 1)}
    for number in row.values():
        sheet.cell(number, column["截止日期"]).number_format = "yyyy/m/d"
    progress = sheet.cell(row[17], column["进度"])
    progress.value, progress.number_format = 0.5, "0%"
    due = sheet.cell(row[17], column["截止日期"])
    due.value, due.number_format = datetime(2027, 7, 1), 'yyyy"年"m"月"d"日"'
    sheet.cell(row[19], column["本次进展"]).value = "已走访三家孵化器"
    path = folder / "经发局进展.xlsx"
    workbook.save(path)
    return path


def upload(client: TestClient, name: str, content: bytes, **params: str) -> dict[str, Any]:
    response = client.post(IMPORTS, params=params, files={"file": (name, content)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def changes_by_action(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["action_id"]: row["changes"] for row in body["results"] if row["changes"]}


FILLED_IN = {
    17: {"progress": [0, 50], "due_on": [None, "2027-07-01"]},
    19: {"new_note": [None, "已走访三家孵化器"]},
}


@pytest.mark.parametrize(
    ("convert_to", "marker"), [(EXCEL_CSV, "进度 ?"), (UNICODE_TEXT, "进度 ✎")]
)
def test_a_csv_saved_as_excel_saves_it_applies_once(
    client: TestClient,
    seeded: SeedReport,
    tmp_path: Path,
    libreoffice_profile: Path,
    convert_to: str,
    marker: str,
) -> None:
    content = libreoffice(filled_template(client, tmp_path), convert_to, libreoffice_profile)
    text = content.decode("gbk" if convert_to == EXCEL_CSV else "utf-16")
    assert marker in text and "2027/6/30" in text and "2027年7月1日" in text and "50%" in text

    applied = upload(client, "经发局进展.csv", content, dry_run="false")
    assert (applied["format"], applied["counts"]) == ("csv", {"updated": 2, "unchanged": 10})
    assert changes_by_action(applied) == FILLED_IN
    again = upload(client, "经发局进展.csv", content, dry_run="false")
    assert again["counts"] == {"unchanged": 12}


def test_a_workbook_saved_by_libreoffice(
    client: TestClient, seeded: SeedReport, tmp_path: Path, libreoffice_profile: Path
) -> None:
    content = libreoffice(filled_template(client, tmp_path), XLSX, libreoffice_profile)
    saved = openpyxl.load_workbook(io.BytesIO(content))["明细"]
    progress = next(cell for cell in saved[3] if cell.column_letter == "I")
    assert (progress.value, progress.number_format) == (0.5, "0%")  # as Excel stores 50%

    dry = upload(client, "经发局进展.xlsx", content)
    assert (dry["format"], dry["counts"]) == ("xlsx", {"will_update": 2, "unchanged": 10})
    assert changes_by_action(dry) == FILLED_IN
