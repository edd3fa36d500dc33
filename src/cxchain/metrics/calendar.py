"""England & Wales bank holidays and working-day arithmetic (complaint handling timescales).

Bank holidays are derived from the rules (New Year's Day, Good Friday, Easter Monday, early May, spring and
summer bank holidays, Christmas Day and Boxing Day, each with substitute days when they fall at a weekend)
plus the known one-off changes between 2015 and 2030:

* 2020: early May bank holiday moved from Monday 4 May to Friday 8 May (VE day 75th anniversary);
* 2022: spring bank holiday moved to Thursday 2 June, extra holiday Friday 3 June (Platinum Jubilee),
  and Monday 19 September (state funeral of Queen Elizabeth II);
* 2023: Monday 8 May (coronation of King Charles III).

Easter Sunday uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher).  Years outside 2015-2030 follow
the rules only (one-offs there are not known to this module).

A *working day* is Monday-Friday and not a bank holiday.  :func:`working_days_between` counts working days
*after* the start date up to and including the end date, so a complaint received on a Monday and answered
on the following Monday took 5 working days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

__all__ = ["easter_sunday", "bank_holidays", "is_working_day", "working_days_between", "add_working_days",
           "ONE_OFFS"]

#: One-off changes: year -> (dates removed from the rules, dates added with their names).
ONE_OFFS: dict[int, tuple[tuple[date, ...], dict[date, str]]] = {
    2020: ((date(2020, 5, 4),), {date(2020, 5, 8): "Early May bank holiday (VE day)"}),
    2022: ((date(2022, 5, 30),), {date(2022, 6, 2): "Spring bank holiday",
                                   date(2022, 6, 3): "Platinum Jubilee bank holiday",
                                   date(2022, 9, 19): "Bank holiday for the State Funeral of Queen Elizabeth II"}),
    2023: ((), {date(2023, 5, 8): "Bank holiday for the coronation of King Charles III"}),
}


def easter_sunday(year: int) -> date:
    """Easter Sunday of ``year`` (Gregorian calendar), by the anonymous Gregorian algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    return d - timedelta(days=d.weekday())


@lru_cache(maxsize=256)
def _holidays(year: int) -> tuple[tuple[date, str], ...]:
    hol: dict[date, str] = {}
    ny = date(year, 1, 1)
    while ny.weekday() >= 5:
        ny += timedelta(days=1)
    hol[ny] = "New Year's Day" + (" (substitute day)" if ny.day != 1 else "")
    easter = easter_sunday(year)
    hol[easter - timedelta(days=2)] = "Good Friday"
    hol[easter + timedelta(days=1)] = "Easter Monday"
    hol[_first_monday(year, 5)] = "Early May bank holiday"
    hol[_last_monday(year, 5)] = "Spring bank holiday"
    hol[_last_monday(year, 8)] = "Summer bank holiday"
    # Christmas and Boxing Day: each moves to the next weekday not already taken.
    for day, name in ((25, "Christmas Day"), (26, "Boxing Day")):
        d = date(year, 12, day)
        while d.weekday() >= 5 or d in hol:
            d += timedelta(days=1)
        hol[d] = name + (" (substitute day)" if d.day != day else "")
    removed, added = ONE_OFFS.get(year, ((), {}))
    for d in removed:
        hol.pop(d, None)
    hol.update(added)
    return tuple(sorted(hol.items()))


def bank_holidays(year: int) -> dict[date, str]:
    """England & Wales bank holidays of ``year``: date -> name."""
    return dict(_holidays(year))


def _as_date(d: date | datetime) -> date:
    return d.date() if isinstance(d, datetime) else d


def is_working_day(d: date | datetime) -> bool:
    """Monday-Friday and not an England & Wales bank holiday."""
    d = _as_date(d)
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def working_days_between(start: date | datetime, end: date | datetime) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is before ``start``).

    >>> working_days_between(date(2025, 12, 24), date(2026, 1, 2))   # 25, 26 Dec and 1 Jan are holidays
    4
    """
    s, e = _as_date(start), _as_date(end)
    if e < s:
        return -working_days_between(e, s)
    n = 0
    d = s + timedelta(days=1)
    while d <= e:
        n += is_working_day(d)
        d += timedelta(days=1)
    return n


def add_working_days(start: date | datetime, n: int) -> date:
    """The date ``n`` working days after ``start`` (n >= 0; n == 0 gives ``start`` itself)."""
    d = _as_date(start)
    while n > 0:
        d += timedelta(days=1)
        n -= is_working_day(d)
    return d


def working_day_table(first: date, last: date) -> list[tuple[date, bool, int]]:
    """Rows (day, is_working, wd_index) from ``first`` to ``last``; ``wd_index`` counts working days up to
    and including ``day``, so working days after a up to b = index(b) - index(a)."""
    rows = []
    idx = 0
    d = first
    while d <= last:
        w = is_working_day(d)
        idx += w
        rows.append((d, w, idx))
        d += timedelta(days=1)
    return rows
