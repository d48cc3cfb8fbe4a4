"""Extension requests under real concurrency, through a real server on the test's database:
of several decisions on one request made at once exactly one is kept and the others are
409; of several requests for one action made at once exactly one is pending. Nothing fails
with a 5xx, a 412 or "database is locked"."""

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.actions.models import Action, ActionEvent, EventKind
from app.auth.models import Role
from app.config import SEEDS_DIR
from app.extensions.models import Extension, ExtensionState
from app.seeding.service import seed_database
from tests.helpers import STANDARD_LAND, TODAY, make_key

CONTENDERS = 6
ROUNDS = 4
DUE = TODAY + timedelta(days=30)


def all_at_once(calls: Sequence[Callable[[], httpx.Response]]) -> Counter[int]:
    """Run calls in threads released together; the status codes they got."""
    barrier = threading.Barrier(len(calls))
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()

    def run(call: Callable[[], httpx.Response]) -> None:
        barrier.wait(timeout=60)
        status = call().status_code
        with lock:
            outcomes[status] += 1

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def new_active_action(admin: httpx.Client, unit: int) -> int:
    created = admin.post(
        "/api/v1/actions",
        json={
            "source_id": 1,
            "quote": STANDARD_LAND,
            "title": "并发延期测试",
            "kind": "recommendation",
            "owner_id": unit,
            "due_on": DUE.isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    accepted = admin.post(
        f"/api/v1/actions/{created.json()['id']}/transitions",
        json={"to": "accepted"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert accepted.status_code == 200, accepted.text
    action_id: int = created.json()["id"]
    return action_id


def clients(base_url: str, key: str, count: int) -> list[httpx.Client]:
    return [
        httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60)
        for _ in range(count)
    ]


def test_concurrent_decisions_leave_exactly_one(
    engine: Engine, live_server: str, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    editor = make_key(engine, Role.editor, name="concurrent-editor")
    supervisor = make_key(engine, Role.supervisor, name="concurrent-supervisor")
    admin = httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key}, timeout=60)
    asker = httpx.Client(base_url=live_server, headers={"X-API-Key": editor}, timeout=60)
    deciders = clients(live_server, supervisor, CONTENDERS)
    unit = admin.get("/api/v1/units", params={"limit": 1}).json()["items"][0]["id"]
    totals: Counter[int] = Counter()
    decided: dict[int, tuple[int, int]] = {}  # action id -> (request id, version before)
    for _ in range(ROUNDS):
        action_id = new_active_action(admin, unit)
        request = asker.post(
            f"/api/v1/actions/{action_id}/extensions",
            json={"new_due_on": (DUE + timedelta(days=60)).isoformat(), "reason": "并发"},
        )
        assert request.status_code == 201, request.text
        url = f"/api/v1/actions/{action_id}/extensions/{request.json()['id']}/decision"
        # Half approve, half reject, all at the same moment.
        bodies: list[dict[str, Any]] = [
            {"approve": True} if n % 2 == 0 else {"approve": False, "note": f"驳回 {n}"}
            for n in range(CONTENDERS)
        ]
        calls = [
            partial(client.post, url, json=body)
            for client, body in zip(deciders, bodies, strict=True)
        ]
        version = admin.get(f"/api/v1/actions/{action_id}").json()["version"]
        outcomes = all_at_once(calls)
        assert outcomes == Counter({200: 1, 409: CONTENDERS - 1}), outcomes
        totals += outcomes
        decided[action_id] = (request.json()["id"], version)

    with Session(engine) as session:
        for action_id, (request_id, version) in decided.items():
            extension = session.get(Extension, request_id)
            action = session.get(Action, action_id)
            assert extension is not None and action is not None
            assert extension.state in (ExtensionState.approved, ExtensionState.rejected)
            events = session.exec(
                select(ActionEvent).where(
                    ActionEvent.action_id == action_id,
                    ActionEvent.kind == EventKind.extension_decided,
                )
            ).all()
            assert len(events) == 1 and events[0].actor == "concurrent-supervisor"
            approved = extension.state == ExtensionState.approved
            assert action.extension_count == (1 if approved else 0)
            assert action.due_on == (extension.new_due_on if approved else DUE)
            assert action.original_due_on == DUE
            assert action.version == version + 1  # one decision, one version step
            assert (events[0].changes is not None) == approved
            assert (extension.decision_note or "").startswith("驳回") != approved
    log = (tmp_path / "server.log").read_text()
    assert "database is locked" not in log and "Traceback" not in log
    print(f"\nextension decisions: {ROUNDS} requests × {CONTENDERS} deciders at once: {totals}")


def test_concurrent_requests_leave_one_pending(
    engine: Engine, live_server: str, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    editor = make_key(engine, Role.editor, name="concurrent-editor")
    admin = httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key}, timeout=60)
    askers = clients(live_server, editor, CONTENDERS)
    unit = admin.get("/api/v1/units", params={"limit": 1}).json()["items"][0]["id"]
    totals: Counter[int] = Counter()
    action_ids = []
    later_days = [DUE + timedelta(days=10 + n) for n in range(CONTENDERS)]
    for _ in range(ROUNDS):
        action_id = new_active_action(admin, unit)
        url = f"/api/v1/actions/{action_id}/extensions"
        calls = [
            partial(client.post, url, json={"new_due_on": asked.isoformat(), "reason": "急"})
            for client, asked in zip(askers, later_days, strict=True)
        ]
        outcomes = all_at_once(calls)
        assert outcomes == Counter({201: 1, 409: CONTENDERS - 1}), outcomes
        totals += outcomes
        action_ids.append(action_id)

    with Session(engine) as session:
        for action_id in action_ids:
            pending = session.exec(
                select(func.count())
                .select_from(Extension)
                .where(Extension.action_id == action_id, Extension.state == ExtensionState.pending)
            ).one()
            requested = session.exec(
                select(func.count())
                .select_from(ActionEvent)
                .where(
                    col(ActionEvent.action_id) == action_id,
                    ActionEvent.kind == EventKind.extension_requested,
                )
            ).one()
            assert pending == requested == 1
    log = (tmp_path / "server.log").read_text()
    assert "database is locked" not in log and "Traceback" not in log
    print(f"\nextension requests: {ROUNDS} actions × {CONTENDERS} askers at once: {totals}")
