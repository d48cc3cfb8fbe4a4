"""The channels and deliveries API: CRUD, masked URLs and write-only secrets, validation,
the allow-list, admins only; a test message; the delivery log, its filters and retry; and
that a receiver that hangs never holds up a request while the server's deliverer sends."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth.models import Role
from app.config import Settings
from app.db import write_session
from app.main import create_app
from app.notifications.delivery import DeliveryCounts, deliver_due
from app.notifications.models import Channel, ChannelKind, Delivery, DeliveryState
from app.seeding.schemas import SeedReport
from tests.helpers import NOW, assert_explained_problem, make_key, write_action
from tests.notifications.helpers import Receiver, Reply, add_channel, queue_reminder

CHANNELS = "/api/v1/channels"
DELIVERIES = "/api/v1/deliveries"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=6f3c2e-secret"
READ_FIELDS = {"id", "name", "kind", "url", "unit_id", "events", "enabled", "has_secret"}
DELIVERY_FIELDS = {
    "id",
    "channel_id",
    "event",
    "action_id",
    "state",
    "attempts",
    "next_attempt_at",
    "last_status",
    "last_error",
    "created_at",
    "sent_at",
}


@pytest.fixture
def quiet(settings: Settings, admin_key: str) -> Iterator[TestClient]:
    """An admin's client of an app without the in-process deliverer: only the test sends."""
    app = create_app(settings.model_copy(update={"deliverer": False}))
    with TestClient(app, headers={"X-API-Key": admin_key}) as client:
        yield client


def created(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(CHANNELS, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def stored(engine: Engine, channel_id: int) -> Channel:
    with Session(engine) as session:
        return session.get_one(Channel, channel_id)


def test_a_channel_is_created_read_changed_and_deleted(quiet: TestClient, engine: Engine) -> None:
    channel = created(quiet, name="督查室企业微信群", kind="wecom", url=WECOM_URL)
    assert set(channel) == READ_FIELDS | {"created_at"}
    assert channel["url"] == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
    assert (channel["unit_id"], channel["enabled"], channel["has_secret"]) == (None, True, False)
    assert channel["events"] == ["due_soon", "overdue", "reminder"]
    assert datetime.fromisoformat(channel["created_at"]) >= NOW
    url = f"{CHANNELS}/{channel['id']}"
    assert quiet.get(url).json() == channel
    listed = quiet.get(CHANNELS).json()
    assert (listed["total"], listed["items"]) == (1, [channel])

    changed = quiet.patch(
        url,
        json={**channel, "id": None}
        | {"name": "督查室群", "enabled": False, "events": ["overdue", "overdue"]},
    )
    assert changed.status_code == 422  # read-only fields are not accepted back
    changed = quiet.patch(
        url,
        json={
            "name": "督查室群",
            "enabled": False,
            "events": ["overdue", "overdue"],
            "url": channel["url"],
        },
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["enabled"], changed.json()["events"]) == (
        "督查室群",
        False,
        ["overdue"],
    )
    assert stored(engine, channel["id"]).url == WECOM_URL  # the masked URL sent back kept it

    assert quiet.delete(url).status_code == 204
    assert_explained_problem(quiet.get(url), 404)
    assert_explained_problem(quiet.delete(url), 404)


def test_a_secret_is_written_never_read(
    quiet: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    channel = created(
        quiet, name="钉钉群", kind="dingtalk", url=DINGTALK_URL, secret="SECabc", unit_id=1
    )
    assert channel["has_secret"] is True and "secret" not in channel
    assert channel["url"] == "https://oapi.dingtalk.com/robot/send?access_token=****"
    assert "SECabc" not in quiet.get(CHANNELS).text
    assert stored(engine, channel["id"]).secret == "SECabc"
    url = f"{CHANNELS}/{channel['id']}"
    assert quiet.patch(url, json={"secret": "SECdef"}).json()["has_secret"] is True
    assert stored(engine, channel["id"]).secret == "SECdef"
    unsigned = quiet.patch(url, json={"secret": None, "unit_id": None}).json()
    assert (unsigned["has_secret"], unsigned["unit_id"]) == (False, None)


def test_a_webhook_url_masks_its_query_and_password(quiet: TestClient) -> None:
    channel = created(
        quiet,
        name="OA 系统",
        kind="webhook",
        url="https://oa:pa55@oa.example.gov.cn/hooks/tashan?token=abc&plain",
        events=["changed", "submitted", "decided", "report"],
    )
    assert channel["url"] == "https://oa:****@oa.example.gov.cn/hooks/tashan?token=****&plain"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"url": "ftp://files.example.org/hook"}, ["body", "url"]),
        ({"url": "javascript:alert(1)"}, ["body", "url"]),
        ({"url": "http:///no-host"}, ["body", "url"]),
        ({"url": "http://example.org:99999/"}, ["body", "url"]),
        ({"url": "https://hooks.example.org/a b"}, ["body", "url"]),
        ({"unit_id": 999}, ["body", "unit_id"]),
        ({"events": []}, ["body", "events"]),
        ({"events": ["nope"]}, ["body", "events", 0]),
        ({"events": ["test"]}, ["body", "events"]),
        ({"kind": "slack"}, ["body", "kind"]),
        ({"kind": "wecom", "secret": "x"}, ["body", "secret"]),
        ({"name": " 前后空格 "}, ["body", "name"]),
        ({"colour": "red"}, ["body", "colour"]),
    ],
)
def test_a_bad_channel_is_refused_saying_where(
    quiet: TestClient, body: dict[str, Any], loc: list[str | int]
) -> None:
    valid = {"name": "群", "kind": "webhook", "url": "https://hooks.example.org/t"}
    assert_explained_problem(quiet.post(CHANNELS, json=valid | body), 422, loc)
    assert quiet.get(CHANNELS).json()["total"] == 0


