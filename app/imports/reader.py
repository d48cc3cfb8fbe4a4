"""Reading an uploaded progress sheet (XLSX or CSV) into rows of cell values by column key.

An upload is told apart by its bytes, not its name: a ZIP archive is read as an .xlsx
workbook, anything else as CSV text (UTF-8, with or without a BOM, else GB18030, the superset
of the GBK that Excel on Chinese Windows writes; UTF-16 with a BOM, Excel's "Unicode text").
Headings are matched in Chinese or English, or by their raw key, after the markers a template
puts on editable columns are taken off — or what is left of them once a GBK save has turned ✎
into ? or ？. A number an XLSX cell shows as a percentage is read as shown (0.5 formatted 0%
is "50%"), as a CSV has it. The reader only reads: what the values mean is for the import to
decide."""

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from app.errors import InvalidInput
from app.spreadsheet import ACTIONS_SHEET, EDITABLE_KEYS, IDENTITY_KEYS, Lang, label, unguard

MAX_ROWS = 10_000

CellValue = str | int | float | date | datetime | None


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula; an import takes values only, so the row is refused."""

    text: str


@dataclass
class SheetRow:
    """One data row: its number as the user sees it (header = 1) and its cells by key."""

    number: int
    values: dict[str, CellValue | Formula] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnPlace:
    """Where a known column is: its heading as the sheet prints it and its column letter."""

    heading: str
    letter: str


@dataclass
class UploadedSheet:
    """The rows of an upload and which of the known columns it has (and where)."""

    format: str  # "xlsx" or "csv"
    columns: list[str]
    rows: list[SheetRow]
    places: dict[str, ColumnPlace] = field(default_factory=dict)

    def cell_name(self, key: str, row: int) -> str:
        """A cell as a message names it, in the sheet's own words: 配合单位 ✎ (column E, row 7);
        the row alone for what no column of the import holds (a refusal of the whole row)."""
        place = self.places.get(key)
        if place is None:
            return f"row {row}"
        return f"{place.heading} (column {place.letter}, row {row})"


class UnreadableSheet(InvalidInput):
    """A file that is not a sheet an import can read; the message says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, ["body", "file"], "unreadable_sheet")


KNOWN_COLUMNS = IDENTITY_KEYS + EDITABLE_KEYS
ACTIONS_SHEET_NAMES = {label(ACTIONS_SHEET, lang).casefold() for lang in Lang}
ZIP_SIGNATURE = b"PK\x03\x04"
# Files people upload by mistake, by their first bytes: what to call them.
NOT_SPREADSHEETS = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
)
# The container of an old .xls workbook and of a password-protected .xlsx alike.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text" (tab-separated) export
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
CSV_DELIMITERS = (",", ";", "\t")
SNIFF_CHARS = 4096
# Marks a template may put after a heading: ✎ / ✏ (with or without the emoji variation
# selector), what a save in GBK (which has no ✎) leaves of them: ? (NFKC has made ？ one) or
# U+FFFD, "(可填)" / "(editable)" (NFKC has already turned full-width brackets into ASCII
# ones) and an asterisk; any number of them, in any order, with space between.
HEADING_MARKER = re.compile(
    r"(?:\s*(?:[✎✏]\ufe0f?|[?\ufffd]|\((?:\s*(?:可填|editable)\s*)\)|\*))+\s*$"
)
# The parts of a number format that are shown as written, not read: "quoted text", \x, [red]
# or [$-804], and _x / *x (space as wide as x, x repeated).
FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].')
INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))


def _normal(heading: str) -> str:
    """A heading as it is matched: NFKC, markers and invisible characters gone, spaces and
    underscores folded into single spaces, and case-folded (which leaves Chinese alone)."""
    text = unicodedata.normalize("NFKC", heading).translate(INVISIBLE)
    text = HEADING_MARKER.sub("", text).replace("_", " ")
    return " ".join(text.split()).casefold()


def _headings() -> dict[str, str]:
    """Every accepted heading, normalised, to its key."""
    headings: dict[str, str] = {}
    for key in KNOWN_COLUMNS:
        for name in (key, label(key, Lang.zh), label(key, Lang.en)):
            headings[_normal(name)] = key
    return headings


HEADINGS = _headings()


def _named(key: str) -> str:
    """A column as a message names it: 编号/ID."""
    return f"{label(key, Lang.zh)}/{label(key, Lang.en)}"


def read_upload(content: bytes, file_name: str | None = None) -> UploadedSheet:
    """The rows of an XLSX or CSV upload; UnreadableSheet for anything else."""
    if not content or not content.strip():
        raise UnreadableSheet("the file is empty; upload the filled-in .xlsx or .csv report")
    if content.startswith(ZIP_SIGNATURE):
        return _read_xlsx(content)
    return _read_csv(content, file_name)


