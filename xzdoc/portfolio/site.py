"""The portfolio dashboard: one self-contained HTML page, from the same data as ``status`` and ``catalog``.

``build`` gathers the page's data as frozen records, geometry of the charts
included; the markup lives in templates/site/ (autoescaped Jinja, found
through the loader chain so a bureau can restyle it). The page loads nothing:
styles are inline, charts are inline SVG, and there is no script, so it
works from file:// on a machine with no network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from xzdoc.config import Config
from xzdoc.model import Project
from xzdoc.portfolio import catalog as portfolio
from xzdoc.portfolio import metadata
from xzdoc.portfolio import status as status_rows
from xzdoc.render import templates
from xzdoc.source import register
from xzdoc.source.yamlio import YMap, as_date

TEMPLATE = "site/index.html.j2"
PALETTE = ("#2f6db5", "#d9822b", "#3c9a5f", "#b8474f", "#7d5ba6", "#4aa3a2", "#a0793d", "#c25b9a", "#5f7480", "#8aa13a")
# Dated records shown on the timeline: (record, field, label).
_EVENTS = (("review", "date", "审核意见"), ("finance_review", "date", "预算审定"), ("approval", "date", "批复"),
           ("contract", "signed", "合同签订"), ("contract", "filed", "合同备案"), ("supervision", "filed", "监理备案"),
           ("acceptance", "date", "竣工验收"), ("acceptance_filing", "date", "验收备案"))
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Badge:
    text: str
    tone: str            # ok | warn | bad | info
    title: str = ""


@dataclass(frozen=True)
class Step:
    label: str
    state: str           # done | current | todo


@dataclass(frozen=True)
class ProjectView:
    id: str
    name: str
    stage: str
    stage_label: str
    steps: tuple[Step, ...]
    total: str
    plan_year: str
    next_due: str
    next_due_tone: str
    gate: str
    badges: tuple[Badge, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    project: str
    amount: str
    y: float
    height: float
    color: str


@dataclass(frozen=True)
class Bar:
    label: str
    total: str
    x: float
    width: float
    top: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    base: float                     # y of the zero line
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[tuple[str, str], ...]   # (project, colour)


@dataclass(frozen=True)
class Event:
    date: str
    label: str
    x: float
    kind: str            # done | due | overdue
    dy: int              # label offset from the lane: rows above and below, so neighbours do not collide


@dataclass(frozen=True)
class Lane:
    project: str
    name: str
    y: float
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: int
    right: int
    lanes: tuple[Lane, ...]
    ticks: tuple[Tick, ...]
    today: float


@dataclass(frozen=True)
class SystemView:
    id: str
    name: str
    owner: str
    projects: str
    actions: str
    retiring: bool


@dataclass(frozen=True)
class Dashboard:
    organisation: str
    as_of: str
    projects: tuple[ProjectView, ...]
    total_budget: str
    overdue: int
    suspended: int
    chart: Chart | None
    timeline: Timeline | None
    systems: tuple[SystemView, ...]
    active_systems: int
    resources: int
    warnings: tuple[str, ...]
    note: str
    left_out: tuple[tuple[str, int, str], ...] = ()   # projects whose metadata did not load: (file, line, why)


def build(config: Config, as_of: dt.date) -> Dashboard:
    found = metadata.load_projects(config)
    loaded = list(found.projects)
    projects = {p.id: p for p in loaded}
    status = status_rows.rows(config, as_of, loaded)
    catalog = portfolio.build(list(projects.values()), register.load(config.root))
    views = tuple(_view(config, row, projects.get(row.project)) for row in status.rows)
    totals = [_money(p, ("budget", "total")) or ZERO for p in projects.values()]
    colours = {pid: PALETTE[i % len(PALETTE)] for i, pid in enumerate(sorted(projects))}
    return Dashboard(
        organisation=config.organisation,
        as_of=as_of.isoformat(),
        projects=views,
        total_budget=_fmt(sum(totals, ZERO)),
        overdue=sum(1 for r in status.rows if any(d.overdue for d in r.deadlines)),
        suspended=sum(1 for r in status.rows if not r.funding.eligible),
        chart=_chart(list(projects.values()), colours),
        timeline=_timeline(status.rows, projects, as_of),
        systems=tuple(SystemView(s.id, s.name, s.owner, "、".join(s.projects), "；".join(s.actions), s.retiring)
                      for s in catalog.systems),
        active_systems=catalog.active_systems,
        resources=len(catalog.resources),
        warnings=tuple(f.message for f in catalog.findings),
        note=status.note,
        left_out=tuple((f.path, f.line, f.message) for f in found.left_out),
    )


def render(config: Config, dashboard: Dashboard) -> str:

    return templates.render(templates.environment(config, html=True), [TEMPLATE], {"d": dashboard})


# -- the project table -----------------------------------------------------------------------------------


def _view(config: Config, row: status_rows.Row, project: Project | None) -> ProjectView:
    badges: list[Badge] = []
    overdue = [d for d in row.deadlines if d.overdue]
    unknown = [d for d in row.deadlines if d.due is None]
    if overdue:
        badges.append(Badge("逾期", "bad", "；".join(d.text() for d in overdue)))
    if unknown:
        badges.append(Badge("期限待定", "warn", "；".join(d.text() for d in unknown)))
    if row.funding.eligible:
        badges.append(Badge("可拨付", "ok"))
    else:
        badges.append(Badge("暂停拨付", "bad", "；".join(str(r) for r in row.funding.reasons)))
    if row.unapproved:
        badges.append(Badge("未经审批", "bad", "；".join(row.unapproved)))
    if row.pending:
        badges.append(Badge("待审批合并", "warn", "；".join(row.pending)))
    if project is not None and project.data.get("planned") is False:
        badges.append(Badge("未纳入规划", "warn", "第十条：未纳入规划的项目须经前置审查"))
    due = _next_due(row.deadlines)
    gate = row.gate
    gate_text = "—" if gate is None else (f"{gate.label}：{gate.role}（{'、'.join(gate.members) or '未配置成员'}）"
                                          if gate.role else f"{gate.label}：无需审批")
    plan_year = project.data.get("plan_year") if project else None
    return ProjectView(
        id=row.project, name=row.name, stage=row.stage, stage_label=row.stage_label,
        steps=_steps(config, row.stage),
        total=_fmt(_money(project, ("budget", "total"))) if project else "—",
        plan_year=str(plan_year) if plan_year is not None else "—",
        next_due=due.text() if due else "—",
        next_due_tone="bad" if due and (due.overdue or due.due is None) else
                      "warn" if due and due.left is not None and due.left <= status_rows.SOON else "",
        gate=gate_text, badges=tuple(badges), reasons=tuple(str(r) for r in row.funding.reasons),
    )


def _next_due(dues: Sequence[status_rows.Due]) -> status_rows.Due | None:
    """The most pressing open deadline: one the calendar cannot place, else the earliest."""
    if not dues:
        return None
    unknown = [d for d in dues if d.due is None]
    return unknown[0] if unknown else min(dues, key=lambda d: d.due or dt.date.max)


def _steps(config: Config, stage: str) -> tuple[Step, ...]:
    std = config.standard
    here = std.stage_order(stage)
    out = []
    for s in std.stages:
        if s.name == "terminated":
            continue
        order = std.stage_order(s.name)
        state = "current" if s.name == stage else "done" if 0 <= order < here else "todo"
        out.append(Step(s.label, state))
    return tuple(out)


def _money(project: Project | None, path: tuple[object, ...]) -> Decimal | None:
    return project.money.get(path) if project is not None else None


def _fmt(amount: Decimal | None) -> str:
    return "—" if amount is None else f"{amount:.2f}"


# -- budget by year -------------------------------------------------------------------------------------


def _chart(projects: Sequence[Project], colours: dict[str, str]) -> Chart | None:
    by_year: dict[int, list[tuple[str, Decimal]]] = {}
    for project in sorted(projects, key=lambda p: p.id):
        years = project.get("budget", "years")
        for key in years if isinstance(years, YMap) else ():
            value = project.money.get(("budget", "years", key))
            if value and str(key).isdigit():
                by_year.setdefault(int(str(key)), []).append((project.id, value))
    if not by_year:
        return None
    width, height, left, top, bottom = 720, 300, 64, 24, 36
    plot = height - top - bottom
    peak = max(sum((v for _, v in parts), ZERO) for parts in by_year.values())
    step = _nice_step(float(peak) / 4)
    ceiling = step * max(1, -(-float(peak) // step))
    scale = plot / ceiling
    slot = (width - left - 16) / len(by_year)
    bars = []
    for i, (year, parts) in enumerate(sorted(by_year.items())):
        y = float(top + plot)
        segments = []
        for pid, value in parts:
            h = float(value) * scale
            y -= h
            segments.append(Segment(pid, _fmt(value), round(y, 1), round(h, 1), colours.get(pid, PALETTE[0])))
        bar_width = min(72.0, slot * 0.6)
        bars.append(Bar(f"{year}年", _fmt(sum((v for _, v in parts), ZERO)), round(left + i * slot + (slot - bar_width) / 2, 1),
                        round(bar_width, 1), round(y, 1), tuple(segments)))
    ticks = tuple(Tick(round(top + plot - k * step * scale, 1), f"{k * step:g}") for k in range(int(ceiling / step) + 1))
    used = sorted({s.project for b in bars for s in b.segments})
    return Chart(width, height, left, float(top + plot), tuple(bars), ticks, tuple((p, colours[p]) for p in used))


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten: axis labels people can read."""
    if raw <= 0:
        return 1.0
    power = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


