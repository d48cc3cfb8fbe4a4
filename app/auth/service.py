"""Use cases of API keys: create, list, revoke, authenticate, bootstrap."""

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, Table, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError
from sqlmodel import Session, col, select

from app import clock
from app.auth.models import ApiKey, Role
from app.auth.schemas import KeyCreate
from app.db import is_read_only_error, on_commit, write_session
from app.errors import Conflict, InvalidInput, NotFound
from app.pagination import PageParams
from app.units.models import Unit

KEY_PREFIX = "tsk_"
PREFIX_LENGTH = 8
BOOTSTRAP_NAME = "bootstrap"
# last_used_at is refreshed at most this often, so reads do not each cost a write.
TOUCH_INTERVAL = timedelta(minutes=5)
# A key found in the database is believed for this long without reading it again. Revoking it
# through this process forgets it at once; other processes (more workers, `tashan keys revoke`)
# see a revocation within this many seconds. Expiry is checked on every request.
KEY_CACHE_SECONDS = 5.0
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
logger = logging.getLogger("tashan")


def hash_key(plaintext: str) -> str:
    """The stored form of a key: its SHA-256 (a key holds 256 random bits, so no salt)."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def new_key_material() -> tuple[str, str]:
    """A fresh (plaintext, prefix): tsk_<8-char prefix>_<43-char secret>."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def create_key(session: Session, data: KeyCreate) -> tuple[ApiKey, str]:
    """Store a new key's hash; returns the key and its plaintext, which is not kept. Only an
    editor key may belong to a unit (422 otherwise, and for a unit that does not exist)."""
    if data.expires_at is not None and data.expires_at <= clock.now():
        raise InvalidInput("expires_at must be in the future", ["body", "expires_at"])
    if data.unit_id is not None:
        if data.role != Role.editor:
            raise InvalidInput(
                f"only an editor key may belong to a unit (unit_id); a {data.role} key acts "
                "for the whole office",
                ["body", "unit_id"],
            )
        if session.get(Unit, data.unit_id) is None:
            raise InvalidInput(f"unit {data.unit_id} does not exist", ["body", "unit_id"])
    if session.exec(select(ApiKey.id).where(ApiKey.name == data.name)).first() is not None:
        raise Conflict(
            f"a key named {data.name!r} already exists; names are the actors in timelines"
        )
    plaintext, prefix = new_key_material()
    key = ApiKey(
        name=data.name,
        role=data.role,
        prefix=prefix,
        key_hash=hash_key(plaintext),
        expires_at=data.expires_at,
        unit_id=data.unit_id,
    )
    session.add(key)
    session.flush()
    return key, plaintext


def all_keys(session: Session) -> Sequence[ApiKey]:
    """Every key, oldest first."""
    return session.exec(select(ApiKey).order_by(col(ApiKey.id))).all()


def list_keys(session: Session, page: PageParams) -> tuple[Sequence[ApiKey], int]:
    """A page of keys, oldest first."""
    total = session.exec(select(func.count()).select_from(ApiKey)).one()
    rows = session.exec(
        select(ApiKey).order_by(col(ApiKey.id)).offset(page.offset).limit(page.limit)
    ).all()
    return rows, total


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key for good (revoking it again changes nothing)."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"key {key_id} does not exist")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        session.add(key)
        session.flush()
    # After the commit: a lookup that began before it might have read the key still active.
    on_commit(session, lambda: _recent_keys.forget(key_id))
    return key


@dataclass(frozen=True)
class KnownKey:
    """A key as authentication knows it: who it is, its role and unit, and whether it is good."""

    id: int
    name: str
    role: Role
    unit_id: int | None
    unit_name: str | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


def is_active(key: ApiKey | KnownKey, now: datetime) -> bool:
    """Not revoked and not expired."""
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


