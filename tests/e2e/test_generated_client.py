"""A client generated from /openapi.json by openapi-python-client, as a newcomer makes one:
it generates without warnings, pip installs it, and it lists, gets, updates and gets a stale
PATCH back as a parsed Problem, against a real server.

openapi-python-client pins its own httpx and typer, so it lives in a venv of its own,
var/openapi-client-venv, made once (PyPI needed the first time) and reused after."""

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import PROJECT_DIR
from app.seeding.schemas import SeedReport
from tests.helpers import SEEDED_TOTAL

GENERATOR = "openapi-python-client==0.29.1"
BUILD_BACKEND = "poetry-core>=2,<3"  # what the generated pyproject.toml builds with
VENV = PROJECT_DIR / "var" / "openapi-client-venv"
TIMEOUT = 600

# Run by the client venv's python: argv base URL, API key; prints what it saw as JSON.
DRIVER = """
import json, sys

from tashan_client import AuthenticatedClient
from tashan_client.api.actions import get_action, list_actions, update_action
from tashan_client.models import ActionRead, ActionUpdate, PageActionRead, Problem

base_url, key = sys.argv[1:3]
client = AuthenticatedClient(base_url=base_url, token=key, raise_on_unexpected_status=True)

page = list_actions.sync(client=client, limit=5, sort="id")
assert isinstance(page, PageActionRead), page
got = get_action.sync_detailed(action_id=page.items[0].id, client=client)
assert isinstance(got.parsed, ActionRead), got
etag = got.headers["ETag"]
fresh = update_action.sync_detailed(
    action_id=got.parsed.id, client=client, body=ActionUpdate(title="改过的标题"), if_match=etag
)
assert isinstance(fresh.parsed, ActionRead), fresh
stale = update_action.sync_detailed(
    action_id=got.parsed.id, client=client, body=ActionUpdate(title="又改一次"), if_match=etag
)
missing = get_action.sync(action_id=999999, client=client)
print(json.dumps({
    "total": page.total,
    "ids": [action.id for action in page.items],
    "got": [got.parsed.id, got.parsed.version, etag],
    "updated": [fresh.parsed.title, fresh.parsed.version],
    "stale": [int(stale.status_code), type(stale.parsed).__name__, stale.parsed.to_dict()],
    "missing": [type(missing).__name__, missing.status, missing.detail],
}, ensure_ascii=False))
"""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    """Run a command with the client venv first on PATH (the generator runs its ruff from
    there); its output, or a failure showing it."""
    env = {**os.environ, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="session")
def client_venv() -> Iterator[Path]:
    """The generator's venv: made once (under a lock, for parallel runs), then reused."""
    VENV.parent.mkdir(exist_ok=True)
    stamp = VENV / f".installed-{GENERATOR}-{BUILD_BACKEND}".replace(" ", "")
    with (VENV.parent / "openapi-client-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            run(sys.executable, "-m", "venv", "--clear", VENV)
            run(
                VENV / "bin" / "python", "-m", "pip", "install", "--quiet", GENERATOR, BUILD_BACKEND
            )
            stamp.touch()
        yield VENV / "bin" / "python"


def test_a_generated_client_drives_the_real_server(
    client_venv: Path, seeded: SeedReport, live_server: str, admin_key: str, tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_bytes(httpx.get(f"{live_server}/openapi.json", timeout=60).content)

    generated = run(
        client_venv, "-m", "openapi_python_client", "generate", "--path", spec, cwd=tmp_path
    )
    assert "Warning" not in generated and "Error" not in generated, generated
    package = tmp_path / "tashan-client"
    run(
        client_venv, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", package
    )
    seen: dict[str, Any] = json.loads(
        run(client_venv, "-c", DRIVER, live_server, admin_key, cwd=tmp_path)
    )

    assert seen["total"] == SEEDED_TOTAL and seen["ids"] == sorted(seen["ids"])
    first, version, etag = seen["got"]
    assert first == seen["ids"][0] and etag == f'W/"{version}"'
    assert seen["updated"] == ["改过的标题", version + 1]
    status, parsed_as, problem = seen["stale"]
    assert (status, parsed_as, problem["status"]) == (412, "Problem", 412)
    assert problem["type"] == "urn:tashan:problem:stale-version"
    assert str(version + 1) in problem["detail"]
    assert seen["missing"][:2] == ["Problem", 404]
