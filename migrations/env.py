"""Alembic environment: the URL comes from the caller's config or from TASHAN_DATABASE_URL.

The app is imported here, and only here, for what autogenerate compares with: the models'
metadata. Revisions under versions/ import nothing from app (tests/test_migrations.py checks),
so that changing the app never rewrites what an applied revision did.
"""

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext

from app.actions import search
from app.config import get_settings
from app.db import UTCDateTime, create_db_engine
from app.models import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the search index out of autogenerate: no model has it (see migration 0005)."""
    return name is None or not (name.startswith(search.TABLE) or name == search.POSTGRESQL_INDEX)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write the models' UTCDateTime into a new revision as the column type it creates, so the
    revision need not import app.db."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=url, target_metadata=metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a connection, in batch mode so SQLite can alter tables."""
    engine = create_db_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=include_name,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
