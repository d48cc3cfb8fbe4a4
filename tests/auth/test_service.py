"""Use cases of API keys: only a hash is stored, authentication, coarse last_used_at, bootstrap."""

import base64
import hashlib
import re
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, make_url, text, update
from sqlmodel import Session, col, select

from app import clock
from app.auth import service as auth_service
from app.auth.models import ApiKey, Role
from app.auth.schemas import KeyCreate
from app.db import write_session
from app.errors import Conflict, InvalidInput, NotFound
from tests.helpers import make_key

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

KEY_PATTERN = re.compile(r"tsk_([a-z0-9]{8})_([A-Za-z0-9_-]{43})")
HEAD = len("tsk_12345678_")  # what precedes the secret part of a key


def secret_of(plaintext: str) -> str:
    """The random part of a key (it may itself contain "_")."""
    return plaintext[HEAD:]


def stored_key(engine: Engine, name: str) -> ApiKey:
    """The key row as the database has it now (a fresh session, nothing cached)."""
    with Session(engine) as db_session:
        return db_session.exec(select(ApiKey).where(ApiKey.name == name)).one()


def set_columns(engine: Engine, name: str, **values: Any) -> None:
    with write_session(engine) as db_session:
        db_session.execute(update(ApiKey).where(col(ApiKey.name) == name).values(**values))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def dump_every_row(engine: Engine) -> str:
    """Every row of every table in the database, as text (each row cast whole on PostgreSQL,
    every column cast to text on SQLite)."""
    parts: list[str] = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if engine.dialect.name == "postgresql":
                rows = connection.execute(text(f'SELECT CAST(t AS text) FROM "{table}" AS t'))
            else:
                columns = [column["name"] for column in inspect(connection).get_columns(table)]
                casts = ", ".join(f'CAST("{name}" AS TEXT)' for name in columns)
                rows = connection.execute(text(f'SELECT {casts} FROM "{table}"'))
            parts.extend(" | ".join(str(value) for value in row) for row in rows)
    return "\n".join(parts)


def raw_bytes_of(*paths: Path) -> bytes:
    """The bytes of the files that exist, read by another process: opening and closing a
    SQLite file in this process would drop the POSIX locks its pooled connections hold."""
    script = (
        "import sys, pathlib\n"
        "for name in sys.argv[1:]:\n"
        "    path = pathlib.Path(name)\n"
        "    if path.exists():\n"
        "        sys.stdout.buffer.write(path.read_bytes())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)], capture_output=True, check=True
    )
    return result.stdout


# --- key material -----------------------------------------------------------------------


def test_new_key_material_has_the_prefix_and_256_random_bits() -> None:
    keys = [auth_service.new_key_material() for _ in range(500)]
    for plaintext, prefix in keys:
        match = KEY_PATTERN.fullmatch(plaintext)
        assert match is not None, plaintext
        assert match.group(1) == prefix
        secret = base64.urlsafe_b64decode(match.group(2) + "=")
        assert len(secret) == 32
    assert len({plaintext for plaintext, _ in keys}) == 500
    assert len({prefix for _, prefix in keys}) == 500
    assert len({secret_of(plaintext) for plaintext, _ in keys}) == 500


def test_create_key_stores_prefix_and_sha256_only(engine: Engine) -> None:
    with write_session(engine) as db_session:
        key, plaintext = auth_service.create_key(
            db_session, KeyCreate(name="王-editor", role=Role.editor)
        )
    row = stored_key(engine, "王-editor")
    assert row.id == key.id
    assert row.role == Role.editor
    assert plaintext.startswith(f"tsk_{row.prefix}_")
    assert row.key_hash == sha256_hex(plaintext)
    assert row.key_hash == auth_service.hash_key(plaintext)
    assert plaintext not in {row.name, row.prefix, row.key_hash}
    assert row.created_at <= clock.now()
    assert (row.last_used_at, row.expires_at, row.revoked_at) == (None, None, None)


def test_prefix_is_looked_up_through_an_index(engine: Engine) -> None:
    inspector = inspect(engine)
    unique = [c["column_names"] for c in inspector.get_unique_constraints("api_keys")]
    indexed = [i["column_names"] for i in inspector.get_indexes("api_keys")]
    assert ["prefix"] in unique + indexed


