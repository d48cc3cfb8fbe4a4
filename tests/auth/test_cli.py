"""The `tashan` command and keys: the bootstrap key printed by serve, keys create/list/revoke."""

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.auth import service as auth_service
from app.auth.models import ApiKey, Role
from app.db import write_session
from app.units import service as unit_service
from app.units.models import UnitKind
from app.units.schemas import UnitCreate
from tests.helpers import TASHAN, make_key, run_tashan, serve_tashan

KEY_IN_TEXT = re.compile(r"tsk_[A-Za-z0-9_-]+")
HOW_TO_MAKE_MORE = re.compile(
    r"^    (\S+) keys create --name NAME --role viewer\|editor\|supervisor\|admin$", re.M
)


def all_keys(engine: Engine) -> list[ApiKey]:
    with Session(engine) as db_session:
        return list(db_session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())


def key_named(engine: Engine, name: str) -> ApiKey:
    with Session(engine) as db_session:
        return db_session.exec(select(ApiKey).where(ApiKey.name == name)).one()


def test_first_serve_prints_one_bootstrap_key_later_starts_none(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    assert all_keys(engine) == []

    with serve_tashan(database_url, tmp_path / "first.log") as base_url:
        assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    first = (tmp_path / "first.log").read_text()
    printed = KEY_IN_TEXT.findall(first)
    assert len(printed) == 1, first
    key = printed[0]
    [command] = HOW_TO_MAKE_MORE.findall(first)
    # the path of this tashan (.venv/bin/tashan), not a bare `tashan` that is not on PATH
    assert Path(command).resolve() == Path(TASHAN).resolve()
    assert "bootstrap" in first
    [row] = all_keys(engine)
    assert (row.name, row.role, row.revoked_at) == ("bootstrap", Role.admin, None)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()

    with serve_tashan(database_url, tmp_path / "second.log") as base_url:
        me = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200, me.text
        assert me.json() == {
            "name": "bootstrap",
            "role": "admin",
            "key_id": row.id,
            "unit_id": None,
            "unit_name": None,
        }
        made = httpx.post(
            f"{base_url}/api/v1/keys",
            json={"name": "from-bootstrap", "role": "viewer"},
            headers={"X-API-Key": key},
        )
        assert made.status_code == 201, made.text
        forged = httpx.get(f"{base_url}/api/v1/me", headers={"X-API-Key": key[:-1] + "!"})
        assert forged.status_code == 401
        assert key not in forged.text
    second = (tmp_path / "second.log").read_text()
    assert "tsk_" not in second, second  # no new key printed; no key in the access log either
    assert not HOW_TO_MAKE_MORE.search(second)
    assert "GET /api/v1/me" in second  # the log was captured, and still names no key
    assert [(k.name, k.role) for k in all_keys(engine)] == [
        ("bootstrap", Role.admin),
        ("from-bootstrap", Role.viewer),
    ]


def test_keys_create_quiet_prints_the_key_alone(database_url: str, engine: Engine) -> None:
    result = run_tashan(
        database_url, "keys", "create", "--name", "x", "--role", "editor", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    key = lines[0]
    assert result.stdout == key + "\n"
    assert key.startswith("tsk_") and KEY_IN_TEXT.fullmatch(key)
    row = key_named(engine, "x")
    assert row.role == Role.editor
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    found = auth_service.authenticate(engine, key)
    assert found is not None and (found.name, found.role) == ("x", Role.editor)


def test_keys_create_says_what_it_made(database_url: str, engine: Engine) -> None:
    result = run_tashan(database_url, "keys", "create", "--name", "liu-admin", "--role", "admin")
    assert result.returncode == 0, result.stderr
    row = key_named(engine, "liu-admin")
    assert f"created key {row.id} 'liu-admin' (admin)" in result.stdout
    printed = KEY_IN_TEXT.findall(result.stdout)
    assert len(printed) == 1
    assert auth_service.hash_key(printed[0]) == row.key_hash


def test_keys_list_shows_keys_without_their_secrets(database_url: str, engine: Engine) -> None:
    created = run_tashan(
        database_url, "keys", "create", "--name", "x", "--role", "editor", "--quiet"
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    other = make_key(engine, Role.viewer, name="chen-viewer")

    result = run_tashan(database_url, "keys", "list")
    assert result.returncode == 0, result.stderr
    row = key_named(engine, "x")
    lines = result.stdout.splitlines()
    [line] = [line for line in lines if line.split()[:2] == [str(row.id), "x"]]
    assert line.split()[2:5] == ["editor", row.prefix, "active"]
    assert any(line.split()[1:3] == ["chen-viewer", "viewer"] for line in lines)
    for plaintext in (key, other):
        assert plaintext not in result.stdout
        assert plaintext[len("tsk_12345678_") :] not in result.stdout
        assert auth_service.hash_key(plaintext) not in result.stdout
    assert "tsk_" not in result.stdout


def test_keys_revoke_marks_the_key_revoked(database_url: str, engine: Engine) -> None:
    created = run_tashan(
        database_url, "keys", "create", "--name", "x", "--role", "editor", "--quiet"
    )
    key = created.stdout.strip()
    row = key_named(engine, "x")

    result = run_tashan(database_url, "keys", "revoke", str(row.id))
    assert result.returncode == 0, result.stderr
    assert f"revoked key {row.id} 'x'" in result.stdout
    assert key_named(engine, "x").revoked_at is not None
    assert auth_service.authenticate(engine, key) is None
    listed = run_tashan(database_url, "keys", "list").stdout.splitlines()
    [line] = [line for line in listed if line.split()[:2] == [str(row.id), "x"]]
    assert line.split()[4] == "revoked"


def test_keys_revoke_unknown_id_fails_cleanly(database_url: str, engine: Engine) -> None:
    make_key(engine, Role.viewer, name="stays")
    result = run_tashan(database_url, "keys", "revoke", "4242")
    assert result.returncode != 0
    assert "4242" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert key_named(engine, "stays").revoked_at is None


def test_keys_create_duplicate_name_fails_cleanly(database_url: str, engine: Engine) -> None:
    make_key(engine, Role.viewer, name="x")
    result = run_tashan(database_url, "keys", "create", "--name", "x", "--role", "admin", "--quiet")
    assert result.returncode != 0
    assert "already exists" in result.stderr and "'x'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "tsk_" not in result.stdout + result.stderr
    assert [(k.name, k.role) for k in all_keys(engine)] == [("x", Role.viewer)]


def test_keys_create_unknown_role_fails_cleanly(database_url: str, engine: Engine) -> None:
    result = run_tashan(database_url, "keys", "create", "--name", "y", "--role", "superuser")
    assert result.returncode != 0
    assert "superuser" in result.stderr and "--role" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "tsk_" not in result.stdout
    assert all_keys(engine) == []


def test_keys_create_invalid_name_fails_cleanly(database_url: str, engine: Engine) -> None:
    result = run_tashan(database_url, "keys", "create", "--name", " y", "--role", "viewer")
    assert result.returncode != 0
    assert "cannot create the key" in result.stderr and "name" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert all_keys(engine) == []


# --- keys of a unit -----------------------------------------------------------------------


def make_units(engine: Engine, *names: str) -> list[int]:
    """Units called names (bureaus); their ids."""
    with write_session(engine) as db_session:
        units = [
            unit_service.create_unit(db_session, UnitCreate(name=name, kind=UnitKind.bureau))
            for name in names
        ]
        return [unit.id for unit in units if unit.id is not None]


def test_keys_create_with_a_unit_by_its_name_or_its_id(database_url: str, engine: Engine) -> None:
    first, second = make_units(engine, "区经济发展局", "沙河产业园区")
    by_name = run_tashan(
        database_url,
        "keys",
        "create",
        "--name",
        "jingfa",
        "--role",
        "editor",
        "--unit",
        "区经济发展局",
    )
    assert by_name.returncode == 0, by_name.stderr
    row = key_named(engine, "jingfa")
    assert row.unit_id == first
    assert (
        f"created key {row.id} 'jingfa' (editor) for 区经济发展局 (unit {first})" in by_name.stdout
    )
    found = auth_service.authenticate(engine, KEY_IN_TEXT.findall(by_name.stdout)[0])
    assert found is not None and (found.unit_id, found.unit_name) == (first, "区经济发展局")

    by_id = run_tashan(
        database_url,
        "keys",
        "create",
        *("--name", "shahe", "--role", "editor", "--unit", str(second), "--quiet"),
    )
    assert by_id.returncode == 0, by_id.stderr
    assert key_named(engine, "shahe").unit_id == second
    assert KEY_IN_TEXT.fullmatch(by_id.stdout.strip())

    make_key(engine, Role.editor, name="office")
    listed = run_tashan(database_url, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[1]: line for line in listed.stdout.splitlines()[1:]}
    assert lines["jingfa"].endswith(f" {first} 区经济发展局")
    assert lines["shahe"].endswith(f" {second} 沙河产业园区")
    assert lines["office"].endswith(" - (whole office)")
    assert lines["jingfa"].split()[2:5] == ["editor", row.prefix, "active"]


@pytest.mark.parametrize("unit", ["区经济局", "99"])
def test_keys_create_for_an_unknown_unit_exits_2_naming_the_units(
    database_url: str, engine: Engine, unit: str
) -> None:
    [known] = make_units(engine, "区经济发展局")
    result = run_tashan(
        database_url, "keys", "create", "--name", "x", "--role", "editor", "--unit", unit
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"no unit '{unit}': give a unit's id or exact name ({known} 区经济发展局)" in result.stderr
    )
    assert "Traceback" not in result.stderr and "tsk_" not in result.stdout + result.stderr
    assert all_keys(engine) == []


@pytest.mark.parametrize("role", ["viewer", "supervisor", "admin"])
def test_keys_create_with_a_unit_and_another_role_than_editor_exits_2(
    database_url: str, engine: Engine, role: str
) -> None:
    make_units(engine, "区经济发展局")
    result = run_tashan(
        database_url, "keys", "create", "--name", "x", "--role", role, "--unit", "区经济发展局"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"--unit is for editor keys only: a {role} key acts for the whole office" in result.stderr
    )
    assert "tsk_" not in result.stdout + result.stderr
    assert all_keys(engine) == []
