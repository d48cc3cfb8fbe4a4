"""How much a big evidence upload costs the server in memory: a live `tashan serve` on a
fresh seeded SQLite database, one small upload to warm it up, then a file of SIZE MiB
uploaded and downloaded back; prints the server's peak RSS (VmHWM, Linux) before and after,
as one JSON line. The upload streams to a temporary file, so the rise stays far below SIZE.

Run as scripts/bench-evidence-memory [--mib SIZE]."""

import argparse
import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from app import migrations
from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.schemas import KeyCreate
from app.config import SEEDS_DIR
from app.db import create_db_engine, write_session
from app.seeding.service import seed_database

MIB = 1024 * 1024


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc: Linux only")


def write_pdf(path: Path, size: int) -> None:
    """A file of size bytes that sniffs as a PDF: a header, random bytes, the end marker."""
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        while out.tell() < size - 7:
            out.write(os.urandom(min(MIB, size - 7 - out.tell())))
        out.write(b"\n%%EOF\n")


def start_server(url: str, work: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASHAN_")}
    env |= {"TASHAN_DATABASE_URL": url, "TASHAN_EVIDENCE_DIR": str(work / "evidence")}
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [".venv/bin/tashan", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"the server did not start: see {work / 'server.log'}")


def measure(size_mib: int, work: Path, port: int) -> dict[str, object]:
    url = f"sqlite:///{work / 'tashan.db'}"
    migrations.upgrade(url)
    engine = create_db_engine(url)
    seed_database(engine, SEEDS_DIR)
    with write_session(engine) as session:
        _, key = auth_service.create_key(session, KeyCreate(name="memory", role=Role.admin))
    big = work / "big.pdf"
    write_pdf(big, size_mib * MIB)
    server = start_server(url, work, port)
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=300
        )
        warm = client.post("/api/v1/actions/1/evidence", files={"file": ("warm.txt", b"warm\n")})
        warm.raise_for_status()
        before = peak_rss_kib(server.pid)
        with big.open("rb") as body:
            files = {"file": ("大文件.pdf", body, "application/pdf")}
            uploaded = client.post("/api/v1/actions/1/evidence", files=files)
        uploaded.raise_for_status()
        after_upload = peak_rss_kib(server.pid)
        digest = hashlib.sha256()
        with client.stream("GET", f"/api/v1/evidence/{uploaded.json()['id']}/file") as download:
            for chunk in download.iter_bytes():
                digest.update(chunk)
        after_download = peak_rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "file_bytes": big.stat().st_size,
        "same_sha256": digest.hexdigest() == uploaded.json()["sha256"],
        "peak_rss_before_kib": before,
        "peak_rss_after_upload_kib": after_upload,
        "peak_rss_after_download_kib": after_download,
        "upload_rise_mib": round((after_upload - before) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench-evidence-memory", description=__doc__)
    parser.add_argument("--mib", type=int, default=20, help="size of the upload, default 20")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tashan-evidence-memory-") as folder:
        print(json.dumps(measure(args.mib, Path(folder), args.port)))


if __name__ == "__main__":
    main()
