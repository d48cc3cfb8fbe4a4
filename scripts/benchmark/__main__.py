"""The benchmark (run it with scripts/bench): a fresh database with a realistic data set, the
real server on it with the limit route beside it, wrk against both, and the figures as a
table and, on the last line, as one JSON object."""

import argparse
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session

from app.actions.listing import moment_for
from app.actions.schemas import ActionFilters
from app.actions.stats import compute_stats
from app.actions.workflow import Status
from app.config import PROJECT_DIR, Settings
from app.db import create_db_engine
from app.main import create_app
from scripts.benchmark.dataset import CHUNK, UNITS, Outcome, chunk_seconds, generate
from scripts.benchmark.load import BenchError, Run, download, ensure_wrk, wait_until_idle, wrk
from scripts.benchmark.server import LIMIT_PATH

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/tashan_bench"
TASHAN = str(Path(sys.executable).with_name("tashan"))
DATASETTE = str(Path(sys.executable).with_name("datasette"))
LIST_PATH = "/api/v1/actions?status=in_progress&limit=50"
COLD_PATHS = 5_000
STATUSES = [status.value for status in Status]
console = Console(stderr=True)


def parse_args() -> argparse.Namespace:
    """The command line of scripts/bench."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--actions", type=int, default=100_000, help="default 100000")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TASHAN_BENCH_POSTGRES_URL", POSTGRES_URL),
        help=f"database to DROP and recreate (default {POSTGRES_URL})",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per run")
    parser.add_argument("--term2", default="党建", help="2-character search term")
    parser.add_argument("--term3", default="孵化器", help="3-character search term")
    parser.add_argument("--seed", type=int, default=20220128, help="random seed of the data")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="stop after the data load: its figures only (no server, no wrk)",
    )
    parser.add_argument(
        "--read-threads",
        type=int,
        default=None,
        help="the server's TASHAN_READ_THREADS (default: the setting's default; 0: on the loop)",
    )
    args = parser.parse_args()
    if args.actions < 1:
        parser.error("--actions must be at least 1")
    return args


def tashan_env(database_url: str, work: Path) -> dict[str, str]:
    """The environment of the tashan processes: only the bench's TASHAN_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASHAN_")}
    return {**env, "TASHAN_DATABASE_URL": database_url, "TASHAN_EXPORT_DIR": str(work / "exports")}


