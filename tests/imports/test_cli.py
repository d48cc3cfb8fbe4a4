"""`tashan import FILE [--apply]` as a user runs it."""

from pathlib import Path

from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import run_tashan


def write_sheet(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "进展.csv"
    path.write_bytes(("编号,版本,状态,责任人,本次进展\n" + rows).encode("gbk"))
    return path


def test_dry_run_then_apply(
    client: TestClient, seeded: SeedReport, database_url: str, tmp_path: Path
) -> None:
    sheet = write_sheet(tmp_path, "16,1,已采纳,张三,研究同意\n17,1,待研究,,\n")

    dry = run_tashan(database_url, "import", str(sheet))
    assert dry.returncode == 0, dry.stderr
    assert "will_update" in dry.stdout and "status proposed → accepted" in dry.stdout
    assert "nothing applied" in dry.stdout
    assert client.get("/api/v1/actions/16").json()["status"] == "proposed"

    applied = run_tashan(database_url, "import", str(sheet), "--apply", "--as", "经发局")
    assert applied.returncode == 0, applied.stderr
    assert "1 updated, 1 unchanged; applied" in applied.stdout
    body = client.get("/api/v1/actions/16").json()
    assert (body["status"], body["assignee"]) == ("accepted", "张三")
    actors = {e["actor"] for e in client.get("/api/v1/actions/16/events").json()["items"]}
    assert actors == {"seed", "经发局"}


def test_refused_rows_exit_2_and_bad_files_exit_1(
    seeded: SeedReport, database_url: str, tmp_path: Path
) -> None:
    refused = run_tashan(database_url, "import", str(write_sheet(tmp_path, "16,1,已完成,,\n")))
    assert refused.returncode == 2
    assert "状态 (column C, row 2): cannot move from proposed to completed" in refused.stdout

    junk = tmp_path / "scan.pdf"
    junk.write_bytes(b"%PDF-1.4 not a sheet")
    unreadable = run_tashan(database_url, "import", str(junk))
    assert unreadable.returncode == 1
    assert "not a spreadsheet" in unreadable.stderr
    assert "Traceback" not in unreadable.stderr