class RecentKeys:
    """Keys found in the database in the last KEY_CACHE_SECONDS, by database and key hash."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], tuple[float, KnownKey]] = {}
        self._lock = threading.Lock()
        # Bumped by every revocation, so that a lookup that began before one is not kept.
        self.generation = 0

    def get(self, engine: Engine, key_hash: str) -> KnownKey | None:
        """The key with key_hash if it was found recently and has not expired since."""
        found = self._keys.get((str(engine.url), key_hash))
        if found is None or time.monotonic() - found[0] > KEY_CACHE_SECONDS:
            return None
        key = found[1]
        return key if is_active(key, clock.now()) else None

    def keep(self, engine: Engine, key_hash: str, key: KnownKey, generation: int) -> None:
        """Remember key, unless a key was revoked since generation was read."""
        with self._lock:
            if generation == self.generation:
                self._keys[(str(engine.url), key_hash)] = (time.monotonic(), key)

    def forget(self, key_id: int | None = None, unit_id: int | None = None) -> None:
        """Forget the key with key_id, or the keys of the unit with unit_id (in every
        database: ids repeat, so some needlessly)."""
        with self._lock:
            self.generation += 1
            for entry, (_, key) in list(self._keys.items()):
                if (key_id is not None and key.id == key_id) or (
                    unit_id is not None and key.unit_id == unit_id
                ):
                    del self._keys[entry]


_recent_keys = RecentKeys()


def forget_unit_keys(session: Session, unit_id: int) -> None:
    """Once session commits, forget the keys of a unit that was renamed, so that this
    process's next change by one records the new name (other processes: within
    KEY_CACHE_SECONDS)."""
    on_commit(session, lambda: _recent_keys.forget(unit_id=unit_id))


def recently_authenticated(engine: Engine, plaintext: str) -> KnownKey | None:
    """The active key whose plaintext this is, if authenticate found it lately; else None, and
    authenticate must look it up."""
    return _recent_keys.get(engine, hash_key(plaintext))


def authenticate(engine: Engine, plaintext: str) -> KnownKey | None:
    """The active key whose plaintext this is, or None; refreshes last_used_at coarsely."""
    if not plaintext.startswith(KEY_PREFIX) or len(plaintext) < len(KEY_PREFIX) + PREFIX_LENGTH:
        return None
    prefix = plaintext[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH]
    now = clock.now()
    generation = _recent_keys.generation
    # Core, on a connection of its own: an ORM session costs more than the lookup itself.
    with engine.connect() as connection:
        row = connection.execute(_KEY_BY_PREFIX, {"prefix": prefix}).first()
    key_hash = hash_key(plaintext)
    if row is None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    key = KnownKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
    if not is_active(key, now):
        return None
    if key.last_used_at is None or now - key.last_used_at > TOUCH_INTERVAL:
        _touch(engine, key, now)
    _recent_keys.keep(engine, key_hash, key, generation)
    return key


_API_KEYS: Table = ApiKey.__table__  # type: ignore[attr-defined]
_KEY_BY_PREFIX = (
    sa_select(_API_KEYS, col(Unit.name).label("unit_name"))
    .outerjoin(Unit, col(Unit.id) == col(ApiKey.unit_id))
    .where(col(ApiKey.prefix) == bindparam("prefix"))
)


def _touch(engine: Engine, key: KnownKey, now: datetime) -> None:
    # Only a hint for `keys list`: a database that takes no writes (read-only, disk full)
    # must still serve reads.
    try:
        with write_session(engine) as session:
            session.execute(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now))
    except (OperationalError, InternalError) as exc:
        if isinstance(exc, InternalError) and not is_read_only_error(exc.orig):
            raise
        logger.warning("could not record the use of key %s: %s", key.id, exc.orig)


def ensure_bootstrap_key(engine: Engine) -> str | None:
    """With no key in the database, create an admin key named bootstrap and return its
    plaintext; otherwise None. Safe when several processes start at once."""
    try:
        with write_session(engine) as session:
            if session.exec(select(func.count()).select_from(ApiKey)).one() > 0:
                return None
            _, plaintext = create_key(session, KeyCreate(name=BOOTSTRAP_NAME, role=Role.admin))
    except (Conflict, IntegrityError):  # another process made it first
        return None
    return plaintext
