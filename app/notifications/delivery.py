"""Sending deliveries: claim the due ones, send each with no transaction open, record what
the receiver said. At least once, never again after a 2xx.

A claim is a short write transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the
write lock of BEGIN IMMEDIATE) that counts the attempt and leases the delivery by moving
next_attempt_at past any send's end, so that no other process (server workers, cron) takes
it meanwhile; should this one die mid-send, the lease runs out and another retries it."""

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app import clock
from app.actions.listing import moment_for
from app.actions.reads import action_body
from app.config import Settings
from app.db import create_db_engine, write_session
from app.errors import NotFound
from app.notifications import wakeup
from app.notifications.formats import (
    RATE_LIMITED_ERRCODES,
    Message,
    Outgoing,
    build_request,
    receiver_problem,
    robot_error,
)
from app.notifications.models import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryState,
    Notification,
)

logger = logging.getLogger("tashan.notifications")

TIMEOUT_SECONDS = 5.0
# After the first failed attempt, the second comes a minute later, and so on; a failure after
# the last delay is final (dead).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
BATCH = 10  # deliveries claimed at a time, then sent one after another
# Longer than a batch's sends can take (each bounded by the timeouts of connect, write and read).
LEASE = timedelta(minutes=5)
DUE_STATES = (DeliveryState.pending, DeliveryState.failed)
DISABLED_ERROR = "not sent: the channel was disabled"


@dataclass
class DeliveryCounts:
    """What a run of deliver_due did: deliveries sent, failed (to be retried) and dead."""

    sent: int = 0
    failed: int = 0
    dead: int = 0

    def add(self, state: DeliveryState) -> None:
        setattr(self, state.value, getattr(self, state.value) + 1)


@dataclass(frozen=True)
class Outcome:
    """How one attempt went."""

    sent: bool
    retry: bool  # worth another attempt (timeouts, network errors, 429, 5xx, rate limits)
    status: int | None = None
    error: str | None = None


def deliver_due(engine: Engine, settings: Settings) -> DeliveryCounts:
    """Send every delivery due now (pending, or failed and due for a retry), BATCH at a time,
    until none is left; returns what became of them."""
    counts = DeliveryCounts()
    with _http_client() as http:
        while ids := claim_due(engine):
            for delivery_id in ids:
                counts.add(attempt(engine, settings, http, delivery_id))
    return counts


def _http_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)


def claimed_delivery(notification: Notification, channel_id: int) -> Delivery:
    """A new delivery of notification already claimed by this process, to send at once with
    send_claimed (no deliverer takes it meanwhile)."""
    assert notification.id is not None
    return Delivery(
        notification_id=notification.id,
        channel_id=channel_id,
        event=notification.event,
        action_id=notification.action_id,
        attempts=1,
        next_attempt_at=clock.now() + LEASE,
    )


def send_claimed(engine: Engine, settings: Settings, delivery_id: int) -> DeliveryState:
    """Send one delivery this process has claimed, now; its new state."""
    with _http_client() as http:
        return attempt(engine, settings, http, delivery_id)


def claim_due(engine: Engine, limit: int = BATCH) -> list[int]:
    """Lease up to limit due deliveries to this process, counting an attempt on each."""
    now = clock.now()
    due = (
        select(Delivery.id)
        .where(col(Delivery.state).in_(DUE_STATES), col(Delivery.next_attempt_at) <= now)
        # A disabled channel is sent nothing (disabling it ended its queue, but an attempt
        # under way then may still fail and ask for a retry).
        .where(col(Delivery.channel_id).in_(select(Channel.id).where(col(Channel.enabled))))
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
    )
    with Session(engine) as session:  # a plain read first: no write lock when nothing is due
        if session.exec(due.limit(1)).first() is None:
            return []
    with write_session(engine) as session:
        ids = [i for i in session.exec(due.with_for_update(skip_locked=True)).all() if i]
        if ids:
            session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(ids))
                .values(next_attempt_at=now + LEASE, attempts=col(Delivery.attempts) + 1)
            )
    return ids