def test_database_never_holds_a_plaintext_key(engine: Engine, database_url: str) -> None:
    plaintexts = [make_key(engine, role, name=f"store-{role}") for role in Role]
    plaintexts.append(make_key(engine, Role.viewer, name="store-viewer-2"))
    # authenticate too: touching last_used_at writes the row again
    for plaintext in plaintexts:
        assert auth_service.authenticate(engine, plaintext) is not None

    dump = dump_every_row(engine)
    for plaintext in plaintexts:
        secret = secret_of(plaintext)
        assert plaintext not in dump
        assert secret not in dump
        assert sha256_hex(plaintext) in dump

    if engine.dialect.name == "sqlite":
        db_path = make_url(database_url).database
        assert db_path
        raw = raw_bytes_of(Path(db_path), Path(db_path + "-wal"))
        assert len(raw) > 0
        for plaintext in plaintexts:
            encoded_secret = secret_of(plaintext).encode()
            assert plaintext.encode() not in raw
            assert encoded_secret not in raw
            assert sha256_hex(plaintext).encode() in raw
    else:
        assert engine.dialect.name == "postgresql"
        with engine.connect() as connection:
            hashes = set(connection.execute(text("SELECT key_hash FROM api_keys")).scalars())
        assert hashes == {sha256_hex(p) for p in plaintexts}


# --- create, revoke ---------------------------------------------------------------------


def test_create_key_rejects_duplicate_name_and_past_expiry(engine: Engine) -> None:
    make_key(engine, Role.viewer, name="li-ming")
    with write_session(engine) as db_session, pytest.raises(Conflict, match="li-ming"):
        auth_service.create_key(db_session, KeyCreate(name="li-ming", role=Role.admin))
    past = clock.now() - timedelta(seconds=1)
    with write_session(engine) as db_session, pytest.raises(InvalidInput, match="expires_at"):
        auth_service.create_key(
            db_session, KeyCreate(name="old", role=Role.viewer, expires_at=past)
        )
    with Session(engine) as db_session:
        names = [key.name for key in auth_service.all_keys(db_session)]
    assert names == ["li-ming"]
    assert stored_key(engine, "li-ming").role == Role.viewer


def test_revoke_key_sets_revoked_at_once_and_404_for_unknown(engine: Engine) -> None:
    make_key(engine, Role.editor, name="to-revoke")
    key_id = stored_key(engine, "to-revoke").id
    assert key_id is not None
    with write_session(engine) as db_session:
        first = auth_service.revoke_key(db_session, key_id).revoked_at
    assert first is not None
    with write_session(engine) as db_session:
        again = auth_service.revoke_key(db_session, key_id).revoked_at
    assert again == first
    assert stored_key(engine, "to-revoke").revoked_at == first
    with write_session(engine) as db_session, pytest.raises(NotFound):
        auth_service.revoke_key(db_session, key_id + 1000)


# --- authenticate -----------------------------------------------------------------------


def test_authenticate_returns_the_key_for_its_plaintext(engine: Engine) -> None:
    plaintext = make_key(engine, Role.editor, name="auth-ok")
    key = auth_service.authenticate(engine, plaintext)
    assert key is not None
    assert (key.name, key.role) == ("auth-ok", Role.editor)


def test_authenticate_compares_the_hash_not_just_the_prefix(engine: Engine) -> None:
    plaintext = make_key(engine, Role.admin, name="auth-hash")
    other = make_key(engine, Role.admin, name="auth-other")
    prefix_part, secret = plaintext[:HEAD], secret_of(plaintext)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    wrong_secrets = [
        prefix_part + flipped,
        prefix_part + secret_of(other),  # another key's secret
        prefix_part,
        prefix_part[:-1],
        plaintext + "x",
        plaintext[:-1],
    ]
    for candidate in wrong_secrets:
        assert auth_service.authenticate(engine, candidate) is None, candidate
    assert auth_service.authenticate(engine, plaintext) is not None


