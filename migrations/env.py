"""Alembic environment: the URL comes from the caller's config or from TASHAN_DATABASE_URL."""

from alembic import context

from app.actions import search
from app.config import get_settings
from app.db import create_db_engine
from app.models import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the search index out of autogenerate: no model has it (see migration 0005)."""
    return name is None or not (name.startswith(search.TABLE) or name == search.POSTGRESQL_INDEX)


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
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
