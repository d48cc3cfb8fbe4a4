"""A new article as a draft seed file (the format `tashan seed` loads): the metadata found
in it, its speeches and units, and its candidates as [[actions]] with their scores as
comments, for a person to correct rather than write."""

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from app.actions.workflow import Priority
from app.fields import SLUG_PATTERN
from app.seeding.schemas import SeedSourceEntry
from app.sources.candidates import THEME_VOCABULARY, Candidate, SpeechSpan, find_candidates
from app.sources.layout import heading_of, lines, prose_span
from app.sources.speeches import FoundSpeech, guess_unit_kind, resolve_unit
from app.units.models import UnitKind

ANCHOR_LENGTH = 12  # a speech's begins/ends: this many characters, more until unique
DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
FULL_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
BYLINE = re.compile(r"[（(]((?:特约)?(?:记者|通讯员)[^（）()]*)[)）]")


def speech_spans(speeches: Sequence[FoundSpeech]) -> list[SpeechSpan]:
    """The spans candidates are attributed to."""
    return [SpeechSpan(s.start, s.end, s.remarks) for s in speeches]


def article_title(text: str) -> str | None:
    """The first level-1 heading, else the first short line without a full stop."""
    short = None
    for line in lines(text):
        title = heading_of(line)
        if title is not None and line.text.lstrip().startswith("# "):
            return title
        stripped = line.text.strip()
        if short is None and stripped and len(stripped) <= 40 and not stripped.endswith("。"):
            short = title or stripped
    return short


def article_byline(text: str) -> str | None:
    """ "记者 高轶鹏 通讯员 吴越" from the dateline's "本报讯（记者高轶鹏 通讯员吴越）"."""
    match = BYLINE.search(text[:2000])
    if match is None:
        return None
    return re.sub(r"(记者|通讯员)(?=\S)", r"\1 ", match.group(1)).strip()


def article_date(text: str, file_name: str) -> tuple[date | None, str | None]:
    """The publication date and how it was found: from the file name (…-2022-01-28.txt),
    else a full date in the article's first paragraph."""
    first = next((line.text for line in lines(text) if prose_span(line) is not None), "")
    for pattern, where in ((DATE_IN_NAME, file_name), (FULL_DATE, first)):
        match = pattern.search(where)
        if match:
            try:
                found = date(*map(int, match.groups()))
            except ValueError:
                continue
            source = "文件名" if where is file_name else "导语"
            return found, f"日期取自{source}“{match.group()}”，请与原文核对。"
    return None, None


def found_metadata(article: Path, text: str, out_dir: Path) -> dict[str, Any]:
    """The [source] fields the article suggests: slug from the file name when it is one,
    title, byline and date from the text; file as seen from out_dir."""
    stem = article.stem.lower()
    published_on, note = article_date(text, article.name)
    found = {
        "slug": stem if re.fullmatch(SLUG_PATTERN, stem) and not stem.isdigit() else None,
        "file": relative_path(article, out_dir),
        "title": article_title(text) or article.stem,
        "byline": article_byline(text),
        "published_on": published_on,
        "published_on_note": note,
    }
    return {name: value for name, value in found.items() if value is not None}


