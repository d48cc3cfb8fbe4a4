"""The README's walk-through "How a task is supervised" runs as written: its shell block,
against a live server on the seeded data, with curl and the tashan command a reader uses."""

import re
import subprocess
from pathlib import Path

import httpx

from app.config import PROJECT_DIR
from app.seeding.service import SeedReport
from tests.helpers import cli_env
from tests.notifications.helpers import Receiver

README = PROJECT_DIR / "README.md"


def first_block(heading: str) -> str:
    """The first ```sh block after heading."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(r"```sh\n(.*?)\n```\n", section, re.DOTALL)
    assert match is not None, f"{heading} has no ```sh block"
    return match.group(1)


def run_block(script: str, database_url: str, admin_key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=PROJECT_DIR,
        env=cli_env(database_url, KEY=admin_key),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_supervision_walkthrough_runs_as_written(
    seeded: SeedReport, database_url: str, admin_key: str, live_server: str, tmp_path: Path
) -> None:
    host = live_server.removeprefix("http://")
    script = first_block("## How a task is supervised").replace("127.0.0.1:8000", host)
    result = run_block(script, database_url, admin_key)
    assert result.returncode == 0, result.stderr
    # The cooperating unit's PATCH is refused, saying why; nothing else is.
    assert result.stdout.count('"type":"urn:tashan:problem:') == 1, result.stdout
    assert "HTTP/1.1 403" in result.stdout and "which cooperates on action 16" in result.stdout

    admin = httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key})
    handed_over = admin.get("/api/v1/actions/16").json()
    assert (handed_over["status"], handed_over["progress"]) == ("completed", 100)
    assert sorted(unit["id"] for unit in handed_over["co_owners"]) == [3, 6]
    events = admin.get("/api/v1/actions/16/events").json()["items"]
    moves = [(e["to_status"], e["actor"], e["actor_unit"]) for e in events if e["to_status"]]
    assert moves[-4:] == [
        ("submitted", "jingfa-liaison", "区经济发展局"),
        ("in_progress", "ducha-li", None),
        ("submitted", "jingfa-liaison", "区经济发展局"),
        ("completed", "ducha-li", None),
    ]
    assert any(e["actor_unit"] == "区行政服务中心" and e["kind"] == "progress" for e in events)
    assert handed_over["evidence_count"] == 2
    files = admin.get("/api/v1/actions/16/evidence").json()["items"]
    assert [(f["filename"], f["uploaded_unit"], f["media_type"]) for f in files] == [
        ("实施方案印发通知.txt", "区经济发展局", "text/plain; charset=utf-8"),
        ("首宗地块出让合同.txt", "区经济发展局", "text/plain; charset=utf-8"),
    ]
    first = admin.get(f"/api/v1/evidence/{files[0]['id']}/file")
    assert first.text == "区经济发展局关于印发“标准地”出让实施方案的通知\n"
    extended = admin.get("/api/v1/actions/19").json()
    assert (extended["due_on"], extended["original_due_on"], extended["extension_count"]) == (
        "2027-06-30",
        "2027-03-31",
        1,
    )


def test_connecting_a_group_runs_as_written(
    seeded: SeedReport, database_url: str, admin_key: str, live_server: str
) -> None:
    with Receiver.running() as robots:
        script = (
            first_block("## Connecting a 企业微信 or 钉钉 group")
            .replace("127.0.0.1:8000", live_server.removeprefix("http://"))
            .replace("https://qyapi.weixin.qq.com", robots.url)
            .replace("https://oapi.dingtalk.com", robots.url)
        )
        result = run_block(script, database_url, admin_key)
        assert result.returncode == 0, result.stderr
        wecom, dingtalk = robots.requests

    assert result.stdout.count('"has_secret":') == 2 and "SEC8e2fxxxx" not in result.stdout
    assert result.stdout.count('"event":"test","action_id":null,"state":"sent"') == 2
    assert (wecom.path, wecom.query) == ("/cgi-bin/webhook/send", {"key": wecom.query["key"]})
    assert "他山测试消息" in wecom.json()["markdown"]["content"]
    assert dingtalk.path == "/robot/send"
    assert {"access_token", "timestamp", "sign"} == set(dingtalk.query)
    assert dingtalk.json()["markdown"]["title"] == "他山测试消息"
