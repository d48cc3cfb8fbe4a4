"""Seeding: the quote invariant, idempotency, never clobbering users, and bad seed files."""

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from sqlmodel import select as sm_select

from app.actions.models import Action, ActionEvent
from app.config import SEEDS_DIR
from app.models import metadata
from app.seeding.schemas import SeedReport
from app.seeding.service import SeedError, seed_database
from app.sources.models import Source, Speech
from app.units.models import Unit

TOML = SEEDS_DIR / "xiuzhou-secondment.toml"
TEXT_FILE = SEEDS_DIR / "xiuzhou-secondment-2022-01-28.txt"
SLUG = "xiuzhou-secondment-2022-01-28"
KEY = "young-cadre-strict-management"  # actions[3]
ENTRY = f"actions[3] (key={KEY})"


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def snapshot(engine: Engine) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        table = metadata.tables["actions"]
        columns = [table.c[name] for name in ("id", "title", "detail", "version")]
        actions = connection.execute(select(*columns).order_by(table.c.id)).all()
    return row_counts(engine), [tuple(row) for row in actions]


def edit_action(toml: str, key: str, old: str, new: str) -> str:
    """Replace the first `old` after the line `key = "<key>"`."""
    at = toml.index(f'key = "{key}"')
    assert old in toml[at:], old
    return toml[:at] + toml[at:].replace(old, new, 1)


