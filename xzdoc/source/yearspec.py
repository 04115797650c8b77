"""Parsing the repository's own holiday notices (``calendar.years`` in xzdoc.yaml).

Input checking only: it turns the config's plain data into :class:`YearSpec` values and
never does working-day arithmetic, which is ``xzdoc.history.calendar``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, date, datetime, timedelta

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


def example_notice(year: int | None) -> str:
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
        f"例如 {example_notice(year)}"
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
