"""Period arithmetic of the 五个一 cadence: ISO weeks, months, quarters, half-years, years."""

from datetime import date

import pytest

from app.reports.periods import (
    Cadence,
    describe_period,
    next_period,
    period_containing,
    period_name,
    previous_period,
)

pytestmark = [
    pytest.mark.calendar,
    pytest.mark.database_free,
]  # calendar: CI runs these at a moved clock too


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        (Cadence.weekly, date(2026, 11, 26), (date(2026, 11, 23), date(2026, 11, 29))),
        (Cadence.weekly, date(2026, 11, 23), (date(2026, 11, 23), date(2026, 11, 29))),
        (Cadence.weekly, date(2026, 11, 29), (date(2026, 11, 23), date(2026, 11, 29))),
        # an ISO week that spans the year end
        (Cadence.weekly, date(2027, 1, 1), (date(2026, 12, 28), date(2027, 1, 3))),
        (Cadence.monthly, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 2, 29))),
        (Cadence.monthly, date(2026, 12, 31), (date(2026, 12, 1), date(2026, 12, 31))),
        (Cadence.quarterly, date(2026, 3, 31), (date(2026, 1, 1), date(2026, 3, 31))),
        (Cadence.quarterly, date(2026, 4, 1), (date(2026, 4, 1), date(2026, 6, 30))),
        (Cadence.quarterly, date(2026, 11, 26), (date(2026, 10, 1), date(2026, 12, 31))),
        (Cadence.half_yearly, date(2026, 6, 30), (date(2026, 1, 1), date(2026, 6, 30))),
        (Cadence.half_yearly, date(2026, 7, 1), (date(2026, 7, 1), date(2026, 12, 31))),
        (Cadence.annual, date(2026, 11, 26), (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_period_containing(cadence: Cadence, day: date, expected: tuple[date, date]) -> None:
    assert period_containing(cadence, day) == expected


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        (Cadence.weekly, date(2027, 1, 4), (date(2026, 12, 28), date(2027, 1, 3))),
        (Cadence.monthly, date(2027, 1, 15), (date(2026, 12, 1), date(2026, 12, 31))),
        (Cadence.quarterly, date(2027, 1, 1), (date(2026, 10, 1), date(2026, 12, 31))),
        (Cadence.half_yearly, date(2026, 7, 1), (date(2026, 1, 1), date(2026, 6, 30))),
        (Cadence.annual, date(2027, 1, 1), (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_previous_period_is_the_one_that_just_ended(
    cadence: Cadence, day: date, expected: tuple[date, date]
) -> None:
    assert previous_period(cadence, day) == expected
    assert next_period(cadence, expected) == period_containing(cadence, day)


@pytest.mark.parametrize("cadence", list(Cadence))
def test_consecutive_periods_tile_the_calendar(cadence: Cadence) -> None:
    period = period_containing(cadence, date(2025, 1, 1))
    for _ in range(60):
        following = next_period(cadence, period)
        assert (following[0] - period[1]).days == 1
        assert following[0] <= following[1]
        period = following


@pytest.mark.parametrize(
    ("cadence", "day", "name"),
    [
        (Cadence.weekly, date(2026, 11, 26), "2026-W48"),
        (Cadence.weekly, date(2027, 1, 3), "2026-W53"),
        (Cadence.monthly, date(2026, 2, 3), "2026-02"),
        (Cadence.quarterly, date(2026, 11, 26), "2026-Q4"),
        (Cadence.half_yearly, date(2026, 3, 1), "2026-H1"),
        (Cadence.annual, date(2026, 3, 1), "2026"),
    ],
)
def test_period_names(cadence: Cadence, day: date, name: str) -> None:
    period = period_containing(cadence, day)
    assert period_name(cadence, period) == name
    assert describe_period(period) == name


def test_a_period_that_is_no_cadence_is_described_by_its_dates() -> None:
    assert describe_period((date(2026, 11, 1), date(2026, 11, 20))) == "2026-11-01_2026-11-20"
