"""Schemathesis over the whole OpenAPI schema, in process against the ASGI app on a clean,
seeded database, with an admin key: every phase (examples, coverage, fuzzing, stateful) and
every default check — no server errors, answers that match the schema, documented status
codes only, schema-valid input accepted and invalid input refused.

Bounded and reproducible: TASHAN_FUZZ_EXAMPLES examples per operation (default 5) from a
fixed seed (TASHAN_FUZZ_SEED). Before a release, run it longer (README, Testing)."""

import os
from datetime import timedelta
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from sqlalchemy import Engine

from app.auth import service as auth_service
from app.auth.models import Role
from app.seeding.schemas import SeedReport
from tests.helpers import TODAY, make_key, write_action

MAX_EXAMPLES = int(os.environ.get("TASHAN_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("TASHAN_FUZZ_SEED", "20220128"))
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default

# Operations that can refuse schema-valid input for a reason no schema can state. Each is
# allowed that one extra status for positive_data_acceptance only; every other check stays.
SEMANTIC_REFUSALS: dict[str, tuple[list[str], str]] = {
    # If-Match must name the current version, which a generator cannot know: 412 (and 428
    # for a blank one). Domain rules on top: illegal moves, referenced units that must exist.
    "PATCH /api/v1/actions/{action_id}": (["412", "422", "428"], "owner_id must name a unit"),
    "DELETE /api/v1/actions/{action_id}": (["412", "428"], "If-Match only"),
    "POST /api/v1/actions/{action_id}/transitions": (
        ["412", "422", "428"],
        "blocked, declined, reopen and reconsider need a note (depends on the current status)",
    ),
    "POST /api/v1/actions/{action_id}/updates": (["412", "428"], "If-Match only"),
    "POST /api/v1/actions": (
        ["422"],
        "the quote must occur in the source's text; source, owner and speech must exist",
    ),
    "POST /api/v1/sources": (["422"], "speeches must lie within the text and not overlap"),
    "POST /api/v1/actions/{action_id}/extensions": (
        ["422"],
        "the action must have a due date, and new_due_on must be after it",
    ),
    "POST /api/v1/actions/{action_id}/extensions/{extension_id}/decision": (
        ["422"],
        "rejecting needs a note (approve false without one)",
    ),
    "POST /api/v1/reports": (["422"], "period_end must not be before period_start"),
    "GET /api/v1/reports/status": (
        ["422"],
        "a fill-in template's period must not have ended; as_of must not be in the future",
    ),
    "GET /api/v1/actions": (["422"], "as_of must not be in the future"),
    "GET /api/v1/stats": (["422"], "as_of must not be in the future"),
    "GET /api/v1/deliveries": (["422"], "channel_id and action_id must name what exists"),
    "PUT /api/v1/report-schedules/{name}": (["422"], "cron must parse as a cron expression"),
    "POST /api/v1/keys": (
        ["422"],
        "expires_at must be in the future; unit_id must name a unit, and only with role editor",
    ),
    "POST /api/v1/imports": (["422"], "the upload must be a filled-in report sheet"),
    "POST /api/v1/actions/{action_id}/evidence": (
        ["409", "415", "422"],
        "the file's bytes must be an accepted kind (415), not empty, cut short or named with "
        "control characters (422); evidence_date not after today; no archived action (409)",
    ),
    "POST /api/v1/channels": (
        ["422"],
        "unit_id must name a unit; a 企业微信 channel takes no secret; the URL's host must parse",
    ),
    "PATCH /api/v1/channels/{channel_id}": (
        ["422"],
        "unit_id must name a unit; a 企业微信 channel takes no secret; the URL's host must parse",
    ),
    "DELETE /api/v1/evidence/{evidence_id}": (
        ["409"],
        "withdrawn already, or its action completed or under review with no other file",
    ),
}


def fuzz_config(admin_key: str, decoy_key_id: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # No replay of what an earlier run (or an `st run` by hand) left in .schemathesis/:
            # a run depends on its seed alone.
            "cache": {"enabled": False},
            "auth": {
                "openapi": {
                    "APIKeyHeader": {"api_key": admin_key},
                    "HTTPBearer": {"bearer": admin_key},
                }
            },
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            # A write to an action without If-Match is 428 Precondition Required (RFC 6585).
            "checks": {"missing_required_header": {"expected-statuses": [428]}},
            "operations": [
                {
                    "include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + extra}},
                }
                for name, (extra, _why) in SEMANTIC_REFUSALS.items()
            ]
            + [
                # Revoke a decoy, not the key the run itself uses (which would 401 the rest).
                {
                    "include-name": "DELETE /api/v1/keys/{key_id}",
                    "parameters": {"key_id": decoy_key_id},
                }
            ],
        }
    )


def describe(event: events.ScenarioFinished) -> list[str]:
    """One line per failed check of a scenario: operation, check, reason, curl command."""
    lines = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            interaction = event.recorder.interactions.get(case_id)
            answer: Any = interaction.response if interaction else None
            status = answer.status_code if answer else "no response"
            body = answer.content[:300] if answer else b""
            lines.append(
                f"{event.recorder.label} [{event.phase}] {check.name}: "
                f"{check.failure_info.failure.title}; got {status} {body!r}\n"
                f"    {check.failure_info.code_sample[:600]}"
            )
    return lines


def test_every_operation_keeps_to_its_schema(
    app: FastAPI, engine: Engine, admin_key: str, seeded: SeedReport, client: TestClient
) -> None:
    # Action 1 (every example's action_id) accepted with a due date, so that the extension
    # routes' examples are taken and decided rather than all refused.
    write_action(client, 1, "patch", {"due_on": (TODAY + timedelta(days=30)).isoformat()})
    write_action(client, 1, "transitions", {"to": "accepted"})
    decoy = auth_service.authenticate(engine, make_key(engine, Role.viewer, name="decoy"))
    assert decoy is not None and decoy.id is not None
    config = fuzz_config(admin_key, decoy.id)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    failures: list[str] = []
    operations: set[str] = set()
    cases = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            cases += len(event.recorder.cases)
            failures += describe(event)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {event!r}")
    print(f"schemathesis: {len(operations)} scenarios, {cases} cases")
    assert not failures, "\n".join(failures)
