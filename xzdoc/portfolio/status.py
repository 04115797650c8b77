"""The portfolio on one day: stage, next gate and its approvers, deadlines, funding.

``rows`` returns data; ``table`` and ``as_json`` print it. Styling is passed
in as a function so that click stays in cli.py.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.history import deadlines as lifecycle
from xzdoc.history.calendar import WorkCalendar
from xzdoc.history.deadlines import DAYS, Deadline, Funding, Gate
from xzdoc.model import Project

Style = Callable[..., str]
SOON = 5   # working days: a deadline this close is highlighted


@dataclass(frozen=True)
class Due:
    label: str
    article: str
    due: dt.date | None
    left: int | None        # from as_of to due, in ``unit``; negative when overdue
    unit: str
    overdue: bool
    note: str = ""

    def text(self) -> str:
        if self.due is None:
            return f"{self.label}：无法计算（{self.note}）"
        if self.overdue:
            span = f"，逾期 {_span(-self.left, self.unit)}" if self.left is not None and self.left < 0 else ""
            note = f"，{self.note}" if self.note else ""
            return f"{self.label} {self.due} 已逾期{span}{note}"
        note = f"，{self.note}" if self.note else ""
        return f"{self.label} {self.due}（剩余 {_span(self.left or 0, self.unit)}{note}）"


def _span(count: int, unit: str) -> str:
    return f"{count} 天" if unit == DAYS else f"{count} 个{unit}"


@dataclass(frozen=True)
class Row:
    project: str
    name: str
    path: str
    stage: str
    stage_label: str
    gate: Gate | None
    deadlines: tuple[Due, ...]
    funding: Funding
    unapproved: tuple[str, ...]
    pending: tuple[str, ...]


@dataclass(frozen=True)
class Status:
    as_of: dt.date
    rows: tuple[Row, ...]
    note: str = ""          # why approvals could not be checked, if they could not
    unfunded: tuple[tuple[str, str, str], ...] = ()   # (id, name, consequence): registered systems 第十条 denies O&M funds


def rows(config: Config, as_of: dt.date, projects: Sequence[Project]) -> Status:
    """One row per project (load them with ``loader.load_projects``; those that do not load are validate's)."""
    from xzdoc.rules import Context, art24

    ctx = Context(config=config, projects=tuple(projects), as_of=as_of)
    cal = lifecycle.calendar(config)
    book = art24.ledger_for(ctx)
    note = f"无法核对审批记录：{book.message}" if isinstance(book, XzdocError) else ""
    out = []
    for project in projects:
        held = art24.funding_holds(project, ctx)
        out.append(Row(project.id, project.name, project.display, project.stage,
                       lifecycle.label_of(config, project.stage), lifecycle.next_gate(config, project.stage),
                       tuple(_dues(project, config, cal, as_of)),
                       lifecycle.funding(project, config, as_of, held),
                       # Told apart: the history note, and the pending gates, which have a column line of their own.
                       tuple(r.text for r in held if r.rule not in ("art24.approval-history", "art24.pending-approval")),
                       tuple(f"{g}（需{config.gates[g]}）" for g in art24.pending_gates(project, ctx))))
    return Status(as_of, tuple(out), note, _unfunded(config, projects))


def _unfunded(config: Config, projects: Sequence[Project]) -> tuple[tuple[str, str, str], ...]:
    from xzdoc.portfolio import catalog
    from xzdoc.source import register

    return tuple((s.id, s.name, s.consequence) for s in catalog.build(projects, register.load(config.root)).unfunded)


def _dues(project: Project, config: Config, cal: WorkCalendar, as_of: dt.date) -> list[Due]:
    out = []
    for d in lifecycle.deadlines(project, config, cal, as_of):
        if d.done is not None:
            continue
        if d.key == "acceptance":
            out.append(_acceptance(d, cal, as_of))
            continue
        left, unit, _ = lifecycle.left(d, cal, as_of)
        if d.due is None:
            note = f"{d.gap or ''} 年无工作日历数据，请在 xzdoc.yaml 的 calendar.years 中补充".lstrip()
        else:
            note = _calendar_days(d.due, unit, cal, as_of)
        out.append(Due(d.label, d.article, d.due, left, unit, d.due is not None and as_of > d.due, note))
    return out


def _acceptance(d: Deadline, cal: WorkCalendar, as_of: dt.date) -> Due:
    """Acceptance is shown against the planned end; the grace period only decides 'long delayed'."""
    planned = d.event or d.due
    shifted = Deadline(d.key, d.label, d.article, d.event, 0, d.unit, planned, None, d.pos)
    left, unit, _ = lifecycle.left(shifted, cal, as_of)
    overdue = planned is not None and as_of > planned
    note = f"超过 {d.due} 即属长期拖延（第二十四条）" if overdue else (_calendar_days(planned, unit, cal, as_of) if planned else "")
    return Due("竣工验收（计划完工）", d.article, planned, left, unit, overdue, note)


def _calendar_days(due: dt.date, unit: str, cal: WorkCalendar, as_of: dt.date) -> str:
    if unit != DAYS:
        return ""
    # The count runs from today to the due date, either way round: name the year it lacks.
    span = range(min(due, as_of).year, max(due, as_of).year + 1)
    year = next((y for y in span if not cal.covers(y)), due.year)
    return f"{year} 年无工作日历，按自然日计"


def as_json(status: Status) -> str:
    return json.dumps({"as_of": status.as_of.isoformat(), "note": status.note or None,
                       "projects": [_row_dict(r) for r in status.rows],
                       "unfunded_systems": [{"id": i, "name": n, "consequence": c} for i, n, c in status.unfunded]},
                      ensure_ascii=False, indent=2)


def _row_dict(row: Row) -> dict[str, Any]:
    gate = row.gate
    return {
        "project": row.project, "name": row.name, "path": row.path, "stage": row.stage, "stage_label": row.stage_label,
        "next_gate": None if gate is None else {"stage": gate.stage, "label": gate.label, "role": gate.role,
                                                "approvers": list(gate.members), "article": gate.article},
        "deadlines": [{"label": d.label, "article": d.article, "due": d.due.isoformat() if d.due else None,
                       "left": d.left, "unit": d.unit, "overdue": d.overdue, "note": d.note or None}
                      for d in row.deadlines],
        "funding": {"eligible": row.funding.eligible,
                    "reasons": [{"article": r.article, "text": r.text} for r in row.funding.reasons]},
        "unapproved": list(row.unapproved), "pending": list(row.pending),
    }


def _plain(text: str, **_: Any) -> str:
    return text


def table(status: Status, style: Style = _plain, width: int | None = None) -> str:
    """A fixed-width table; ``style`` colours a cell line (click.style on a terminal).

    With ``width`` (the terminal's), the widest columns give way first and their lines wrap.
    """
    header = ["项目", "阶段", "下一关口（审批人）", "期限", "资金"]
    cells = [[[style(h, bold=True)] for h in header]]
    for project in status.rows:
        cells.append([_project_cell(project), _stage_cell(project, style), _gate_cell(project),
                      _due_cell(project, style), _funding_cell(project, style)])
    lines = [f"截至 {status.as_of}，共 {len(status.rows)} 个项目"]
    widths = [max(_width(line) for line_cells in cells for line in line_cells[i]) for i in range(len(header))]
    if width is not None:
        widths = _fit(widths, width - 2 * (len(header) - 1))
        cells = [[[piece for line in cell for piece in _wrap(line, w)] for cell, w in zip(row, widths, strict=True)]
                 for row in cells]
    for n, line_cells in enumerate(cells):
        height = max(len(c) for c in line_cells)
        for k in range(height):
            parts = [_pad(c[k] if k < len(c) else "", w) for c, w in zip(line_cells, widths, strict=True)]
            lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("─" * w for w in widths))
    if status.unfunded:
        lines += ["", style("系统目录中未上云或未共享的在用系统（第十条：不再拨付运维经费）", bold=True)]
        for system, name, consequence in status.unfunded:
            # Below the table the lines wrap too, indented under the system they belong to.
            said = f"{system} {name}：{consequence}"
            pieces = _wrap(said, max(width - 4, 20)) if width is not None else [said]
            lines += [style(("  " if k == 0 else "    ") + p, fg="red") for k, p in enumerate(pieces)]
    if status.note:
        lines += [style(p, fg="yellow") for p in (_wrap(status.note, max(width, 20)) if width is not None else [status.note])]
    return "\n".join(lines)