# --- the header and the rows, common to both formats ---------------------------------------


@dataclass
class _Header:
    """Where each known column is: its 0-based position to its key, in sheet order."""

    number: int  # the header's row number
    positions: dict[int, str]
    headings: dict[str, str] = field(default_factory=dict)  # key: the heading as printed

    @property
    def columns(self) -> list[str]:
        return list(self.positions.values())

    @property
    def places(self) -> dict[str, ColumnPlace]:
        return {
            key: ColumnPlace(self.headings.get(key, key), get_column_letter(index + 1))
            for index, key in self.positions.items()
        }


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _map_header(number: int, cells: Sequence[object]) -> _Header:
    """The known columns of a header row; UnreadableSheet when the header will not do."""
    positions: dict[int, str] = {}
    headings: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if _is_blank(cell):
            continue
        key = HEADINGS.get(_normal(str(cell)))
        if key is None:
            continue
        headings[key] = " ".join(str(cell).translate(INVISIBLE).split())
        if key in seen:
            first, second = get_column_letter(seen[key] + 1), get_column_letter(index + 1)
            raise UnreadableSheet(
                f"the column {_named(key)} appears twice (columns {first} and {second}); "
                "keep one and upload again"
            )
        seen[key] = index
        positions[index] = key
    for key in IDENTITY_KEYS:
        if key not in seen:
            raise UnreadableSheet(
                f"the sheet has no {_named(key)} column; download a fresh template"
            )
    if not any(key in seen for key in EDITABLE_KEYS):
        names = ", ".join(_named(key) for key in EDITABLE_KEYS)
        raise UnreadableSheet(
            f"the sheet has no column to fill in (one of {names}); download a fresh template"
        )
    return _Header(number, positions, headings)


def _collect(
    header: _Header,
    rows: Iterable[tuple[int, Sequence[Any]]],
    cell: Callable[[Any], CellValue | Formula],
) -> list[SheetRow]:
    """The data rows after the header, blank ones skipped, at most MAX_ROWS of them; cell
    turns one raw cell into its value."""
    found: list[SheetRow] = []
    for number, cells in rows:
        values = {
            key: cell(cells[index]) if index < len(cells) else None
            for index, key in header.positions.items()
        }
        if all(value is None for value in values.values()):
            continue
        if len(found) == MAX_ROWS:
            raise UnreadableSheet(
                f"the sheet has more than {MAX_ROWS:,} rows, the most one upload may have; "
                "split it into several files"
            )
        found.append(SheetRow(number, values))
    return found


# --- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(content: bytes) -> UploadedSheet:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # a damaged file fails anywhere inside openpyxl or zipfile
        raise _unreadable_xlsx(error) from error
    try:
        sheet, header = _pick_sheet(workbook.worksheets)
        rows = _collect(header, _xlsx_rows(sheet, header.number + 1), _xlsx_value)
    except UnreadableSheet:
        raise
    except Exception as error:
        raise _unreadable_xlsx(error) from error
    finally:
        workbook.close()
    return UploadedSheet("xlsx", header.columns, rows, header.places)


def _unreadable_xlsx(error: Exception) -> UnreadableSheet:
    detail = error.args[0] if isinstance(error, KeyError) and error.args else error
    reason = str(detail).strip() or type(error).__name__
    if len(reason) > 200:
        reason = reason[:200] + "…"
    return UnreadableSheet(
        f"not a readable .xlsx file: {reason}; open it in Excel or WPS, save it as .xlsx "
        "and upload it again"
    )


def _pick_sheet(sheets: list[Any]) -> tuple[Any, _Header]:
    """The sheet to read and its header: 明细/Actions, else the only sheet, else the first
    sheet with an id column."""
    if not sheets:
        raise UnreadableSheet("not a readable .xlsx file: the workbook has no sheets")
    for sheet in sheets:
        if str(sheet.title).strip().casefold() in ACTIONS_SHEET_NAMES:
            return sheet, _xlsx_header(sheet)
    if len(sheets) == 1:
        return sheets[0], _xlsx_header(sheets[0])
    for sheet in sheets:
        if "id" in _xlsx_headings(sheet):
            return sheet, _xlsx_header(sheet)
    raise UnreadableSheet(
        f"no sheet of the workbook has a {_named('id')} column; download a fresh template"
    )


def _xlsx_rows(sheet: Any, first: int = 1) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The sheet's rows from row first on, each with its real row number."""
    # Some writers record a wrong size (often just "A1"), and a read-only sheet believes it.
    sheet.reset_dimensions()
    for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
        if number >= first:
            yield number, cells


def _xlsx_header_row(sheet: Any) -> tuple[int, list[Any]] | None:
    """The first non-empty row of the sheet: its number and its values."""
    for number, cells in _xlsx_rows(sheet):
        values = [cell.value for cell in cells]
        if not all(_is_blank(value) for value in values):
            return number, values
    return None


