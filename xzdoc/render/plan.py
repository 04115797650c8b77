"""The annual informatization plan (年度计划, 第六条): projects of a plan year, budgets by year and source, totals.

``build`` selects and sums (exact Decimals from the loader's money map);
``markdown`` fills templates/plan/document.md.j2; ``render`` sends the result
through the bundle pipeline's own pieces (pandoc, reference.docx, the Typst
page template, fonts, the build stamp), so the plan looks like every other
official document and is as reproducible.

A project belongs to year Y's plan when its ``plan_year`` is Y, or when it is
a multi-year project with a budget line for Y (its later years are still
planned work that year).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.model import Project
from xzdoc.render import templates
from xzdoc.source import loader

KIND = "年度计划"
TEMPLATE = "plan/document.md.j2"
FORMATS = ("docx", "pdf")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Share:
    label: str
    amount: Decimal
    percent: str
    count: int = 0


@dataclass(frozen=True)
class PlanRow:
    number: int
    id: str
    name: str
    type: str
    stage: str
    plan_year: str
    total: Decimal
    this_year: Decimal | None
    years: tuple[Decimal | None, ...]      # one per ``Plan.years``
    note: str


@dataclass(frozen=True)
class Plan:
    year: int
    organisation: str
    rows: tuple[PlanRow, ...]
    years: tuple[int, ...]                 # every budget year of the listed projects
    year_totals: tuple[Decimal, ...]
    sources: tuple[Share, ...]
    stages: tuple[Share, ...]
    total: Decimal
    this_year: Decimal

    @property
    def title(self) -> str:
        return f"{self.organisation}{self.year}年度政务信息化项目计划"

    @property
    def file_stem(self) -> str:
        return f"{self.year}年度政务信息化项目计划"


def load_projects(config: Config) -> list[Project]:
    """Every project, each fit to be planned: an annual plan that quietly lacked one would mislead whoever signs it."""
    found = loader.readable(loader.load_all(config, loader.discover(config, ())), schema=True)
    if found.left_out:
        first = found.left_out[0]
        more = f" 等 {len(found.left_out)} 个项目" if len(found.left_out) > 1 else ""
        raise XzdocError(f"{first.path}{more}的元数据有错误，年度计划不能漏列项目：{first.message}", first.path, first.line,
                         hint="运行 xzdoc validate 列出全部问题，修正后再生成计划")
    return list(found.projects)


def build(config: Config, year: int, projects: Sequence[Project]) -> Plan:
    chosen = [p for p in sorted(projects, key=lambda p: p.id) if _in_plan(p, year)]
    if not chosen:
        raise XzdocError(f"没有列入 {year} 年度计划的项目", "命令行选项 --year",
                         hint=f"年度计划收录 plan_year 为 {year} 的项目，以及 budget.years 中有 {year} 年预算的跨年度项目")
    years = tuple(sorted({y for p in chosen for y in _years(p)}))
    rows = tuple(_row(config, i, p, year, years) for i, p in enumerate(chosen, 1))
    total = sum((r.total for r in rows), ZERO)
    year_totals = tuple(sum((r.years[k] or ZERO for r in rows), ZERO) for k in range(len(years)))
    return Plan(year, config.organisation, rows, years, year_totals, _sources(chosen, total), _stages(rows, total),
                total, sum((r.this_year or ZERO for r in rows), ZERO))


def _in_plan(project: Project, year: int) -> bool:
    return _plan_year(project) == year or bool(_years(project).get(year))


def _plan_year(project: Project) -> int | None:
    value = project.data.get("plan_year")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _years(project: Project) -> dict[int, Decimal]:
    out = {}
    for path, amount in project.money.items():
        if path[:2] == ("budget", "years") and len(path) == 3 and str(path[2]).isdigit():
            out[int(str(path[2]))] = amount
    return out


def _row(config: Config, number: int, project: Project, year: int, years: tuple[int, ...]) -> PlanRow:
    stage = config.standard.stage(project.stage)
    by_year = _years(project)
    notes = []
    if _plan_year(project) not in (None, year):
        notes.append(f"{_plan_year(project)}年度计划项目，跨年度实施")
    if project.data.get("planned") is False:
        notes.append("未纳入规划（第十条）")
    return PlanRow(
        number=number, id=project.id, name=project.name, type=_text(project.data.get("type")),
        stage=stage.label if stage else project.stage,
        plan_year=str(_plan_year(project) or "—"),
        total=project.money.get(("budget", "total"), ZERO),
        this_year=by_year.get(year),
        years=tuple(by_year.get(y) for y in years),
        note="；".join(notes),
    )


def _sources(projects: Sequence[Project], total: Decimal) -> tuple[Share, ...]:
    sums: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for project in projects:
        for path, amount in project.money.items():
            if path[:2] == ("budget", "sources") and len(path) == 3:
                name = str(path[2])
                sums[name] = sums.get(name, ZERO) + amount
                counts[name] = counts.get(name, 0) + 1
    return tuple(Share(name, amount, _percent(amount, total), counts[name])
                 for name, amount in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))


def _stages(rows: Sequence[PlanRow], total: Decimal) -> tuple[Share, ...]:
    sums: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for row in rows:
        sums[row.stage] = sums.get(row.stage, ZERO) + row.total
        counts[row.stage] = counts.get(row.stage, 0) + 1
    return tuple(Share(label, amount, _percent(amount, total), counts[label]) for label, amount in sums.items())


def _percent(amount: Decimal, total: Decimal) -> str:
    return f"{(amount * 100 / total).quantize(Decimal('0.01'))}%" if total else "—"


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def markdown(config: Config, plan: Plan) -> str:
    from xzdoc.render import document

    return templates.render(document.environment(config), [TEMPLATE], {"plan": plan})


def render(config: Config, year: int, formats: Sequence[str], out: Path) -> list[Path]:
    """Write the plan as DOCX and/or PDF into ``out``; nothing is written unless every format succeeds."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise XzdocError(f"不支持的格式：{'、'.join(unknown) or '（空）'}", hint="可选格式：" + ",".join(FORMATS))
    from xzdoc.render import bundle, safety
    from xzdoc.render.context import Cover
    from xzdoc.render.document import Document
    from xzdoc.render.reproducible import stamp
    from xzdoc.source.fsio import write_atomic

    projects = load_projects(config)
    plan = build(config, year, projects)
    text = markdown(config, plan)
    outputs: list[tuple[str, bytes]] = []
    with bundle.Builder(config) as builder:
        the_stamp = stamp(builder.head, [p.folder / loader.PROJECT_FILE for p in projects if p.id in {r.id for r in plan.rows}])
        rows = (("编制单位", "市交通运输数据中心"), ("计划年度", f"{year}年"), ("项目数量", f"{len(plan.rows)}个"),
                ("总投资", f"{plan.total}万元"))
        # The cover reads like a bundle's: who on the first line, what document below it.
        doc = Document(KIND, text, Cover(plan.organisation, plan.file_stem, rows, the_stamp.date_text), f"templates/{TEMPLATE}")
        where = safety.Where(config.root, config.root, doc.where, text)
        for output in builder.convert(doc, formats, the_stamp, where, plan.title):
            outputs.append((output.name.rsplit(".", 1)[1], output.data))
    written = []
    for ext, data in outputs:
        target = out / f"{plan.file_stem}.{ext}"
        write_atomic(target, data)
        written.append(target)
    return written
