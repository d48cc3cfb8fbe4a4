"""Lead and cooperating units (牵头单位, 配合单位), the leader in charge (责任领导) and the
day work starts (start_on): written on POST and PATCH, read on every read, recorded on the
timeline, filtered on and counted in /stats."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    TODAY,
    assert_explained_problem,
    create_action,
    created_action,
    events_of,
    get_action,
    listed_actions,
    listed_ids,
    patch_action,
    patched_action,
    transitioned,
    unit_id,
    units_named,
)

LEAD = "区经济发展局"
PARK, TECH, HALL = "沙河产业园区", "区科技创新局", "区行政服务中心"


def test_post_writes_co_owners_leader_and_start_on_and_every_read_shows_them(
    client: TestClient, seeded: SeedReport
) -> None:
    park, tech = units_named(client, PARK, TECH)
    start = (TODAY - timedelta(days=3)).isoformat()
    created = created_action(
        client,
        co_owner_ids=[tech["id"], park["id"]],
        leader="王副区长",
        start_on=start,
    )
    expected = sorted([park, tech], key=lambda unit: unit["name"])
    assert created["co_owners"] == expected
    assert (created["leader"], created["start_on"]) == ("王副区长", start)
    assert created["owner"]["name"] == LEAD

    assert get_action(client, created["id"]) == created
    [listed] = [a for a in listed_actions(client, q="标准地") if a["id"] == created["id"]]
    assert listed == created


def test_existing_actions_read_with_no_co_owners_leader_or_start(
    client: TestClient, seeded: SeedReport
) -> None:
    for action in listed_actions(client):
        assert (action["co_owners"], action["leader"], action["start_on"]) == ([], None, None)
    created = created_action(client)
    assert (created["co_owners"], created["leader"], created["start_on"]) == ([], None, None)


def test_co_owner_ids_are_distinct_never_the_lead_and_known(
    client: TestClient, seeded: SeedReport
) -> None:
    park, lead = unit_id(client, PARK), unit_id(client, LEAD)
    field = ["body", "co_owner_ids"]
    assert_explained_problem(create_action(client, co_owner_ids=[park, park]), 422, field)
    body = assert_explained_problem(create_action(client, co_owner_ids=[park, lead]), 422, field)
    assert "lead" in body["detail"]
    assert_explained_problem(create_action(client, co_owner_ids=[park, 9999]), 422, [*field, 1])
    assert_explained_problem(create_action(client, co_owner_ids=None), 422, field)
    assert client.get(ACTIONS, params={"q": "测试事项"}).json()["total"] == 0


def test_patch_co_owners_leader_and_start_on_records_before_and_after(
    client: TestClient, seeded: SeedReport
) -> None:
    park, tech, hall = units_named(client, PARK, TECH, HALL)
    action = created_action(client, co_owner_ids=[park["id"]])
    start = TODAY.isoformat()
    patched = patched_action(
        client,
        action["id"],
        {"co_owner_ids": [hall["id"], tech["id"]], "leader": "李主任", "start_on": start},
    )
    assert patched["co_owners"] == sorted([hall, tech], key=lambda unit: unit["name"])
    assert (patched["leader"], patched["start_on"]) == ("李主任", start)
    assert patched["version"] == action["version"] + 1

    event = events_of(client, action["id"])[-1]
    assert event["kind"] == "updated"
    assert event["changes"] == {
        "co_owner_ids": [[park["id"]], sorted([hall["id"], tech["id"]])],
        "leader": [None, "李主任"],
        "start_on": [None, start],
    }

    # The same set in another order changes nothing; an empty list removes them all.
    same = [tech["id"], hall["id"]]
    assert patched_action(client, action["id"], {"co_owner_ids": same}) == patched
    cleared = patched_action(client, action["id"], {"co_owner_ids": [], "leader": None})
    assert (cleared["co_owners"], cleared["leader"]) == ([], None)
    assert events_of(client, action["id"])[-1]["changes"]["co_owner_ids"] == [
        sorted([hall["id"], tech["id"]]),
        [],
    ]


def test_patch_refuses_a_lead_that_also_cooperates(client: TestClient, seeded: SeedReport) -> None:
    park, lead = unit_id(client, PARK), unit_id(client, LEAD)
    action = created_action(client, co_owner_ids=[park])
    version = action["version"]
    response = patch_action(client, action["id"], {"co_owner_ids": [lead]}, version)
    assert_explained_problem(response, 422, ["body", "co_owner_ids"])
    response = patch_action(client, action["id"], {"owner_id": park}, version)
    assert_explained_problem(response, 422, ["body", "owner_id"])
    response = patch_action(client, action["id"], {"co_owner_ids": [9999]}, version)
    assert_explained_problem(response, 422, ["body", "co_owner_ids", 0])
    assert get_action(client, action["id"]) == action

    # Swapping lead and cooperating unit in one PATCH is fine.
    swapped = patched_action(client, action["id"], {"owner_id": park, "co_owner_ids": [lead]})
    assert (swapped["owner"]["id"], [u["id"] for u in swapped["co_owners"]]) == (park, [lead])


def test_start_on_defaults_to_the_day_the_action_is_accepted(
    client: TestClient, seeded: SeedReport, set_clock: Any
) -> None:
    action = created_action(client)
    set_clock("2026-11-20 23:30")  # Shanghai wall clock: the date there, not in UTC
    accepted = transitioned(client, action["id"], "accepted")
    assert accepted["start_on"] == "2026-11-20"
    transition = events_of(client, action["id"])[-1]
    assert transition["changes"]["start_on"] == [None, "2026-11-20"]

    # Declined and reconsidered, then accepted again: the start stays.
    set_clock("2026-11-25 09:00")
    transitioned(client, action["id"], "declined", "暂缓")
    transitioned(client, action["id"], "proposed", "重新研究")
    again = transitioned(client, action["id"], "accepted")
    assert again["start_on"] == "2026-11-20"
    assert "start_on" not in (events_of(client, action["id"])[-1]["changes"] or {})


def test_a_start_on_written_before_acceptance_is_kept(
    client: TestClient, seeded: SeedReport
) -> None:
    start = (TODAY + timedelta(days=10)).isoformat()
    action = created_action(client, start_on=start)
    assert transitioned(client, action["id"], "accepted")["start_on"] == start


def test_unit_id_filters_lead_or_cooperating_and_co_owner_id_cooperating(
    client: TestClient, seeded: SeedReport
) -> None:
    park, tech, lead = unit_id(client, PARK), unit_id(client, TECH), unit_id(client, LEAD)
    cooperates = created_action(client, co_owner_ids=[park])["id"]
    leads = created_action(client, owner_id=park, co_owner_ids=[tech])["id"]

    assert listed_ids(client, co_owner_id=park) == [cooperates]
    assert listed_ids(client, co_owner_id=tech) == [leads]
    led_by_park = set(listed_ids(client, owner_id=park))
    assert set(listed_ids(client, unit_id=park)) == led_by_park | {cooperates}
    assert leads in led_by_park
    assert set(listed_ids(client, unit_id=lead)) == set(listed_ids(client, owner_id=lead))
    assert listed_ids(client, unit_id=park, co_owner_id=park) == [cooperates]
    assert_explained_problem(client.get(ACTIONS, params={"co_owner_id": 0}), 422)


def test_stats_count_lead_and_cooperating_actions_per_unit(
    client: TestClient, seeded: SeedReport
) -> None:
    park, tech = unit_id(client, PARK), unit_id(client, TECH)
    before = {u["unit_id"]: u for u in client.get("/api/v1/stats").json()["units"]}
    created_action(client, co_owner_ids=[park, tech])
    created_action(client, owner_id=park, co_owner_ids=[tech])

    stats = client.get("/api/v1/stats").json()
    units = {u["unit_id"]: u for u in stats["units"]}
    for unit in units.values():
        assert unit["lead_total"] == unit["total"]
    assert units[park]["co_total"] == 1
    assert units[park]["lead_total"] == before.get(park, {"total": 0})["total"] + 1
    assert units[tech]["co_total"] == 2
    ranked = [u for u in units.values() if u["lead_total"]]
    assert sorted(u["rank"] for u in ranked) == list(range(1, len(ranked) + 1))

    filtered = client.get("/api/v1/stats", params={"co_owner_id": tech}).json()
    assert filtered["total"] == 2
    assert {u["unit_id"]: u["co_total"] for u in filtered["units"]}[tech] == 2


def test_a_unit_that_only_cooperates_is_counted_but_not_ranked(
    client: TestClient, seeded: SeedReport
) -> None:
    """一季一排名 ranks the units that lead: one leading none of the selected actions is listed
    with its co_total but no rank in /stats, and left out of the reports' ranking."""
    lead, park = unit_id(client, LEAD), unit_id(client, PARK)
    created_action(client, owner_id=lead, co_owner_ids=[park])
    stats = client.get("/api/v1/stats", params={"owner_id": lead}).json()
    units = {u["unit_id"]: u for u in stats["units"]}
    assert (units[lead]["rank"], units[park]["rank"]) == (1, None)
    assert (units[park]["lead_total"], units[park]["co_total"]) == (0, 1)
    assert stats["units"][-1]["unit_id"] == park  # unranked units come after the ranked

    report = client.get("/api/v1/reports/status", params={"format": "json", "owner_id": lead})
    assert [u["unit_id"] for u in report.json()["ranking"]] == [lead]