def relative_path(target: Path, start: Path) -> str:
    """target as seen from the folder start (absolute when no relative path exists)."""
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive
        return target.resolve().as_posix()


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and Chinese stays readable."""
    return json.dumps(value, ensure_ascii=False)


def _anchor(text: str, start: int, end: int, at_start: bool) -> str:
    """The shortest stretch at the start (or end) of [start, end) found once in text."""
    length = ANCHOR_LENGTH
    while True:
        piece = text[start : start + length] if at_start else text[max(start, end - length) : end]
        if text.find(piece) == text.rfind(piece) or length >= end - start:
            return piece
        length *= 2


def render_draft(
    text: str,
    metadata: SeedSourceEntry,
    speeches: Sequence[FoundSpeech],
    existing_units: Mapping[str, UnitKind] | None = None,
    existing_actions: Sequence[tuple[int, int, str]] = (),
) -> str:
    """The draft seed file of text with these speeches: units named as the existing ones
    where they match; existing_actions (start, end, label) of the same text are noted where
    a candidate overlaps them."""
    existing = dict(existing_units or {})
    candidates = find_candidates(text, speech_spans(speeches))
    unit_names = [resolve_unit(s, existing) for s in speeches]
    keys = [f"speech-{index}" for index in range(1, len(speeches) + 1)]
    out = _header(metadata, len(speeches), len(candidates))
    out += _source_section(metadata)
    for name in dict.fromkeys(n for n in unit_names if n):
        kind = existing.get(name, guess_unit_kind(name))
        out += f"\n[[units]]\nname = {toml_string(name)}\nkind = {toml_string(kind)}\n"
    out += "\n# ---------------------------------------------------------------- speeches\n"
    for found, key, unit in zip(speeches, keys, unit_names, strict=True):
        out += _speech_entry(text, found, key, unit)
    out += "\n# ---------------------------------------------------------------- actions\n"
    counters: dict[int, int] = {}
    unplaced = []
    for candidate in candidates:
        speech = candidate.speech
        if speech is None or unit_names[speech] is None:
            unplaced.append(candidate)
            continue
        counters[speech] = counters.get(speech, 0) + 1
        key = f"{keys[speech]}-{counters[speech]:02d}"
        overlapping = [
            label
            for start, end, label in existing_actions
            if start < candidate.quote_end and candidate.quote_start < end
        ]
        out += _action_entry(
            text, candidate, key, keys[speech], unit_names[speech] or "", overlapping
        )
    return out + _unplaced(unplaced)


def _header(metadata: SeedSourceEntry, speeches: int, candidates: int) -> str:
    vocabulary = " ".join(THEME_VOCABULARY)
    return (
        f"# 他山 Tashan draft seed: {metadata.title}\n"
        f"#\n"
        f"# 由 `tashan sources draft` 从 {metadata.file} 生成：{speeches} 个发言、"
        f"{candidates} 条候选事项。这是草稿，供人改正后再用 `tashan seed 本文件` 载入：\n"
        "#   - 删去不是建议的 [[actions]]，改好 title、kind、themes、owner、priority；\n"
        "#     每条上方的 score 是规则打分（越高越像建议），后面是得分的线索词。\n"
        "#   - quote 必须逐字出自原文、不含换行；改动 quote 时保持逐字一致。\n"
        "#   - 核对 [[speeches]] 的发言人、单位和起止（begins/ends 各须在原文中只出现一次）。\n"
        "#   - kind: recommendation（建议）| lesson（经验借鉴）| directive（工作要求）。\n"
        f"#   - 主题词表：{vocabulary}\n"
    )


def _source_section(metadata: SeedSourceEntry) -> str:
    out = "\n[source]\n"
    for name in ("slug", "file", "title", "publisher", "byline"):
        value = getattr(metadata, name)
        out += f"{name} = {toml_string(value)}\n" if value else f'# {name} = ""\n'
    if metadata.published_on:
        out += f"published_on = {metadata.published_on.isoformat()}\n"
    else:
        out += "# published_on = 2022-01-28\n"
    if metadata.published_on_note:
        out += f"published_on_note = {toml_string(metadata.published_on_note)}\n"
    if metadata.url:
        out += f"url = {toml_string(metadata.url)}\n"
    return out + f"language = {toml_string(metadata.language)}\n"


def _speech_entry(text: str, speech: FoundSpeech, key: str, unit: str | None) -> str:
    lines_ = [
        "",
        "[[speeches]]" if unit else "# 单位未知：填上 unit 并去掉本条的 # 后再载入",
        f"key = {toml_string(key)}",
        f"heading = {toml_string(speech.heading)}",
        f"speaker = {toml_string(speech.speaker)}",
        f"unit = {toml_string(unit or '')}",
        f"begins = {toml_string(_anchor(text, speech.start, speech.end, at_start=True))}",
        f"ends = {toml_string(_anchor(text, speech.start, speech.end, at_start=False))}",
    ]
    if not unit:
        lines_ = [lines_[0], lines_[1], *(f"# {line}" for line in ["[[speeches]]", *lines_[2:]])]
    return "\n".join(lines_) + "\n"


def _action_entry(
    text: str,
    candidate: Candidate,
    key: str,
    speech_key: str,
    owner: str,
    overlapping: list[str],
) -> str:
    out = f"\n# score {candidate.score}: {'、'.join(candidate.cues)}\n"
    if overlapping:
        out += f"# overlaps existing {', '.join(overlapping)}\n"
    themes = ", ".join(toml_string(theme) for theme in candidate.themes)
    out += (
        "[[actions]]\n"
        f"key = {toml_string(key)}\n"
        f"speech = {toml_string(speech_key)}\n"
        f"title = {toml_string(candidate.title)}\n"
        f"kind = {toml_string(candidate.kind)}\n"
        f"themes = [{themes}]\n"
        f"owner = {toml_string(owner)}\n"
        f"priority = {toml_string(Priority.medium)}\n"
        f"quote = {toml_string(candidate.quote)}\n"
    )
    if text.find(candidate.quote) != text.rfind(candidate.quote):
        out += f"quote_start = {candidate.quote_start}\n"
    return out


def _unplaced(candidates: list[Candidate]) -> str:
    if not candidates:
        return ""
    out = (
        "\n# 以下候选不在任何已识别发言内（或发言单位未知），未列为 [[actions]]；"
        "如需保留，先补上发言：\n"
    )
    return out + "".join(f"#   score {c.score}: {c.quote}\n" for c in candidates)
