"""What the 党组决策简报 says: the change asked for, the money, what changed since the last approval,
systems added and removed against the bureau's total, open findings, deadlines and funding.

Everything is judged on the build's own date (the stamp), so the same inputs
give the same page. Only facts are gathered here; templates/brief lays them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.model import ERROR, LEVEL_ZH, WARNING, Project
from xzdoc.render import archive
from xzdoc.render.reproducible import Stamp
from xzdoc.source import loader

LIMIT = 6   # rows per list: the brief is one page


def facts(config: Config, project: Project, records: Sequence[Any] | None, workdir: Path, stamp: Stamp,
          portfolio: Sequence[Project] | None = None) -> dict[str, Any]:
    """``records`` None means no history (outside git): the brief then asks for the next gate.

    ``portfolio`` is the repository's projects, loaded once per run by the caller for the bureau totals.
    """
    from xzdoc.history import deadlines

    as_of = stamp.local.date()
    last = _last_stage(records or ())
    before = archive.snapshot(config, records, workdir, gate=None) if records else None
    std = config.standard
    if records is not None and (last is None or last.to_stage != project.stage):
        asked = f"{deadlines.label_of(config, last.to_stage) if last and last.to_stage else '（新建）'} → " \
                f"{deadlines.label_of(config, project.stage)}"
        role = config.gates.get(project.stage)
    else:
        gate = deadlines.next_gate(config, project.stage)
        asked = f"{deadlines.label_of(config, project.stage)} → {gate.label}（下一审批事项）" if gate else "无待审批的阶段变更"
        role = gate.role if gate else None
    added, removed = archive.systems_delta(before.project if before else None, project)
    changed = archive.compare(before.project, project) if before else []
    loaded = loader.load_projects(config) if portfolio is None else portfolio
    everyone = [p for p in loaded if p.stage != "terminated" and p.id != project.id] + [project]
    return {
        "asked": asked,
        "role": role or "—",
        "since": before.mark if before else "（尚无批准记录）",
        "changes": changed[:LIMIT],
        "more_changes": max(len(changed) - LIMIT, 0),   # the page has room for LIMIT; the rest are counted
        "added": added,
        "removed": removed,
        "bureau_systems": sum(_live_systems(p) for p in everyone),
        "bureau_total": sum((p.money.get(("budget", "total"), Decimal(0)) for p in everyone), Decimal(0)),
        "bureau_projects": len(everyone),
        "findings": _findings(config, project, everyone, as_of),
        "deadlines": _deadlines(config, project, as_of),
        "funding": deadlines.funding(project, config, as_of).text() if std.reached(project.stage, "approved") else
        "未批复，不涉及拨付",
        "as_of": as_of.isoformat(),
    }


def _last_stage(records: Sequence[Any]) -> Any | None:
    found = None
    for r in records:
        if r.status in ("approved", "adopted") and r.change == "stage":
            found = r
    return found


def _live_systems(project: Project) -> int:
    systems = project.data.get("systems")
    return sum(1 for s in systems if isinstance(s, dict) and s.get("action") != "下线") if isinstance(systems, list) else 0


def _findings(config: Config, project: Project, everyone: Sequence[Project], as_of: dt.date) -> list[str]:
    from xzdoc.rules import Context
    from xzdoc.rules.engine import run_rules

    found = run_rules(project, Context(config=config, projects=everyone, as_of=as_of))
    shown = [f for f in sorted(found, key=lambda f: (f.level != ERROR, f.line)) if f.level in (ERROR, WARNING)]
    return [f"{LEVEL_ZH[f.level]}：{f.message}" for f in shown[:LIMIT]] + \
        ([f"另有 {len(shown) - LIMIT} 项"] if len(shown) > LIMIT else [])


def _deadlines(config: Config, project: Project, as_of: dt.date) -> list[dict[str, str]]:
    from xzdoc.history import deadlines

    out = []
    for d in deadlines.deadlines(project, config, deadlines.calendar(config), as_of):
        if d.done:
            state = f"已于 {d.done} 完成" + ("（逾期）" if d.due and d.done > d.due else "")
        elif d.due is None:
            state = "无法计算"
        else:
            state = "已逾期" if as_of > d.due else f"尚余 {(d.due - as_of).days} 天"
        out.append({"label": d.label, "article": d.article, "due": str(d.due or "—"), "state": state})
    return out[-LIMIT:]
