"""The report model itself as JSON, Chinese left readable (not \\u-escaped)."""

from app.reports.model import Report


def render(report: Report) -> bytes:
    """The report as indented UTF-8 JSON."""
    return report.model_dump_json(indent=2).encode("utf-8")
