"""Project -> what its documents are rendered from: draft variables, the cover, the generated tables.

Money comes from ``project.money`` (exact, two places), never from the raw
YAML values, so ``{{ budget.total }}`` in prose prints 2040.00 exactly as the
tables do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xzdoc.config import Config
from xzdoc.model import Project
from xzdoc.render.reproducible import Stamp
from xzdoc.source import sandbox

CENT = sandbox.CENT
NUMERALS = "一二三四五六七八九十"
GROUP_LABELS = {
    "建筑工程": "建筑工程费",
    "硬件设备购置": "硬件设备购置费",
    "软件购置开发与系统集成": "软件购置、开发与系统集成费",
    "工程建设其他费用": "工程建设其他费用",
    "预备费": "预备费",
}
LEVELS = {1: "第一级", 2: "第二级", 3: "第三级", 4: "第四级", 5: "第五级"}


@dataclass(frozen=True)
class Share:
    label: str
    amount: Decimal
    percent: str


@dataclass(frozen=True)
class CostItem:
    number: int
    name: str
    unit: str
    quantity: str
    unit_price: Decimal | None
    amount: Decimal
    note: str


@dataclass(frozen=True)
class CostGroup:
    numeral: str
    group: str
    label: str
    items: tuple[CostItem, ...]
    subtotal: Decimal


TITLE_CHARS = 20  # 2号 (22 pt) characters in the 156 mm line


@dataclass(frozen=True)
class Cover:
    title: str
    kind: str
    rows: tuple[tuple[str, str], ...]
    date: str

    @property
    def title_lines(self) -> list[str]:
        return balanced_lines(self.title, TITLE_CHARS)


def balanced_lines(text: str, width: int) -> list[str]:
    """Break a title into as few lines as fit ``width`` characters, all of about the same length.

    Official titles are set in balanced lines (a "pyramid" or even block), never
    with one or two characters alone on the last line. A Latin or digit run
    counts as half width and is never split.
    """
    units = _units(text)
    weight = [_width(u) for u in units]
    total = sum(weight)
    if total <= width:
        return [text]
    count = -(-int(total) // width)
    while True:
        lines = _split(units, weight, total / count, width)
        if len(lines) <= count or count > len(units):
            return lines
        count += 1


def _units(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9.\-_/]+|\s+|.", text)


def _width(unit: str) -> float:
    return len(unit) / 2 if unit.isascii() else float(len(unit))


def _split(units: list[str], weight: list[float], target: float, width: int) -> list[str]:
    lines: list[str] = []
    line, used = "", 0.0
    for unit, w in zip(units, weight, strict=True):
        # Close the line at the unit that brings it nearest the even share, never past the full width.
        if line and (used + w > width or (abs(used + w - target) > abs(used - target) and used >= target - 0.5)):
            lines.append(line.strip())
            line, used = "", 0.0
        line += unit
        used += w
    if line.strip():
        lines.append(line.strip())
    return lines


@dataclass(frozen=True)
class RenderContext:
    project: Project
    stamp: Stamp
    organisation: str
    stage_label: str
    variables: Mapping[str, Any]
    budget_total: Decimal
    budget_years: tuple[Share, ...] = ()
    budget_sources: tuple[Share, ...] = ()
    estimate: tuple[CostGroup, ...] = ()
    estimate_total: Decimal = Decimal("0.00")
    resources: tuple[Mapping[str, str], ...] = ()
    databases: tuple[Mapping[str, str], ...] = ()
    systems: tuple[Mapping[str, str], ...] = ()
    goals: tuple[Mapping[str, str], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def cover(self, kind: str) -> Cover:
        p = self.project
        applicant = _text(p.data.get("lead_department")) or self.organisation
        # The project name is the cover's title; these lines follow it.
        rows = (
            ("项目编号", p.id),
            ("申报单位", applicant),
            ("编制单位", _text(p.data.get("implementer")) or applicant),
            ("项目阶段", self.stage_label),
        )
        return Cover(p.name, kind, rows, self.stamp.date_text)

    def template_vars(self) -> dict[str, Any]:
        """What the trusted document templates see."""
        return {"p": self.variables, "t": self, "project": self.project}


def build(config: Config, project: Project, stamp: Stamp) -> RenderContext:
    stage = config.standard.stage(project.stage)
    label = stage.label if stage else project.stage
    total = project.money.get(("budget", "total"), Decimal("0.00"))
    groups = _estimate(config, project)
    variables = sandbox.variables(project.data, project.money)
    variables["stage_label"] = label
    return RenderContext(
        project=project,
        stamp=stamp,
        organisation=config.organisation,
        stage_label=label,
        variables=variables,
        budget_total=total,
        budget_years=_shares(project, ("budget", "years"), total, lambda k: f"{k}年"),
        budget_sources=_shares(project, ("budget", "sources"), total, str),
        estimate=groups,
        estimate_total=sum((g.subtotal for g in groups), Decimal("0.00")),
        resources=tuple(_resource(r) for r in _maps(project.data.get("resources"))),
        databases=tuple(_database(d) for d in _maps(project.data.get("databases"))),
        systems=tuple(_system(s) for s in _maps(project.data.get("systems"))),
        goals=tuple({k: _text(g.get(k)) for k in ("category", "indicator", "target")}
                    for g in _maps(project.data.get("performance_goals"))),
    )


def _shares(project: Project, prefix: tuple[str, ...], total: Decimal, label: Any) -> tuple[Share, ...]:
    node = project.get(*prefix)
    if not isinstance(node, dict):
        return ()
    out = []
    for key in node:
        amount = project.money.get((*prefix, key))
        if amount is not None:
            out.append(Share(label(key), amount, _percent(amount, total)))
    return tuple(out)


def _percent(amount: Decimal, total: Decimal) -> str:
    if not total:
        return "—"
    return f"{(amount * 100 / total).quantize(CENT)}%"


def _estimate(config: Config, project: Project) -> tuple[CostGroup, ...]:
    found: dict[str, list[CostItem]] = {}
    for i, item in enumerate(project.data.get("estimate") or ()):
        if not isinstance(item, dict):
            continue
        amount = project.money.get(("estimate", i, "amount"))
        if amount is None:
            continue
        group = _text(item.get("group")) or "其他"
        found.setdefault(group, []).append(CostItem(
            number=0,
            name=_text(item.get("name")),
            unit=_text(item.get("unit")),
            quantity=_text(item.get("quantity")),
            unit_price=project.money.get(("estimate", i, "unit_price")),
            amount=amount,
            note=_text(item.get("note")),
        ))
    order = list(config.standard.enums.get("cost_group", ()))
    order += [g for g in found if g not in order]
    groups: list[CostGroup] = []
    number = 0
    for group in order:
        items = found.get(group)
        if not items:
            continue
        numbered = []
        for item in items:
            number += 1
            numbered.append(CostItem(number, item.name, item.unit, item.quantity, item.unit_price, item.amount, item.note))
        numeral = NUMERALS[len(groups)] if len(groups) < len(NUMERALS) else str(len(groups) + 1)
        groups.append(CostGroup(numeral, group, GROUP_LABELS.get(group, group), tuple(numbered),
                                sum((i.amount for i in items), Decimal("0.00"))))
    return tuple(groups)


def _resource(r: Mapping[str, Any]) -> dict[str, str]:
    items = r.get("items") or ()
    share = _text(r.get("share_type"))
    condition = _text(r.get("share_condition"))
    return {
        "name": _text(r.get("name")),
        "code": _text(r.get("code")),
        "provider": _text(r.get("provider")),
        "summary": _text(r.get("summary")),
        "format": _text(r.get("format")),
        "item_names": "、".join(_text(i.get("name")) for i in items if isinstance(i, dict)),
        "share_type": share,
        "share": f"{share}（{condition}）" if condition and share != "无条件共享" else share,
        "share_method": _text(r.get("share_method")),
        "open_type": _text(r.get("open_type")),
        "update_cycle": _text(r.get("update_cycle")),
        "source": _text(r.get("source")),
    }


def _database(d: Mapping[str, Any]) -> dict[str, str]:
    return {k: _text(d.get(k)) for k in ("name", "system", "engine", "tables", "summary")}


def _system(s: Mapping[str, Any]) -> dict[str, str]:
    level = s.get("mlps_level")
    return {
        "id": _text(s.get("id")),
        "name": _text(s.get("name")),
        "owner": _text(s.get("owner")),
        "action": _text(s.get("action")),
        "cloud": _text(s.get("cloud")),
        "network": _text(s.get("network")),
        "mlps": LEVELS.get(level, _text(level)) if isinstance(level, int) else _text(level),
        "shares_with": "、".join(_text(x) for x in s.get("shares_with") or ()),
        "platforms": "、".join(_text(x) for x in s.get("platforms") or ()),
    }


def _maps(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return " ".join(str(value).split())
