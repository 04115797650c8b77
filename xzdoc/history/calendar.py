"""Chinese working-day (工作日) arithmetic for statutory deadlines.

A deadline of N 工作日 counts from the day after the event, skipping weekends
and statutory rest days, while 调休 make-up weekend days count as working
days. Rest and make-up days are fixed only by the State Council's yearly
notice, so they cannot be derived by rule: a year that no source covers must
fail closed instead of falling back to "Mon-Fri", which would silently
produce wrong legal deadlines around every holiday.

Sources, in order of precedence: years declared in the repository's config
(``calendar.years``, parsed by :func:`parse_year_specs`), then the
``chinesecalendar`` package.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, date, datetime, timedelta, timezone
from functools import cache

import chinese_calendar

from xzdoc.errors import XzdocError
from xzdoc.source.yearspec import YearSpec, example_notice, parse_year_specs  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class _YearTable:
    """A year's working days, flattened for O(1) lookup and O(log n) search."""

    first: int
    """Ordinal of 1 January."""
    flags: tuple[bool, ...]
    """flags[i]: whether day ``first + i`` is a working day."""
    prefix: tuple[int, ...]
    """prefix[i]: working days among flags[:i]; one longer than flags."""

    @property
    def last(self) -> int:
        return self.first + len(self.flags) - 1


def _table(year: int, flags: Iterable[bool]) -> _YearTable:
    flag_tuple = tuple(flags)
    prefix = [0]
    for flag in flag_tuple:
        prefix.append(prefix[-1] + flag)
    return _YearTable(date(year, 1, 1).toordinal(), flag_tuple, tuple(prefix))


def _days_of(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [
        start + timedelta(days=i) for i in range((date(year, 12, 31) - start).days + 1)
    ]


# Module-level so that the many WorkCalendar instances a validation run
# creates (one per project) share one table per year.
@cache
def _builtin_table(year: int) -> _YearTable | None:
    if not 1 <= year <= MAXYEAR:
        return None
    # Ask the package's public API, so its own coverage rule (NotImplementedError)
    # decides what is known.
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    # The days themselves come from its exported tables by is_workday's own rule: is_workday
    # checks coverage again for every date, which made this table a noticeable part of the
    # start-up of `xzdoc validate`. tests/test_calendar.py checks every covered day against it.
    workdays, holidays = chinese_calendar.workdays, chinese_calendar.holidays
    return _table(year, (d in workdays or (d.weekday() <= 4 and d not in holidays) for d in _days_of(year)))


@cache
def _builtin_range() -> str:
    # Only used to make the hint concrete; a package layout change must not
    # turn a helpful error into a crash.
    try:
        years = {d.year for d in chinese_calendar.holidays}
        return f"（当前安装的版本覆盖 {min(years)}–{max(years)} 年）"
    except (AttributeError, TypeError, ValueError):
        return ""


def _uncovered(d: date) -> XzdocError:
    return XzdocError(
        f"日期 {d.isoformat()} 所在的 {d.year} 年没有工作日历数据，无法计算工作日期限",
        hint=(
            "请在 xzdoc.yaml 的 calendar.years 下按国务院办公厅当年放假通知补充 "
            "rest（放假日）和 workdays（调休上班日），"
            f"例如 {example_notice(d.year)}；或升级 chinesecalendar 包{_builtin_range()}"
        ),
    )


class WorkCalendar:
    """Working-day arithmetic over declared years and ``chinesecalendar``."""

    def __init__(self, extra: Mapping[int, YearSpec] | None = None) -> None:
        self._extra: dict[int, YearSpec] = dict(extra or {})
        for year, spec in self._extra.items():
            # A stray date would be silently ignored by the per-year table,
            # so reject it here; user input is checked by parse_year_specs.
            strays = [d for d in spec.rest | spec.workdays if d.year != year]
            if strays:
                raise ValueError(f"YearSpec for {year} contains {min(strays)}")
        self._tables: dict[int, _YearTable] = {}

    def covers(self, year: int) -> bool:
        return year in self._extra or _builtin_table(year) is not None

    def _year(self, year: int, d: date) -> _YearTable:
        """Table for ``year``; ``d`` is the date named if it is uncovered."""
        table = self._tables.get(year)
        if table is not None:
            return table
        spec = self._extra.get(year)
        if spec is not None:
            table = _table(
                year,
                (
                    (day.weekday() < 5 and day not in spec.rest) or day in spec.workdays
                    for day in _days_of(year)
                ),
            )
        else:
            table = _builtin_table(year)
            if table is None:
                raise _uncovered(d)
        self._tables[year] = table
        return table

    def is_workday(self, d: date) -> bool:
        table = self._year(d.year, d)
        return table.flags[d.toordinal() - table.first]

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``n == 0`` returns ``start``.

        ``start`` itself is never counted (the deadline runs from the next
        day), so only years from ``start + 1 day`` onward need data.
        """
        if n < 0:
            raise XzdocError(
                f"工作日期限天数不能为负数：{n}",
                hint="期限天数应为 0 或正整数",
            )
        if n == 0:
            return start
        pos = start.toordinal() + 1
        remaining = n
        while True:
            day = date.fromordinal(pos)
            table = self._year(day.year, day)
            offset = pos - table.first
            available = table.prefix[-1] - table.prefix[offset]
            if remaining <= available:
                # First index whose running count reaches the target; the
                # working day that reaches it is the one just before.
                j = bisect_left(table.prefix, table.prefix[offset] + remaining)
                return date.fromordinal(table.first + j - 1)
            remaining -= available
            if day.year >= MAXYEAR:
                raise XzdocError(
                    f"从 {start.isoformat()} 起算 {n} 个工作日超出了可表示的日期范围"
                )
            pos = table.last + 1

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negated ``(end, start]`` if ``end < start``."""
        if end == start:
            return 0
        if end < start:
            return -self.workdays_between(end, start)
        lo = start.toordinal() + 1
        hi = end.toordinal()
        total = 0
        pos = lo
        while pos <= hi:
            day = date.fromordinal(pos)
            table = self._year(day.year, day)
            upto = min(hi, table.last)
            total += (
                table.prefix[upto - table.first + 1] - table.prefix[pos - table.first]
            )
            pos = upto + 1
        return total


_BEIJING = timezone(timedelta(hours=8))


def beijing_date(value: str) -> str:
    """An ISO 8601 timestamp as its calendar day in Beijing (UTC+8, no summer time), whatever zone it was written in.

    A bare date is kept as it is. A time that cannot be read, or that lies past year 9999 once moved to Beijing
    (git accepts such commit dates), keeps the date it was written with.
    """
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return moment.date().isoformat()
        return moment.astimezone(_BEIJING).date().isoformat()
    except (ValueError, OverflowError):
        return value[:10]
