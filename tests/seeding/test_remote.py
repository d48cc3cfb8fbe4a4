"""`tashan seed --url`: seeding a running server through its HTTP API."""

import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app.auth.models import Role
from app.config import SEEDS_DIR
from tests.helpers import ARTICLE, make_key, run_tashan

TOML = SEEDS_DIR / "xiuzhou-secondment.toml"
TEXT_FILE = SEEDS_DIR / "xiuzhou-secondment-2022-01-28.txt"
KEY = "young-cadre-strict-management"


@pytest.fixture
def api(live_server: str, admin_key: str) -> httpx.Client:
    """A client of the live server carrying the admin key."""
    return httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key}, timeout=10)


def all_actions(api: httpx.Client) -> dict:
    response = api.get("/api/v1/actions", params={"limit": 200})
    assert response.status_code == 200
    body: dict = response.json()
    return body


def edit_detail(toml: str, old: str, new: str) -> str:
    at = toml.index(f'key = "{KEY}"')
    assert old in toml[at:]
    return toml[:at] + toml[at:].replace(old, new, 1)


def write_seed(folder: Path, toml: str) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(TEXT_FILE, folder / TEXT_FILE.name)
    (folder / TOML.name).write_text(toml, encoding="utf-8")
    return folder / TOML.name


def test_seed_over_http_creates_then_changes_nothing(
    database_url: str, live_server: str, admin_key: str, api: httpx.Client
) -> None:
    assert all_actions(api)["total"] == 0

    first = run_tashan(database_url, "seed", "--url", live_server, "--api-key", admin_key)

    assert first.returncode == 0, first.stderr
    assert "actions: 43 created, 0 updated, 0 unchanged" in first.stdout
    assert "units: 9 created" in first.stdout
    assert "sources: 1 created" in first.stdout
    body = all_actions(api)
    assert body["total"] == 43
    text = api.get(f"/api/v1/sources/{body['items'][0]['source_id']}").json()["text"]
    assert text == ARTICLE
    for action in body["items"]:
        assert text[action["quote_start"] : action["quote_end"]] == action["quote"]
    assert len({action["seed_key"] for action in body["items"]}) == 43

    second = run_tashan(database_url, "seed", "--url", live_server, "--api-key", admin_key)

    assert second.returncode == 0, second.stderr
    assert "actions: 0 created, 0 updated, 43 unchanged" in second.stdout
    assert "units: 0 created" in second.stdout
    assert "sources: 0 created" in second.stdout
    assert all_actions(api)["total"] == 43
    events = api.get("/api/v1/actions/1/events").json()
    assert [e["kind"] for e in events["items"]] == ["created"]


def test_seed_over_http_to_nowhere_fails_cleanly(database_url: str) -> None:
    result = run_tashan(database_url, "seed", "--url", "http://127.0.0.1:9")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-500:]
    assert "127.0.0.1:9" in result.stderr


def test_seed_over_http_follows_file_edits_of_untouched_actions(
    database_url: str, live_server: str, admin_key: str, api: httpx.Client, tmp_path: Path
) -> None:
    """The seed's own earlier PATCHes are not user changes: every later file edit applies."""
    assert (
        run_tashan(database_url, "seed", "--url", live_server, "--api-key", admin_key).returncode
        == 0
    )
    action = next(a for a in all_actions(api)["items"] if a["seed_key"] == KEY)
    toml = TOML.read_text("utf-8")
    for round_number, detail in enumerate(["第一次修改的说明。", "第二次修改的说明。"], 1):
        path = write_seed(
            tmp_path / f"round{round_number}", edit_detail(toml, action["detail"], detail)
        )
        result = run_tashan(
            database_url, "seed", "--url", live_server, "--api-key", admin_key, str(path)
        )
        assert result.returncode == 0, result.stderr
        assert "actions: 0 created, 1 updated, 42 unchanged" in result.stdout, (
            round_number,
            result.stdout,
        )
        fetched = api.get(f"/api/v1/actions/{action['id']}").json()
        assert fetched["detail"] == detail, round_number
        toml = edit_detail(toml, action["detail"], detail)
        action["detail"] = detail


def with_co_owners(toml: str, line: str) -> str:
    """The seed file with line (co_owners, leader) added to KEY's entry (led by 区党工委)."""
    return edit_detail(toml, 'owner = "区党工委"', f'owner = "区党工委"\n{line}')


def action_of(api: httpx.Client, key: str) -> dict:
    action: dict = next(a for a in all_actions(api)["items"] if a["seed_key"] == key)
    return action


