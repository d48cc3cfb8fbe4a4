"""The one clock of Tashan: every "now" and "today" in app/ is read from here.

It is the machine's clock, unless TASHAN_CLOCK_START moves it: then the process runs as if
it had started at that instant, and time goes on from there (rehearsing a period's reports
or 催办, demos, and tests that run the real server or CLI on a date of their choosing).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_offset = timedelta()


def start_at(instant: datetime | None) -> None:
    """Run this process's clock from instant on (None: the machine's clock)."""
    global _offset
    _offset = instant - datetime.now(UTC) if instant is not None else timedelta()


def now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC) + _offset


def today(tz: ZoneInfo) -> date:
    """Today's calendar date in time zone tz."""
    return now().astimezone(tz).date()
