"""`tashan serve` with one extra route, /bench/limit, in the same process: the fastest answer
this server can give (a real 50-action page, precomputed), to compare the real routes with.

Run by scripts/bench as `python -m scripts.benchmark.server PAGE_FILE serve --port P ...`:
everything after PAGE_FILE is the `tashan` command line. The production app never has the
route: it exists only in this process."""

import sys
from pathlib import Path

from fastapi import FastAPI, Response

import app.main
from app.cli import main

LIMIT_PATH = "/bench/limit"
_create_app = app.main.create_app


def create_app_with_limit(page: bytes) -> FastAPI:
    """The real app, plus the limit route answering page."""
    application = _create_app()

    # async: the limit is what FastAPI itself can answer, with no thread-pool hop.
    @application.get(LIMIT_PATH, include_in_schema=False)
    async def limit() -> Response:
        return Response(page, media_type="application/json")

    return application


def run(page_file: Path, tashan_args: list[str]) -> None:
    """`tashan <tashan_args>`, serving the app with the limit route."""
    page = page_file.read_bytes()

    # `tashan serve` hands uvicorn the import string "app.main:create_app"; with one worker
    # uvicorn resolves it in this process, so it finds this factory instead.
    def factory() -> FastAPI:
        return create_app_with_limit(page)

    app.main.create_app = factory  # type: ignore[assignment]
    sys.argv = ["tashan", *tashan_args]
    main()


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2:])