def test_seed_over_http_creates_co_owners_and_leader_then_changes_nothing(
    database_url: str, live_server: str, admin_key: str, api: httpx.Client, tmp_path: Path
) -> None:
    line = 'co_owners = ["沙河产业园区", "区科技创新局"]\nleader = "凌兵奎"'
    path = write_seed(tmp_path / "seeds", with_co_owners(TOML.read_text("utf-8"), line))
    args = ("seed", "--url", live_server, "--api-key", admin_key, str(path))

    first = run_tashan(database_url, *args)

    assert first.returncode == 0, first.stderr
    assert "actions: 43 created" in first.stdout
    action = action_of(api, KEY)
    assert sorted(unit["name"] for unit in action["co_owners"]) == ["区科技创新局", "沙河产业园区"]
    assert (action["leader"], action["owner"]["name"]) == ("凌兵奎", "区党工委")

    second = run_tashan(database_url, *args)

    assert second.returncode == 0, second.stderr
    assert "actions: 0 created, 0 updated, 43 unchanged" in second.stdout
    assert action_of(api, KEY)["version"] == action["version"]


def test_seed_over_http_adds_co_owners_but_keeps_the_users(
    database_url: str,
    live_server: str,
    admin_key: str,
    api: httpx.Client,
    engine: Engine,
    tmp_path: Path,
) -> None:
    """A file that names co_owners later reaches an action no user touched; once a user has
    changed an action's cooperating units, the file's never replace them."""
    args = ("seed", "--url", live_server, "--api-key", admin_key)
    assert run_tashan(database_url, *args).returncode == 0
    action = action_of(api, KEY)
    assert action["co_owners"] == []
    units = {unit["name"]: unit["id"] for unit in api.get("/api/v1/units").json()["items"]}
    toml = TOML.read_text("utf-8")
    path = write_seed(
        tmp_path / "round1", with_co_owners(toml, 'co_owners = ["区科技创新局"]\nleader = "凌兵奎"')
    )

    added = run_tashan(database_url, *args, str(path))

    assert added.returncode == 0, added.stderr
    assert "actions: 0 created, 1 updated, 42 unchanged" in added.stdout
    action = action_of(api, KEY)
    assert [unit["name"] for unit in action["co_owners"]] == ["区科技创新局"]
    assert action["leader"] == "凌兵奎"
    events = api.get(f"/api/v1/actions/{action['id']}/events").json()["items"]
    assert events[-1]["changes"] == {
        "co_owner_ids": [[], [units["区科技创新局"]]],
        "leader": [None, "凌兵奎"],
    }

    editor_key = make_key(engine, Role.editor, name="zhang-ming")
    user = api.patch(  # a user (another key's name) picks other cooperating units
        f"/api/v1/actions/{action['id']}",
        json={"co_owner_ids": [units["区经济发展局"]]},
        headers={"If-Match": f'W/"{action["version"]}"', "X-API-Key": editor_key},
    )
    assert user.status_code == 200, user.text
    path = write_seed(
        tmp_path / "round2",
        with_co_owners(toml, 'co_owners = ["沙河产业园区"]\nleader = "凌兵奎"'),
    )

    kept = run_tashan(database_url, *args, str(path))

    assert kept.returncode == 0, kept.stderr
    assert f"kept user change: {KEY}.co_owner_ids" in kept.stdout
    assert "actions: 0 created, 0 updated, 43 unchanged" in kept.stdout
    assert [unit["name"] for unit in action_of(api, KEY)["co_owners"]] == ["区经济发展局"]


def test_over_http_a_draft_overlapping_loaded_actions_is_reported_not_loaded(
    database_url: str, live_server: str, admin_key: str, api: httpx.Client, tmp_path: Path
) -> None:
    loaded = run_tashan(database_url, "seed", "--url", live_server, "--api-key", admin_key)
    assert loaded.returncode == 0, loaded.stderr
    curated = all_actions(api)["items"]
    article = Path(shutil.copyfile(TEXT_FILE, tmp_path / TEXT_FILE.name))
    drafted = run_tashan(database_url, "sources", "draft", str(article))
    assert drafted.returncode == 0, drafted.stderr

    result = run_tashan(
        database_url,
        "seed",
        str(article.with_suffix(".draft.toml")),
        "--url",
        live_server,
        "--api-key",
        admin_key,
    )

    assert result.returncode == 0, result.stderr
    overlaps = [line for line in result.stdout.splitlines() if line.startswith("overlap, ")]
    assert any("overlaps action #16 (standard-land-reform)" in line for line in overlaps)
    created = int(result.stdout.split("actions: ")[1].split(" created")[0])
    actions = all_actions(api)["items"]
    assert len(actions) == len(curated) + created
    for new in (a for a in actions if a["id"] not in {old["id"] for old in curated}):
        assert not any(
            new["quote_start"] < old["quote_end"] and old["quote_start"] < new["quote_end"]
            for old in curated
        )
