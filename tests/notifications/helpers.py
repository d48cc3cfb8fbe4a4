"""What the notification tests share: Receiver, a real HTTP receiver on loopback that records
every request (method, path, query, headers, raw body) and answers a scripted sequence of
replies, then 200 with {"errcode": 0, "errmsg": "ok"} (what a group robot says; a webhook
ignores it); and channels and reminders written straight to the database."""

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.actions.models import Action
from app.db import write_session
from app.notifications.models import (
    Channel,
    ChannelKind,
    Delivery,
    Notification,
    NotificationEvent,
)
from app.notifications.outbox import notify
from tests.helpers import TODAY

ROBOT_OK = b'{"errcode": 0, "errmsg": "ok"}'


@dataclass(frozen=True)
class Reply:
    """One scripted answer. With hold, the receiver keeps the request open until the event
    is set (or the receiver stops): a receiver that hangs, for as long as the test wants."""

    status: int = 200
    body: bytes = ROBOT_OK
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None


@dataclass(frozen=True)
class Received:
    """A request as it arrived."""

    method: str
    path: str
    query: dict[str, str]  # decoded
    raw_query: str  # as sent, still percent-encoded
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on a free loopback port; use as a context manager (Receiver.running)."""

    def __init__(self, replies: Iterable[Reply] = ()) -> None:
        self.requests: list[Received] = []
        self._replies = list(replies)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @classmethod
    @contextmanager
    def running(cls, replies: Iterable[Reply] = ()) -> Iterator["Receiver"]:
        receiver = cls(replies)
        receiver._thread.start()
        try:
            yield receiver
        finally:
            receiver._stopping.set()
            for reply in receiver._replies:
                if reply.hold is not None:
                    reply.hold.set()
            receiver._server.shutdown()
            receiver._server.server_close()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """The requests once at least count have arrived (AssertionError after timeout)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            assert arrived, f"{len(self.requests)} of {count} requests arrived"
            return list(self.requests)

    def _next_reply(self, received: Received) -> Reply:
        with self._arrived:
            index = len(self.requests)
            self.requests.append(received)
            self._arrived.notify_all()
        return self._replies[index] if index < len(self._replies) else Reply()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                received = Received(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query)),
                    raw_query=parts.query,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
                reply = receiver._next_reply(received)
                if reply.hold is not None:
                    reply.hold.wait()
                    if receiver._stopping.is_set():
                        return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


TITLE = "【催办】推行标准地改革"
TEXT = "请区经济发展局于 2026-12-31 前办结。[查看](http://127.0.0.1:8000/actions/1)"


def add_channel(
    engine: Engine,
    kind: ChannelKind,
    url: str,
    secret: str | None = None,
    events: tuple[str, ...] = ("reminder",),
) -> int:
    with write_session(engine) as session:
        channel = Channel(
            name=f"{kind}-{url}", kind=kind, url=url, secret=secret, events=list(events)
        )
        session.add(channel)
        session.flush()
        assert channel.id is not None
        return channel.id


def remind(session: Session, action: Action | None) -> Notification:
    """A manual 催办 (level 2) about action, written in session's transaction."""
    made = notify(
        session,
        NotificationEvent.reminder,
        title=TITLE,
        text=TEXT,
        created_by="ducha-li",
        day=TODAY,
        action=action,
        level=2,
    )
    assert made is not None
    return made[0]


def queue_reminder(engine: Engine, with_action: bool = True) -> list[int]:
    """A manual 催办 about the first action (or about none) put in the outbox; the ids of its
    deliveries."""
    with write_session(engine) as session:
        action = (
            session.exec(select(Action).order_by(col(Action.id))).first() if with_action else None
        )
        notification = remind(session, action)
        ids = session.exec(
            select(Delivery.id).where(Delivery.notification_id == notification.id)
        ).all()
    return [i for i in ids if i is not None]