def test_a_bad_change_is_refused_and_changes_nothing(quiet: TestClient, engine: Engine) -> None:
    channel = created(
        quiet, name="群", kind="webhook", url="https://hooks.example.org/t", secret="s"
    )
    created(quiet, name="另一个群", kind="webhook", url="https://hooks.example.org/u")
    url = f"{CHANNELS}/{channel['id']}"
    assert_explained_problem(quiet.patch(url, json={"name": "另一个群"}), 409)
    assert_explained_problem(quiet.patch(url, json={"kind": "wecom"}), 422, ["body", "secret"])
    assert_explained_problem(quiet.patch(url, json={"name": None}), 422, ["body", "name"])
    assert_explained_problem(quiet.patch(url, json={"unit_id": 999}), 422, ["body", "unit_id"])
    assert quiet.get(url).json() == channel
    assert_explained_problem(quiet.patch(f"{CHANNELS}/999", json={"enabled": False}), 404)


def test_a_name_is_taken_once(quiet: TestClient) -> None:
    created(quiet, name="群", kind="webhook", url="https://hooks.example.org/t")
    again = quiet.post(CHANNELS, json={"name": "群", "kind": "wecom", "url": WECOM_URL})
    assert_explained_problem(again, 409)


def test_only_allowed_hosts_are_receivers(settings: Settings, admin_key: str) -> None:
    strict = settings.model_copy(
        update={"deliverer": False, "notify_allowed_hosts": ["qyapi.weixin.qq.com"]}
    )
    with TestClient(create_app(strict), headers={"X-API-Key": admin_key}) as client:
        refused = client.post(
            CHANNELS, json={"name": "内网", "kind": "webhook", "url": "http://10.0.0.8/hook"}
        )
        body = assert_explained_problem(refused, 422, ["body", "url"])
        assert "10.0.0.8 is not among TASHAN_NOTIFY_ALLOWED_HOSTS" in body["detail"]
        channel = created(client, name="群", kind="wecom", url=WECOM_URL)
        moved = client.patch(f"{CHANNELS}/{channel['id']}", json={"url": DINGTALK_URL})
        assert_explained_problem(moved, 422, ["body", "url"])


@pytest.mark.parametrize("role", [Role.viewer, Role.editor, Role.supervisor])
def test_only_admins_see_channels_and_deliveries(app: FastAPI, engine: Engine, role: Role) -> None:
    with TestClient(app, headers={"X-API-Key": make_key(engine, role)}) as client:
        for path in (CHANNELS, DELIVERIES):
            assert_explained_problem(client.get(path), 403)
        assert_explained_problem(
            client.post(CHANNELS, json={"name": "群", "kind": "wecom", "url": WECOM_URL}), 403
        )
        assert_explained_problem(client.post(f"{DELIVERIES}/1/retry"), 403)