def _xlsx_headings(sheet: Any) -> set[str]:
    """The keys the sheet's header row has, whether or not the header would do."""
    found = _xlsx_header_row(sheet)
    cells = found[1] if found else []
    return {HEADINGS[h] for h in (_normal(str(c)) for c in cells if c is not None) if h in HEADINGS}


def _xlsx_header(sheet: Any) -> _Header:
    found = _xlsx_header_row(sheet)
    if found is None:
        raise UnreadableSheet(f"the sheet {sheet.title} is empty: it has no header row")
    return _map_header(*found)


def _xlsx_value(cell: Any) -> CellValue | Formula:
    value = cell.value
    if getattr(cell, "data_type", None) == "f":
        text = value if isinstance(value, str) else getattr(value, "text", None)
        return Formula(text or "=")
    if _is_blank(value):
        return None
    if isinstance(value, bool):  # TRUE/FALSE: no column of an import takes one
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float) and _is_percent_format(getattr(cell, "number_format", "")):
        return _as_percentage(value)
    if isinstance(value, str | int | float | date):  # date includes datetime
        return value
    return str(value)  # a time of day or a duration


def _is_percent_format(number_format: str | None) -> bool:
    """Whether a number format shows a number as a percentage (0%, 0.0%), as opposed to one
    that only prints a % sign after it (the export's 0"%")."""
    return "%" in FORMAT_LITERALS.sub("", number_format or "")


def _as_percentage(value: float) -> str:
    """A fraction as a percentage shows it: 0.5 is "50%", 0.125 "12.5%"."""
    percent = Decimal(repr(value)) * 100
    return f"{percent.normalize():f}%"


# --- CSV ------------------------------------------------------------------------------------


def _read_csv(content: bytes, file_name: str | None) -> UploadedSheet:
    text = _decode(content, file_name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    records = enumerate(reader, start=1)
    try:
        for number, cells in records:
            if not all(map(_is_blank, cells)):
                header = _map_header(number, cells)
                break
        else:
            raise UnreadableSheet("the file is empty: it has no header row")
        rows = _collect(header, records, _csv_value)
    except csv.Error as error:
        raise UnreadableSheet(f"not a readable .csv file: {error}") from error
    return UploadedSheet("csv", header.columns, rows, header.places)


def _decode(content: bytes, file_name: str | None) -> str:
    """The text of a CSV upload; UnreadableSheet for binary files and unknown encodings."""
    if content.startswith(UTF16_BOMS):
        try:
            return _text_only(content.decode("utf-16"), file_name)
        except UnicodeDecodeError:
            pass
    _refuse_binary(content, file_name)
    for encoding in CSV_ENCODINGS:
        try:
            return _text_only(content.decode(encoding), file_name)
        except UnicodeDecodeError:
            continue
    raise UnreadableSheet(
        "not a readable .csv file: it is neither UTF-8 nor GB18030/GBK text; "
        "save it from Excel or WPS as “CSV UTF-8” or as .xlsx"
    )


def _not_a_spreadsheet(what: str, file_name: str | None) -> UnreadableSheet:
    name = f"{file_name} " if file_name else "the file "
    return UnreadableSheet(
        f"not a spreadsheet: {name}is {what}; upload the report as .xlsx or .csv"
    )


def _refuse_binary(content: bytes, file_name: str | None) -> None:
    if content.startswith(OLE_SIGNATURE):
        raise UnreadableSheet(
            "not a readable .xlsx file: this is an old .xls workbook or a password-protected "
            "one; save it as .xlsx without a password and upload it again"
        )
    for signature, what in NOT_SPREADSHEETS:
        if content.startswith(signature):
            raise _not_a_spreadsheet(what, file_name)
    if b"\x00" in content:
        raise _not_a_spreadsheet("binary data, not text", file_name)


def _text_only(text: str, file_name: str | None) -> str:
    """text, unless it is binary data that happened to decode."""
    sample = text[:SNIFF_CHARS]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if controls * 20 > len(sample) or "\x00" in text:
        raise _not_a_spreadsheet("binary data, not text", file_name)
    return text


def _delimiter(text: str) -> str:
    """The delimiter the header row is split by: of , ; and tab, the one that finds the most
    known headings (ties go to the earlier); "," when none finds any."""
    best, best_score = ",", 0
    for delimiter in CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(text[:SNIFF_CHARS], newline=""), delimiter=delimiter)
        try:
            header = next((r for r in reader if not all(map(_is_blank, r))), [])
        except csv.Error:
            continue
        score = len({HEADINGS[h] for h in map(_normal, header) if h in HEADINGS})
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_value(value: str) -> CellValue | Formula:
    if _is_blank(value):
        return None
    if value.startswith("="):
        return Formula(value)
    return unguard(value)  # the export's guard against formulas, taken off again
