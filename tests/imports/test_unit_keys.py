"""A unit key's sheet (API.md: the Excel round trip obeys the same rules for the key that
imports): rows on actions its unit leads are applied, progress and notes on those it
cooperates on too, every other row that would change something is refused in the import's
per-row style, and the events name the unit. Through the API and `tashan import --unit`."""

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.helpers import (
    COOPERATING,
    LEAD,
    UNIT_NAMES,
    UNIT_WORLD_QUOTES,
    UNRELATED,
    UnitWorld,
    created_action,
    events_of,
    get_action,
    run_tashan,
    unit_world,
)

IMPORTS = "/api/v1/imports"
HEADINGS = ("编号", "版本", "状态", "责任人", "进度", "本次进展")


@pytest.fixture
def world(client: TestClient, engine: Engine) -> UnitWorld:
    """helpers.unit_world: three units, an action, a key per caller."""
    return unit_world(client, engine)


def more_actions(client: TestClient, world: UnitWorld) -> tuple[int, int]:
    """A second action LEAD leads (COOPERATING cooperating) and one UNRELATED leads."""
    ids = world.unit_ids
    second = created_action(
        client,
        source_id=world.source_id,
        quote=UNIT_WORLD_QUOTES[1],
        owner_id=ids[LEAD],
        co_owner_ids=[ids[COOPERATING]],
    )
    theirs = created_action(
        client, source_id=world.source_id, quote=UNIT_WORLD_QUOTES[2], owner_id=ids[UNRELATED]
    )
    return second["id"], theirs["id"]


def sheet(client: TestClient, rows: dict[int, dict[str, str]]) -> bytes:
    """A CSV with a row per action id, each at its current version, cells by heading."""
    lines = [",".join(HEADINGS)]
    for action_id, cells in rows.items():
        version = str(get_action(client, action_id)["version"])
        values = {"编号": str(action_id), "版本": version, **cells}
        lines.append(",".join(values.get(heading, "") for heading in HEADINGS))
    return ("\n".join(lines) + "\n").encode()