def write_seed(folder: Path, toml: str | bytes) -> Path:
    """A seed folder with the project's text and the given TOML; returns the TOML path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEXT_FILE, folder / TEXT_FILE.name)
    path = folder / TOML.name
    if isinstance(toml, str):
        path.write_text(toml, encoding="utf-8")
    else:
        path.write_bytes(toml)
    return path


def etag_of(client: TestClient, action_id: int) -> str:
    response = client.get(f"/api/v1/actions/{action_id}")
    assert response.status_code == 200
    etag: str = response.headers["etag"]
    return etag


# ------------------------------------------------------------------ the seeded data


def test_seed_creates_everything_once(seeded: SeedReport, engine: Engine) -> None:
    assert (seeded.sources.created, seeded.units.created) == (1, 9)
    assert (seeded.speeches.created, seeded.actions.created) == (8, 43)
    assert seeded.kept_user_changes == [] and seeded.warnings == []
    counts = row_counts(engine)
    assert (counts["sources"], counts["units"], counts["speeches"], counts["actions"]) == (
        1,
        9,
        8,
        43,
    )
    assert counts["action_events"] == 43  # one created event each


def test_every_quote_is_verbatim_in_the_database(seeded: SeedReport, session: Session) -> None:
    source = session.exec(sm_select(Source).where(Source.slug == SLUG)).one()
    actions = session.exec(sm_select(Action)).all()
    assert len(actions) == 43
    for action in actions:
        assert source.text[action.quote_start : action.quote_end] == action.quote, action.seed_key
        assert action.quote_end - action.quote_start == len(action.quote)
        assert "\n" not in action.quote, action.seed_key
        assert action.quote == action.quote.strip()
        assert action.source_id == source.id
        assert action.seed_key


def test_every_quote_is_verbatim_through_the_api(client: TestClient, seeded: SeedReport) -> None:
    source = client.get(f"/api/v1/sources/{SLUG}").json()
    response = client.get("/api/v1/actions", params={"limit": 200, "source_id": source["id"]})
    assert response.status_code == 200
    actions = response.json()["items"]
    assert len(actions) == response.json()["total"] == 43
    text = source["text"]
    for action in actions:
        assert text[action["quote_start"] : action["quote_end"]] == action["quote"], action["id"]
        assert "\n" not in action["quote"]


def test_every_quote_lies_in_its_speech(seeded: SeedReport, session: Session) -> None:
    rows = session.exec(sm_select(Action, Speech).join(Speech)).all()
    assert len(rows) == 43
    for action, speech in rows:
        assert speech.start <= action.quote_start < action.quote_end <= speech.end, action.seed_key
    assert len(session.exec(sm_select(Speech)).all()) == 8


def test_stored_text_is_byte_identical_to_the_file(
    seeded: SeedReport, session: Session, client: TestClient
) -> None:
    digest = hashlib.sha256(TEXT_FILE.read_bytes()).hexdigest()
    source = session.exec(sm_select(Source).where(Source.slug == SLUG)).one()
    assert source.sha256 == digest
    assert hashlib.sha256(source.text.encode("utf-8")).hexdigest() == digest
    assert source.char_count == len(TEXT_FILE.read_bytes().decode("utf-8"))
    body = client.get(f"/api/v1/sources/{SLUG}").json()
    assert hashlib.sha256(body["text"].encode("utf-8")).hexdigest() == digest == body["sha256"]


# ------------------------------------------------------------------ idempotency


def test_seeding_twice_changes_nothing(seeded: SeedReport, engine: Engine) -> None:
    before = snapshot(engine)
    again = seed_database(engine, SEEDS_DIR)
    for tally in (again.sources, again.units, again.speeches, again.actions):
        assert (tally.created, tally.updated) == (0, 0)
    assert (again.units.unchanged, again.speeches.unchanged, again.actions.unchanged) == (9, 8, 43)
    assert again.sources.unchanged == 1
    assert again.kept_user_changes == []
    assert snapshot(engine) == before


# ------------------------------------------------------------------ never clobber users


def test_user_changes_survive_reseeding(
    client: TestClient, seeded: SeedReport, engine: Engine, session: Session
) -> None:
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    other_unit = session.exec(sm_select(Unit).where(Unit.name == "区经济发展局")).one()
    assert action.id is not None and other_unit.id != action.owner_id
    patch = {
        "title": "严管厚爱（用户改过的标题）",
        "assignee": "张明",
        "due_on": "2030-06-30",
        "owner_id": other_unit.id,
        "priority": "high",
    }
    response = client.patch(
        f"/api/v1/actions/{action.id}", json=patch, headers={"If-Match": etag_of(client, action.id)}
    )
    assert response.status_code == 200, response.text
    version = response.json()["version"]

    report = seed_database(engine, SEEDS_DIR)

    assert f"{KEY}.title" in report.kept_user_changes
    assert (report.actions.created, report.actions.updated) == (0, 0)
    body = client.get(f"/api/v1/actions/{action.id}").json()
    assert body["title"] == patch["title"]
    assert body["assignee"] == "张明"
    assert body["due_on"] == "2030-06-30"
    assert body["owner"]["id"] == other_unit.id
    assert body["priority"] == "high"
    assert body["version"] == version


def test_untouched_seed_field_follows_the_file(
    client: TestClient, seeded: SeedReport, engine: Engine, session: Session, tmp_path: Path
) -> None:
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    assert action.id is not None and action.detail
    # A user renames the action; the file then rewrites its detail.
    renamed = client.patch(
        f"/api/v1/actions/{action.id}",
        json={"title": "用户标题"},
        headers={"If-Match": etag_of(client, action.id)},
    )
    assert renamed.status_code == 200, renamed.text
    new_detail = "种子文件更新后的说明。"
    path = write_seed(
        tmp_path / "seeds", edit_action(TOML.read_text("utf-8"), KEY, action.detail, new_detail)
    )

    report = seed_database(engine, path.parent)

    assert (report.actions.created, report.actions.updated, report.actions.unchanged) == (0, 1, 42)
    body = client.get(f"/api/v1/actions/{action.id}").json()
    assert body["detail"] == new_detail
    assert body["title"] == "用户标题"
    events = client.get(f"/api/v1/actions/{action.id}/events").json()["items"]
    seed_updates = [e for e in events if e["kind"] == "updated" and e["actor"] == "seed"]
    assert len(seed_updates) == 1
    assert seed_updates[0]["changes"] == {"detail": [action.detail, new_detail]}


def test_seed_file_change_of_an_untouched_action(
    client: TestClient, seeded: SeedReport, engine: Engine, session: Session, tmp_path: Path
) -> None:
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    assert action.detail
    path = write_seed(
        tmp_path / "seeds", edit_action(TOML.read_text("utf-8"), KEY, action.detail, "新说明")
    )
    report = seed_database(engine, path)
    assert report.actions.updated == 1
    body = client.get(f"/api/v1/actions/{action.id}").json()
    assert body["detail"] == "新说明"
    assert body["version"] == action.version + 1
    kinds = [
        (e["kind"], e["actor"])
        for e in client.get(f"/api/v1/actions/{action.id}/events").json()["items"]
    ]
    assert kinds[-1] == ("updated", "seed")


# ------------------------------------------------------------------ bad seed files


def _replace(old: str, new: str) -> Callable[[str], str | bytes]:
    return lambda toml: edit_action(toml, KEY, old, new)


BAD_FILES: dict[str, tuple[Callable[[str], str | bytes], list[str]]] = {
    "quote-not-in-text": (
        _replace("四是要管，严管即是厚爱", "四是要管，严管就是厚爱"),
        [ENTRY, "quote does not occur"],
    ),
    "unknown-owner": (
        _replace('owner = "区党工委"', 'owner = "不存在的单位"'),
        [ENTRY, "不存在的单位", "not one of [[units]]"],
    ),
    "invalid-kind": (
        _replace('kind = "directive"', 'kind = "suggestion"'),
        [ENTRY, "kind", "directive"],
    ),
    "duplicate-key": (
        lambda toml: toml.replace(f'key = "{KEY}"', 'key = "young-cadre-cultivation"'),
        ["actions", "young-cadre-cultivation", "more than once"],
    ),
    "invalid-toml": (
        lambda toml: toml.replace(f'key = "{KEY}"', f'key = "{KEY}'),
        ["not valid TOML", "line"],
    ),
    "not-utf8": (lambda toml: toml.encode("gb18030"), ["UTF-8"]),
    "unknown-co-owner": (
        _replace(
            'owner = "区党工委"', 'owner = "区党工委"\nco_owners = ["区科技创新局", "区财政局"]'
        ),
        [ENTRY, "co_owners", "'区财政局'", "not one of [[units]]"],
    ),
    "lead-co-owner": (
        _replace('owner = "区党工委"', 'owner = "区党工委"\nco_owners = ["区党工委"]'),
        [ENTRY, "co_owners", "'区党工委' is the owner"],
    ),
    "repeated-co-owner": (
        _replace(
            'owner = "区党工委"', 'owner = "区党工委"\nco_owners = ["区科技创新局", "区科技创新局"]'
        ),
        [ENTRY, "co_owners", "'区科技创新局' is listed more than once"],
    ),
    "co-owners-not-a-list": (
        _replace('owner = "区党工委"', 'owner = "区党工委"\nco_owners = "区科技创新局"'),
        [ENTRY + ".co_owners", "list"],
    ),
    "multi-line-leader": (
        _replace('owner = "区党工委"', 'owner = "区党工委"\nleader = "凌兵奎\\n张三"'),
        [ENTRY + ".leader", "single line"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_seed_file_is_refused_and_changes_nothing(
    case: str, seeded: SeedReport, engine: Engine, tmp_path: Path
) -> None:
    mutate, fragments = BAD_FILES[case]
    path = write_seed(tmp_path / "seeds", mutate(TOML.read_text("utf-8")))
    before = snapshot(engine)
    with pytest.raises(SeedError) as caught:
        seed_database(engine, path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert snapshot(engine) == before


@pytest.mark.parametrize("case", ["quote-not-in-text", "invalid-kind"])
def test_bad_seed_file_on_empty_database_writes_nothing(
    case: str, engine: Engine, tmp_path: Path
) -> None:
    path = write_seed(tmp_path / "seeds", BAD_FILES[case][0](TOML.read_text("utf-8")))
    migrated = row_counts(engine)  # the rows the migrations wrote, and nothing else
    with pytest.raises(SeedError):
        seed_database(engine, path)
    assert row_counts(engine) == migrated


def test_changed_text_under_same_slug_is_refused_and_rolled_back(
    seeded: SeedReport, engine: Engine, tmp_path: Path
) -> None:
    toml = TOML.read_text("utf-8").replace(
        "\n[[units]]\n", '\n[[units]]\nname = "新增单位"\nkind = "other"\n\n[[units]]\n', 1
    )
    path = write_seed(tmp_path / "seeds", toml)
    (path.parent / TEXT_FILE.name).write_bytes(TEXT_FILE.read_bytes() + "补记。".encode())
    before = snapshot(engine)
    with pytest.raises(SeedError) as caught:
        seed_database(engine, path)
    assert str(path) in str(caught.value)
    assert SLUG in str(caught.value)
    assert "different text" in str(caught.value)
    assert snapshot(engine) == before
    with Session(engine) as session:
        assert session.exec(sm_select(Unit).where(Unit.name == "新增单位")).first() is None


def test_missing_seed_path_is_seed_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no such file"):
        seed_database(engine, tmp_path / "missing.toml")
    with pytest.raises(SeedError, match=r"no \*\.toml"):
        seed_database(engine, tmp_path)


def test_reseed_does_not_duplicate_events(seeded: SeedReport, engine: Engine) -> None:
    seed_database(engine, SEEDS_DIR)
    with Session(engine) as session:
        assert len(session.exec(sm_select(ActionEvent)).all()) == 43


# ------------------------------------------------------------------ co_owners and leader

CO_OWNERS_LINE = 'co_owners = ["区科技创新局", "沙河产业园区"]\nleader = "凌兵奎"'


def with_co_owners(toml: str, line: str = CO_OWNERS_LINE) -> str:
    """The seed file with co_owners and leader given to KEY (led by 区党工委)."""
    return edit_action(toml, KEY, 'owner = "区党工委"', f'owner = "区党工委"\n{line}')


def unit_ids(session: Session, *names: str) -> list[int]:
    ids = [session.exec(sm_select(Unit.id).where(Unit.name == name)).one() for name in names]
    return [unit_id for unit_id in ids if unit_id is not None]


def co_owner_names(client: TestClient, action_id: int) -> list[str]:
    return sorted(
        unit["name"] for unit in client.get(f"/api/v1/actions/{action_id}").json()["co_owners"]
    )


def test_the_project_seed_names_no_cooperating_units(seeded: SeedReport, session: Session) -> None:
    """The article names no unit working with another on any proposal (see the seed file's
    comment), so the seed gives none."""
    assert "co_owners" not in TOML.read_text("utf-8").split("[source]")[1]
    assert all(action.co_owners == [] for action in session.exec(sm_select(Action)).all())


def test_co_owners_and_leader_of_a_new_action_then_reseeding_changes_nothing(
    client: TestClient, engine: Engine, session: Session, tmp_path: Path
) -> None:
    path = write_seed(tmp_path / "seeds", with_co_owners(TOML.read_text("utf-8")))

    first = seed_database(engine, path)

    assert first.actions.created == 43
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    body = client.get(f"/api/v1/actions/{action.id}").json()
    assert co_owner_names(client, body["id"]) == ["区科技创新局", "沙河产业园区"]
    assert (body["leader"], body["owner"]["name"]) == ("凌兵奎", "区党工委")
    events = client.get(f"/api/v1/actions/{action.id}/events").json()["items"]
    assert [(e["kind"], e["actor"]) for e in events] == [("created", "seed")]

    before = snapshot(engine)
    again = seed_database(engine, path)

    assert (again.actions.created, again.actions.updated, again.actions.unchanged) == (0, 0, 43)
    assert again.kept_user_changes == [] and again.warnings == []
    assert snapshot(engine) == before


def test_co_owners_added_to_the_file_reach_a_seeded_action_once(
    client: TestClient, seeded: SeedReport, engine: Engine, session: Session, tmp_path: Path
) -> None:
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    path = write_seed(tmp_path / "seeds", with_co_owners(TOML.read_text("utf-8")))

    report = seed_database(engine, path)

    assert (report.actions.updated, report.actions.unchanged) == (1, 42)
    assert co_owner_names(client, action.id or 0) == ["区科技创新局", "沙河产业园区"]
    events = client.get(f"/api/v1/actions/{action.id}/events").json()["items"]
    assert (events[-1]["kind"], events[-1]["actor"]) == ("updated", "seed")
    assert events[-1]["changes"] == {
        "co_owner_ids": [[], sorted(unit_ids(session, "区科技创新局", "沙河产业园区"))],
        "leader": [None, "凌兵奎"],
    }
    again = seed_database(engine, path)
    assert (again.actions.updated, again.actions.unchanged) == (0, 43)


@pytest.mark.parametrize("change", ["co_owner_ids", "owner_id", "leader"])
def test_users_cooperating_units_and_leader_survive_reseeding(
    change: str,
    client: TestClient,
    seeded: SeedReport,
    engine: Engine,
    session: Session,
    tmp_path: Path,
) -> None:
    """A user who changed the cooperating units, or the lead they are chosen beside, or the
    leader, keeps them, whatever the file says later."""
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    assert action.id is not None
    [economy] = unit_ids(session, "区经济发展局")
    patch = {"co_owner_ids": [economy], "owner_id": economy, "leader": "王副书记"}[change]
    response = client.patch(
        f"/api/v1/actions/{action.id}",
        json={change: patch},
        headers={"If-Match": etag_of(client, action.id)},
    )
    assert response.status_code == 200, response.text
    kept = response.json()
    path = write_seed(tmp_path / "seeds", with_co_owners(TOML.read_text("utf-8")))

    report = seed_database(engine, path)

    body = client.get(f"/api/v1/actions/{action.id}").json()
    if change == "leader":
        assert f"{KEY}.leader" in report.kept_user_changes
        assert body["leader"] == "王副书记"
        assert co_owner_names(client, action.id) == ["区科技创新局", "沙河产业园区"]
    else:
        assert f"{KEY}.co_owner_ids" in report.kept_user_changes
        assert body["co_owners"] == kept["co_owners"]
        assert body["leader"] == "凌兵奎"
    assert body["owner"] == kept["owner"]


def test_co_owners_naming_the_stored_lead_are_not_applied(
    client: TestClient, seeded: SeedReport, engine: Engine, session: Session, tmp_path: Path
) -> None:
    """The file moves the lead of a seeded action (which the seed never applies) and names
    the old lead as cooperating: the action keeps its cooperating units, with a warning."""
    action = session.exec(sm_select(Action).where(Action.seed_key == KEY)).one()
    toml = edit_action(
        TOML.read_text("utf-8"),
        KEY,
        'owner = "区党工委"',
        'owner = "区经济发展局"\nco_owners = ["区党工委"]',
    )
    path = write_seed(tmp_path / "seeds", toml)

    report = seed_database(engine, path)

    assert report.warnings == [
        f"{KEY}: co_owners names the action's lead unit (set when it was first seeded or by a "
        "user, and never changed by the seed); its cooperating units are kept as they are"
    ]
    assert (report.actions.updated, report.actions.unchanged) == (0, 43)
    body = client.get(f"/api/v1/actions/{action.id}").json()
    assert (body["owner"]["name"], body["co_owners"]) == ("区党工委", [])
