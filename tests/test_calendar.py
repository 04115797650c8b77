"""Tests for xzdoc.calendar: 工作日 deadline arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

# Same class as holidays.China, which is a lazy loader mypy cannot see through.
from holidays.countries.china import China

from xzdoc.errors import XzdocError
from xzdoc.history.calendar import WorkCalendar, YearSpec, parse_year_specs


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# Typed in by hand from the State Council's 2026 notice (via the bureau's
# standard), so these tests check chinesecalendar rather than restate it.
REST_2026 = [
    *_span(date(2026, 1, 1), date(2026, 1, 3)),
    *_span(date(2026, 2, 15), date(2026, 2, 23)),
    *_span(date(2026, 4, 4), date(2026, 4, 6)),
    *_span(date(2026, 5, 1), date(2026, 5, 5)),
    *_span(date(2026, 6, 19), date(2026, 6, 21)),
    *_span(date(2026, 9, 25), date(2026, 9, 27)),
    *_span(date(2026, 10, 1), date(2026, 10, 7)),
]
MAKEUP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# -- the bureau's worked example and the 2026 reference ----------------------


def test_national_day_2026_example(cal: WorkCalendar) -> None:
    signed = date(2026, 9, 28)
    assert signed.weekday() == 0
    assert [cal.add_workdays(signed, k) for k in range(1, 6)] == [
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),
    ]
    deadline = cal.add_workdays(signed, 5)
    assert deadline == date(2026, 10, 10)
    assert deadline.weekday() == 5  # a 调休 Saturday
    assert cal.workdays_between(signed, deadline) == 5


def test_reference_rest_days_2026_are_not_workdays(cal: WorkCalendar) -> None:
    assert len(REST_2026) == 33
    working = [d for d in REST_2026 if cal.is_workday(d)]
    assert working == []


def test_reference_makeup_days_2026_are_workdays(cal: WorkCalendar) -> None:
    assert all(d.weekday() >= 5 for d in MAKEUP_2026)
    not_working = [d for d in MAKEUP_2026 if not cal.is_workday(d)]
    assert not_working == []


def test_every_other_2026_day_follows_the_weekday_rule(cal: WorkCalendar) -> None:
    rest, makeup = set(REST_2026), set(MAKEUP_2026)
    wrong = [
        d
        for d in _span(date(2026, 1, 1), date(2026, 12, 31))
        if cal.is_workday(d) != ((d.weekday() < 5 and d not in rest) or d in makeup)
    ]
    assert wrong == []


# -- independent cross-check against the `holidays` package ------------------


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_weekday_holidays_from_holidays_package_are_rest_days(
    cal: WorkCalendar, year: int
) -> None:
    # holidays' China lists the statutory days plus the weekday days off that
    # 调休 creates ("Day off (substituted from …)"), and no weekend make-up
    # days, so every Mon–Fri it lists must be a non-working day.
    listed = China(years=year)
    weekday_holidays = sorted(d for d in listed if d.year == year and d.weekday() < 5)
    # Guard against the check passing vacuously if the package changes shape.
    assert len(weekday_holidays) >= 10
    assert [d for d in weekday_holidays if cal.is_workday(d)] == []


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_weekend_workdays_from_holidays_package_are_workdays(
    cal: WorkCalendar, year: int
) -> None:
    # weekend_workdays also carries a few unrelated historic dates regardless
    # of `years`, hence the filter.
    listed = China(years=year)
    makeup = sorted(d for d in listed.weekend_workdays if d.year == year)
    assert makeup
    assert all(d.weekday() >= 5 for d in makeup)
    assert [d for d in makeup if not cal.is_workday(d)] == []


# -- arithmetic ---------------------------------------------------------------


def test_add_workdays_across_spring_festival_2026(cal: WorkCalendar) -> None:
    thursday = date(2026, 2, 12)
    assert [cal.add_workdays(thursday, k) for k in range(1, 6)] == [
        date(2026, 2, 13),
        date(2026, 2, 14),  # make-up Saturday before the break
        date(2026, 2, 24),  # first day back after 2/15–2/23
        date(2026, 2, 25),
        date(2026, 2, 26),
    ]
    # Starting inside the break: the first working day is the day back.
    assert cal.add_workdays(date(2026, 2, 17), 1) == date(2026, 2, 24)
    # 2/27 Fri, 2/28 make-up Saturday, then 3/2 Mon.
    assert cal.add_workdays(date(2026, 2, 26), 3) == date(2026, 3, 2)
    assert cal.workdays_between(date(2026, 2, 14), date(2026, 2, 24)) == 1


def test_add_workdays_crosses_year_boundary_onto_makeup_sunday(
    cal: WorkCalendar,
) -> None:
    # 2026-01-01..03 are rest days and Sunday 2026-01-04 is worked.
    assert cal.add_workdays(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert cal.workdays_between(date(2025, 12, 31), date(2026, 1, 4)) == 1


def test_add_workdays_zero_and_negative(cal: WorkCalendar) -> None:
    sunday = date(2026, 3, 1)
    assert cal.add_workdays(sunday, 0) == sunday
    with pytest.raises(XzdocError):
        cal.add_workdays(sunday, -1)


def test_workdays_between_sign_conventions(cal: WorkCalendar) -> None:
    monday, friday, saturday = date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 7)
    assert cal.workdays_between(monday, monday) == 0
    # (start, end]: the start day is excluded, the end day included.
    assert cal.workdays_between(monday, friday) == 4
    assert cal.workdays_between(friday, monday) == -4
    assert cal.workdays_between(monday, saturday) == 4
    assert cal.workdays_between(saturday, monday) == -4
    assert cal.workdays_between(friday, saturday) == 0
    assert cal.workdays_between(saturday, date(2026, 3, 9)) == 1
    # National Day week, backwards.
    assert cal.workdays_between(date(2026, 10, 10), date(2026, 9, 28)) == -5


def test_workdays_between_inverts_add_workdays(cal: WorkCalendar) -> None:
    # Stops early enough that even n=60 stays inside covered 2026.
    for day in _span(date(2024, 1, 1), date(2026, 6, 30))[::3]:
        for n in (1, 5, 20, 60):
            assert cal.workdays_between(day, cal.add_workdays(day, n)) == n


def test_multi_year_count_matches_day_by_day(cal: WorkCalendar) -> None:
    first, last = date(2024, 6, 15), date(2026, 6, 15)
    expected = sum(cal.is_workday(d) for d in _span(first + timedelta(days=1), last))
    assert cal.workdays_between(first, last) == expected
    assert cal.workdays_between(last, first) == -expected


# -- failing closed ---------------------------------------------------------


def test_uncovered_year_fails_closed_with_remedy(cal: WorkCalendar) -> None:
    assert not cal.covers(2031)
    assert cal.covers(2026)
    with pytest.raises(XzdocError) as info:
        cal.is_workday(date(2031, 3, 3))
    err = info.value
    assert "2031-03-03" in err.message
    assert "2031 年没有工作日历数据" in err.message
    assert err.hint is not None
    assert "calendar.years" in err.hint
    assert "rest" in err.hint and "workdays" in err.hint
    assert "国务院办公厅" in err.hint
    assert "chinesecalendar" in err.hint


def test_arithmetic_into_uncovered_year_fails_closed() -> None:
    # 2030 declared, 2031 not: the walk must stop at the year boundary
    # rather than assume Mon–Fri.
    cal = WorkCalendar(
        parse_year_specs({2030: {"rest": ["2030-01-01"], "workdays": []}})
    )
    assert cal.add_workdays(date(2030, 12, 30), 1) == date(2030, 12, 31)
    with pytest.raises(XzdocError) as info:
        cal.add_workdays(date(2030, 12, 30), 2)
    assert "2031-01-01" in info.value.message
    with pytest.raises(XzdocError):
        cal.workdays_between(date(2030, 12, 1), date(2031, 1, 5))
    with pytest.raises(XzdocError):
        cal.workdays_between(date(2031, 1, 5), date(2030, 12, 1))


# -- declared years -----------------------------------------------------------


def test_declared_extra_year() -> None:
    # Invented data for a year no source covers; not a real notice.
    specs = parse_year_specs(
        {
            "2031": {
                "rest": ["2031-01-01", "2031-02-10..2031-02-16"],
                "workdays": ["2031-02-08", date(2031, 2, 22)],
            }
        }
    )
    assert specs[2031].rest == frozenset(
        [date(2031, 1, 1), *_span(date(2031, 2, 10), date(2031, 2, 16))]
    )
    cal = WorkCalendar(specs)
    assert cal.covers(2031)
    saturday = date(2031, 2, 8)
    assert saturday.weekday() == 5
    assert cal.is_workday(saturday)  # make-up Saturday
    assert not cal.is_workday(date(2031, 2, 10))  # rest Monday
    assert not cal.is_workday(date(2031, 1, 1))  # rest Wednesday
    assert cal.is_workday(date(2031, 1, 2))  # ordinary Thursday
    assert not cal.is_workday(date(2031, 1, 4))  # ordinary Saturday
    # Fri 2/7 -> Sat 2/8 (make-up), then the break, then Mon 2/17.
    assert cal.add_workdays(date(2031, 2, 7), 1) == saturday
    assert cal.add_workdays(date(2031, 2, 7), 2) == date(2031, 2, 17)
    assert cal.workdays_between(date(2031, 2, 7), date(2031, 2, 17)) == 2


def test_declared_year_overrides_chinesecalendar() -> None:
    override = WorkCalendar(
        {2026: YearSpec(rest=frozenset([date(2026, 10, 1)]), workdays=frozenset())}
    )
    builtin = WorkCalendar()
    assert not override.is_workday(date(2026, 10, 1))
    assert override.is_workday(date(2026, 10, 2))  # rest per chinesecalendar
    assert not override.is_workday(date(2026, 10, 10))  # make-up per chinesecalendar
    assert not builtin.is_workday(date(2026, 10, 2))
    assert builtin.is_workday(date(2026, 10, 10))
    # Undeclared years still come from chinesecalendar.
    assert override.add_workdays(date(2025, 12, 31), 1) == date(2026, 1, 1)
    assert not override.is_workday(date(2025, 10, 1))


def test_parse_year_specs_accepts_int_and_str_keys_and_dates() -> None:
    specs = parse_year_specs(
        {
            2032: {"rest": [date(2032, 1, 1)], "workdays": ()},
            "2033": {
                "rest": [" 2033-01-01 .. 2033-01-03 "],
                "workdays": ["2033-01-08"],
            },
        }
    )
    assert set(specs) == {2032, 2033}
    assert specs[2032] == YearSpec(frozenset([date(2032, 1, 1)]), frozenset())
    assert specs[2033].rest == frozenset(_span(date(2033, 1, 1), date(2033, 1, 3)))
    assert specs[2033].workdays == frozenset([date(2033, 1, 8)])


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({2027: {"rest": ["2026-12-31"], "workdays": []}}, "不在 2027 年内"),
        (
            {2027: {"rest": ["2027-12-30..2028-01-02"], "workdays": []}},
            "不在 2027 年内",
        ),
        ({2027: {"rest": [date(2028, 1, 1)], "workdays": []}}, "不在 2027 年内"),
        ({2027: {"rest": ["2027-13-01"], "workdays": []}}, "不是合法日期"),
        ({2027: {"rest": ["2027/01/01"], "workdays": []}}, "不是合法日期"),
        ({2027: {"rest": ["20270101"], "workdays": []}}, "不是合法日期"),
        ({2027: {"rest": ["2027-02-30"], "workdays": []}}, "不是合法日期"),
        (
            {2027: {"rest": ["2027-02-17..2027-02-10"], "workdays": []}},
            "起始日期晚于结束日期",
        ),
        ({2027: {"rest": [20270101], "workdays": []}}, "不是日期"),
        ({2027: {"rest": "2027-01-01", "workdays": []}}, "应为日期列表"),
        ({2027: {"rest": ["2027-01-01"]}}, "缺少 workdays"),
        ({2027: {"rest": [], "workdays": []}}, "rest 为空"),
        ({2027: {"rest": ["2027-01-01"], "workday": []}}, "未知字段 workday"),
        (
            {2027: {"rest": ["2027-01-01"], "workdays": ["2027-01-06"]}},
            "本来就是工作日",
        ),
        (
            {2027: {"rest": ["2027-01-02"], "workdays": ["2027-01-02"]}},
            "同时出现在 rest 和 workdays 中",
        ),
        ({2027: ["2027-01-01"]}, "应为包含 rest 和 workdays 的映射"),
        ({"27": {"rest": ["2027-01-01"], "workdays": []}}, "不是四位数年份"),
        ({True: {"rest": ["2027-01-01"], "workdays": []}}, "不是四位数年份"),
        (
            {
                2027: {"rest": ["2027-01-01"], "workdays": []},
                "2027": {"rest": ["2027-01-01"], "workdays": []},
            },
            "重复声明了 2027 年",
        ),
    ],
)
def test_parse_year_specs_rejects_bad_input(
    raw: dict[object, object], fragment: str
) -> None:
    with pytest.raises(XzdocError) as info:
        parse_year_specs(raw, path="projects/demo/xzdoc.yaml")
    err = info.value
    assert fragment in err.message
    assert err.path == "projects/demo/xzdoc.yaml"
    assert err.hint is not None
    assert "YYYY-MM-DD..YYYY-MM-DD" in err.hint
    assert "calendar: {years:" in err.hint


def test_parse_year_specs_rejects_non_mapping() -> None:
    with pytest.raises(XzdocError) as info:
        parse_year_specs(["2027-01-01"])  # type: ignore[arg-type]
    assert info.value.path == "xzdoc.yaml"


def test_workcalendar_rejects_spec_dates_outside_their_year() -> None:
    with pytest.raises(ValueError):
        WorkCalendar({2031: YearSpec(frozenset([date(2030, 12, 31)]), frozenset())})


def test_every_covered_day_is_what_chinesecalendar_says() -> None:
    """The built-in tables are read from chinesecalendar's data; its own is_workday must agree on every day."""
    import chinese_calendar

    cal = WorkCalendar()
    years = sorted({d.year for d in chinese_calendar.holidays})
    assert years
    for year in years:
        assert cal.covers(year)
        for day in _span(date(year, 1, 1), date(year, 12, 31)):
            assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
    assert not cal.covers(years[0] - 1) and not cal.covers(years[-1] + 1)