# -- timeline -------------------------------------------------------------------------------------------


def _timeline(rows: Iterable[status_rows.Row], projects: dict[str, Project], as_of: dt.date) -> Timeline | None:
    dated: list[tuple[status_rows.Row, list[tuple[dt.date, str, str]]]] = []
    for row in rows:
        events = _record_events(projects.get(row.project))
        events += [(d.due, d.label, "overdue" if d.overdue else "due") for d in row.deadlines if d.due is not None]
        dated.append((row, sorted(events)))
    days = [when for _, events in dated for when, _, _ in events] + [as_of]
    start, end = dt.date(min(days).year, 1, 1), dt.date(max(days).year + 1, 1, 1)
    width, left, right, lane, top = 960, 150, 24, 84, 36
    span = (end - start).days
    plot = width - left - right

    def x(day: dt.date) -> float:
        return round(left + (day - start).days / span * plot, 1)

    lanes = []
    for i, (row, events) in enumerate(dated):
        y = top + i * lane + lane / 2
        placed = _place([(x(when), label) for when, label, _ in events])
        shown = tuple(Event(when.isoformat(), label, at, kind, dy)
                      for (when, label, kind), (at, dy) in zip(events, placed, strict=True))
        lanes.append(Lane(row.project, row.name, y, shown))
    ticks = [Tick(x(dt.date(year, month, 1)), f"{year}年" if month == 1 else "")
             for year in range(start.year, end.year) for month in (1, 4, 7, 10)]
    ticks.append(Tick(x(end), ""))
    return Timeline(width, top + len(lanes) * lane + 8, left, right, tuple(lanes), tuple(ticks), x(as_of))


# Label rows around a lane, nearest first: above, below, further above, further below.
_ROWS = (-10, 20, -24, 34)


def _place(marks: Sequence[tuple[float, str]]) -> list[tuple[float, int]]:
    """For each (x, label), sorted by x: the first label row where it does not overlap the previous label there."""
    ends = [float("-inf")] * len(_ROWS)
    out = []
    for at, label in marks:
        half = len(label) * 5 + 3    # 10 px per CJK character at the labels' font size
        row = next((r for r, end in enumerate(ends) if at - half > end), min(range(len(ends)), key=ends.__getitem__))
        ends[row] = at + half
        out.append((at, _ROWS[row]))
    return out


def _record_events(project: Project | None) -> list[tuple[dt.date, str, str]]:
    if project is None:
        return []
    records = project.data.get("records")
    if not isinstance(records, YMap):
        return []
    out = []
    for key, field, label in _EVENTS:
        entry = records.get(key)
        when = as_date(entry.get(field)) if isinstance(entry, YMap) else None
        if when:
            out.append((when, label, "done"))
    return out


