"""The report as Markdown: title, headline figures, ranking, overdue list, changes, actions.

User text is escaped so it can neither break a table (| and line breaks) nor turn into
markup or HTML when the file is viewed."""

import html
import re
from typing import Any

from app.reports.document import ActionLine, StatusReport
from app.reports.formats.table import (
    NUMERIC,
    Table,
    actions_table,
    changes_table,
    figures,
    light_figures,
    ranking_table,
    status_figures,
    text,
)
from app.spreadsheet import Lang, label

MARKUP = re.compile(r"([\\`*_\[\]|])")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def render(report: StatusReport) -> bytes:
    """The report as UTF-8 Markdown."""
    lang = report.lang
    parts = [
        f"# {escape(report.title)}",
        _section(label("overview", lang), _figures(report)),
        _section(label("ranking", lang), _table(ranking_table(report), lang)),
        _section(label("overdue_sheet", lang), _overdue(report.overdue, lang)),
        _section(label("changes", lang), _table(changes_table(report), lang)),
        _section(label("actions", lang), _table(actions_table(report), lang)),
    ]
    return ("\n\n".join(parts) + "\n").encode("utf-8")


def escape(value: str) -> str:
    """Text that reads as itself in Markdown, on one line."""
    return LINE_BREAK.sub("<br>", MARKUP.sub(r"\\\1", html.escape(value, quote=False)))


def _section(heading: str, body: str) -> str:
    return f"## {escape(heading)}\n\n{body}"


def _colon(lang: Lang) -> str:
    return "：" if lang == Lang.zh else ": "


def _listed(items: list[str], lang: Lang) -> str:
    return ("，" if lang == Lang.zh else ", ").join(items)


def _figures(report: StatusReport) -> str:
    colon = _colon(report.lang)
    lines = [
        f"- **{escape(f.label)}**{colon}{escape(text(f.value, f.kind))}" for f in figures(report)
    ]
    statuses = [f"{escape(f.label)} {f.value}" for f in status_figures(report)]
    lines.append(
        f"- **{escape(label('by_status', report.lang))}**{colon}{_listed(statuses, report.lang)}"
    )
    lights = [f"{escape(f.label)} {f.value}" for _, f in light_figures(report)]
    lines.append(
        f"- **{escape(label('lights', report.lang))}**{colon}{_listed(lights, report.lang)}"
    )
    return "\n".join(lines)


def _overdue(lines: list[ActionLine], lang: Lang) -> str:
    if not lines:
        return label("none", lang)
    return "\n".join(_overdue_item(line, lang) for line in lines)


def _overdue_item(line: ActionLine, lang: Lang) -> str:
    colon = _colon(lang)
    details = [
        escape(line.owner),
        f"{label('due_on', lang)}{colon}{text(line.due_on)}",
        f"{label('progress', lang)}{colon}{line.progress}%",
    ]
    opening, closing = ("（", "）") if lang == Lang.zh else (" (", ")")
    return f"- #{line.id} {escape(line.title)}{opening}{_listed(details, lang)}{closing}"


def _table(table: Table[Any], lang: Lang) -> str:
    if not table.rows:
        return label("none", lang)
    rule = ["---:" if column.kind in NUMERIC else "---" for column in table.columns]
    rows = [
        _row([escape(header) for header in table.headers(lang)]),
        _row(rule),
        *(_row([escape(cell) for cell in table.texts(row, lang)]) for row in table.rows),
    ]
    return "\n".join(rows)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
