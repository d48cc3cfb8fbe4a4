"""Seeding a running server through its HTTP API (tashan seed --url)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from app.seeding.schemas import PlannedAction, SeedPlan, SeedReport
from app.seeding.service import (
    desired_fields,
    lead_among_co_owners,
    load_plan,
    note_overlap,
    seed_files,
    user_owned,
)
from app.sources.service import action_label

# Fields whose values are sets: compared in any order.
SET_FIELDS = ("themes", "co_owner_ids")


class RemoteSeedError(Exception):
    """The server refused a seed request; the message says which and why."""


def _check(response: httpx.Response, what: str) -> httpx.Response:
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text[:200]
        raise RemoteSeedError(f"{what}: HTTP {response.status_code}: {detail}")
    return response


def _walk(client: httpx.Client, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated list."""
    offset = 0
    while True:
        page = _check(
            client.get(path, params={**params, "limit": 200, "offset": offset}), path
        ).json()
        yield from page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return


def seed_over_http(url: str, api_key: str | None, path: Path) -> SeedReport:
    """Apply every seed file at path through the API of the server at url."""
    plans = [load_plan(file) for file in seed_files(path)]
    headers = {"X-API-Key": api_key} if api_key else {}
    report = SeedReport()
    try:
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30) as client:
            actor = _acting_name(client)
            for plan in plans:
                _seed_plan(client, plan, report, actor)
    except httpx.HTTPError as exc:
        raise RemoteSeedError(f"cannot talk to {url}: {exc}") from exc
    return report


def _acting_name(client: httpx.Client) -> str:
    """The name the server records as the actor of our writes."""
    name: str = _check(client.get("/api/v1/me"), "checking the API key").json()["name"]
    return name


def _seed_plan(client: httpx.Client, plan: SeedPlan, report: SeedReport, actor: str) -> None:
    units = {unit["name"]: unit["id"] for unit in _walk(client, "/api/v1/units")}
    for entry in plan.units:
        if entry.name in units:
            report.units.unchanged += 1
            continue
        created = _check(
            client.post("/api/v1/units", json=entry.model_dump(mode="json")), f"unit {entry.name}"
        ).json()
        units[entry.name] = created["id"]
        report.units.created += 1
    source = _ensure_source(client, plan, units, report)
    speech_ids = {speech["start"]: speech["id"] for speech in source["speeches"]}
    actions = list(_walk(client, "/api/v1/actions", source_id=source["id"], include_archived=True))
    existing = {action["seed_key"]: action for action in actions if action.get("seed_key")}
    quoted = [
        (a["quote_start"], a["quote_end"], action_label(a["id"], a.get("seed_key"), a["title"]))
        for a in actions
        if not a["archived"]
    ]
    for planned in plan.actions:
        action = existing.get(planned.key)
        speech_id = speech_ids.get(planned.speech_start)
        if action is None and note_overlap(planned, quoted, report):
            continue
        if action is None:
            _create_action(client, source["id"], planned, units, speech_id)
            report.actions.created += 1
        else:
            co_owner_ids = [units[name] for name in planned.co_owners]
            _update_action(client, action, planned, speech_id, co_owner_ids, report, actor)


def _ensure_source(
    client: httpx.Client, plan: SeedPlan, units: dict[str, int], report: SeedReport
) -> dict[str, Any]:
    found = client.get(f"/api/v1/sources/{plan.source.slug}")
    if found.status_code == 200:
        source: dict[str, Any] = found.json()
        if source["text"] != plan.text:
            raise RemoteSeedError(
                f"{plan.path}: source {plan.source.slug!r} on the server has a different text; "
                "a corrected text needs a new slug"
            )
        report.sources.unchanged += 1
        report.speeches.unchanged += len(source["speeches"])
        return source
    if found.status_code != 404:
        _check(found, "source lookup")
    body = {
        **plan.source.model_dump(mode="json", exclude={"file"}),
        "text": plan.text,
        "speeches": [
            {
                "heading": s.heading,
                "speaker": s.speaker,
                "unit_id": units[s.unit],
                "start": s.start,
                "end": s.end,
            }
            for s in plan.speeches
        ],
    }
    created: dict[str, Any] = _check(client.post("/api/v1/sources", json=body), "source").json()
    report.sources.created += 1
    report.speeches.created += len(plan.speeches)
    return created


def _create_action(
    client: httpx.Client,
    source_id: int,
    planned: PlannedAction,
    units: dict[str, int],
    speech_id: int | None,
) -> None:
    body = {
        "source_id": source_id,
        "quote": planned.quote,
        "quote_start": planned.quote_start,
        "title": planned.title,
        "kind": planned.kind,
        "owner_id": units[planned.owner],
        "co_owner_ids": [units[name] for name in planned.co_owners],
        "leader": planned.leader,
        "detail": planned.detail,
        "themes": planned.themes,
        "speech_id": speech_id,
        "priority": planned.priority,
        "seed_key": planned.key,
    }
    _check(client.post("/api/v1/actions", json=body), f"action {planned.key}")


def _update_action(
    client: httpx.Client,
    action: dict[str, Any],
    planned: PlannedAction,
    speech_id: int | None,
    co_owner_ids: list[int],
    report: SeedReport,
    actor: str,
) -> None:
    desired = desired_fields(planned, speech_id, co_owner_ids)
    anchor = {k: desired.pop(k) for k in ("quote", "quote_start", "quote_end", "speech_id")}
    if any(action[k] != v for k, v in anchor.items()):
        report.warnings.append(
            f"{planned.key}: the quote in the file differs from the server's; quotes cannot be "
            "changed through the API, seed the database directly to move it"
        )
    events = _walk(client, f"/api/v1/actions/{action['id']}/events")
    user_changed: set[str] = set()
    for event in events:
        if event["kind"] == "updated" and event["actor"] != actor:
            user_changed.update(event["changes"] or {})
    kept = user_owned(user_changed)
    patch = {}
    for field, value in desired.items():
        current = sorted(_field_of(action, field)) if field in SET_FIELDS else action[field]
        wanted = sorted(set(value)) if field in SET_FIELDS else value
        if current == wanted:
            continue
        if field in kept:
            report.kept_user_changes.append(f"{planned.key}.{field}")
            continue
        if field == "co_owner_ids" and action["owner"]["id"] in wanted:
            report.warnings.append(lead_among_co_owners(planned))
            continue
        patch[field] = value
    if not patch:
        report.actions.unchanged += 1
        return
    _check(
        client.patch(
            f"/api/v1/actions/{action['id']}",
            json=patch,
            headers={"If-Match": f'W/"{action["version"]}"'},
        ),
        f"action {planned.key}",
    )
    report.actions.updated += 1


def _field_of(action: dict[str, Any], field: str) -> Any:
    """A field of an action as the API reads it, named as a PATCH writes it."""
    if field == "co_owner_ids":
        return [unit["id"] for unit in action["co_owners"]]
    return action[field]
