"""What the tests share: the frozen clock, keys, writes through the API, the `tashan` command
as a subprocess, a live server, the problem+json check, the check that every action
agrees with its timeline, the actions API's requests, and an S3 server for the evidence
stores."""

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.actions.models import Action, ActionEvent, EventKind
from app.actions.workflow import Status
from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.schemas import KeyCreate
from app.config import SEEDS_DIR
from app.db import write_session
from app.evidence.s3 import S3Store
from app.evidence.store import DirectoryStore, EvidenceStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The instant every test runs at: the in-process clock starts there for each test
# (time-machine), and so does every `tashan` process a test starts (TASHAN_CLOCK_START).
# Move it to prove the suite passes on any day: TASHAN_TEST_NOW=2028-02-29T12:00+08:00.
NOW = datetime.fromisoformat(os.environ.get("TASHAN_TEST_NOW", "2026-11-27T10:00:00+08:00"))
TODAY: date = NOW.astimezone(SHANGHAI).date()
PROBLEM_JSON = "application/problem+json"
POSTGRES_URL = os.environ.get("TASHAN_TEST_DATABASE_URL")
TASHAN = str(Path(sys.executable).with_name("tashan"))
ARTICLE = (SEEDS_DIR / "xiuzhou-secondment-2022-01-28.txt").read_bytes().decode("utf-8")


def make_key(
    engine: Engine, role: Role, name: str | None = None, unit_id: int | None = None
) -> str:
    """A new API key's plaintext; with unit_id, a key of that unit (editors only)."""
    with write_session(engine) as db_session:
        name = name or f"test-{role}-{uuid.uuid4().hex[:6]}"
        data = KeyCreate(name=name, role=role, unit_id=unit_id)
        _, plaintext = auth_service.create_key(db_session, data)
    return plaintext


def write_action(
    client: httpx.Client, action_id: int, path: str, body: dict[str, Any] | None = None
) -> None:
    """One write to an action with its current ETag: path is patch, archive, transitions
    or updates."""
    version = client.get(f"/api/v1/actions/{action_id}").json()["version"]
    headers = {"If-Match": f'W/"{version}"'}
    url = f"/api/v1/actions/{action_id}"
    if path == "patch":
        response = client.patch(url, json=body, headers=headers)
    elif path == "archive":
        response = client.delete(url, headers=headers)
    else:
        response = client.post(f"{url}/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for running the tashan command against database_url, its clock
    started at NOW."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASHAN_")}
    clock = {"TASHAN_CLOCK_START": NOW.isoformat()}
    return {**env, **clock, "TASHAN_DATABASE_URL": database_url, **extra}


