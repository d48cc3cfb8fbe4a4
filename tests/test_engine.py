"""The server's database engine: its pool comes from the settings."""

from app.config import Settings
from app.main import create_app


def test_the_servers_pool_is_the_configured_size(database_url: str) -> None:
    settings = Settings(database_url=database_url, db_pool_size=7, _env_file=None)  # type: ignore[call-arg]
    engine = create_app(settings).state.engine
    try:
        assert engine.pool.size() == 7
    finally:
        engine.dispose()
