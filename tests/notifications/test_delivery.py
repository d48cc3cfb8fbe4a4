"""Sending deliveries to a real HTTP receiver on loopback: the three formats and their
signatures, retries with growing delays and never a resend after a 2xx, dead at once on a
refusal, no redirect followed, the allow-list, nothing sent for a rolled-back change, and
each delivery sent once however many deliverers run at the same time."""

import base64
import hashlib
import hmac
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote_plus

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.actions.models import Action
from app.config import Settings
from app.db import write_session
from app.notifications import wakeup
from app.notifications.delivery import DeliveryCounts, deliver_due
from app.notifications.models import (
    ChannelKind,
    Delivery,
    DeliveryState,
)
from app.seeding.schemas import SeedReport
from tests.helpers import NOW, free_port
from tests.notifications.helpers import (
    TEXT,
    TITLE,
    Receiver,
    Reply,
    add_channel,
    queue_reminder,
    remind,
)


def delivery(engine: Engine, delivery_id: int) -> Delivery:
    with Session(engine) as session:
        return session.get_one(Delivery, delivery_id)


def test_a_webhook_carries_the_message_and_its_signature_verifies(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    with Receiver.running() as receiver:
        add_channel(engine, ChannelKind.webhook, f"{receiver.url}/hooks/tashan", secret="s3cret")
        [delivery_id] = queue_reminder(engine)

        assert deliver_due(engine, settings) == DeliveryCounts(sent=1)

        [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/tashan")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tashan-event"] == "reminder"
    assert request.headers["x-tashan-delivery"] == str(delivery_id)
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-tashan-signature"] == f"sha256={expected}"
    body = request.json()
    assert set(body) == {"id", "event", "level", "text", "action", "sent_at"}
    assert (body["event"], body["level"], body["text"]) == ("reminder", 2, TEXT)
    assert body["action"]["id"] == 1 and body["action"]["title"]
    assert {"light", "due_on", "owner"} <= body["action"].keys()
    sent = delivery(engine, delivery_id)
    assert (sent.state, sent.attempts, sent.last_status) == (DeliveryState.sent, 1, 200)
    assert sent.sent_at is not None


def test_a_webhook_without_a_secret_is_not_signed_and_may_be_about_no_action(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    with Receiver.running() as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        queue_reminder(engine, with_action=False)
        deliver_due(engine, settings)
        [request] = receiver.requests
    assert "x-tashan-signature" not in request.headers
    assert request.json()["action"] is None


def test_a_wecom_robot_gets_exactly_a_markdown_message(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    with Receiver.running() as receiver:
        add_channel(engine, ChannelKind.wecom, f"{receiver.url}/cgi-bin/webhook/send?key=k-123")
        queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(sent=1)
        [request] = receiver.requests
    assert (request.path, request.query) == ("/cgi-bin/webhook/send", {"key": "k-123"})
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {"content": f"**{TITLE}**\n\n{TEXT}"},
    }


def test_a_dingtalk_robot_gets_markdown_and_a_sign_that_verifies(
    engine: Engine, settings: Settings, seeded: SeedReport, set_clock: Callable[[str], None]
) -> None:
    secret = "SEC0123456789abcdef+/="
    set_clock("2026-11-27 10:00")
    with Receiver.running() as receiver:
        add_channel(
            engine, ChannelKind.dingtalk, f"{receiver.url}/robot/send?access_token=t-9", secret
        )
        queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(sent=1)
        [request] = receiver.requests
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {"title": TITLE, "text": f"**{TITLE}**\n\n{TEXT}"},
    }
    assert request.query["access_token"] == "t-9"
    timestamp = request.query["timestamp"]
    assert int(timestamp) == round(NOW.timestamp() * 1000)
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    sign = base64.b64encode(mac.digest()).decode()
    assert request.query["sign"] == sign
    assert f"&sign={quote_plus(sign)}" in request.raw_query  # URL-encoded, as 钉钉 requires


def test_a_robot_refusal_in_a_200_is_a_failure(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    refused = Reply(body=b'{"errcode": 93000, "errmsg": "invalid webhook url"}')
    too_fast = Reply(body=b'{"errcode": 45009, "errmsg": "api freq out of limit"}')
    with Receiver.running([refused, too_fast]) as receiver:
        add_channel(engine, ChannelKind.wecom, f"{receiver.url}/a?key=1")
        add_channel(engine, ChannelKind.wecom, f"{receiver.url}/b?key=2")
        first, second = queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(failed=1, dead=1)
    dead, failed = delivery(engine, first), delivery(engine, second)
    assert (dead.state, dead.last_status) == (DeliveryState.dead, 200)
    assert dead.last_error == "errcode 93000: invalid webhook url"
    assert (failed.state, failed.last_error) == (
        DeliveryState.failed,
        "errcode 45009: api freq out of limit",
    )


def test_a_receiver_failing_twice_gets_the_message_three_times_then_never_again(
    engine: Engine, settings: Settings, seeded: SeedReport, set_clock: Callable[[str], None]
) -> None:
    set_clock("2026-11-27 10:00")
    with Receiver.running([Reply(500), Reply(503)]) as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url, secret="k")
        [delivery_id] = queue_reminder(engine)

        assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
        first = delivery(engine, delivery_id)
        assert (first.state, first.attempts, first.last_status) == (DeliveryState.failed, 1, 500)
        assert first.next_attempt_at == NOW.replace(minute=1)
        set_clock("2026-11-27 10:00:59")
        assert deliver_due(engine, settings) == DeliveryCounts()  # not due yet
        set_clock("2026-11-27 10:01")
        assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
        assert delivery(engine, delivery_id).next_attempt_at == NOW.replace(minute=6)
        set_clock("2026-11-27 10:06")
        assert deliver_due(engine, settings) == DeliveryCounts(sent=1)
        for later in ("2026-11-27 18:00", "2026-11-30 10:00"):
            set_clock(later)
            assert deliver_due(engine, settings) == DeliveryCounts()

        requests = receiver.requests
    assert len(requests) == 3
    assert {r.headers["x-tashan-delivery"] for r in requests} == {str(delivery_id)}
    sent = delivery(engine, delivery_id)
    assert (sent.state, sent.attempts, sent.last_status, sent.last_error) == (
        DeliveryState.sent,
        3,
        200,
        None,
    )


def test_retries_grow_and_the_sixth_failure_is_final(
    engine: Engine, settings: Settings, seeded: SeedReport, set_clock: Callable[[str], None]
) -> None:
    set_clock("2026-11-27 10:00")
    moments = ["10:01", "10:06", "10:36", "12:36", "18:36"]
    with Receiver.running([Reply(502)] * 7) as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        [delivery_id] = queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
        for moment in moments[:-1]:
            set_clock(f"2026-11-27 {moment}")
            assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
        set_clock(f"2026-11-27 {moments[-1]}")
        assert deliver_due(engine, settings) == DeliveryCounts(dead=1)
        set_clock("2026-12-27 10:00")
        assert deliver_due(engine, settings) == DeliveryCounts()
        assert len(receiver.requests) == 6
    dead = delivery(engine, delivery_id)
    assert (dead.state, dead.attempts, dead.last_status) == (DeliveryState.dead, 6, 502)


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_client_error_is_dead_at_once(
    engine: Engine,
    settings: Settings,
    seeded: SeedReport,
    status: int,
    set_clock: Callable[[str], None],
) -> None:
    with Receiver.running([Reply(status, b"no such hook")]) as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        [delivery_id] = queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(dead=1)
        set_clock("2026-11-28 10:00")
        assert deliver_due(engine, settings) == DeliveryCounts()
        assert len(receiver.requests) == 1
    dead = delivery(engine, delivery_id)
    assert (dead.state, dead.attempts, dead.last_status) == (DeliveryState.dead, 1, status)
    assert dead.last_error is not None and "no such hook" in dead.last_error


def test_429_is_retried(engine: Engine, settings: Settings, seeded: SeedReport) -> None:
    with Receiver.running([Reply(429)]) as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(failed=1)


def test_a_redirect_is_not_followed(engine: Engine, settings: Settings, seeded: SeedReport) -> None:
    with Receiver.running() as elsewhere:
        moved = Reply(302, b"", {"Location": f"{elsewhere.url}/moved"})
        with Receiver.running([moved]) as receiver:
            add_channel(engine, ChannelKind.webhook, receiver.url)
            [delivery_id] = queue_reminder(engine)
            assert deliver_due(engine, settings) == DeliveryCounts(dead=1)
            assert len(receiver.requests) == 1
        assert elsewhere.requests == []
    dead = delivery(engine, delivery_id)
    assert dead.last_status == 302
    assert dead.last_error is not None and "not followed" in dead.last_error


def test_a_receiver_that_does_not_answer_fails_after_the_timeout(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    hang = threading.Event()
    with Receiver.running([Reply(hold=hang)]) as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        [delivery_id] = queue_reminder(engine)
        assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
        hang.set()
    failed = delivery(engine, delivery_id)
    assert (failed.last_status, failed.last_error) == (None, "no answer within 5 s")


def test_a_receiver_that_is_down_is_retried(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    add_channel(engine, ChannelKind.webhook, f"http://127.0.0.1:{free_port()}/hook")
    [delivery_id] = queue_reminder(engine)
    assert deliver_due(engine, settings) == DeliveryCounts(failed=1)
    failed = delivery(engine, delivery_id)
    assert failed.last_error is not None and "ConnectError" in failed.last_error


def test_a_host_outside_the_allow_list_is_not_sent_to(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    strict = settings.model_copy(update={"notify_allowed_hosts": ["qyapi.weixin.qq.com"]})
    with Receiver.running() as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        [delivery_id] = queue_reminder(engine)
        assert deliver_due(engine, strict) == DeliveryCounts(dead=1)
        assert receiver.requests == []
    dead = delivery(engine, delivery_id)
    assert dead.last_error == "127.0.0.1 is not among TASHAN_NOTIFY_ALLOWED_HOSTS"


def test_a_rolled_back_change_sends_nothing_and_wakes_no_deliverer(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    woken = threading.Event()
    wakeup.listen(woken)
    try:
        with Receiver.running() as receiver:
            add_channel(engine, ChannelKind.webhook, receiver.url)
            with pytest.raises(RuntimeError), write_session(engine) as session:
                remind(session, session.get_one(Action, 1))
                raise RuntimeError("the change fails after its message was written")
            assert not woken.is_set()
            assert deliver_due(engine, settings) == DeliveryCounts()
            assert receiver.requests == []
            queue_reminder(engine)
            assert woken.is_set()  # a kept change wakes the deliverers at once
    finally:
        wakeup.stop_listening(woken)


def test_concurrent_deliverers_send_each_delivery_once(
    engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    with Receiver.running() as receiver:
        add_channel(engine, ChannelKind.webhook, receiver.url)
        ids = [i for _ in range(25) for i in queue_reminder(engine)]

        def run(_: Any) -> DeliveryCounts:
            return deliver_due(engine, settings)

        with ThreadPoolExecutor(4) as pool:
            counts = list(pool.map(run, range(4)))

        assert sum(c.sent for c in counts) == 25
        delivered = [r.headers["x-tashan-delivery"] for r in receiver.requests]
    assert sorted(delivered, key=int) == [str(i) for i in ids]