def run_tashan(
    database_url: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `tashan` command as a user would, with env's settings added."""
    return subprocess.run(
        [TASHAN, *args],
        env=cli_env(database_url, **(env or {})),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    """A TCP port on loopback nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_tashan(database_url: str, log_path: Path) -> Iterator[str]:
    """`tashan serve` as a real process on a free loopback port, its output in log_path;
    yields its base URL once /healthz answers, stops it after."""
    with tashan_process(database_url, log_path) as (base_url, _):
        yield base_url


@contextmanager
def tashan_process(
    database_url: str, log_path: Path, preexec_fn: Callable[[], None] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """serve_tashan that also yields the process, for tests that kill it; preexec_fn runs
    in the child before exec (e.g. to lower its resource limits). Its log is appended to;
    its evidence files go to an evidence folder beside it."""
    port = free_port()
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [TASHAN, "serve", "--port", str(port)],
            env=cli_env(database_url, TASHAN_EVIDENCE_DIR=str(log_path.parent / "evidence")),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base_url, process, log_path)
            yield base_url, process
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=20)


def _wait_until_up(base_url: str, process: subprocess.Popen[Any], log_path: Path) -> None:
    deadline = time.monotonic() + 120  # a busy machine can take long to import the app
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not answer /healthz in 120 s")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with status, and no stack trace; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


def assert_every_action_whole(engine: Engine) -> int:
    """Each action has its created event and exactly one event per version step, and its
    status, progress and assignee are those its timeline ends with; the actions checked."""
    with Session(engine) as session:
        actions = session.exec(select(Action)).all()
        events = session.exec(select(ActionEvent).order_by(col(ActionEvent.id))).all()
    by_action: dict[int, list[ActionEvent]] = {}
    for event in events:
        by_action.setdefault(event.action_id, []).append(event)
    for action in actions:
        assert action.id is not None
        history = by_action[action.id]
        assert history[0].kind == EventKind.created, action.id
        assert len(history) == action.version, (action.id, action.version, len(history))
        statuses = [e.to_status for e in history if e.to_status is not None]
        assert action.status == statuses[-1], action.id
        progresses = [e.progress for e in history if e.progress is not None]
        assert action.progress == progresses[-1], action.id
        assignees = [
            e.changes["assignee"][1] for e in history if e.changes and "assignee" in e.changes
        ]
        if assignees:
            assert action.assignee == assignees[-1], action.id
    return len(actions)


# ---------------------------------------------------------------- actions through the API

ACTIONS = "/api/v1/actions"
STANDARD_LAND = "建议我区加快“标准地”改革，实现工程项目拿地即开工。"  # once in ARTICLE
SEEDED_TOTAL = 43  # actions in the project's seed data
PAST = "2020-01-01"  # a due date long before TODAY


def unit_id(client: TestClient, name: str) -> int:
    """The id of the unit called name."""
    response = client.get("/api/v1/units", params={"limit": 200})
    assert response.status_code == 200
    ids = [unit["id"] for unit in response.json()["items"] if unit["name"] == name]
    assert len(ids) == 1, f"no unit {name}"
    return int(ids[0])


def create_action(client: TestClient, **overrides: Any) -> httpx.Response:
    """POST a valid action against the seeded source (id 1), with overrides applied."""
    body: dict[str, Any] = {
        "source_id": 1,
        "quote": STANDARD_LAND,
        "title": "测试事项：推行标准地改革",
        "kind": "recommendation",
        "owner_id": overrides.pop("owner_id", None) or unit_id(client, "区经济发展局"),
        **overrides,
    }
    return client.post(ACTIONS, json=body)


def created_action(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """Create an action that must succeed; its body."""
    response = create_action(client, **overrides)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_source(client: TestClient, slug: str, text: str) -> dict[str, Any]:
    """POST a small source with text (no speeches); its body."""
    response = client.post(
        "/api/v1/sources", json={"slug": slug, "title": f"测试来源 {slug}", "text": text}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def get_action(client: TestClient, action_id: int) -> dict[str, Any]:
    """GET one action that must exist."""
    response = client.get(f"{ACTIONS}/{action_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def patch_action(
    client: TestClient, action_id: int, body: dict[str, Any], version: int | None
) -> httpx.Response:
    """PATCH an action, with If-Match W/"version" unless version is None."""
    headers = {} if version is None else {"If-Match": f'W/"{version}"'}
    return client.patch(f"{ACTIONS}/{action_id}", json=body, headers=headers)


def patched_action(client: TestClient, action_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """PATCH an action at its current version; must succeed."""
    version = get_action(client, action_id)["version"]
    response = patch_action(client, action_id, body, version)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def listed_actions(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every action a list request returns (must fit in one page of 200)."""
    response = client.get(ACTIONS, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def listed_ids(client: TestClient, **params: Any) -> list[int]:
    """Ids of the actions a list request returns, in order."""
    return [item["id"] for item in listed_actions(client, **params)]


def events_of(client: TestClient, action_id: int) -> list[dict[str, Any]]:
    """An action's whole timeline."""
    response = client.get(f"{ACTIONS}/{action_id}/events", params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def assert_explained_problem(
    response: httpx.Response, status: int, loc: Sequence[str | int] | None = None
) -> dict[str, Any]:
    """assert_problem, whose detail says what is wrong, and (given loc) with an error at loc;
    its body."""
    body = assert_problem(response, status)
    assert isinstance(body["detail"], str) and body["detail"] and body["title"], body
    if loc is not None:
        assert list(loc) in [error["loc"] for error in body["errors"]], body
    return body


def next_link(response: httpx.Response) -> str | None:
    """The rel="next" URL of a list response, if any."""
    header = response.headers.get("link")
    if header is None:
        return None
    match = re.search(r'<([^>]+)>;\s*rel="next"', header)
    assert match is not None, header
    return match.group(1)


def set_status(session: Session, action_id: int, status: Status) -> None:
    """Put an action into status directly (the workflow endpoint is tested elsewhere)."""
    action = session.get(Action, action_id)
    assert action is not None
    action.status = status
    session.add(action)
    session.commit()


def transitioned(
    client: TestClient, action_id: int, to: str, note: str | None = None
) -> dict[str, Any]:
    """Move an action to status to at its current version; must succeed. Its body."""
    version = get_action(client, action_id)["version"]
    response = client.post(
        f"{ACTIONS}/{action_id}/transitions",
        json={"to": to, "note": note},
        headers={"If-Match": f'W/"{version}"'},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def attach_evidence(
    client: TestClient | httpx.Client, action_id: int, name: str = "佐证材料.txt"
) -> dict[str, Any]:
    """Upload a small text file as evidence on an action (submitting needs one); its body."""
    response = client.post(
        f"{ACTIONS}/{action_id}/evidence",
        files={"file": (name, "会议纪要：方案已印发。\n".encode(), "text/plain")},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def units_named(client: TestClient, *names: str) -> list[dict[str, Any]]:
    """The units called names, as {"id", "name"}, in that order."""
    return [{"id": unit_id(client, name), "name": name} for name in names]


# ---------------------------------------------------------------- unit keys

# The four callers unit keys are tested with: editor keys of an action's lead unit, of a
# cooperating unit, of a unit that has nothing to do with it, and an office-wide editor key.
LEAD, COOPERATING, UNRELATED, OFFICE = "lead", "cooperating", "unrelated", "office"
CALLERS = (LEAD, COOPERATING, UNRELATED, OFFICE)
UNIT_NAMES = {LEAD: "甲牵头局", COOPERATING: "乙配合局", UNRELATED: "丙无关局"}
# A small source of unit_world's own, each sentence a quote.
UNIT_WORLD_QUOTES = ("一要推进标准地改革。", "二要建设科技孵化器。", "三要完善招商机制。")
UNIT_WORLD_TEXT = "".join(UNIT_WORLD_QUOTES)


@dataclass(frozen=True)
class UnitWorld:
    """Three units, a source, an action that LEAD leads and COOPERATING cooperates on, and an
    editor key per caller, named "<caller>-key"."""

    unit_ids: dict[str, int]
    source_id: int
    action_id: int
    keys: dict[str, str]  # caller -> plaintext

    @staticmethod
    def key_name(caller: str) -> str:
        return f"{caller}-key"


def unit_world(client: TestClient, engine: Engine) -> UnitWorld:
    """Make the UnitWorld through the API (client: an admin's) and the keys."""
    unit_ids = {}
    for caller, name in UNIT_NAMES.items():
        response = client.post("/api/v1/units", json={"name": name, "kind": "bureau"})
        assert response.status_code == 201, response.text
        unit_ids[caller] = response.json()["id"]
    source = create_source(client, "unit-keys", UNIT_WORLD_TEXT)
    action = created_action(
        client,
        source_id=source["id"],
        quote=UNIT_WORLD_QUOTES[0],
        owner_id=unit_ids[LEAD],
        co_owner_ids=[unit_ids[COOPERATING]],
    )
    keys = {
        caller: make_key(
            engine, Role.editor, name=UnitWorld.key_name(caller), unit_id=unit_ids.get(caller)
        )
        for caller in CALLERS
    }
    return UnitWorld(unit_ids, source["id"], action["id"], keys)


# Evidence stores. The S3 store is tested against moto's S3 server run as a real process on a
# free loopback port (not a mock of the client), each test in a bucket of its own.
S3_REGION = "us-east-1"
S3_KEY_ID = "tashan-test"
S3_SECRET = "tashan-test-secret"


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """moto's S3-compatible server as a subprocess on loopback; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start on port {port}")
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def s3_env(endpoint: str, url: str) -> dict[str, str]:
    """The settings that point the tashan command at an S3 store (for run_tashan's env)."""
    return {
        "TASHAN_EVIDENCE_URL": url,
        "TASHAN_EVIDENCE_S3_ENDPOINT": endpoint,
        "TASHAN_EVIDENCE_S3_REGION": S3_REGION,
        "TASHAN_EVIDENCE_S3_ACCESS_KEY_ID": S3_KEY_ID,
        "TASHAN_EVIDENCE_S3_SECRET_ACCESS_KEY": S3_SECRET,
    }


def stored_file(store: EvidenceStore, data: bytes, scratch: Path) -> str:
    """Put data into an evidence store through a file in scratch, as an upload does; its
    sha256."""
    digest = hashlib.sha256(data).hexdigest()
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"upload-{digest[:12]}"
    path.write_bytes(data)
    store.put(digest, path)
    return digest


def flip_a_byte(store: EvidenceStore, digest: str) -> bytes:
    """Change one byte of a stored file behind the store's back; the new bytes."""
    with store.open(digest) as stream:
        data = bytearray(stream.read())
    data[len(data) // 2] ^= 0x01
    if isinstance(store, DirectoryStore):
        (store.root / digest[:2] / digest).write_bytes(bytes(data))
    else:
        assert isinstance(store, S3Store)
        store.client.put_object(
            Bucket=store.where.bucket, Key=store.where.key(digest), Body=bytes(data)
        )
    return bytes(data)
