"""The report model itself as JSON, Chinese left readable (not \\u-escaped)."""

from app.reports.document import StatusReport


def render(report: StatusReport) -> bytes:
    """The report as indented UTF-8 JSON."""
    return report.model_dump_json(indent=2).encode("utf-8")
