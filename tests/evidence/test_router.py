"""Evidence files (佐证材料) through the API: each accepted kind round trips byte for byte,
each refusal says why and stores nothing, the same bytes are stored once, the unit rules,
withdrawal, the timeline, evidence_count, and the submission that needs evidence."""

import base64
import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.auth.models import Role
from app.config import Settings
from app.evidence import sniff
from app.evidence.models import Evidence
from app.evidence.s3 import S3Store
from app.main import create_app
from tests.helpers import (
    ACTIONS,
    COOPERATING,
    LEAD,
    OFFICE,
    S3_KEY_ID,
    S3_REGION,
    S3_SECRET,
    TODAY,
    UNIT_NAMES,
    UNRELATED,
    UnitWorld,
    assert_explained_problem,
    assert_problem,
    events_of,
    get_action,
    listed_actions,
    make_key,
    transitioned,
    unit_world,
)

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////"
    "////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/a"
    "AAgBAQABPxA="
)
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
TEXT = "会议纪要\n一、研究“标准地”出让方案。\t已通过。\r\n".encode()


def png() -> bytes:
    """A 1×1 grey PNG, written chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx() -> bytes:
    return zipped(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "word/document.xml": "<w:document>实施方案</w:document>".encode(),
        }
    )


def pptx() -> bytes:
    return zipped(
        {"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": b"<p:presentation/>"}
    )


def xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(["项目", "签约额"])
    workbook.active.append(["孵化器", 1200])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ofd() -> bytes:
    return zipped(
        {
            "OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>',
            "Doc_0/Document.xml": b"<ofd:Document/>",
        }
    )


KINDS: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "pdf": (lambda: PDF, "实施方案.pdf", sniff.PDF),
    "png": (png, "现场照片.png", sniff.PNG),
    "jpeg": (lambda: JPEG, "photo.jpg", sniff.JPEG),
    "webp": (lambda: WEBP, "photo.webp", sniff.WEBP),
    "docx": (docx, "会议纪要.docx", sniff.DOCX),
    "xlsx": (xlsx, "签约项目.xlsx", sniff.XLSX),
    "pptx": (pptx, "汇报.pptx", sniff.PPTX),
    "ofd": (ofd, "红头文件.ofd", sniff.OFD),
    "text": (lambda: TEXT, "说明.txt", sniff.TEXT),
}


@pytest.fixture
def world(client: TestClient, engine: Engine) -> UnitWorld:
    return unit_world(client, engine)


@pytest.fixture
def as_key(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def client_for(key: str) -> TestClient:
        test_client = TestClient(app, headers={"X-API-Key": key})
        clients.append(test_client.__enter__())
        return test_client

    yield client_for
    for test_client in clients:
        test_client.__exit__(None, None, None)


def upload(
    client: TestClient,
    action_id: int,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    **form: str,
) -> Any:
    return client.post(
        f"{ACTIONS}/{action_id}/evidence", files={"file": (name, data, content_type)}, data=form
    )


def uploaded(client: TestClient, action_id: int, name: str, data: bytes, **form: str) -> Any:
    response = upload(client, action_id, name, data, **form)
    assert response.status_code == 201, response.text
    return response.json()


def stored_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.evidence_dir.rglob("*") if p.is_file())


def evidence_rows(engine: Engine) -> list[Evidence]:
    with Session(engine) as session:
        return list(session.exec(select(Evidence)).all())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_accepted_kind_round_trips_byte_for_byte(
    client: TestClient, world: UnitWorld, settings: Settings, kind: str
) -> None:
    make, name, media_type = KINDS[kind]
    data = make()
    response = upload(
        client, world.action_id, name, data, note="首宗地块出让", evidence_date="2026-11-20"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert body == {
        "id": 1,
        "action_id": world.action_id,
        "filename": name,
        "media_type": media_type,
        "bytes": len(data),
        "sha256": digest,
        "note": "首宗地块出让",
        "evidence_date": "2026-11-20",
        "uploaded_by": "test-admin",
        "uploaded_unit": None,
        "uploaded_at": body["uploaded_at"],
        "withdrawn_at": None,
        "withdrawn_by": None,
        "withdrawn": False,
    }
    assert response.headers["location"] == "/api/v1/evidence/1"
    assert client.get("/api/v1/evidence/1").json() == body

    download = client.get("/api/v1/evidence/1/file")
    assert download.status_code == 200
    assert download.content == data
    assert hashlib.sha256(download.content).hexdigest() == digest
    assert download.headers["content-type"].startswith(media_type.split(";")[0])
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["etag"] == f'"{digest}"'
    assert download.headers["content-length"] == str(len(data))
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == name
    assert stored_files(settings) == [settings.evidence_dir / digest[:2] / digest]
    again = client.get("/api/v1/evidence/1/file", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304


@pytest.fixture
def bucket_client(
    database_url: str, admin_key: str, s3_endpoint: str, s3_store: S3Store
) -> Iterator[TestClient]:
    """The API with its evidence in a bucket of the loopback S3 server (TASHAN_EVIDENCE_URL)."""
    settings = Settings(
        database_url=database_url,
        evidence_url=s3_store.location,
        evidence_s3_endpoint=s3_endpoint,
        evidence_s3_region=S3_REGION,
        evidence_s3_access_key_id=S3_KEY_ID,
        evidence_s3_secret_access_key=S3_SECRET,
        _env_file=None,
    )
    with TestClient(create_app(settings), headers={"X-API-Key": admin_key}) as test_client:
        yield test_client


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_accepted_kind_round_trips_through_a_bucket(
    bucket_client: TestClient, world: UnitWorld, s3_store: S3Store, kind: str
) -> None:
    make, name, media_type = KINDS[kind]
    data = make()
    body = uploaded(bucket_client, world.action_id, name, data)
    digest = hashlib.sha256(data).hexdigest()
    assert (body["sha256"], body["media_type"]) == (digest, media_type)
    assert list(s3_store.digests()) == [digest]  # in the bucket, under its digest
    download = bucket_client.get(f"/api/v1/evidence/{body['id']}/file")
    assert download.status_code == 200
    assert download.content == data
    assert unquote(download.headers["content-disposition"].split("filename*=UTF-8''")[1]) == name
    again = uploaded(bucket_client, world.action_id, f"again-{name}", data)
    assert again["sha256"] == digest and list(s3_store.digests()) == [digest]  # stored once


def test_a_chinese_name_survives_with_an_ascii_fallback(
    client: TestClient, world: UnitWorld
) -> None:
    name = "关于“标准地”改革的实施方案（终稿） 2026.pdf"
    uploaded(client, world.action_id, name, PDF)
    disposition = client.get("/api/v1/evidence/1/file").headers["content-disposition"]
    fallback, encoded = disposition.removeprefix("attachment; ").split("; ")
    assert fallback == 'filename="2026.pdf"'
    assert encoded.startswith("filename*=UTF-8''") and encoded.isascii()
    assert unquote(encoded.removeprefix("filename*=UTF-8''"), encoding="utf-8") == name
    uploaded(client, world.action_id, "照片.png", png())
    disposition = client.get("/api/v1/evidence/2/file").headers["content-disposition"]
    assert 'filename="evidence-2.png"' in disposition


def test_content_decides_the_kind_not_the_name_or_declared_type(
    client: TestClient, world: UnitWorld, engine: Engine, settings: Settings
) -> None:
    body = uploaded(client, world.action_id, "readme.txt", png())
    assert body["media_type"] == "image/png"
    assert body["filename"] == "readme.txt"

    executable = b"MZ\x90\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
    response = upload(client, world.action_id, "实施方案.pdf", executable, "application/pdf")
    problem = assert_problem(response, 415)
    assert "Windows executable" in problem["detail"] and "PDF" in problem["detail"]
    elf = upload(client, world.action_id, "a.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    assert "ELF" in assert_problem(elf, 415)["detail"]
    assert len(evidence_rows(engine)) == 1
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize(
    ("name", "data", "looks_like"),
    [
        ("plain.zip", zipped({"a.txt": b"hello"}), "neither Office Open XML"),
        ("fake.docx", zipped({"[Content_Types].xml": CONTENT_TYPES}), "neither a docx"),
        ("nul.txt", b"line one\x00line two\n", "binary data"),
        ("bell.txt", "提示\x07".encode(), "binary data"),
        ("latin1.txt", "café".encode("latin-1"), "binary data"),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20, "GIF"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Office"),
    ],
)
def test_other_content_is_415_saying_what_it_looked_like(
    client: TestClient,
    world: UnitWorld,
    engine: Engine,
    settings: Settings,
    name: str,
    data: bytes,
    looks_like: str,
) -> None:
    problem = assert_problem(upload(client, world.action_id, name, data), 415)
    assert looks_like in problem["detail"], problem
    assert problem["looked_like"] in problem["detail"]
    assert evidence_rows(engine) == [] and stored_files(settings) == []
    assert events_of(client, world.action_id)[-1]["kind"] == "created"


def test_a_zip_bomb_disguised_as_docx_is_refused_without_inflating_it(
    client: TestClient, world: UnitWorld, engine: Engine, settings: Settings
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", b"<w:document/>")
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as entry:
            zeros = bytes(16 * 1024 * 1024)
            for _ in range(sniff.MAX_ZIP_UNCOMPRESSED // len(zeros) + 1):
                entry.write(zeros)
    bomb = buffer.getvalue()
    assert len(bomb) < 8 * 1024 * 1024
    problem = assert_problem(upload(client, world.action_id, "会议纪要.docx", bomb), 415)
    assert "zip bomb" in problem["detail"]

    many = zipped(
        {"[Content_Types].xml": CONTENT_TYPES} | {f"word/{i}.xml": b"" for i in range(10_001)}
    )
    problem = assert_problem(upload(client, world.action_id, "many.docx", many), 415)
    assert "10002 entries" in problem["detail"]
    assert evidence_rows(engine) == [] and stored_files(settings) == []


@pytest.fixture
def small_limit_client(database_url: str, admin_key: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        evidence_dir=tmp_path / "small",
        max_evidence_bytes=1000,
        _env_file=None,
    )
    with TestClient(create_app(settings), headers={"X-API-Key": admin_key}) as test_client:
        yield test_client


def test_a_file_over_the_limit_is_413_and_nothing_is_stored(
    small_limit_client: TestClient, world: UnitWorld, engine: Engine, tmp_path: Path
) -> None:
    client = small_limit_client
    assert upload(client, world.action_id, "ok.txt", b"x" * 1000).status_code == 201
    problem = assert_problem(upload(client, world.action_id, "big.txt", b"x" * 1001), 413)
    assert "1000 bytes" in problem["detail"] and "TASHAN_MAX_EVIDENCE_BYTES" in problem["detail"]
    # A Content-Length beyond the limit (and the form's allowance) is refused before reading.
    huge = upload(client, world.action_id, "huge.txt", b"x" * (200 * 1024))
    assert_problem(huge, 413)
    assert len(evidence_rows(engine)) == 1
    assert len([p for p in (tmp_path / "small").rglob("*") if p.is_file()]) == 1


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", None),
        ("../../", "no name left"),
        ("..", "no name left"),
        ("bad\x01name.pdf", "control"),
        ("evil\u202efdp.exe", "direction"),
        ("长" * 296 + ".pdf", "300 characters"),
    ],
)
def test_hostile_file_names_are_422(
    client: TestClient, world: UnitWorld, engine: Engine, name: str, reason: str | None
) -> None:
    # Written by hand: httpx would percent-encode a control character in a file name.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + PDF
        + b"\r\n--b--\r\n"
    )
    response = client.post(
        f"{ACTIONS}/{world.action_id}/evidence",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    problem = assert_explained_problem(response, 422, ["body", "file"])
    if reason:
        assert reason in problem["detail"]
    assert evidence_rows(engine) == []


def test_folders_are_taken_off_a_file_name(client: TestClient, world: UnitWorld) -> None:
    body = uploaded(client, world.action_id, "C:\\Users\\wang\\桌面\\方案.pdf", PDF)
    assert body["filename"] == "方案.pdf"
    body = uploaded(client, world.action_id, "../../etc/方案.pdf", PDF)
    assert body["filename"] == "方案.pdf"


def test_malformed_forms_are_refused(
    client: TestClient, world: UnitWorld, engine: Engine, settings: Settings
) -> None:
    url = f"{ACTIONS}/{world.action_id}/evidence"
    assert_problem(client.post(url, json={"file": "x"}), 415)
    none = client.post(url, data={"note": "没有文件"}, files={"other": ("a.txt", b"x")})
    assert "'other'" in assert_problem(none, 422)["detail"]
    no_file = client.post(url, files={"note": (None, "只有说明")})
    assert "no file" in assert_problem(no_file, 422)["detail"]
    two = client.post(url, files=[("file", ("a.pdf", PDF)), ("file", ("b.pdf", PDF))])
    assert "one file" in assert_problem(two, 422)["detail"]
    empty = upload(client, world.action_id, "empty.pdf", b"")
    assert "empty" in assert_problem(empty, 422)["detail"]
    truncated = upload(client, world.action_id, "cut.pdf", PDF[: len(PDF) // 2])
    assert "cut short" in assert_problem(truncated, 422)["detail"]
    future = upload(client, world.action_id, "a.pdf", PDF, evidence_date="2999-01-01")
    assert_explained_problem(future, 422, ["body", "evidence_date"])
    bad_date = upload(client, world.action_id, "a.pdf", PDF, evidence_date="yesterday")
    assert_explained_problem(bad_date, 422, ["body", "evidence_date"])
    lying = client.post(
        url,
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_problem(lying, 422)
    assert evidence_rows(engine) == [] and stored_files(settings) == []
    assert_problem(upload(client, 999_999, "a.pdf", PDF), 404)


def test_the_same_bytes_are_stored_once_and_listed_twice(
    client: TestClient, world: UnitWorld, settings: Settings
) -> None:
    first = uploaded(client, world.action_id, "方案.pdf", PDF, note="第一次")
    second = uploaded(client, world.action_id, "方案-副本.pdf", PDF, note="第二次")
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert len(stored_files(settings)) == 1
    listed = client.get(f"{ACTIONS}/{world.action_id}/evidence")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [first["id"], second["id"]]
    assert listed.json()["total"] == 2
    assert client.get(f"/api/v1/evidence/{second['id']}/file").content == PDF


def test_evidence_date_defaults_to_today(client: TestClient, world: UnitWorld) -> None:
    assert uploaded(client, world.action_id, "a.pdf", PDF)["evidence_date"] == TODAY.isoformat()


def test_unit_rules_for_uploading_and_withdrawing(
    client: TestClient, world: UnitWorld, as_key: Callable[[str], TestClient], engine: Engine
) -> None:
    lead, cooperating = as_key(world.keys[LEAD]), as_key(world.keys[COOPERATING])
    unrelated, office = as_key(world.keys[UNRELATED]), as_key(world.keys[OFFICE])
    by_lead = uploaded(lead, world.action_id, "lead.pdf", PDF)
    assert by_lead["uploaded_by"] == "lead-key" and by_lead["uploaded_unit"] == UNIT_NAMES[LEAD]
    by_cooperating = uploaded(cooperating, world.action_id, "co.txt", TEXT)
    by_office = uploaded(office, world.action_id, "office.png", png())
    refused = assert_problem(upload(unrelated, world.action_id, "x.pdf", PDF), 403)
    assert "key 'unrelated-key' acts for 丙无关局" in refused["detail"]

    other_unit = assert_problem(cooperating.delete(f"/api/v1/evidence/{by_lead['id']}"), 403)
    assert "withdraws only evidence its unit uploaded" in other_unit["detail"]
    assert UNIT_NAMES[LEAD] in other_unit["detail"]
    assert_problem(lead.delete(f"/api/v1/evidence/{by_office['id']}"), 403)
    office_on_unit = assert_problem(office.delete(f"/api/v1/evidence/{by_lead['id']}"), 403)
    assert "only a key of that unit, a supervisor or an admin" in office_on_unit["detail"]

    withdrawn = cooperating.delete(f"/api/v1/evidence/{by_cooperating['id']}")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] is True
    assert withdrawn.json()["withdrawn_by"] == "cooperating-key"
    assert office.delete(f"/api/v1/evidence/{by_office['id']}").status_code == 200
    supervisor = as_key(make_key(engine, Role.supervisor, name="ducha"))
    assert supervisor.delete(f"/api/v1/evidence/{by_lead['id']}").status_code == 200
    again = assert_problem(client.delete(f"/api/v1/evidence/{by_lead['id']}"), 409)
    assert "withdrawn already" in again["detail"]


def test_withdrawn_files_are_hidden_kept_and_counted_out(
    client: TestClient, world: UnitWorld, settings: Settings
) -> None:
    kept = uploaded(client, world.action_id, "kept.pdf", PDF)
    gone = uploaded(client, world.action_id, "gone.png", png())
    assert get_action(client, world.action_id)["evidence_count"] == 2
    assert client.delete(f"/api/v1/evidence/{gone['id']}").status_code == 200

    url = f"{ACTIONS}/{world.action_id}/evidence"
    assert [e["id"] for e in client.get(url).json()["items"]] == [kept["id"]]
    every = client.get(url, params={"include_withdrawn": "true"}).json()
    assert [(e["id"], e["withdrawn"]) for e in every["items"]] == [
        (kept["id"], False),
        (gone["id"], True),
    ]
    assert client.get(f"/api/v1/evidence/{gone['id']}/file").content == png()
    assert len(stored_files(settings)) == 2
    action = get_action(client, world.action_id)
    assert action["evidence_count"] == 1
    [listed] = [a for a in listed_actions(client) if a["id"] == world.action_id]
    assert listed["evidence_count"] == 1

    events = [e for e in events_of(client, world.action_id) if e["kind"] == "evidence"]
    assert [(e["note"], e["changes"], e["actor"]) for e in events] == [
        ("上传佐证材料：kept.pdf", {"evidence_count": [0, 1]}, "test-admin"),
        ("上传佐证材料：gone.png", {"evidence_count": [1, 2]}, "test-admin"),
        ("撤回佐证材料：gone.png", {"evidence_count": [2, 1]}, "test-admin"),
    ]


def test_submitting_needs_evidence_and_a_completed_action_keeps_it(
    client: TestClient, world: UnitWorld
) -> None:
    transitioned(client, world.action_id, "accepted", "同意")
    transitioned(client, world.action_id, "in_progress", "开始")
    version = get_action(client, world.action_id)["version"]
    submit = client.post(
        f"{ACTIONS}/{world.action_id}/transitions",
        json={"to": "submitted", "note": "申请办结"},
        headers={"If-Match": f'W/"{version}"'},
    )
    problem = assert_explained_problem(submit, 422, ["body", "to"])
    assert f"POST /api/v1/actions/{world.action_id}/evidence" in problem["detail"]
    assert get_action(client, world.action_id)["status"] == "in_progress"

    only = uploaded(client, world.action_id, "方案.pdf", PDF, note="实施方案")
    transitioned(client, world.action_id, "submitted", "申请办结")
    last = assert_problem(client.delete(f"/api/v1/evidence/{only['id']}"), 409)
    assert "last evidence file" in last["detail"]

    transitioned(client, world.action_id, "completed", "同意办结")
    more = uploaded(client, world.action_id, "补充.png", png())
    for evidence_id in (only["id"], more["id"]):
        problem = assert_problem(client.delete(f"/api/v1/evidence/{evidence_id}"), 409)
        assert "completed" in problem["detail"]
    assert get_action(client, world.action_id)["evidence_count"] == 2


def test_an_archived_action_takes_no_evidence(client: TestClient, world: UnitWorld) -> None:
    version = get_action(client, world.action_id)["version"]
    archived = client.delete(f"{ACTIONS}/{world.action_id}", headers={"If-Match": f'W/"{version}"'})
    assert archived.status_code == 200
    assert (
        "archived" in assert_problem(upload(client, world.action_id, "a.pdf", PDF), 409)["detail"]
    )


def test_reads_and_lists_need_a_key_and_unknown_ids_are_404(
    anonymous_client: TestClient, client: TestClient, world: UnitWorld
) -> None:
    uploaded(client, world.action_id, "a.pdf", PDF)
    for path in (
        "/api/v1/evidence/1",
        "/api/v1/evidence/1/file",
        f"{ACTIONS}/{world.action_id}/evidence",
    ):
        assert_problem(anonymous_client.get(path), 401)
    assert_problem(client.get("/api/v1/evidence/2"), 404)
    assert_problem(client.get("/api/v1/evidence/2/file"), 404)
    assert_problem(client.delete("/api/v1/evidence/2"), 404)
    assert_problem(client.get(f"{ACTIONS}/999999/evidence"), 404)
