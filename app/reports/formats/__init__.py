"""The writers of a report, one module per file format."""

from collections.abc import Callable

from app.reports.document import ReportFormat, StatusReport, StreamedReport
from app.reports.formats import csv, html, json, md, xlsx

RENDERERS: dict[ReportFormat, Callable[[StatusReport], bytes]] = {
    ReportFormat.xlsx: xlsx.render,
    ReportFormat.csv: csv.render,
    ReportFormat.md: md.render,
    ReportFormat.html: html.render,
    ReportFormat.json: json.render,
}


def render(report: StatusReport, fmt: ReportFormat, *, template: bool = False) -> bytes:
    """The report written in fmt; template: as a unit's fill-in form, which is a workbook."""
    if template:
        if fmt != ReportFormat.xlsx:
            raise ValueError(f"a fill-in template is an xlsx workbook, not {fmt}")
        return xlsx.render(report, template=True)
    return RENDERERS[fmt](report)


# The formats written as their action lines are read, in bounded memory.
STREAMED = {ReportFormat.xlsx, ReportFormat.csv}


def render_streamed(report: StreamedReport, fmt: ReportFormat, *, template: bool = False) -> bytes:
    """render, the lines written as they are read; fmt is one of STREAMED."""
    if fmt == ReportFormat.xlsx:
        return xlsx.render_streamed(report, template=template)
    if template or fmt != ReportFormat.csv:
        raise ValueError(f"{fmt} is not written as it is read")
    return b"".join(csv.stream(report.chunks, report.lang))