def test_authenticate_rejects_malformed_and_unknown_keys(engine: Engine) -> None:
    plaintext = make_key(engine, Role.viewer, name="auth-malformed")
    for candidate in (
        "",
        "tsk_",
        "tsk_abc",
        plaintext.removeprefix("tsk_"),
        "TSK_" + plaintext.removeprefix("tsk_"),
        "Bearer " + plaintext,
        " " + plaintext,
        "tsk_zzzzzzzz_" + "A" * 43,
    ):
        assert auth_service.authenticate(engine, candidate) is None, candidate


def test_authenticate_rejects_revoked_and_expired_keys(engine: Engine) -> None:
    revoked = make_key(engine, Role.admin, name="auth-revoked")
    expired = make_key(engine, Role.admin, name="auth-expired")
    expiring = make_key(engine, Role.admin, name="auth-expiring")
    set_columns(engine, "auth-revoked", revoked_at=clock.now())
    set_columns(engine, "auth-expired", expires_at=clock.now() - timedelta(seconds=1))
    set_columns(engine, "auth-expiring", expires_at=clock.now() + timedelta(hours=1))
    assert auth_service.authenticate(engine, revoked) is None
    assert auth_service.authenticate(engine, expired) is None
    key = auth_service.authenticate(engine, expiring)
    assert key is not None and key.name == "auth-expiring"


def test_last_used_at_is_set_on_first_use_and_not_rewritten_soon_after(engine: Engine) -> None:
    plaintext = make_key(engine, Role.viewer, name="touch")
    assert stored_key(engine, "touch").last_used_at is None

    updates: list[str] = []

    def count_updates(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", count_updates)
    try:
        before = clock.now()
        assert auth_service.authenticate(engine, plaintext) is not None
        first = stored_key(engine, "touch").last_used_at
        assert first is not None
        assert before - timedelta(seconds=1) <= first <= clock.now()
        assert len(updates) == 1

        for _ in range(3):
            assert auth_service.authenticate(engine, plaintext) is not None
        assert stored_key(engine, "touch").last_used_at == first
        assert len(updates) == 1  # no write for uses within the touch interval
    finally:
        event.remove(engine, "before_cursor_execute", count_updates)

    stale = clock.now() - auth_service.TOUCH_INTERVAL - timedelta(minutes=1)
    set_columns(engine, "touch", last_used_at=stale)
    assert auth_service.authenticate(engine, plaintext) is not None
    refreshed = stored_key(engine, "touch").last_used_at
    assert refreshed is not None and refreshed > stale + timedelta(minutes=1)


def test_role_inclusion() -> None:
    order = [Role.viewer, Role.editor, Role.admin]
    for i, role in enumerate(order):
        for j, other in enumerate(order):
            assert role.includes(other) is (i >= j), (role, other)


# --- bootstrap --------------------------------------------------------------------------


def test_bootstrap_key_is_made_once_on_an_empty_database(engine: Engine) -> None:
    plaintext = auth_service.ensure_bootstrap_key(engine)
    assert plaintext is not None and KEY_PATTERN.fullmatch(plaintext)
    key = auth_service.authenticate(engine, plaintext)
    assert key is not None
    assert (key.name, key.role) == ("bootstrap", Role.admin)
    assert auth_service.ensure_bootstrap_key(engine) is None
    with Session(engine) as db_session:
        assert [k.name for k in auth_service.all_keys(db_session)] == ["bootstrap"]


def test_no_bootstrap_key_when_any_key_exists(engine: Engine) -> None:
    make_key(engine, Role.viewer, name="someone")
    set_columns(engine, "someone", revoked_at=clock.now())
    assert auth_service.ensure_bootstrap_key(engine) is None
    with Session(engine) as db_session:
        assert [k.name for k in auth_service.all_keys(db_session)] == ["someone"]


def test_bootstrap_key_made_once_when_several_processes_start_together(engine: Engine) -> None:
    results: list[str | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            results.append(auth_service.ensure_bootstrap_key(engine))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    made = [plaintext for plaintext in results if plaintext is not None]
    assert len(results) == 4 and len(made) == 1
    with Session(engine) as db_session:
        keys = auth_service.all_keys(db_session)
    assert [(k.name, k.role) for k in keys] == [("bootstrap", Role.admin)]
    assert keys[0].key_hash == sha256_hex(made[0])