def attempt(
    engine: Engine, settings: Settings, http: httpx.Client, delivery_id: int
) -> DeliveryState:
    """Send a delivery this process has leased, and record the outcome; its new state."""
    found = _message(engine, settings, delivery_id)
    if found is None:  # its channel was deleted since the claim, and the delivery with it
        return DeliveryState.dead
    channel, message = found
    refusal = receiver_problem(channel.url, settings.notify_allowed_hosts)
    if refusal is not None:
        outcome = Outcome(sent=False, retry=False, error=refusal)
    else:
        outcome = send(
            http,
            channel.kind,
            build_request(channel.kind, channel.url, channel.secret, message, clock.now()),
        )
    return record(engine, delivery_id, outcome)


def _message(
    engine: Engine, settings: Settings, delivery_id: int
) -> tuple[Channel, Message] | None:
    """The delivery's channel and message, read in a transaction closed before sending;
    None when the delivery is gone."""
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return None
        channel = session.get_one(Channel, delivery.channel_id)
        notification = session.get_one(Notification, delivery.notification_id)
        action = None
        if notification.action_id is not None:
            moment = moment_for(settings, None)
            try:
                body, _ = action_body(session.connection(), notification.action_id, moment)
                action = json.loads(body)
            except NotFound:
                action = None
        session.expunge_all()
    message = Message(
        delivery_id=delivery_id,
        notification_id=notification.id or 0,
        event=notification.event,
        level=notification.level,
        title=notification.title,
        text=notification.text,
        action=action,
    )
    return channel, message


def send(http: httpx.Client, kind: ChannelKind, request: Outgoing) -> Outcome:
    """POST request and judge the answer."""
    try:
        response = http.post(request.url, headers=request.headers, content=request.body)
    except httpx.TimeoutException:
        return Outcome(sent=False, retry=True, error=f"no answer within {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as exc:
        return Outcome(sent=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:500])
    status = response.status_code
    if response.is_success:
        refused = robot_error(kind, response.content)
        if refused is None:
            return Outcome(sent=True, retry=False, status=status)
        code, errmsg = refused
        retry = code in RATE_LIMITED_ERRCODES
        return Outcome(
            sent=False, retry=retry, status=status, error=f"errcode {code}: {errmsg}"[:500]
        )
    retry = status == 429 or status >= 500
    error = f"HTTP {status} {response.reason_phrase}: {response.text[:300]}".strip()
    if response.is_redirect:
        error = f"HTTP {status} redirect to {response.headers.get('location', '?')} (not followed)"
    return Outcome(sent=False, retry=retry, status=status, error=error[:500])


def record(engine: Engine, delivery_id: int, outcome: Outcome) -> DeliveryState:
    """Keep an attempt's outcome; a delivery once sent stays sent (a slow twin's late failure
    after its lease ran out changes nothing)."""
    now = clock.now()
    with write_session(engine) as session:
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None:  # its channel was deleted meanwhile
            return DeliveryState.dead
        if delivery.state == DeliveryState.sent:
            return DeliveryState.sent
        delivery.last_status = outcome.status
        delivery.last_error = outcome.error
        if outcome.sent:
            delivery.state, delivery.sent_at = DeliveryState.sent, now
        elif outcome.retry and delivery.attempts <= len(RETRY_DELAYS):
            delivery.state = DeliveryState.failed
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        else:
            delivery.state = DeliveryState.dead
        session.add(delivery)
        state = delivery.state
    if state != DeliveryState.sent:
        logger.warning("delivery %s %s: %s", delivery_id, state, outcome.error)
    return state


@dataclass
class Deliverer:
    """deliver_due in a thread of its own, every settings.delivery_interval_seconds and at
    once when woken (app/notifications/wakeup.py). It has an engine of its own, of one
    connection (it uses one at a time), so it never takes a connection a request needs."""

    database_url: str
    settings: Settings
    _wakeup: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        wakeup.listen(self._wakeup)
        self._thread = threading.Thread(target=self._run, name="tashan-deliverer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the send under way, if any."""
        wakeup.stop_listening(self._wakeup)
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=3 * TIMEOUT_SECONDS)

    def _run(self) -> None:
        engine = create_db_engine(self.database_url, pool_size=1, max_overflow=0)
        try:
            while not self._stopping.is_set():
                self._wakeup.clear()
                try:
                    deliver_due(engine, self.settings)
                except OperationalError as exc:  # the database is away: the next round retries
                    logger.error("delivering notifications failed: %s", exc.orig or exc)
                except Exception:
                    logger.exception("delivering notifications failed")
                self._wakeup.wait(self.settings.delivery_interval_seconds)
        finally:
            engine.dispose()
