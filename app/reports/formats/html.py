"""The report as one self-contained, printable HTML file: inline CSS, an inline SVG chart of
completion rate by unit, no scripts and no external resources. Every text is escaped."""

from html import escape
from typing import Any

from app.actions.derived import Light
from app.actions.stats import UnitStats
from app.reports.document import StatusReport
from app.reports.formats.table import (
    NUMERIC,
    Kind,
    Table,
    actions_table,
    changes_table,
    display_width,
    figures,
    light_figures,
    light_of,
    overdue_table,
    ranking_table,
    status_figures,
    text,
)
from app.spreadsheet import Lang, label

CSS = """
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
  sans-serif; color: #222; margin: 2em; font-size: 14px; line-height: 1.5; }
h1 { font-size: 1.6em; margin: 0 0 .8em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .6em; border-bottom: 2px solid #3b6fb6;
  padding-bottom: .2em; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1em; }
th, td { border: 1px solid #999; padding: .3em .5em; vertical-align: top; text-align: left; }
thead th { background: #e8eef7; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.wrap { white-space: pre-wrap; min-width: 12em; }
table.figures { width: auto; }
table.figures th { background: #f4f4f4; }
.chart { break-inside: avoid; page-break-inside: avoid; }
.chart rect { fill: #3b6fb6; }
.chart text { font-size: 13px; fill: #222; }
.chart line { stroke: #ddd; }
.chart line.axis { stroke: #888; }
.chart .scale text { font-size: 11px; fill: #666; }
p.none { color: #666; }
.mark { display: inline-block; width: .8em; height: .8em; border-radius: 50%;
  margin-right: .3em; vertical-align: -.05em; border: 1px solid #0003; }
.mark.green { background: #2e9d4f; } .mark.yellow { background: #f2c12e; }
.mark.red { background: #d9342b; }
.charted { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
table.lights { width: auto; }
td.light { white-space: nowrap; }
table.lights td { text-align: right; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 10pt; }
  section { break-before: auto; }
  section.lines { break-before: page; page-break-before: always; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
BAR_WIDTH, ROW_HEIGHT, BAR_HEIGHT, CHAR_WIDTH = 420, 26, 16, 7
AXIS_HEIGHT, TICK_STEP = 22, 20  # the scale under the bars: a label every 20 %


def render(report: StatusReport) -> bytes:
    """The report as UTF-8 HTML."""
    lang = report.lang
    # 佐证材料 names each action's files here, one a line, rather than counting them.
    overdue = overdue_table(report, evidence_names=True)
    actions = actions_table(report, evidence_names=True)
    body = [
        f"<h1>{escape(report.title)}</h1>",
        _section(label("overview", lang), _figures(report)),
        _section(label("chart_title", lang), _charted(report)),
        _section(label("ranking", lang), _table(ranking_table(report), lang)),
        _section(label("overdue_sheet", lang), _table(overdue, lang)),
        _section(label("changes", lang), _table(changes_table(report), lang), "lines"),
        _section(label("actions", lang), _table(actions, lang), "lines"),
    ]
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == Lang.zh else "en"}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(report.title)}</title>\n<style>{CSS}</style>\n</head>\n"
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def _section(heading: str, content: str, css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<section{attribute}>\n<h2>{escape(heading)}</h2>\n{content}\n</section>"


def _figures(report: StatusReport) -> str:
    rows = [(f.label, text(f.value, f.kind)) for f in figures(report)]
    statuses = (", " if report.lang == Lang.en else "，").join(
        f"{f.label} {f.value}" for f in status_figures(report)
    )
    rows.append((label("by_status", report.lang), statuses))
    lights = (", " if report.lang == Lang.en else "，").join(
        f"{f.label} {f.value}" for _, f in light_figures(report)
    )
    rows.append((label("lights", report.lang), lights))
    cells = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="figures">\n{cells}\n</table>'


def _charted(report: StatusReport) -> str:
    """The chart, and beside it how many actions have each light."""
    return (
        f'<div class="charted">\n{_chart(report.ranking, report.lang)}\n{_lights(report)}\n</div>'
    )


def _lights(report: StatusReport) -> str:
    """红黄绿灯: each light's mark, label and count."""
    rows = "\n".join(
        f"<tr><th>{_mark(colour)}{escape(figure.label)}</th><td>{figure.value}</td></tr>"
        for colour, figure in light_figures(report)
    )
    heading = escape(label("lights", report.lang))
    head = f'<thead><tr><th colspan="2">{heading}</th></tr></thead>'
    return f'<table class="figures lights">\n{head}\n{rows}\n</table>'


