"""The rows of a large sheet written straight as the XML of its <sheetData>, as openpyxl would
write them, then spliced into the workbook openpyxl saved.

openpyxl's write-only sheet builds a cell object, binds its value and serialises an element for
every cell: for a report of every action (three million cells) that was most of its time. Here
a cell is a format string filled in. Everything around the rows — the workbook, its styles,
column widths, panes, print setup, filters, validations, charts — stays openpyxl's: a sheet
given rows here gets none from openpyxl, is saved with an empty <sheetData/>, and the rows,
streamed to a temporary file meanwhile, take that element's place when the file is zipped."""

import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from io import BytesIO
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.writer.excel import ExcelWriter

Sheet = Any  # openpyxl's WriteOnlyWorksheet, which has no type hints
COMPRESS_LEVEL = 1  # see saved()
EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
NEEDS_ESCAPE = re.compile(r"[&<>\r]")
COPY_BUFFER = 1 << 20
PARTS_PER_WRITE = 20_000  # cells and row tags joined and written at a time: about 2 MB
MAX_CELL_TEXT = 32767  # Excel's limit on a cell's text


class SheetData:
    """The <row> elements of one sheet, streamed to a temporary file as they are added."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by saved())
        self.rows = 0

    def append(self, cells: Sequence["Cell"], rows: Iterable[tuple[Sequence[Any], int]]) -> None:
        """Rows after those added already, their cells written by cells (one a column): each
        row its values and its height in lines (1: the default height)."""
        parts: list[str] = []
        for values, lines in rows:
            self.rows += 1
            number = self.rows
            parts.append(f'<row r="{number}"{_height(lines)}>')
            parts.extend(
                xml
                for cell, value in zip(cells, values, strict=True)
                if (xml := cell.xml(number, value))
            )
            parts.append("</row>")
            if len(parts) >= PARTS_PER_WRITE:
                self._write(parts)
        self._write(parts)

    def _write(self, parts: list[str]) -> None:
        self.file.write("".join(parts).encode("utf-8"))
        parts.clear()

    def splice(self, sheet_xml: bytes, entry: IO[bytes]) -> None:
        """Write to entry the sheet openpyxl saved (sheet_xml), its rows these."""
        match = EMPTY_SHEET_DATA.search(sheet_xml)
        if match is None:
            raise ValueError(f"sheet {self.sheet.title!r} was saved with rows of its own")
        entry.write(sheet_xml[: match.start()] + b"<sheetData>")
        self.file.seek(0)
        shutil.copyfileobj(self.file, entry, COPY_BUFFER)
        entry.write(b"</sheetData>" + sheet_xml[match.end() :])

    def close(self) -> None:
        self.file.close()


def _height(lines: int) -> str:
    """The attributes of a row as tall as lines of 11-point text (15 points each)."""
    return f' ht="{lines * 15}" customHeight="1"' if lines > 1 else ""


class Cell:
    """How the cells of one column are written: its letter, and the style of a styled cell
    (openpyxl's style id, registered in the workbook's styles by asking for it). keep: an
    empty cell is still written, with its style (so a value typed there is formatted)."""

    def __init__(self, index: int, styled: Any, keep: bool = False) -> None:
        self.letter = get_column_letter(index)
        self.style = _style(styled)
        self.keep = keep

    def xml(self, row: int, value: Any) -> str:
        """The <c> element of value in row, as openpyxl writes it; '' for no cell at all."""
        head = f'<c r="{self.letter}{row}"{self.style}'
        if type(value) is str:
            return _text(head, value)
        if value is None:
            return f'{head} t="n"/>' if self.keep else ""
        if isinstance(value, bool):
            return f'{head} t="b"><v>{value:d}</v></c>'
        if isinstance(value, int | float):
            return f'{head} t="n"><v>{value:.16g}</v></c>'
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # Excel keeps no zone: the wall-clock time
        if isinstance(value, date):
            return f'{head} t="n"><v>{to_excel(value):.16g}</v></c>'
        return _text(head, str(value))


class LightCell(Cell):
    """A column of lights: a cell reading a light's label has the style of that light (its
    fill), any other value the column's style."""

    def __init__(self, index: int, styled: Any, lights: dict[str, Any]) -> None:
        super().__init__(index, styled)
        self.lights = {name: _style(cell) for name, cell in lights.items()}

    def xml(self, row: int, value: Any) -> str:
        style = self.lights.get(value) if type(value) is str else None
        if style is None:
            return super().xml(row, value)
        return _text(f'<c r="{self.letter}{row}"{style}', value)


def _style(styled: Any) -> str:
    """The style attribute of cells styled as styled (an openpyxl cell), which registers its
    style in the workbook; none for the default style, as openpyxl writes it."""
    return f' s="{styled.style_id}"' if styled.has_style else ""


def _text(head: str, value: str) -> str:
    """An inline string, its spaces kept where it starts or ends with some."""
    value = clean(value)
    if not value:
        return f'{head} t="inlineStr"/>'
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    if NEEDS_ESCAPE.search(value):
        value = (
            value.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("\r", "&#13;")
        )
    return f'{head} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def clean(text: str) -> str:
    """text without the characters XML cannot hold, cut to Excel's limit on a cell."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_TEXT]


def saved(workbook: Workbook, sheets: Sequence[SheetData]) -> bytes:
    """The workbook zipped, the rows of sheets spliced into theirs, at the fastest deflate
    level: the sheets of a large report are hundreds of MB of XML, which the default level
    takes several times as long to pack, for a file only somewhat smaller."""
    bare = BytesIO()
    with ZipFile(bare, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=COMPRESS_LEVEL) as zf:
        ExcelWriter(workbook, zf).save()  # what workbook.save does, at its default level
    by_path = {data.sheet.path.lstrip("/"): data for data in sheets}
    whole = BytesIO()
    try:
        with (
            ZipFile(bare) as source,
            ZipFile(whole, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=COMPRESS_LEVEL) as zf,
        ):
            for info in source.infolist():
                content = source.read(info)
                data = by_path.get(info.filename)
                if data is None:
                    zf.writestr(info, content, ZIP_DEFLATED, COMPRESS_LEVEL)
                    continue
                with zf.open(info.filename, "w", force_zip64=True) as entry:
                    data.splice(content, entry)
    finally:
        for data in sheets:
            data.close()
    return whole.getvalue()