def _project_cell(row: Row) -> list[str]:
    return [row.project, row.name] if row.name else [row.project]


def _stage_cell(row: Row, style: Style) -> list[str]:
    out = [f"{row.stage} {row.stage_label}"]
    out += [style(u, fg="red") for u in row.unapproved]
    out += [style(f"待审批合并：{p}", fg="yellow") for p in row.pending]
    return out


def _gate_cell(row: Row) -> list[str]:
    gate = row.gate
    if gate is None:
        return ["—"]
    if not gate.role:
        return [f"{gate.stage} {gate.label}：无需审批"]
    who = "、".join(gate.members) or "（未配置成员）"
    return [f"{gate.stage} {gate.label}", f"{gate.role}：{who}（{gate.article}）"]


def _due_cell(row: Row, style: Style) -> list[str]:
    if not row.deadlines:
        return ["—"]
    out = []
    for d in row.deadlines:
        if d.due is None or d.overdue:
            out.append(style(d.text(), fg="red", bold=True))
        elif d.left is not None and d.left <= SOON:
            out.append(style(d.text(), fg="yellow"))
        else:
            out.append(d.text())
    return out


def _funding_cell(row: Row, style: Style) -> list[str]:
    if row.funding.eligible:
        return [style("可拨付", fg="green")]
    return [style("暂停拨付", fg="red")] + [f"· {r}" for r in row.funding.reasons]


_MIN_COLUMN = 13  # a project id, and room for four Chinese characters in the other columns


def _fit(widths: list[int], room: int) -> list[int]:
    """Narrow the widest column, one cell at a time, until the row fits or every column is at its minimum."""
    out = list(widths)
    while sum(out) > room:
        widest = max(range(len(out)), key=lambda i: out[i])
        if out[widest] <= _MIN_COLUMN:
            break
        out[widest] -= 1
    return out


def _wrap(line: str, width: int) -> list[str]:
    """Split a cell line into pieces of at most ``width`` columns, keeping its colour on every piece."""
    if _width(line) <= width:
        return [line]
    plain = _strip_ansi(line)
    head = line[: line.find(plain[0])] if plain and plain[0] in line else ""
    tail = "\x1b[0m" if head else ""
    pieces, current, used = [], "", 0
    for ch in plain:
        size = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + size > width and current:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += size
    pieces.append(current)
    return [f"{head}{p}{tail}" for p in pieces]


def _width(text: str) -> int:
    plain = _strip_ansi(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in plain)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _strip_ansi(text: str) -> str:
    out, skip = [], False
    for ch in text:
        if ch == "\x1b":
            skip = True
        elif skip and ch == "m":
            skip = False
        elif not skip:
            out.append(ch)
    return "".join(out)