def tashan(env: dict[str, str], *args: str) -> str:
    """Run the tashan command; its output."""
    result = subprocess.run([TASHAN, *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"tashan {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout.strip()


@contextmanager
def fresh_database(args: argparse.Namespace, work: Path) -> Iterator[str]:
    """An empty database's URL: SQLite in work, or the PostgreSQL one dropped and recreated."""
    if not args.postgres:
        yield f"sqlite:///{work / 'tashan.db'}"
        return
    url = make_url(args.postgres_url)
    name = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_data(database_url: str, actions: int, seed: int) -> Outcome:
    """Generate the data set with a progress bar."""
    engine = create_db_engine(database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("actions and their timelines", total=actions)
            return generate(
                engine,
                actions,
                seed=seed,
                on_progress=lambda done: progress.update(task, completed=done),
                scratch=True,
            )
    finally:
        engine.dispose()


def analyze(database_url: str) -> float:
    """VACUUM ANALYZE on PostgreSQL, as autovacuum would soon after a bulk load.

    Without JIT: analyzing an expression index runs its function for every sampled row, and
    with JIT on PostgreSQL compiles the query of a costly SQL function (action_grams) before
    each run, which takes minutes instead of seconds (see dataset.restore)."""
    started = time.perf_counter()
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("SET jit = off"))
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def search_share(database_url: str, term: str) -> float:
    """The share of actions whose title, detail or quote contains term."""
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT count(*), sum(CASE WHEN title LIKE :p OR detail LIKE :p OR quote LIKE :p "
                "THEN 1 ELSE 0 END) FROM actions"
            ),
            {"p": f"%{term}%"},
        ).one()
    engine.dispose()
    return (row[1] or 0) / row[0]


# What stats_uncached times: the unfiltered stats, and these filters (dates relative to the
# data, which the generator spreads around today).
UNCACHED_STATS_FILTERS: list[dict[str, Any]] = [
    {"owner_id": 1},
    {"status": ["in_progress"]},
    {"light": ["red"]},
    {"overdue": True},
    {"stale": True},
    {"priority": "high"},
    {"include_archived": True},
]


def stats_uncached(database_url: str, repeats: int = 5) -> dict[str, float]:
    """/stats worked out afresh, in this process with no read cache (stats_p50_ms is mostly
    answered from the server's cache, kept by data generation): the median of repeats
    computations of the unfiltered stats, and over every filter of UNCACHED_STATS_FILTERS."""
    settings = Settings(database_url=database_url, _env_file=None)
    moment = moment_for(settings, None)
    engine = create_db_engine(database_url)

    def timed(filters: dict[str, Any]) -> float:
        with Session(engine) as session:
            started = time.perf_counter()
            compute_stats(session, ActionFilters(**filters), moment)
            return (time.perf_counter() - started) * 1000

    try:
        timed({})  # the first connection and the statements' compilation
        unfiltered = [timed({}) for _ in range(repeats)]
        filtered = [timed(f) for _ in range(repeats) for f in UNCACHED_STATS_FILTERS]
    finally:
        engine.dispose()
    return {
        "stats_uncached_p50_ms": round(statistics.median(unfiltered), 1),
        "stats_uncached_filtered_p50_ms": round(statistics.median(filtered), 1),
    }


def real_page(database_url: str, api_key: str) -> bytes:
    """The body the real app gives for LIST_PATH: what the limit route answers."""
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient  # imported here, after silencing its warning

    settings = Settings(database_url=database_url, _env_file=None)
    with TestClient(create_app(settings), headers={"X-API-Key": api_key}) as client:
        response = client.get(LIST_PATH)
    if response.status_code != 200:
        raise BenchError(f"GET {LIST_PATH} answered {response.status_code}: {response.text}")
    return response.content


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(env: dict[str, str], page_file: Path, log: Path) -> Iterator[tuple[str, int]]:
    """`tashan serve` (1 worker, free loopback port) with the limit route: (base URL, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "scripts.benchmark.server", str(page_file), "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with _running(command, env, log, f"http://127.0.0.1:{port}", "/healthz") as started:
        yield started


@contextmanager
def datasette(database_file: Path, log: Path) -> Iterator[tuple[str, int]]:
    """Datasette serving the bench's SQLite file read-only (immutable: no locking, counts
    cached): a generic table server to compare with. (base URL, pid)."""
    port = free_port()
    command = [DATASETTE, "serve", "--immutable", str(database_file)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASHAN_")}
    with _running(command, env, log, f"http://127.0.0.1:{port}", "/-/versions.json") as started:
        yield started


@contextmanager
def _running(
    command: list[str], env: dict[str, str], log: Path, base_url: str, health: str
) -> Iterator[tuple[str, int]]:
    """A server process started with command, once it answers health: (base URL, pid)."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=env, cwd=PROJECT_DIR, stdout=output, stderr=subprocess.STDOUT
        )
    name = Path(command[0]).name
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise BenchError(f"{name} exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base_url}{health}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{name} did not answer {health}:\n{log.read_text()}")
            time.sleep(0.2)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Bench:
    """The wrk runs against one running server."""

    def __init__(self, args: argparse.Namespace, base_url: str, pid: int, key: str, work: Path):
        self.args, self.base_url, self.pid, self.key, self.work = args, base_url, pid, key, work
        self.wrk_path = ensure_wrk()  # found at once: it was installed, if need be, at the start
        self.runs: dict[str, Run] = {}

    def measure(self, name: str, paths: list[str], label: str = "", connections: int = 32) -> Run:
        """A warm-up, then a measured wrk run, each after the server has gone idle."""
        label = label or unquote(paths[0])
        console.print(f"measuring {name}: GET {label} ({connections} connections)")
        for seconds in (self.args.warmup, self.args.duration):
            wait_until_idle(self.pid)
            figures = wrk(
                self.wrk_path,
                self.base_url,
                self.key,
                paths,
                connections=connections,
                seconds=seconds,
                script_dir=self.work,
            )
        run = Run(name, label, connections, *figures)
        self.runs[name] = run
        return run


