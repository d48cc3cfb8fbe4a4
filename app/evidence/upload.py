"""Receiving an evidence upload: the multipart/form-data body is parsed as it arrives, the
file part written to a temporary file while it is hashed and counted, so a file is never
whole in memory and one over the limit is refused (413) as soon as it passes it. The
form's other fields (note, evidence_date) are small and kept in memory, up to a bound.

Its problems are HTTP problems (415 not multipart, 413, 422 for a malformed form), raised
as AppErrors like a service's; what the file's bytes are is decided later (sniff.py)."""

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.errors import InvalidInput, TooLarge, UnsupportedMediaType
from app.evidence import service as evidence_service
from app.evidence.schemas import EvidenceForm

FILE_FIELD = "file"
FORM_FIELDS = ("note", "evidence_date")
MAX_FIELD_BYTES = 4 * 20_000  # a note of 20,000 characters, four bytes each at most
# What a form may carry besides the file's bytes (headers, boundaries, note, date): the body
# limit of an upload route is the file's limit plus this.
FORM_OVERHEAD = 128 * 1024


@dataclass
class Upload:
    """A file received: the temporary file holding it, its name, size and sha256, and the
    form's other fields, checked."""

    path: Path
    filename: str
    size: int
    sha256: str
    form: EvidenceForm


@dataclass
class _Part:
    name: str
    filename: str | None
    data: bytearray = field(default_factory=bytearray)


class _FormReader:
    """The callbacks of python-multipart's parser: the file part to disk, the others to memory."""

    def __init__(self, max_bytes: int, directory: str | None) -> None:
        self.max_bytes = max_bytes
        self.directory = directory
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.part: _Part | None = None
        self.fields: dict[str, bytes] = {}
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.filename: str | None = None
        self.size = 0
        self.digest = hashlib.sha256()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = _decoded(options.get(b"name", b""), "a part's name")
        if disposition != b"form-data" or not name:
            raise _form_error("every part of the form needs Content-Disposition: form-data; name=…")
        raw_filename = options.get(b"filename")
        if name == FILE_FIELD:
            self._begin_file(raw_filename)
        elif name in FORM_FIELDS:
            if name in self.fields:
                raise _form_error(f"the form names {name} more than once", name)
        else:
            allowed = ", ".join((FILE_FIELD, *FORM_FIELDS))
            raise _form_error(f"the form has a field {name!r}; its fields are {allowed}", name)
        self.part = _Part(name, None)

    def _begin_file(self, raw_filename: bytes | None) -> None:
        if self.file is not None or self.filename is not None:
            raise _form_error("send one file per upload; this form has two or more")
        if raw_filename is None:
            raise _form_error("the file field must be a file (with a filename), not text")
        self.filename = evidence_service.clean_filename(_decoded(raw_filename, "the file name"))
        handle, path = tempfile.mkstemp(prefix="tashan-evidence-", dir=self.directory)
        self.path = Path(path)
        self.file = os.fdopen(handle, "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        assert self.part is not None
        chunk = data[start:end]
        if self.part.name != FILE_FIELD:
            self.part.data += chunk
            if len(self.part.data) > MAX_FIELD_BYTES:
                raise _form_error(f"{self.part.name} is too long", self.part.name)
            return
        assert self.file is not None
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        self.digest.update(chunk)
        self.file.write(chunk)

    def on_part_end(self) -> None:
        assert self.part is not None
        if self.part.name == FILE_FIELD:
            assert self.file is not None
            self.file.close()
        else:
            self.fields[self.part.name] = bytes(self.part.data)
        self.part = None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def too_large(max_bytes: int) -> TooLarge:
    """413 for a file over max_bytes."""
    return TooLarge(
        f"the file is larger than {max_bytes} bytes, the most an evidence file may be "
        "(TASHAN_MAX_EVIDENCE_BYTES)",
        max_bytes=max_bytes,
    )


def _form_error(detail: str, name: str = FILE_FIELD) -> InvalidInput:
    return InvalidInput(detail, ["body", name])


def _decoded(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise _form_error(f"{what} is not UTF-8") from None


def _form(fields: dict[str, bytes]) -> EvidenceForm:
    values = {name: _decoded(raw, name) for name, raw in fields.items()}
    if values.get("note", "x").strip() == "":  # a blank note says nothing: none
        del values["note"]
    try:
        return EvidenceForm.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        loc: list[str | int] = ["body", *map(str, first["loc"])]
        raise InvalidInput(f"{'.'.join(map(str, loc[1:]))}: {first['msg']}", loc) from None


@asynccontextmanager
async def received(request: Request, max_bytes: int) -> AsyncIterator[Upload]:
    """The upload in request's multipart/form-data body, its file in a temporary file (in
    TMPDIR) that is deleted when the block ends. 413 as soon as the file passes max_bytes
    (or at once when Content-Length says it will), 415 for a body that is not a form, 422 for
    a form without exactly one file, with unknown fields, or with an empty file."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise UnsupportedMediaType(
            "send the file as multipart/form-data (curl -F file=@name.pdf), with the fields "
            f"{FILE_FIELD}, and optionally {' and '.join(FORM_FIELDS)}"
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise _form_error("the multipart/form-data Content-Type names no boundary")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise too_large(max_bytes)
    reader = _FormReader(max_bytes, None)
    try:
        parser = MultipartParser(boundary, cast(Any, reader.callbacks()))
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except ClientDisconnect:
            raise _form_error("the client went away before the whole file arrived") from None
        except MultipartParseError as error:
            raise _form_error(f"the body is not a well-formed multipart form: {error}") from None
        if reader.path is None or reader.filename is None or reader.file is None:
            raise _form_error(f"the form has no {FILE_FIELD}: attach one file")
        if not reader.file.closed:
            raise _form_error("the form ends in the middle of the file: the body is cut short")
        if reader.size == 0:
            raise _form_error("the file is empty")
        form = _form(reader.fields)
        yield Upload(reader.path, reader.filename, reader.size, reader.digest.hexdigest(), form)
    finally:
        reader.close()