def _mark(colour: Light) -> str:
    return f'<span class="mark {colour}"></span>'


def _chart(units: list[UnitStats], lang: Lang) -> str:
    """A horizontal bar per unit, its length the unit's completion rate, best unit on top,
    over a scale of 0 %–100 % (a gridline and a label every TICK_STEP %)."""
    if not units:
        return f'<p class="none">{escape(label("none", lang))}</p>'
    left = max(display_width(u.unit_name) for u in units) * CHAR_WIDTH + 12
    plot_height = len(units) * ROW_HEIGHT + 8
    width, height = left + BAR_WIDTH + 60, plot_height + AXIS_HEIGHT
    bars = "\n".join(_bar(unit, index, left) for index, unit in enumerate(units))
    title = escape(label("chart_title", lang))
    return (
        f'<div class="chart"><svg role="img" '
        f'aria-label="{title}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">\n<title>{title}</title>\n'
        f"{_scale(left, plot_height)}\n{bars}\n</svg></div>"
    )


def _scale(left: int, plot_height: int) -> str:
    """The gridlines behind the bars, the 0 % one the axis, and their labels under them."""
    ticks = []
    for percent in range(0, 101, TICK_STEP):
        x = left + BAR_WIDTH * percent // 100
        kind = "axis" if percent == 0 else "grid"
        ticks.append(
            f'<line class="{kind}" x1="{x}" y1="0" x2="{x}" y2="{plot_height}"/>'
            f'<text x="{x}" y="{plot_height + AXIS_HEIGHT - 6}" text-anchor="middle">'
            f"{percent}%</text>"
        )
    return '<g class="scale">' + "".join(ticks) + "</g>"


def _bar(unit: UnitStats, index: int, left: int) -> str:
    top = index * ROW_HEIGHT + 4
    length = round(unit.completion_rate * BAR_WIDTH, 1)
    baseline = top + BAR_HEIGHT - 3
    return (
        f'<text x="{left - 8}" y="{baseline}" text-anchor="end">{escape(unit.unit_name)}</text>'
        f'<rect x="{left}" y="{top}" width="{length}" height="{BAR_HEIGHT}"/>'
        f'<text x="{left + length + 6}" y="{baseline}">'
        f"{escape(text(unit.completion_rate, Kind.rate))}</text>"
    )


def _table(table: Table[Any], lang: Lang) -> str:
    if not table.rows:
        return f'<p class="none">{escape(label("none", lang))}</p>'
    classes = [
        ' class="light"'
        if column.kind == Kind.light
        else _css_class(column.kind in NUMERIC, column.wrap)
        for column in table.columns
    ]
    head = _tr("th", classes, table.headers(lang))
    # A light's cell starts with its coloured mark.
    marks = {name: _mark(colour) for name, colour in light_of(lang).items()}
    lit = [column.kind == Kind.light for column in table.columns]
    body = "\n".join(_tr("td", classes, table.texts(row, lang), lit, marks) for row in table.rows)
    return f"<table>\n<thead>{head}</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _tr(
    tag: str,
    classes: list[str],
    texts: list[str],
    lit: list[bool] | None = None,
    marks: dict[str, str] | None = None,
) -> str:
    cells = zip(classes, texts, lit or [False] * len(texts), strict=True)
    return (
        "<tr>"
        + "".join(
            f"<{tag}{css}>{(marks or {}).get(t, '') if light else ''}{escape(t)}</{tag}>"
            for css, t, light in cells
        )
        + "</tr>"
    )


def _css_class(numeric: bool, wrap: bool) -> str:
    if numeric:
        return ' class="num"'
    return ' class="wrap"' if wrap else ""
