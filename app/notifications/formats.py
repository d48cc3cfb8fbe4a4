"""Where a channel may send, what each kind of channel is sent (the HTTP request for a
message), and how to read the answer of a group robot.

- webhook: JSON {"id", "event", "level", "text", "action", "sent_at"} with X-Tashan-Event,
  X-Tashan-Delivery (the delivery's id, the same on every retry) and, with a secret,
  X-Tashan-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
- wecom (企业微信群机器人): {"msgtype": "markdown", "markdown": {"content": …}}.
- dingtalk (钉钉自定义机器人): {"msgtype": "markdown", "markdown": {"title": …, "text": …}}
  and, with a secret (加签), `timestamp` (ms) and `sign` = base64 of HMAC-SHA256(secret,
  f"{timestamp}\\n{secret}") added to the URL's query (httpx URL-encodes it).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.notifications.models import ChannelKind

# 企业微信 refuses markdown content over 4096 bytes of UTF-8.
WECOM_MAX_BYTES = 4096
# The robots' errcodes for "too many messages a minute": worth a retry, unlike the others
# (a wrong key, a refused keyword, a bad signature).
RATE_LIMITED_ERRCODES = frozenset({45009, 130101})


def receiver_problem(url: str, allowed_hosts: list[str]) -> str | None:
    """Why url may not receive messages (not http or https, no host, a host outside
    TASHAN_NOTIFY_ALLOWED_HOSTS), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not parts.hostname:
        return "the URL names no host"
    allowed = {host.lower().rstrip(".") for host in allowed_hosts}
    if allowed and parts.hostname.rstrip(".") not in allowed:
        return f"{parts.hostname} is not among TASHAN_NOTIFY_ALLOWED_HOSTS"
    return None


@dataclass(frozen=True)
class Message:
    """A notification on its way to one channel, as one attempt sends it."""

    delivery_id: int
    notification_id: int
    event: str
    level: int | None
    title: str
    text: str  # markdown
    action: dict[str, Any] | None  # the action as GET /api/v1/actions/{id} reads it


@dataclass(frozen=True)
class Outgoing:
    """The HTTP POST that sends a message."""

    url: str
    headers: dict[str, str]
    body: bytes


def build_request(
    kind: ChannelKind, url: str, secret: str | None, message: Message, now: datetime
) -> Outgoing:
    """The request that sends message to a channel of kind at url, at the instant now."""
    if kind == ChannelKind.webhook:
        return _webhook(url, secret, message, now)
    headers = {"Content-Type": "application/json"}
    if kind == ChannelKind.wecom:
        content = _truncate_utf8(_markdown(message), WECOM_MAX_BYTES)
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        return Outgoing(url, headers, _json(body))
    body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": _markdown(message)}}
    if secret:  # added to the URL's own query (its access_token)
        url = str(httpx.URL(url).copy_merge_params(dingtalk_signature(secret, now)))
    return Outgoing(url, headers, _json(body))


def _webhook(url: str, secret: str | None, message: Message, now: datetime) -> Outgoing:
    body = _json(
        {
            "id": message.notification_id,
            "event": message.event,
            "level": message.level,
            "text": message.text,
            "action": message.action,
            "sent_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
    )
    headers = {
        "Content-Type": "application/json",
        "X-Tashan-Event": message.event,
        "X-Tashan-Delivery": str(message.delivery_id),
    }
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Tashan-Signature"] = f"sha256={digest}"
    return Outgoing(url, headers, body)


def dingtalk_signature(secret: str, now: datetime) -> dict[str, str]:
    """The `timestamp` and `sign` query parameters of a 钉钉 robot with 加签, at now."""
    timestamp = str(round(now.timestamp() * 1000))
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return {"timestamp": timestamp, "sign": base64.b64encode(mac.digest()).decode()}


def _markdown(message: Message) -> str:
    """A robot's message: the title in bold, then the text."""
    return f"**{message.title}**\n\n{message.text}"


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - len("…".encode())].decode(errors="ignore") + "…"


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def robot_error(kind: ChannelKind, answer: bytes) -> tuple[int, str] | None:
    """A robot answers HTTP 200 even when it refuses a message: its errcode and errmsg when
    that is not 0, else None (also for a webhook, whose status alone counts)."""
    if kind == ChannelKind.webhook:
        return None
    try:
        parsed = json.loads(answer)
    except ValueError:
        return None
    code = parsed.get("errcode", 0) if isinstance(parsed, dict) else 0
    if not isinstance(code, int) or code == 0:
        return None
    return code, str(parsed.get("errmsg", ""))
