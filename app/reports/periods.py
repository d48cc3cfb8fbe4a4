"""The 五个一 cadence: the calendar periods reports cover, in the deployment time zone."""

from datetime import date, timedelta
from enum import StrEnum


class Cadence(StrEnum):
    """How often a schedule reports: 一周一汇总 … 全年一考核."""

    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half-yearly"
    annual = "annual"


CADENCE_LABELS = {
    Cadence.weekly: "一周一汇总",
    Cadence.monthly: "一月一通报",
    Cadence.quarterly: "一季一排名",
    Cadence.half_yearly: "半年一评比",
    Cadence.annual: "全年一考核",
}

_MONTHS_PER_PERIOD = {
    Cadence.monthly: 1,
    Cadence.quarterly: 3,
    Cadence.half_yearly: 6,
    Cadence.annual: 12,
}


def period_containing(cadence: Cadence, day: date) -> tuple[date, date]:
    """The first and last day of the cadence's period that contains day (ISO weeks)."""
    if cadence == Cadence.weekly:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    months = _MONTHS_PER_PERIOD[cadence]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return start, _add_months(start, months) - timedelta(days=1)


def previous_period(cadence: Cadence, day: date) -> tuple[date, date]:
    """The period that ended just before the one containing day."""
    start, _ = period_containing(cadence, day)
    return period_containing(cadence, start - timedelta(days=1))


def next_period(cadence: Cadence, period: tuple[date, date]) -> tuple[date, date]:
    """The period right after period."""
    return period_containing(cadence, period[1] + timedelta(days=1))


def period_name(cadence: Cadence, period: tuple[date, date]) -> str:
    """A short name for file names: 2026-W48, 2026-11, 2026-Q4, 2026-H2, 2026."""
    start = period[0]
    if cadence == Cadence.weekly:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if cadence == Cadence.monthly:
        return f"{start.year}-{start.month:02d}"
    if cadence == Cadence.quarterly:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if cadence == Cadence.half_yearly:
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    return str(start.year)


def describe_period(period: tuple[date, date]) -> str:
    """The name of a period if it is one of the cadence's, else its two dates."""
    for cadence in Cadence:
        if period_containing(cadence, period[0]) == period:
            return period_name(cadence, period)
    return f"{period[0].isoformat()}_{period[1].isoformat()}"


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, 1)
