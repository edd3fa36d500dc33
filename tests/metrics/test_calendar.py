"""England & Wales bank holidays and working days against known dates (gov.uk lists)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cxchain.metrics.calendar import (
    add_working_days,
    bank_holidays,
    easter_sunday,
    is_working_day,
    working_day_table,
    working_days_between,
)


@pytest.mark.parametrize("year,easter", [(2015, date(2015, 4, 5)), (2019, date(2019, 4, 21)), (2020, date(2020, 4, 12)),
                                         (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
                                         (2030, date(2030, 4, 21))])
def test_easter(year, easter):
    assert easter_sunday(year) == easter


def test_2026_holidays():
    assert sorted(bank_holidays(2026)) == [date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4),
                                           date(2026, 5, 25), date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28)]


def test_one_offs():
    h2020 = bank_holidays(2020)
    assert date(2020, 5, 8) in h2020 and date(2020, 5, 4) not in h2020
    h2022 = bank_holidays(2022)
    for d in (date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)):
        assert d in h2022
    assert date(2022, 5, 30) not in h2022
    assert date(2023, 5, 8) in bank_holidays(2023) and date(2023, 5, 1) in bank_holidays(2023)


def test_substitute_days():
    assert {date(2021, 12, 27), date(2021, 12, 28)} <= set(bank_holidays(2021))   # Sat/Sun Christmas
    assert {date(2022, 12, 26), date(2022, 12, 27)} <= set(bank_holidays(2022))   # Sunday Christmas
    assert date(2022, 1, 3) in bank_holidays(2022)                                 # New Year on Saturday
    assert date(2027, 12, 27) in bank_holidays(2027) and date(2027, 12, 28) in bank_holidays(2027)
    assert all(len(bank_holidays(y)) >= 8 for y in range(2015, 2031))


def test_working_days_christmas_2025():
    assert not is_working_day(date(2025, 12, 25)) and not is_working_day(date(2025, 12, 26))
    assert working_days_between(date(2025, 12, 24), date(2026, 1, 2)) == 4   # 29, 30, 31 Dec and 2 Jan
    assert add_working_days(date(2025, 12, 19), 10) == date(2026, 1, 7)


def test_working_days_easter_2026_and_ve_day():
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1      # Good Friday, weekend, Easter Monday
    assert working_days_between(datetime(2026, 3, 30, 17), datetime(2026, 4, 13, 9)) == 8
    assert not is_working_day(date(2020, 5, 8)) and is_working_day(date(2020, 5, 4))
    assert working_days_between(date(2020, 5, 4), date(2020, 5, 11)) == 4
    assert working_days_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 3)) == -5


def test_table_index_matches_counter():
    rows = working_day_table(date(2025, 12, 1), date(2026, 4, 30))
    idx = {d: i for d, _, i in rows}
    for a, b in [(date(2025, 12, 24), date(2026, 1, 2)), (date(2026, 4, 1), date(2026, 4, 15))]:
        assert idx[b] - idx[a] == working_days_between(a, b)