def run_bench(args: argparse.Namespace, work: Path) -> tuple[dict[str, Any], dict[str, Run]]:
    """Everything, against one fresh database: the figures and the wrk runs."""
    if not args.seed_only:
        ensure_wrk()  # before the long data load, so a missing wrk fails fast
    figures: dict[str, Any] = {"database": "postgresql" if args.postgres else "sqlite"}
    with fresh_database(args, work) as database_url:
        env = tashan_env(database_url, work)
        if args.read_threads is not None:
            env["TASHAN_READ_THREADS"] = str(args.read_threads)
            figures["read_threads"] = args.read_threads
        started = time.perf_counter()
        tashan(env, "db", "upgrade")
        figures["upgrade_s"] = round(time.perf_counter() - started, 2)
        figures["machine_chunk_s"] = round(chunk_seconds(args.seed), 3)
        cpu_before = _cpu_seconds()
        outcome = load_data(database_url, args.actions, args.seed)
        # The whole load, the indexes set aside for it and built again after it included:
        # the data set is not usable before they are.
        figures["seed_100k_s"] = round(outcome.seconds, 2)
        figures["index_build_s"] = round(outcome.index_seconds, 2)
        # On a busy machine the wall time says little; the CPU time of this process and its
        # worker processes says how much work the load is.
        figures["seed_cpu_s"] = round(_cpu_seconds() - cpu_before, 2)
        figures |= {"actions": outcome.actions, "events": outcome.events}
        figures["statuses"] = dict(sorted(outcome.by_status.items()))
        if args.seed_only:
            return figures, {}
        if args.postgres:
            figures["vacuum_analyze_s"] = round(analyze(database_url), 2)
        for name, term in (("search2", args.term2), ("search3", args.term3)):
            figures[f"{name}_term"] = term
            figures[f"{name}_share"] = round(search_share(database_url, term), 3)
        figures |= stats_uncached(database_url)
        key = tashan(env, "keys", "create", "--name", "bench", "--role", "viewer", "--quiet")
        page_file = work / "limit-page.json"
        page_file.write_bytes(real_page(database_url, key))
        with server(env, page_file, work / "server.log") as (base_url, pid):
            bench = Bench(args, base_url, pid, key, work)
            figures |= measure_runs(args, bench)
        figures |= measure_datasette(args, bench, work)
        # Each report in a server of its own, so that memory the runs before it took and
        # kept (Python rarely gives it back) does not hide its own.
        for fmt in ("csv", "xlsx"):
            with server(env, page_file, work / f"server-{fmt}.log") as (base_url, pid):
                figures |= measure_report(fmt, base_url, pid, key)
    return figures, bench.runs


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cold_list_paths(seed: int, count: int = COLD_PATHS) -> list[str]:
    """count list requests, each a random filter combination and offset, so that nearly
    every one asks what no earlier one did (the caches miss)."""
    rng = random.Random(seed)
    paths = []
    for _ in range(count):
        params = [f"offset={rng.randrange(0, 500)}", "limit=50"]
        params.append(f"status={rng.choice(STATUSES)}")
        if rng.random() < 0.5:
            params.append(f"owner_id={rng.randint(1, UNITS)}")
        if rng.random() < 0.3:
            params.append(f"priority={rng.choice(['high', 'medium', 'low'])}")
        rng.shuffle(params)
        paths.append("/api/v1/actions?" + "&".join(params))
    return paths


def measure_runs(args: argparse.Namespace, bench: Bench) -> dict[str, Any]:
    """The wrk runs: the limit, list (the same page, and cold: a different one each time),
    get, two searches and stats."""
    limit = bench.measure("limit", [LIMIT_PATH])
    listing = bench.measure("list", [LIST_PATH])
    cold = bench.measure(
        "list_cold",
        cold_list_paths(args.seed),
        label=f"/api/v1/actions?status=…&owner_id=…&offset=… ({COLD_PATHS} combinations)",
    )
    paths = [f"/api/v1/actions/{i}" for i in sample_ids(args)]
    get = bench.measure("get", paths, label="/api/v1/actions/{id} (1000 ids)")
    search2 = bench.measure("search2", [f"/api/v1/actions?q={quote(args.term2)}"], connections=1)
    search3 = bench.measure("search3", [f"/api/v1/actions?q={quote(args.term3)}"], connections=1)
    # One connection: over every action a stats request takes seconds, so 32 at once would
    # all finish after the run ends.
    stats = bench.measure("stats", ["/api/v1/stats"], connections=1)
    return {
        "list_ratio": _ratio(listing.rps, limit.rps, 4),
        "list_cold_ratio": _ratio(cold.rps, limit.rps, 4),
        "get_ratio": _ratio(get.rps, limit.rps, 4),
        "search2_p50_ms": _round(search2.p50_ms),
        "search3_p50_ms": _round(search3.p50_ms),
        "list_p99_over_p50": _ratio(listing.p99_ms, listing.p50_ms, 2),
        **{f"{name}_rps": round(run.rps, 2) for name, run in bench.runs.items()},
        "stats_p50_ms": _round(stats.p50_ms),
    }


