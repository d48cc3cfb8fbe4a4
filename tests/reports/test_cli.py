"""`tashan report export` and `tashan report run-due`, run as a user runs them."""

import csv
import io
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.reports.models import Report, ReportRun
from tests.helpers import NOW, TASHAN, TODAY, cli_env

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

SHANGHAI = ZoneInfo("Asia/Shanghai")


def tashan(
    database_url: str, *args: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the installed command in cwd with the test database and extra TASHAN_* settings."""
    return subprocess.run(
        [TASHAN, *args],
        env=cli_env(database_url, **env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def csv_rows(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.usefixtures("seeded")
def test_export_writes_a_chinese_workbook(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"

    result = tashan(
        database_url, "report", "export", "--format", "xlsx", "--out", str(out), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["概览", "排名", "明细", "逾期", "动态"]
    rows = list(workbook["明细"].iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 44  # header + 43 seeded actions


@pytest.mark.usefixtures("seeded")
def test_export_in_english_as_csv_with_a_filter(database_url: str, tmp_path: Path) -> None:
    everyone, one_unit = tmp_path / "all.csv", tmp_path / "unit5.csv"

    first = tashan(
        database_url,
        "report",
        "export",
        "--lang",
        "en",
        "--format",
        "csv",
        "--out",
        str(everyone),
        cwd=tmp_path,
    )
    second = tashan(
        database_url,
        "report",
        "export",
        "--lang",
        "en",
        "--format",
        "csv",
        "--owner-id",
        "5",
        "--out",
        str(one_unit),
        cwd=tmp_path,
    )

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    rows = csv_rows(everyone)
    assert rows[0][:4] == ["ID", "Version", "Action", "Lead unit"]
    assert len(rows) == 44 and {row[5] for row in rows[1:]} == {"Proposed"}
    unit_rows = csv_rows(one_unit)[1:]
    assert 0 < len(unit_rows) < 43 and len({row[3] for row in unit_rows}) == 1
    assert {row[0] for row in unit_rows} < {row[0] for row in rows[1:]}


@pytest.mark.usefixtures("seeded")
def test_export_without_out_writes_this_weeks_file_name_in_the_working_folder(
    database_url: str, tmp_path: Path
) -> None:
    result = tashan(database_url, "report", "export", "--format", "md", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    today = TODAY
    year, week, _ = (today - timedelta(days=today.weekday())).isocalendar()
    written = tmp_path / f"tashan-status-{year}-W{week:02d}.md"
    assert written.is_file(), list(tmp_path.iterdir())
    assert "事项推进情况报告" in written.read_text(encoding="utf-8")


def test_export_refuses_an_inverted_period_or_unknown_format(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "never.csv"
    inverted = tashan(
        database_url,
        "report",
        "export",
        "--format",
        "csv",
        "--period-start",
        "2026-02-01",
        "--period-end",
        "2026-01-01",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    unknown = tashan(
        database_url, "report", "export", "--format", "pdf", "--out", str(out), cwd=tmp_path
    )

    assert inverted.returncode == 1 and "period_end is before period_start" in inverted.stderr
    assert unknown.returncode == 2 and "pdf" in unknown.stderr
    assert not out.exists()


@pytest.mark.usefixtures("seeded")
def test_run_due_twice_makes_each_report_once(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    later = {  # the seed and the schedules are from NOW: run 40 days later
        "TASHAN_CLOCK_START": (NOW + timedelta(days=40)).isoformat(),
        "TASHAN_EXPORT_DIR": str(exports),
    }

    first = tashan(database_url, "report", "run-due", cwd=tmp_path, **later)
    second = tashan(database_url, "report", "run-due", cwd=tmp_path, **later)

    assert first.returncode == 0, first.stderr
    made = [line for line in first.stdout.splitlines() if line.startswith("made ")]
    assert len(made) >= 2 * 5  # at least five weekly periods, in xlsx and html
    assert "nothing due" not in first.stdout
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "nothing due"
    with Session(engine) as session:
        reports = session.exec(select(Report)).all()
        claims = session.exec(select(ReportRun)).all()
    assert len(reports) == len(made) == 2 * len(claims)
    per_period = Counter((r.schedule, r.period_start, r.format) for r in reports)
    assert set(per_period.values()) == {1}
    assert {r.schedule for r in reports} >= {"weekly", "monthly"}
    assert sorted(p.name for p in exports.iterdir()) == sorted(r.file_name for r in reports)
    for report in reports:
        assert f"made {report.file_name} " in first.stdout
        assert (exports / report.file_name).read_bytes() == report.content


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("--owner-id", "9999", "no unit 9999"), ("--theme", "招商", "did you mean '招商引资'")],
)
def test_export_filtered_by_what_does_not_exist_fails_naming_it(
    database_url: str, tmp_path: Path, option: str, value: str, words: str
) -> None:
    out = tmp_path / "report.csv"

    result = tashan(
        database_url,
        "report",
        "export",
        "--format",
        "csv",
        option,
        value,
        "--out",
        str(out),
        cwd=tmp_path,
    )

    assert result.returncode == 1
    assert words in result.stderr
    assert not out.exists()
