"""Many writers on the same actions through a real uvicorn server: no write is lost or
doubled, stale ones get 412, and none fails with a 5xx or "database is locked"."""

import threading
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.actions.models import Action, ActionEvent, EventKind
from app.config import SEEDS_DIR
from app.seeding.service import seed_database

THREADS = 8
CYCLES = 50
CONTESTED = (1, 2, 3)


def writer(
    base_url: str, key: str, worker: int, outcomes: Counter[int], lock: threading.Lock
) -> None:
    """Read-modify-write CYCLES times on the contested actions, as a client would."""
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30) as client:
        for cycle in range(CYCLES):
            action_id = CONTESTED[(worker + cycle) % len(CONTESTED)]
            current = client.get(f"/api/v1/actions/{action_id}")
            if current.status_code != 200:
                with lock:
                    outcomes[current.status_code] += 1
                continue
            response = client.patch(
                f"/api/v1/actions/{action_id}",
                json={"assignee": f"worker-{worker}-cycle-{cycle}"},
                headers={"If-Match": current.headers["ETag"]},
            )
            with lock:
                outcomes[response.status_code] += 1


def test_concurrent_read_modify_write_loses_nothing(
    engine: Engine, live_server: str, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()
    threads = [
        threading.Thread(target=writer, args=(live_server, admin_key, n, outcomes, lock))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    tried = THREADS * CYCLES
    assert sum(outcomes.values()) == tried
    assert set(outcomes) <= {200, 412}, outcomes
    with Session(engine) as session:
        updated_events = session.exec(
            select(func.count())
            .select_from(ActionEvent)
            .where(
                col(ActionEvent.action_id).in_(CONTESTED),
                ActionEvent.kind == EventKind.updated,
            )
        ).one()
        versions = session.exec(select(Action.version).where(col(Action.id).in_(CONTESTED))).all()
    # every acknowledged write left exactly one event and one version step, nothing else did
    assert outcomes[200] == updated_events == sum(v - 1 for v in versions)
    assert outcomes[200] > 0
    log = (tmp_path / "server.log").read_text()
    assert "database is locked" not in log
    assert "Traceback" not in log
    print(
        f"\nconcurrency: {tried} writes tried by {THREADS} threads, {outcomes[200]} × 200, "
        f"{outcomes[412]} × 412, 0 × 5xx, {updated_events} updated events, final versions {versions}"
    )
