"""The report's action lines as CSV: UTF-8 with a BOM (so Excel and WPS read Chinese), CRLF
line endings, a header row of labels, and formula-like cells defused with a leading quote.

A round-trip sheet like the XLSX 明细: the headings of the columns a unit fills in end with ✎,
and an empty new_note column follows latest_note."""

import csv
import io

from app.reports.formats.table import actions_table, guard
from app.reports.model import Report

BOM = "\ufeff"


def render(report: Report) -> bytes:
    """The 明细 table as CSV bytes."""
    table = actions_table(report, round_trip=True)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)  # the excel dialect: CRLF, quoting where needed
    writer.writerow([guard(header) for header in table.headers(report.lang)])
    writer.writerows([guard(cell) for cell in table.texts(row, report.lang)] for row in table.rows)
    return buffer.getvalue().encode("utf-8")
