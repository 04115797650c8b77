"""A project on a given day: its deadlines, its next gate, whether funds may flow.

Pure functions over a loaded Project; the rules (xzdoc/rules/lifecycle.py)
and ``xzdoc status`` both read from here so that the two never disagree.

Periods the measures give in 工作日 (第十四、二十一条) are counted with the
working-day calendar and fail closed in a year it does not cover; periods in
calendar days or on fixed dates (self-evaluation, drills, delayed acceptance)
are configuration in caps.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from xzdoc.config import GATE_ARTICLES, Config
from xzdoc.errors import XzdocError
from xzdoc.history.calendar import WorkCalendar
from xzdoc.model import Project
from xzdoc.source.yamlio import DATE_YEARS, Pos, YList, YMap, as_date

WORKDAYS, DAYS = "工作日", "天"
MUNICIPAL_CLOUD = "市级政务云"
# 第二十一条: filings without which no further funds are released: (record, date field, from stage, what).
_FILINGS = (("contract", "filed", "contracted", "建设合同"), ("supervision", "filed", "building", "监理单位"),
            ("acceptance_filing", "date", "accepted", "竣工验收报告"))


@dataclass(frozen=True)
class Deadline:
    key: str                 # contract_filing, acceptance_filing, self_evaluation.2025, om_self_evaluation.2027,
                             # acceptance, drill
    label: str
    article: str
    event: dt.date | None    # what starts the period
    period: int              # its length, in ``unit``
    unit: str                # WORKDAYS or DAYS
    due: dt.date | None      # last day allowed; None when the calendar cannot say (see ``error``)
    done: dt.date | None     # when it was met
    pos: Pos
    error: str = ""          # the calendar's fail-closed message with its remedy
    gap: int | None = None   # the year the calendar lacks, when ``error`` is set

    def decided_without_calendar(self, as_of: dt.date) -> bool | None:
        """Whether the deadline is met (True) or not yet missed (also True), judged by calendar days alone.

        N working days never end before N calendar days, so a filing within N
        calendar days is on time whatever the holidays. None when only the
        calendar can tell.
        """
        if self.event is None or self.unit != WORKDAYS:
            return None
        end = self.done or as_of
        return True if (end - self.event).days <= self.period else None

    def missed(self, as_of: dt.date) -> bool:
        """Met late, or still open after the due date."""
        return self.due is not None and (self.done or as_of) > self.due


@dataclass(frozen=True)
class Gate:
    stage: str
    label: str
    role: str | None
    members: tuple[str, ...]
    article: str


@dataclass(frozen=True)
class Reason:
    article: str
    text: str
    rule: str = ""   # the rule that reports the underlying problem itself, if any

    def __str__(self) -> str:
        return f"{self.text}（{self.article}）"


@dataclass(frozen=True)
class Funding:
    eligible: bool
    reasons: tuple[Reason, ...]

    def text(self) -> str:
        if self.eligible:
            return "可拨付"
        return "暂停拨付：" + "；".join(str(r) for r in self.reasons)


def calendar(config: Config) -> WorkCalendar:
    return WorkCalendar(config.calendar_years)


def _records(project: Project) -> YMap | None:
    value = project.data.get("records")
    return value if isinstance(value, YMap) else None


def _entry(project: Project, key: str) -> YMap | None:
    records = _records(project)
    value = records.get(key) if records else None
    return value if isinstance(value, YMap) else None


def _workday_deadline(key: str, label: str, article: str, event: dt.date, period: int, done: dt.date | None,
                      pos: Pos, cal: WorkCalendar) -> Deadline:
    try:
        return Deadline(key, label, article, event, period, WORKDAYS, cal.add_workdays(event, period), done, pos)
    except XzdocError as exc:
        error = f"{exc.message}。{exc.hint}" if exc.hint else exc.message
        gap = next((y for y in range(event.year, event.year + 2) if not cal.covers(y)), None)
        return Deadline(key, label, article, event, period, WORKDAYS, None, done, pos, error, gap)


def deadlines(project: Project, config: Config, cal: WorkCalendar, as_of: dt.date) -> list[Deadline]:
    """Every dated obligation of the project, met or not."""
    std, caps = config.standard, config.standard.caps
    out: list[Deadline] = []
    contract = _entry(project, "contract")
    signed = as_date(contract.get("signed")) if contract else None
    if contract is not None and signed:
        out.append(_workday_deadline("contract_filing", "合同备案", "第十四条", signed,
                                     int(caps.get("contract_filing_workdays", 5)), as_date(contract.get("filed")),
                                     contract.at("filed") if "filed" in contract else contract.at("signed"), cal))
    acceptance = _entry(project, "acceptance")
    accepted = as_date(acceptance.get("date")) if acceptance else None
    filing = _entry(project, "acceptance_filing")
    if acceptance is not None and accepted:
        out.append(_workday_deadline("acceptance_filing", "验收报告备案", "第二十一条", accepted,
                                     int(caps.get("acceptance_filing_workdays", 30)),
                                     as_date(filing.get("date")) if filing else None,
                                     filing.at("date") if filing else acceptance.at("date"), cal))
    if std.reached(project.stage, "approved"):
        out += _self_evaluations(project, config, as_of)
        out += _acceptance_due(project, config, accepted)
    if accepted and std.reached(project.stage, "accepted"):
        out += _om_self_evaluations(project, config, accepted, as_of)
    if std.reached(project.stage, "operating"):
        out += _drill(project, config, accepted, filing)
    return out


def _self_evaluations(project: Project, config: Config, as_of: dt.date) -> list[Deadline]:
    """第二十二条: after each budget year, up to the year now running."""
    budget = project.data.get("budget")
    years = budget.get("years") if isinstance(budget, YMap) else None
    if not isinstance(years, YMap):
        return []
    approval = _entry(project, "approval")
    start = as_date(approval.get("date")) if approval else None
    done = _recorded_evaluations(project)
    out = []
    for key in years:
        try:
            year = int(str(key))
        except ValueError:
            continue
        if year > as_of.year or year not in DATE_YEARS or (start and year < start.year):
            continue
        finished, pos = done.get(year, (None, years.keypos.get(key, years.pos)))
        due = self_evaluation_due(config.standard.caps, year)
        out.append(Deadline(f"self_evaluation.{year}", f"{year} 年度自评价", "第二十二条", dt.date(year, 12, 31),
                            (due - dt.date(year, 12, 31)).days, DAYS, due, finished, pos))
    return out


def self_evaluation_due(caps: Mapping[str, Any], year: int) -> dt.date:
    """第二十二条: the last day for the self-evaluation of ``year`` (caps.self_evaluation_due of the next year)."""
    month, day = (int(x) for x in str(caps.get("self_evaluation_due", "03-31")).split("-"))
    return dt.date(year + 1, month, day)


def _recorded_evaluations(project: Project) -> dict[int, tuple[dt.date | None, Pos]]:
    records = _records(project)
    entries = records.get("self_evaluations") if records else None
    done: dict[int, tuple[dt.date | None, Pos]] = {}
    if isinstance(entries, YList):
        for i, entry in enumerate(entries):
            if isinstance(entry, YMap) and type(entry.get("year")) is int:
                done[entry["year"]] = (as_date(entry.get("date")), entries.at(i))
    return done


def om_years(project: Project, accepted: dt.date, as_of: dt.date) -> list[int]:
    """The years of O&M funds after acceptance, up to the one now running: those that are not budget years."""
    budget = project.data.get("budget")
    years = budget.get("years") if isinstance(budget, YMap) else None
    planned = {str(y) for y in years} if isinstance(years, YMap) else set()
    return [y for y in range(accepted.year, as_of.year + 1) if str(y) not in planned and y in DATE_YEARS]


def _om_self_evaluations(project: Project, config: Config, accepted: dt.date, as_of: dt.date) -> list[Deadline]:
    """第二十二条 in operation: each O&M year is evaluated by the same date as a budget year."""
    done = _recorded_evaluations(project)
    where = _entry(project, "acceptance")
    fallback = where.at("date") if where is not None and "date" in where else project.data.pos
    out = []
    for year in om_years(project, accepted, as_of):
        finished, pos = done.get(year, (None, fallback))
        due = self_evaluation_due(config.standard.caps, year)
        out.append(Deadline(f"om_self_evaluation.{year}", f"{year} 年度自评价（运行维护）", "第二十二条",
                            dt.date(year, 12, 31), (due - dt.date(year, 12, 31)).days, DAYS, due, finished, pos))
    return out


def _acceptance_due(project: Project, config: Config, accepted: dt.date | None) -> list[Deadline]:
    """第二十四条: acceptance long delayed past the approved end."""
    approval = _entry(project, "approval")
    planned = as_date(approval.get("planned_end")) if approval else None
    if approval is None or planned is None:
        return []
    days = int(config.standard.caps.get("acceptance_overdue_days", 180))
    return [Deadline("acceptance", "竣工验收", "第二十四条", planned, days, DAYS, planned + dt.timedelta(days=days),
                     accepted, approval.at("planned_end"))]


def _drill(project: Project, config: Config, accepted: dt.date | None, filing: YMap | None) -> list[Deadline]:
    """第三十二条: a drill at least every ``drill_interval_days`` once operating."""
    security = project.data.get("security")
    drills = security.get("drills") if isinstance(security, YMap) else None
    # One date per entry (None for an entry that is not a mapping), so an index into dates is one into drills.
    dates = [as_date(x.get("date")) if isinstance(x, YMap) else None for x in drills] if isinstance(drills, YList) else []
    # The clock runs from the last drill: entering operation does not restart it. Without any drill it runs
    # from the emergency plan (drills are due from building on), else from acceptance.
    plan = security.get("emergency_plan") if isinstance(security, YMap) else None
    planned = as_date(plan.get("date")) if isinstance(plan, YMap) else None
    anchor = max((d for d in dates if d), default=None) or planned or accepted or \
        (as_date(filing.get("date")) if filing else None)
    if anchor is None:
        return []
    days = int(config.standard.caps.get("drill_interval_days", 366))
    # The finding belongs at the last drill, or where the first one is to be written.
    last = max(((d, i) for i, d in enumerate(dates) if d), default=None)
    if last is not None and isinstance(drills, YList):
        pos = drills[last[1]].at("date")
    elif isinstance(security, YMap):
        pos = security.keypos.get("drills") or project.data.keypos.get("security") or security.pos
    else:
        pos = project.data.pos
    return [Deadline("drill", "应急演练", "第三十二条", anchor, days, DAYS, anchor + dt.timedelta(days=days), None, pos)]


def left(deadline: Deadline, cal: WorkCalendar, as_of: dt.date) -> tuple[int | None, str, str]:
    """Working days from ``as_of`` to the due date (negative: overdue), the unit, and any calendar problem.

    Falls back to calendar days, labelled so, where the working-day calendar
    has no data: a count of days is still true, a guessed working-day count
    would not be.
    """
    if deadline.due is None:
        return None, WORKDAYS, deadline.error
    try:
        return cal.workdays_between(as_of, deadline.due), WORKDAYS, ""
    except XzdocError as exc:
        if deadline.unit == WORKDAYS:
            return None, WORKDAYS, exc.message
        return (deadline.due - as_of).days, DAYS, exc.message


def next_gate(config: Config, stage: str) -> Gate | None:
    """The next stage in the lifecycle and whose merge it needs; None at the end or when terminated."""
    std = config.standard
    order = std.stage_order(stage)
    if order < 0:
        return None
    ahead = [s for s in std.stages if std.stage_order(s.name) == order + 1]
    if not ahead:
        return None
    target = ahead[0]
    role = config.gates.get(target.name)
    members = tuple(a.name for a in config.members(role)) if role else ()
    return Gate(target.name, target.label, role, members, GATE_ARTICLES.get(target.name, ""))


def funding(project: Project, config: Config, as_of: dt.date, held: Iterable[Reason] = ()) -> Funding:
    """Whether construction or O&M funds may be released (第五、十、二十一、二十四、二十八条), with every reason not.

    ``held``: what the approval history holds against the project (第二十四条), from ``art24.funding_holds``.
    """
    std = config.standard
    reasons: list[Reason] = []
    stage = project.stage
    if stage == "terminated":
        reasons.append(Reason("第二十四条", "项目已终止"))
    elif not std.reached(stage, "approved"):
        reasons.append(Reason("第十条", f"尚未批复立项（当前阶段：{label_of(config, stage)}）"))
    for key, field, needed, what in _FILINGS:
        entry = _entry(project, key)
        if std.reached(stage, needed) and not (entry and entry.get(field)):
            reasons.append(Reason("第二十一条", f"{what}未备案"))
    if std.reached(stage, "operating"):
        reasons += _evaluation(project, config, as_of)
    reasons += _systems(project, std.reached(stage, "operating"))
    reasons += held
    return Funding(not reasons, tuple(dict.fromkeys(reasons)))


def _evaluation(project: Project, config: Config, as_of: dt.date) -> list[Reason]:
    records = _records(project)
    entries = records.get("evaluations") if records else None
    dates = [as_date(e.get("date")) for e in entries if isinstance(e, YMap)] if isinstance(entries, YList) else []
    latest = max((d for d in dates if d and d <= as_of), default=None)
    valid = int(config.standard.caps.get("evaluation_valid_days", 366))
    if latest is None:
        return [Reason("第五条", "没有项目应用评估结果，运维经费依据评估结果拨付")]
    if (as_of - latest).days > valid:
        return [Reason("第五条", f"最近一次应用评估（{latest.isoformat()}）已超过 {valid} 天")]
    return []


def _systems(project: Project, operating: bool) -> list[Reason]:
    out = []
    systems = project.data.get("systems")
    for system in systems if isinstance(systems, YList) else ():
        if not isinstance(system, YMap) or system.get("action") == "下线":
            continue
        name = str(system.get("name") or system.get("id") or "")
        cloud = system.get("cloud")
        if cloud not in (None, MUNICIPAL_CLOUD) and not str(system.get("cloud_exemption") or "").strip():
            out.append(Reason("第二十八条", f"信息系统“{name}”未部署在市级政务云", "art28.cloud"))
        existing = operating or system.get("action") in ("升级", "整合")
        if existing and not system.get("shares_with"):
            out.append(Reason("第十条", f"已有信息系统“{name}”未实现数据共享，不拨付运维经费", "art10.system-sharing"))
    return out


def label_of(config: Config, stage: str) -> str:
    found = config.standard.stage(stage)
    return found.label if found else stage

