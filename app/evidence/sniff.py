"""What an uploaded file is, judged by its bytes alone: never by its name or the type the
client declared. A `.pdf` that is really an executable is refused; a PNG named `.txt` is a
PNG. The accepted kinds are those a unit proves its work with: PDF, PNG, JPEG, WebP, Office
Open XML (docx, xlsx, pptx), OFD (the Chinese fixed-layout format) and plain UTF-8 text.

Zip-based kinds (Office Open XML, OFD) are checked from the archive's central directory,
bounded against zip bombs: at most MAX_ZIP_ENTRIES entries and MAX_ZIP_UNCOMPRESSED bytes
declared uncompressed, and only the one small entry that identifies the kind is inflated,
at most MAX_MARKER_BYTES of it."""

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
HEAD_BYTES = 64
PDF_TAIL_BYTES = 1024  # a PDF's %%EOF lies within its last 1024 bytes (as readers allow)
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_MARKER_BYTES = 1024 * 1024

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OFD = "application/ofd"
TEXT = "text/plain; charset=utf-8"

ACCEPTED = "PDF, PNG, JPEG, WebP, Office Open XML (docx, xlsx, pptx), OFD or plain UTF-8 text"
# Characters a plain text may not hold: C0 controls but tab, line feed and carriage return,
# DEL and the C1 controls.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# What some refused kinds look like, to name them in the refusal.
KNOWN_REFUSED: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable (MZ)"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (
        b"\xd0\xcf\x11\xe0",
        "an old Office file (doc, xls, ppt); save it as docx, xlsx or pptx",
    ),
    (b"{\\rtf", "an RTF document"),
    (b"%!PS", "a PostScript file"),
)


class Refused(Exception):
    """The file is not an accepted kind; the message says what it looked like."""

    def __init__(self, looked_like: str, *, damaged: bool = False) -> None:
        super().__init__(looked_like)
        self.looked_like = looked_like
        self.damaged = damaged  # an accepted kind, but cut short or broken (422, not 415)


@dataclass(frozen=True)
class Kind:
    """An accepted kind: its media type and a short name for people."""

    media_type: str
    name: str


def sniff(path: Path) -> Kind:
    """The kind of the (non-empty) file at path, or Refused saying what it looked like."""
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
        if head.startswith(b"%PDF-"):
            _check_pdf_end(stream)
            return Kind(PDF, "PDF")
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return Kind(PNG, "PNG")
        if head.startswith(b"\xff\xd8\xff"):
            return Kind(JPEG, "JPEG")
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return Kind(WEBP, "WebP")
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return _zip_kind(path)
        for magic, name in KNOWN_REFUSED:
            if head.startswith(magic):
                raise Refused(name)
        stream.seek(0)
        if _is_text(stream):
            return Kind(TEXT, "text")
    raise Refused("binary data of no accepted kind")


def _check_pdf_end(stream: BinaryIO) -> None:
    size = stream.seek(0, 2)
    stream.seek(max(0, size - PDF_TAIL_BYTES))
    if b"%%EOF" not in stream.read(PDF_TAIL_BYTES):
        raise Refused(
            "a PDF that is cut short (no %%EOF at its end): upload the whole file", damaged=True
        )


def _is_text(stream: BinaryIO) -> bool:
    """Whether the stream is UTF-8 with no control characters but tab and line breaks, read a
    chunk at a time (a character split across chunks is decoded whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(CHUNK):
            if CONTROLS.search(decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _zip_kind(path: Path) -> Kind:
    """The kind of a zip archive: Office Open XML ([Content_Types].xml at its root; docx, xlsx
    or pptx by its word/, xl/ or ppt/ part) or OFD (OFD.xml at its root)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_bounds(entries)
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" in names:
                _check_marker(archive, "[Content_Types].xml", b"<Types")
                return _office_kind(names)
            if "OFD.xml" in names:
                _check_marker(archive, "OFD.xml", b"OFD")
                return Kind(OFD, "OFD")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise Refused(f"a damaged zip archive ({error})", damaged=True) from error
    raise Refused(
        "a zip archive that is neither Office Open XML (no [Content_Types].xml) nor OFD "
        "(no OFD.xml)"
    )


def _check_bounds(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ZIP_ENTRIES:
        raise Refused(
            f"a zip archive of {len(entries)} entries (at most {MAX_ZIP_ENTRIES} are accepted)"
        )
    declared = sum(entry.file_size for entry in entries)
    if declared > MAX_ZIP_UNCOMPRESSED:
        raise Refused(
            f"a zip archive that would unpack to {declared} bytes (at most "
            f"{MAX_ZIP_UNCOMPRESSED}): a zip bomb"
        )


def _check_marker(archive: zipfile.ZipFile, name: str, marker: bytes) -> None:
    """The entry that names the kind is small XML mentioning marker; at most MAX_MARKER_BYTES
    are inflated, whatever it declares."""
    if archive.getinfo(name).file_size > MAX_MARKER_BYTES:
        raise Refused(f"a zip archive whose {name} is larger than {MAX_MARKER_BYTES} bytes")
    with archive.open(name) as entry:
        start = entry.read(MAX_MARKER_BYTES)
    if marker not in start:
        raise Refused(f"a zip archive whose {name} is not what its name says")


def _office_kind(names: set[str]) -> Kind:
    for prefix, kind in (("word/", Kind(DOCX, "docx")), ("xl/", Kind(XLSX, "xlsx"))):
        if any(name.startswith(prefix) for name in names):
            return kind
    if any(name.startswith("ppt/") for name in names):
        return Kind(PPTX, "pptx")
    raise Refused(
        "an Office Open XML package that is neither a docx, an xlsx nor a pptx (no word/, xl/ "
        "or ppt/ part)"
    )
