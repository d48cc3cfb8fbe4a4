"""Applying and checking the Alembic migrations under migrations/."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from app import clock
from app.config import MIGRATIONS_DIR


class MigrationError(Exception):
    """The database cannot be brought to the schema: unreachable, or unfit (the message says
    why and what to do)."""


def alembic_config(database_url: str) -> Config:
    """An Alembic config for database_url, whatever the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to revision (idempotent); MigrationError when the database cannot
    be reached or a migration refuses it."""
    config = alembic_config(database_url)
    config.attributes["now"] = clock.now()  # what data migrations stamp rows with (0009)
    try:
        command.upgrade(config, revision)
    except OperationalError as exc:
        raise MigrationError(f"cannot reach the database: {exc.orig}") from exc
    except CommandError as exc:
        # Alembic's own refusals, and a revision's (revisions import nothing from app, so they
        # raise Alembic's error): a message for the user, one line.
        raise MigrationError(str(exc)) from exc


def downgrade(database_url: str, revision: str) -> None:
    """Revert migrations down to revision."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision(database_url: str) -> str | None:
    """The newest revision in migrations/."""
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
