"""The `tashan` command: db upgrade, seed, serve."""

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app import migrations
from app.config import SEEDS_DIR, get_settings
from app.db import create_db_engine
from app.seeding.remote import RemoteSeedError, seed_over_http
from app.seeding.schemas import SeedReport
from app.seeding.service import SeedError, seed_database

cli = typer.Typer(help="他山 Tashan: track the proposals of a source document through to done.")
db_cli = typer.Typer(help="Database schema.")
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to head (idempotent)."""
    url = get_settings().database_url
    migrations.upgrade(url)
    typer.echo(f"database at revision {migrations.head_revision(url)}")


def _print_report(report: SeedReport) -> None:
    for line in report.lines():
        typer.echo(line)


@cli.command()
def seed(
    path: Annotated[Path, typer.Argument(help="a seed .toml file or a folder of them")] = SEEDS_DIR,
    url: Annotated[
        str | None, typer.Option(help="seed a running server through its HTTP API")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="TASHAN_API_KEY", help="key for --url")
    ] = None,
) -> None:
    """Load seed data: an idempotent upsert that never overwrites what users changed."""
    try:
        if url:
            report = seed_over_http(url, api_key, path)
        else:
            settings = get_settings()
            migrations.upgrade(settings.database_url)
            engine = create_db_engine(settings.database_url)
            try:
                report = seed_database(engine, path)
            finally:
                engine.dispose()
    except (SeedError, RemoteSeedError) as exc:
        typer.echo(f"seed failed, nothing was changed:\n{exc}", err=True)
        raise typer.Exit(1) from exc
    _print_report(report)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: TASHAN_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: TASHAN_PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Upgrade the database once, then serve the API."""
    settings = get_settings()
    migrations.upgrade(settings.database_url)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,
    )


def main() -> None:
    """Console-script entry point."""
    cli()
