"""Measuring a running server: wrk runs, waiting for the server to go idle, and its memory
while one large request is answered (from /proc)."""

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

# wrk's Lua side: walk a list of paths and print the figures as one JSON line.
LUA = """
local paths = {%(paths)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"socket_errors": %%d, "status_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


@dataclass
class Run:
    """The figures of one wrk run."""

    name: str
    path: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float | None  # None when no request completed within the run
    p99_ms: float | None

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """The wrk executable; installed from Debian when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError("wrk is not installed; install it with: sudo apt-get install -y wrk")
    print("installing wrk (apt-get install -y wrk) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, env=env)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get install wrk did not provide a wrk executable")
    return found


def wrk(
    wrk_path: str,
    base_url: str,
    api_key: str,
    paths: list[str],
    *,
    connections: int,
    seconds: float,
    script_dir: Path,
) -> tuple[int, float, float | None, float | None]:
    """One wrk run over paths: (requests, seconds, p50 ms, p99 ms); non-2xx answers fail."""
    script = script_dir / "bench.lua"
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths)})
    command = [wrk_path, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "120s", "-H", f"X-API-Key: {api_key}", "-s", str(script), base_url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
    figures = json.loads(line.removeprefix("BENCH "))
    if figures["status_errors"] or figures["socket_errors"]:
        raise BenchError(f"wrk saw errors on {paths[0]}: {figures}")
    done = figures["requests"] > 0
    return (
        figures["requests"],
        figures["duration_us"] / 1e6,
        figures["p50_us"] / 1000 if done else None,
        figures["p99_us"] / 1000 if done else None,
    )


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by process pid (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_until_idle(pid: int, timeout: float = 300) -> None:
    """Wait until the server stops using CPU, so that requests a run left behind (wrk closes
    its connections, the server still answers them) do not slow the next run down."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = cpu_seconds(pid)
        if after - before < 0.03:
            return
        before = after
    raise BenchError(f"the server was still busy after {timeout:.0f} s")


def rss_mb(pid: int) -> float:
    """The resident memory of process pid, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for process {pid}")


class PeakRss:
    """Samples a process's resident memory every 10 ms while in use; .peak_mb is the highest."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_mb = max(self.peak_mb, rss_mb(self.pid))

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb(self.pid))


def download(base_url: str, api_key: str, path: str, pid: int) -> tuple[float, float, int]:
    """GET path, reading the body as it streams: (seconds, server peak RSS above its RSS
    before the request in MiB, bytes)."""
    idle = rss_mb(pid)
    size = 0
    started = time.perf_counter()
    with (
        PeakRss(pid) as memory,
        httpx.stream(
            "GET", base_url + path, headers={"X-API-Key": api_key}, timeout=1800
        ) as response,
    ):
        if response.status_code != 200:
            raise BenchError(f"GET {path} answered {response.status_code}: {response.read()!r}")
        for chunk in response.iter_bytes():
            size += len(chunk)
    return time.perf_counter() - started, memory.peak_mb - idle, size