def sample_ids(args: argparse.Namespace) -> list[int]:
    """The 1,000 (at most) action ids the get runs read, ours and Datasette's alike."""
    return random.Random(args.seed).sample(range(1, args.actions + 1), min(1000, args.actions))


def measure_datasette(args: argparse.Namespace, bench: Bench, work: Path) -> dict[str, Any]:
    """Datasette's list (the same filter and page size as LIST_PATH; facet suggestions off,
    which cost it over a second a request) and row by id, over the same 1,000 ids; SQLite
    only (Datasette serves SQLite files): null on PostgreSQL."""
    if args.postgres:
        return {"datasette_list_rps": None, "datasette_get_rps": None}
    with datasette(work / "tashan.db", work / "datasette.log") as (base_url, pid):
        peer = Bench(args, base_url, pid, bench.key, work)
        list_path = "/tashan/actions.json?status=in_progress&_size=50&_nosuggest=1"
        listing = peer.measure("datasette_list", [list_path])
        paths = [f"/tashan/actions/{i}.json" for i in sample_ids(args)]
        get = peer.measure("datasette_get", paths, label="/tashan/actions/{id}.json (1000 ids)")
    bench.runs |= peer.runs
    return {
        "datasette_list_rps": round(listing.rps, 2),
        "datasette_get_rps": round(get.rps, 2),
        "list_over_datasette": _ratio(bench.runs["list"].rps, listing.rps, 2),
        "get_over_datasette": _ratio(bench.runs["get"].rps, get.rps, 2),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _ratio(top: float | None, bottom: float | None, digits: int) -> float | None:
    """top / bottom, or None (null in the JSON) when a run completed no request."""
    return round(top / bottom, digits) if top is not None and bottom else None


def measure_report(fmt: str, base_url: str, pid: int, key: str) -> dict[str, Any]:
    """The status report of every action in fmt, from a server that has answered one small
    request: wall time, peak RSS above the RSS before it, size."""
    console.print(f"measuring the {fmt} report of every action")
    httpx.get(f"{base_url}/api/v1/actions?limit=1", headers={"X-API-Key": key}, timeout=60)
    wait_until_idle(pid)
    seconds, peak_mb, size = download(base_url, key, f"/api/v1/reports/status?format={fmt}", pid)
    return {
        f"{fmt}_100k_s": round(seconds, 2),
        f"{fmt}_peak_rss_mb": round(peak_mb, 1),
        f"{fmt}_bytes": size,
    }


def print_table(figures: dict[str, Any], runs: dict[str, Run]) -> None:
    """The figures for people."""
    table = Table(title=f"Tashan benchmark — {figures['database']}, {figures['actions']:,} actions")
    for column in ("run", "path", "conn", "req/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column in ("run", "path") else "right")
    for run in runs.values():
        table.add_row(
            *(run.name, run.path, str(run.connections), f"{run.rps:,.1f}"),
            *(_shown(run.p50_ms), _shown(run.p99_ms)),
        )
    Console().print(table)
    for fmt in ("csv", "xlsx"):
        seconds, size = figures[f"{fmt}_100k_s"], figures[f"{fmt}_bytes"]
        peak = figures[f"{fmt}_peak_rss_mb"]
        Console().print(
            f"{fmt} of every action: {seconds} s, {size:,} bytes, server peak RSS +{peak} MiB"
        )
    Console().print(
        f"data: {figures['actions']:,} actions, {figures['events']:,} events in "
        f"{figures['seed_100k_s']} s (building the indexes after the rows: "
        f"{figures['index_build_s']} s of it); statuses {figures['statuses']}; this machine "
        f"makes one chunk of {CHUNK:,} actions in {figures['machine_chunk_s']} s (a yardstick)"
    )


def _shown(milliseconds: float | None) -> str:
    return "none done" if milliseconds is None else f"{milliseconds:,.1f}"


def main() -> None:
    """scripts/bench."""
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-ups, as Ctrl-C does
    work = Path(tempfile.mkdtemp(prefix="tashan-bench-"))
    try:
        figures, runs = run_bench(args, work)
    except BenchError as exc:
        console.print(f"[red]benchmark failed:[/red] {exc}")
        raise SystemExit(1) from exc
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not args.seed_only:
        print_table(figures, runs)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
