"""The writers of a report, one module per file format."""

from collections.abc import Callable

from app.reports.formats import csv, html, json, md, xlsx
from app.reports.model import Report, ReportFormat

RENDERERS: dict[ReportFormat, Callable[[Report], bytes]] = {
    ReportFormat.xlsx: xlsx.render,
    ReportFormat.csv: csv.render,
    ReportFormat.md: md.render,
    ReportFormat.html: html.render,
    ReportFormat.json: json.render,
}


def render(report: Report, fmt: ReportFormat) -> bytes:
    """The report written in fmt."""
    return RENDERERS[fmt](report)