def upload(app: FastAPI, key: str, content: bytes, **params: str) -> dict[str, Any]:
    with TestClient(app, headers={"X-API-Key": key}) as as_key:
        response = as_key.post(IMPORTS, params=params, files={"file": ("进展.csv", content)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def timelines(client: TestClient, *action_ids: int) -> dict[int, list[dict[str, Any]]]:
    return {action_id: events_of(client, action_id) for action_id in action_ids}


def test_a_lead_units_sheet_changes_its_actions_and_no_one_elses(
    app: FastAPI, client: TestClient, world: UnitWorld
) -> None:
    ours, theirs = world.action_id, more_actions(client, world)[1]
    content = sheet(
        client,
        {
            ours: {"状态": "已采纳", "责任人": "张三", "本次进展": "党工委会议研究同意"},
            theirs: {"责任人": "李四"},
        },
    )
    before = timelines(client, theirs)
    result = upload(app, world.keys[LEAD], content, dry_run="false")

    by_action = {row["action_id"]: row for row in result["results"]}
    assert by_action[ours]["outcome"] == "updated"
    assert by_action[theirs]["outcome"] == "error"
    assert by_action[theirs]["errors"] == [
        {
            "column": "lead_unit",
            "reason": f"row 3: the 牵头单位 of action {theirs} is 丙无关局 and 甲牵头局 is not among its "
            "配合单位: key 'lead-key' acts for 甲牵头局 and may change only rows of actions its "
            "unit leads",
        }
    ]
    assert result["applied"] is True
    assert timelines(client, theirs) == before
    assert get_action(client, theirs)["assignee"] is None
    changed = get_action(client, ours)
    assert (changed["status"], changed["assignee"]) == ("accepted", "张三")
    written = events_of(client, ours)[1:]
    assert [(e["kind"], e["actor"], e["actor_unit"]) for e in written] == [
        ("updated", "lead-key", "甲牵头局"),
        ("transition", "lead-key", "甲牵头局"),
    ]


def test_a_cooperating_units_sheet_reports_progress_and_changes_nothing_else(
    app: FastAPI, client: TestClient, world: UnitWorld
) -> None:
    first = world.action_id
    second, theirs = more_actions(client, world)
    content = sheet(
        client,
        {
            first: {"进度": "30", "本次进展": "已提供企业名单"},
            second: {"状态": "已采纳", "本次进展": "同意"},
            theirs: {},  # untouched: not this unit's action, and nothing to refuse
        },
    )
    before = timelines(client, second, theirs)
    result = upload(app, world.keys[COOPERATING], content, dry_run="false")

    by_action = {row["action_id"]: row for row in result["results"]}
    assert by_action[first]["outcome"] == "updated"
    assert by_action[theirs]["outcome"] == "unchanged"
    assert by_action[second]["outcome"] == "error"
    assert by_action[second]["errors"] == [
        {
            "column": "status",
            "reason": f"状态 (column C, row 3): 乙配合局 is a 配合单位 of action {second} "
            "(牵头单位: 甲牵头局): key "
            "'cooperating-key' may fill in only 进度 and 本次进展 on this row",
        }
    ]
    assert timelines(client, second, theirs) == before
    assert get_action(client, first)["progress"] == 30
    last = events_of(client, first)[-1]
    assert (last["kind"], last["actor"], last["actor_unit"], last["progress"]) == (
        "progress",
        "cooperating-key",
        "乙配合局",
        30,
    )


def test_all_or_nothing_applies_nothing_when_a_unit_row_is_refused(
    app: FastAPI, client: TestClient, world: UnitWorld
) -> None:
    ours, theirs = world.action_id, more_actions(client, world)[1]
    content = sheet(client, {ours: {"责任人": "张三"}, theirs: {"责任人": "李四"}})
    before = timelines(client, ours, theirs)
    result = upload(app, world.keys[LEAD], content, dry_run="false", all_or_nothing="true")
    assert (result["applied"], result["counts"]) == (False, {"will_update": 1, "error": 1})
    assert timelines(client, ours, theirs) == before


def test_tashan_import_as_a_unit(
    database_url: str, client: TestClient, world: UnitWorld, tmp_path: Path
) -> None:
    ours, theirs = world.action_id, more_actions(client, world)[1]
    refused = tmp_path / "refused.csv"
    refused.write_bytes(sheet(client, {ours: {"责任人": "张三"}, theirs: {"责任人": "李四"}}))
    result = run_tashan(
        database_url, "import", str(refused), "--apply", "--as", "甲局-王", "--unit", "甲牵头局"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"action {theirs:>5}  error       row 3: the 牵头单位 of action {theirs}" in result.stdout
    )

    fine = tmp_path / "fine.csv"
    fine.write_bytes(sheet(client, {ours: {"责任人": "赵五"}}))
    unit_id = str(world.unit_ids[LEAD])
    result = run_tashan(
        database_url, "import", str(fine), "--apply", "--as", "甲局-王", "--unit", unit_id
    )
    assert result.returncode == 0, result.stdout + result.stderr
    last = events_of(client, ours)[-1]
    assert (last["actor"], last["actor_unit"]) == ("甲局-王", UNIT_NAMES[LEAD])
    assert [e["changes"]["assignee"][1] for e in events_of(client, ours)[1:]] == ["张三", "赵五"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--unit", "不存在局"), "no unit '不存在局': give a unit's id or exact name (1 甲牵头局"),
        (("--unit", "甲牵头局", "--role", "admin"), "--unit is for editor keys only"),
    ],
)
def test_tashan_import_with_a_wrong_unit_exits_2(
    database_url: str,
    client: TestClient,
    world: UnitWorld,
    tmp_path: Path,
    args: tuple[str, ...],
    said: str,
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(sheet(client, {world.action_id: {"责任人": "张三"}}))
    result = run_tashan(database_url, "import", str(path), "--apply", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr
    assert len(events_of(client, world.action_id)) == 1