def test_a_test_message_is_sent_at_once(quiet: TestClient) -> None:
    with Receiver.running([Reply(), Reply(400, b"bad")]) as receiver:
        robot = f"{receiver.url}/cgi-bin/webhook/send?key=k"
        channel = created(quiet, name="群", kind="wecom", url=robot, enabled=False)

        response = quiet.post(f"{CHANNELS}/{channel['id']}/test")
        assert response.status_code == 200, response.text
        sent = response.json()
        assert set(sent) == DELIVERY_FIELDS
        assert (sent["event"], sent["state"], sent["attempts"], sent["last_status"]) == (
            "test",
            "sent",
            1,
            200,
        )
        assert sent["next_attempt_at"] is None and sent["sent_at"] is not None
        [request] = receiver.requests
        assert "他山测试消息" in request.json()["markdown"]["content"]

        refused = quiet.post(f"{CHANNELS}/{channel['id']}/test").json()
        assert (refused["state"], refused["last_status"]) == ("dead", 400)
        assert "bad" in refused["last_error"]
    assert_explained_problem(quiet.post(f"{CHANNELS}/999/test"), 404)


def test_the_delivery_log_filters_and_retries(
    quiet: TestClient, engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    with Receiver.running([Reply(400)]) as refusing, Receiver.running() as taking:
        refusing_id = add_channel(engine, ChannelKind.webhook, refusing.url)
        taking_id = add_channel(engine, ChannelKind.webhook, taking.url)
        dead_id, sent_id = queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(sent=1, dead=1)

        page = quiet.get(DELIVERIES).json()
        assert page["total"] == 2
        assert [item["id"] for item in page["items"]] == [sent_id, dead_id]  # newest first
        dead = page["items"][1]
        assert set(dead) == DELIVERY_FIELDS
        assert (dead["channel_id"], dead["event"], dead["action_id"], dead["state"]) == (
            refusing_id,
            "reminder",
            1,
            "dead",
        )
        for params, ids in [
            ({"state": "dead"}, [dead_id]),
            ({"state": "sent"}, [sent_id]),
            ({"channel_id": taking_id}, [sent_id]),
            ({"action_id": 1, "event": "reminder"}, [sent_id, dead_id]),
            ({"action_id": 2}, []),
            ({"event": "overdue"}, []),
        ]:
            listed = quiet.get(DELIVERIES, params=params).json()["items"]
            assert [item["id"] for item in listed] == ids, params
        assert_explained_problem(quiet.get(DELIVERIES, params={"state": "lost"}), 422)
        for name, missing in [("channel_id", 999), ("action_id", 999_999)]:
            refused = quiet.get(DELIVERIES, params={name: missing})
            assert_explained_problem(refused, 422)
            assert refused.json()["errors"][0]["loc"] == ["query", name]
            assert str(missing) in refused.json()["detail"]

        retried = quiet.post(f"{DELIVERIES}/{dead_id}/retry")
        assert retried.status_code == 200, retried.text
        assert (retried.json()["state"], retried.json()["attempts"]) == ("pending", 0)
        assert retried.json()["next_attempt_at"] is not None
        assert deliver_due(engine, settings) == DeliveryCounts(sent=1)
        assert len(refusing.requests) == 2
        assert_explained_problem(quiet.post(f"{DELIVERIES}/{sent_id}/retry"), 409)
        assert_explained_problem(quiet.post(f"{DELIVERIES}/999/retry"), 404)
        assert deliver_due(engine, settings) == DeliveryCounts()
        assert len(taking.requests) == 1


def test_deleting_a_channel_deletes_its_deliveries(
    quiet: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    channel_id = add_channel(engine, ChannelKind.webhook, "https://hooks.example.org/t")
    queue_reminder(engine)
    assert quiet.get(DELIVERIES).json()["total"] == 1
    assert quiet.delete(f"{CHANNELS}/{channel_id}").status_code == 204
    assert quiet.get(DELIVERIES).json()["total"] == 0


def test_disabling_a_channel_ends_its_queue(
    quiet: TestClient, engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    with Receiver.running([Reply(503)]) as flaky:
        channel_id = add_channel(engine, ChannelKind.webhook, flaky.url)
        [failed_id] = queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
        [pending_id] = queue_reminder(engine)
        disabled = quiet.patch(f"{CHANNELS}/{channel_id}", json={"enabled": False})
        assert disabled.status_code == 200, disabled.text

        for delivery_id in (failed_id, pending_id):
            with Session(engine) as session:
                delivery = session.get_one(Delivery, delivery_id)
            assert delivery.state == DeliveryState.dead
            assert delivery.last_error == "not sent: the channel was disabled"
        refused = quiet.post(f"{DELIVERIES}/{pending_id}/retry")
        assert_explained_problem(refused, 409)
        assert "disabled" in refused.json()["detail"]
        assert deliver_due(engine, settings) == DeliveryCounts()
        assert len(flaky.requests) == 1

        assert quiet.patch(f"{CHANNELS}/{channel_id}", json={"enabled": True}).status_code == 200
        assert quiet.post(f"{DELIVERIES}/{pending_id}/retry").status_code == 200
        assert deliver_due(engine, settings) == DeliveryCounts(sent=1)  # the receiver is back
        assert len(flaky.requests) == 2


def test_a_disabled_channel_is_sent_no_retry(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    """An attempt under way while its channel is disabled fails and asks for a retry: the
    retry waits while the channel stays disabled."""
    with Receiver.running([Reply(503)]) as flaky:
        channel_id = add_channel(engine, ChannelKind.webhook, flaky.url)
        [delivery_id] = queue_reminder(engine)
        with write_session(engine) as session:
            session.get_one(Channel, channel_id).enabled = False
            delivery = session.get_one(Delivery, delivery_id)
            delivery.state, delivery.next_attempt_at = DeliveryState.failed, NOW
        assert deliver_due(engine, settings) == DeliveryCounts()
        assert flaky.requests == []


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"waited 30 s for {what}"
        time.sleep(0.05)


def test_a_hanging_receiver_never_holds_up_a_request(
    settings: Settings, admin_key: str, engine: Engine, seeded: SeedReport
) -> None:
    # The deliverer looks only once an hour on its own: what it sends here, it sends because
    # the commit that wrote the reminder woke it.
    hourly = settings.model_copy(update={"delivery_interval_seconds": 3600})
    hang = threading.Event()
    with (
        Receiver.running([Reply(hold=hang)]) as receiver,
        TestClient(create_app(hourly), headers={"X-API-Key": admin_key}) as client,
    ):
        add_channel(engine, ChannelKind.webhook, receiver.url)
        [delivery_id] = queue_reminder(engine)
        receiver.wait_for(1)  # the deliverer is sending; the receiver holds it open

        write_action(client, 1, "patch", {"assignee": "王科长"})
        assert client.get("/api/v1/actions/1").json()["assignee"] == "王科长"
        assert client.get(DELIVERIES).json()["items"][0]["state"] == "pending"
        assert not hang.is_set()  # all of that was answered while the receiver still hung

        hang.set()

        def sent() -> bool:
            with Session(engine) as session:
                return session.get_one(Delivery, delivery_id).state == DeliveryState.sent

        wait_until(sent, "the delivery to be recorded")


def test_tashan_serve_sends_what_is_due_and_what_an_admin_retries(
    live_server: str, admin_key: str, engine: Engine, seeded: SeedReport
) -> None:
    admin = httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key})

    def state_is(delivery_id: int, state: str) -> Callable[[], bool]:
        def check() -> bool:
            items = admin.get(DELIVERIES, params={"limit": 200}).json()["items"]
            return any(d["id"] == delivery_id and d["state"] == state for d in items)

        return check

    with Receiver.running([Reply(500)]) as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        # Written by this process, not the server's: its deliverer finds it when it looks.
        [delivery_id] = queue_reminder(engine)
        receiver.wait_for(1)
        wait_until(state_is(delivery_id, "failed"), "the 500 to be recorded")

        assert admin.post(f"{DELIVERIES}/{delivery_id}/retry").status_code == 200
        [first, second] = receiver.wait_for(2)
        wait_until(state_is(delivery_id, "sent"), "the retry to be recorded")
    assert first.json()["id"] == second.json()["id"]
    assert first.headers["x-tashan-delivery"] == second.headers["x-tashan-delivery"]
