"""`tashan sources draft` as a user runs it: the draft of the seed article loads with
`tashan seed` into an empty database as it stands, and into one with the curated seed
loaded without tracking any proposal twice."""

import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.actions.models import Action
from app.config import SEEDS_DIR
from app.sources.models import Source
from tests.helpers import ARTICLE, run_tashan

ARTICLE_NAME = "xiuzhou-secondment-2022-01-28.txt"


@pytest.fixture
def article(tmp_path: Path) -> Path:
    """A copy of the seed article in a folder of its own, as a new article arrives."""
    folder = tmp_path / "articles"
    folder.mkdir()
    return Path(shutil.copyfile(SEEDS_DIR / ARTICLE_NAME, folder / ARTICLE_NAME))


def draft(database_url: str, article: Path, *args: str) -> Path:
    result = run_tashan(database_url, "sources", "draft", str(article), *args)
    assert result.returncode == 0, result.stderr
    target = article.with_suffix(".draft.toml")
    assert f"wrote {target}" in result.stdout
    return target


def source_actions(engine: Engine) -> list[Action]:
    with Session(engine) as session:
        return list(session.exec(select(Action).order_by(col(Action.quote_start))).all())


def test_the_draft_loads_as_it_stands_into_an_empty_database(
    database_url: str, engine: Engine, article: Path
) -> None:
    target = draft(database_url, article)
    seed = tomllib.loads(target.read_text(encoding="utf-8"))
    assert seed["source"]["slug"] == "xiuzhou-secondment-2022-01-28"
    assert seed["source"]["title"] == "赴秀洲高新区挂职人员分享学习心得"
    assert seed["source"]["byline"] == "记者 高轶鹏 通讯员 吴越"
    assert str(seed["source"]["published_on"]) == "2022-01-28"
    assert [s["speaker"] for s in seed["speeches"]] == [
        "凌兵奎",
        "谢纳",
        "马骏",
        "高健",
        "陈家宝",
        "梁成",
        "余佳沛",
        "袁梦哲",
    ]
    assert 43 <= len(seed["actions"]) <= 86
    assert "# score " in target.read_text(encoding="utf-8")

    result = run_tashan(database_url, "seed", str(target))
    assert result.returncode == 0, result.stderr
    assert f"actions: {len(seed['actions'])} created, 0 updated, 0 unchanged" in result.stdout
    assert "units: 7 created" in result.stdout
    loaded = source_actions(engine)
    assert len(loaded) == len(seed["actions"])
    for action in loaded:
        assert ARTICLE[action.quote_start : action.quote_end] == action.quote
        assert "\n" not in action.quote
    again = run_tashan(database_url, "seed", str(target))
    assert f"actions: 0 created, 0 updated, {len(loaded)} unchanged" in again.stdout


def test_with_the_curated_seed_loaded_overlapping_proposals_are_reported_not_loaded(
    database_url: str, engine: Engine, article: Path
) -> None:
    assert run_tashan(database_url, "seed").returncode == 0
    curated = {action.id: action for action in source_actions(engine)}
    target = draft(database_url, article)
    text = target.read_text(encoding="utf-8")
    assert "# overlaps existing action #16 (standard-land-reform) 加快“标准地”改革" in text
    seed: dict[str, Any] = tomllib.loads(text)
    assert seed["source"]["publisher"] == "本报（平顶山高新区新闻报道；报纸名称原文未载）"

    result = run_tashan(database_url, "seed", str(target))
    assert result.returncode == 0, result.stderr
    overlaps = [line for line in result.stdout.splitlines() if line.startswith("overlap, ")]
    created = len(seed["actions"]) - len(overlaps)
    assert len(overlaps) >= 39
    assert f"actions: {created} created, 0 updated, 0 unchanged" in result.stdout
    assert "sources: 0 created, 0 updated, 1 unchanged" in result.stdout
    assert "speeches: 0 created, 0 updated, 8 unchanged" in result.stdout
    assert any("overlaps action #16 (standard-land-reform)" in line for line in overlaps)

    after = source_actions(engine)
    assert len(after) == len(curated) + created
    drafted = [a for a in after if a.id not in curated]
    for new in drafted:
        for old in curated.values():
            assert not (new.quote_start < old.quote_end and old.quote_start < new.quote_end)
    with Session(engine) as session:
        assert len(session.exec(select(Source)).all()) == 1


def test_the_draft_takes_the_options_and_prints_to_stdout(database_url: str, article: Path) -> None:
    result = run_tashan(
        database_url,
        "sources",
        "draft",
        str(article),
        "--out",
        "-",
        "--slug",
        "xiuzhou-2022",
        "--publisher",
        "平顶山高新区报",
        "--published-on",
        "2022-01-29",
    )
    assert result.returncode == 0, result.stderr
    seed = tomllib.loads(result.stdout)
    assert seed["source"]["slug"] == "xiuzhou-2022"
    assert seed["source"]["publisher"] == "平顶山高新区报"
    assert str(seed["source"]["published_on"]) == "2022-01-29"
    assert not article.with_suffix(".draft.toml").exists()


def test_the_draft_refuses_to_overwrite_and_unreadable_articles(
    database_url: str, article: Path, tmp_path: Path
) -> None:
    target = draft(database_url, article)
    before = target.read_bytes()
    again = run_tashan(database_url, "sources", "draft", str(article))
    assert again.returncode == 1 and "exists" in again.stderr
    assert target.read_bytes() == before
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café".encode("latin-1"))
    refused = run_tashan(database_url, "sources", "draft", str(latin))
    assert refused.returncode == 1 and "UTF-8" in refused.stderr
    bad_slug = run_tashan(
        database_url, "sources", "draft", str(article), "--out", "-", "--slug", "Not A Slug"
    )
    assert bad_slug.returncode == 1 and "slug" in bad_slug.stderr


def test_a_folder_of_seed_files_leaves_drafts_out(database_url: str, article: Path) -> None:
    draft(database_url, article)
    folder = run_tashan(database_url, "seed", str(article.parent))
    assert folder.returncode == 1 and "no *.toml seed files" in folder.stderr
    shutil.copyfile(SEEDS_DIR / "xiuzhou-secondment.toml", article.parent / "curated.toml")
    curated_only = run_tashan(database_url, "seed", str(article.parent))
    assert curated_only.returncode == 0, curated_only.stderr
    assert "actions: 43 created, 0 updated, 0 unchanged" in curated_only.stdout
