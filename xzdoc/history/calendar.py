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

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, date, datetime, timedelta
from functools import cache

import chinese_calendar

from xzdoc.errors import XzdocError

_WEEKDAY_NAMES = ("一", "二", "三", "四", "五", "六", "日")

# Strict on purpose: date.fromisoformat in 3.11 also accepts "20270101" and
# week dates, which in a holiday list are far more likely typos than intent.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_FIELDS = ("rest", "workdays")


@dataclass(frozen=True)
class YearSpec:
    """One year's State Council holiday notice."""

    rest: frozenset[date]
    """Statutory rest days; may include weekdays."""
    workdays: frozenset[date]
    """调休 make-up working days: weekend days that are worked."""


def _example(year: int | None) -> str:
    # Placeholders rather than plausible dates: users copy hints verbatim, and
    # a realistic-looking guess for an unpublished year is exactly the silent
    # error that failing closed exists to prevent.
    y = str(year) if year is not None else "YYYY"
    return (
        f'calendar: {{years: {{{y}: {{rest: ["{y}-01-01", "{y}-MM-DD..{y}-MM-DD"], '
        f'workdays: ["{y}-MM-DD"]}}}}}}'
    )


def _form_hint(year: int | None) -> str:
    return (
        "正确写法：每年一项，rest 列放假日、workdays 列调休上班日，"
        "日期写作 YYYY-MM-DD，连续多天可写作 YYYY-MM-DD..YYYY-MM-DD（含两端），"
        f"例如 {_example(year)}"
    )


def _parse_year_key(key: object, path: str) -> int:
    # bool is an int subclass; a YAML key like `yes` must not become year 1.
    if isinstance(key, int) and not isinstance(key, bool):
        year = key
    elif isinstance(key, str) and re.fullmatch(r"\d{4}", key.strip()):
        year = int(key.strip())
    else:
        raise XzdocError(
            f"calendar.years 的键 {key!r} 不是四位数年份",
            path=path,
            hint=_form_hint(None),
        )
    # Four digits only: a key like 27 is a typo for 2027, not the year 27.
    if not 1000 <= year <= MAXYEAR:
        raise XzdocError(
            f"calendar.years 的键 {key!r} 不是四位数年份",
            path=path,
            hint=_form_hint(None),
        )
    return year


def _parse_one_date(text: str, where: str, year: int, path: str) -> date:
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise XzdocError(
        f"{where} 中的 {text!r} 不是合法日期",
        path=path,
        hint=_form_hint(year),
    )


def _parse_items(value: object, where: str, year: int, path: str) -> set[date]:
    # A bare scalar (e.g. `rest: 2027-01-01`) is rejected rather than wrapped:
    # it usually means the rest of the list was lost in editing.
    if not isinstance(value, (list, tuple)):
        raise XzdocError(
            f"{where} 应为日期列表，实际是 {type(value).__name__}",
            path=path,
            hint=_form_hint(year),
        )
    days: set[date] = set()
    for item in value:
        if isinstance(item, datetime):
            # YAML turns "2027-01-01 08:00" into a datetime; a time of day in
            # a holiday list signals a mistake, not a date.
            raise XzdocError(
                f"{where} 中的 {item} 带有时刻，应只写日期",
                path=path,
                hint=_form_hint(year),
            )
        if isinstance(item, date):
            span = [item]
        elif isinstance(item, str):
            text = item.strip()
            if ".." in text:
                left, _, right = text.partition("..")
                first = _parse_one_date(left.strip(), where, year, path)
                last = _parse_one_date(right.strip(), where, year, path)
                if last < first:
                    raise XzdocError(
                        f"{where} 中的区间 {text!r} 起始日期晚于结束日期",
                        path=path,
                        hint=_form_hint(year),
                    )
                span = [
                    first + timedelta(days=i) for i in range((last - first).days + 1)
                ]
            else:
                span = [_parse_one_date(text, where, year, path)]
        else:
            raise XzdocError(
                f"{where} 中的 {item!r} 不是日期",
                path=path,
                hint=_form_hint(year),
            )
        for d in span:
            if d.year != year:
                raise XzdocError(
                    f"{where} 中的日期 {d.isoformat()} 不在 {year} 年内",
                    path=path,
                    hint=_form_hint(year)
                    + "；跨年的假期请把各自年份的日期分别写在对应年份下",
                )
        days.update(span)
    return days


def _parse_year_spec(year: int, value: object, path: str) -> YearSpec:
    where = f"calendar.years.{year}"
    if not isinstance(value, Mapping):
        raise XzdocError(
            f"{where} 应为包含 rest 和 workdays 的映射",
            path=path,
            hint=_form_hint(year),
        )
    unknown = [str(k) for k in value if k not in _FIELDS]
    if unknown:
        raise XzdocError(
            f"{where} 含未知字段 {', '.join(unknown)}，只允许 rest 和 workdays",
            path=path,
            hint=_form_hint(year),
        )
    # Both fields are mandatory: a forgotten `workdays` would silently drop
    # every make-up day and shorten deadlines, so "none this year" must be
    # said explicitly with an empty list.
    for field in _FIELDS:
        if field not in value:
            raise XzdocError(
                f"{where} 缺少 {field}",
                path=path,
                hint=_form_hint(year) + "；若当年确无调休上班日，请写 workdays: []",
            )
    rest = _parse_items(value["rest"], f"{where}.rest", year, path)
    workdays = _parse_items(value["workdays"], f"{where}.workdays", year, path)
    # Every notice since 1949 has rest days (元旦 at least); an empty list is
    # a placeholder that would otherwise pass for real data.
    if not rest:
        raise XzdocError(
            f"{where}.rest 为空；每年都有法定放假日，请按国务院办公厅当年放假通知填写",
            path=path,
            hint=_form_hint(year),
        )
    both = sorted(rest & workdays)
    if both:
        raise XzdocError(
            f"{where} 中的日期 {both[0].isoformat()} 同时出现在 rest 和 workdays 中",
            path=path,
            hint=_form_hint(year),
        )
    for d in sorted(workdays):
        # A weekday is already a working day, so listing it can only be a
        # mistyped date whose intended weekend make-up day is now missing.
        if d.weekday() < 5:
            raise XzdocError(
                f"{where}.workdays 中的 {d.isoformat()} 是星期{_WEEKDAY_NAMES[d.weekday()]}，"
                "本来就是工作日；workdays 只列调休上班的星期六、星期日",
                path=path,
                hint=_form_hint(year),
            )
    return YearSpec(rest=frozenset(rest), workdays=frozenset(workdays))


def parse_year_specs(
    raw: Mapping[object, object], path: str = "xzdoc.yaml"
) -> dict[int, YearSpec]:
    """Parse the plain-dict value of config key ``calendar.years``.

    Example: ``{2027: {"rest": ["2027-01-01", "2027-02-10..2027-02-17"],
    "workdays": ["2027-02-07"]}}``. Items are ISO dates (``str`` or
    ``datetime.date``) or inclusive ranges ``"A..B"``; keys are ``int`` or
    ``str`` years. Bad input raises :class:`XzdocError`.
    """
    if not isinstance(raw, Mapping):
        raise XzdocError(
            f"calendar.years 应为“年份: 设置”的映射，实际是 {type(raw).__name__}",
            path=path,
            hint=_form_hint(None),
        )
    specs: dict[int, YearSpec] = {}
    for key, value in raw.items():
        year = _parse_year_key(key, path)
        # 2027 and "2027" both parse; keeping either silently would make the
        # result depend on dict order.
        if year in specs:
            raise XzdocError(
                f"calendar.years 重复声明了 {year} 年",
                path=path,
                hint=_form_hint(year),
            )
        specs[year] = _parse_year_spec(year, value, path)
    return specs


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
    # Ask the package's public API rather than reading its data dicts, so its
    # own coverage rule (NotImplementedError) decides what is known.
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    return _table(year, (bool(chinese_calendar.is_workday(d)) for d in _days_of(year)))


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
            f"例如 {_example(d.year)}；或升级 chinesecalendar 包{_builtin_range()}"
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
