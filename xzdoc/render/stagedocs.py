"""The documents later stages file, generated from the records, and the plan of what a bundle renders.

合同备案表 (contracted), 监理单位备案表 (building), 调整申请 (whenever
records.changes has entries), 竣工验收申请 and 竣工验收报告 (accepted),
验收报告备案表 (operating), one 年度自评价报告 per evaluated year, and the
党组决策简报. Each is a trusted template under templates/<slug>/ rendered
through the same Markdown → DOCX/PDF pipeline as the application documents,
so page layout lives in one place. Application documents past the 批复 come
from the approving merge's tree (render/archive.py), not the current text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.model import Project
from xzdoc.render import archive, context, document, templates
from xzdoc.render.context import RenderContext
from xzdoc.render.document import Document
from xzdoc.render.reproducible import Stamp

BRIEF = "党组决策简报"
CENT = Decimal("0.01")


class Loose(dict):  # type: ignore[type-arg]
    """Record data for the trusted templates: an optional field that is absent reads as None, not an error."""

    def __missing__(self, key: object) -> None:
        return None


def loose(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Loose({k: loose(v) for k, v in value.items()})
    if isinstance(value, list):
        return [loose(v) for v in value]
    return value


@dataclass(frozen=True)
class Spec:
    kind: str
    slug: str
    stage: str | None   # the stage that files it; None: filed whenever its records exist
    cover: bool


SPECS = (
    Spec("合同备案表", "contract_filing", "contracted", False),
    Spec("监理单位备案表", "supervision_filing", "building", False),
    Spec("调整申请", "adjustment", None, True),
    Spec("竣工验收申请", "acceptance_application", "accepted", False),
    Spec("竣工验收报告", "acceptance_report", "accepted", True),
    Spec("验收报告备案表", "acceptance_filing", "operating", False),
    Spec("年度自评价报告", "self_evaluation", None, True),
)
_NEEDS = {"contract_filing": "contract", "supervision_filing": "supervision", "adjustment": "changes",
          "acceptance_application": "acceptance", "acceptance_report": "acceptance",
          "acceptance_filing": "acceptance_filing", "self_evaluation": "self_evaluations"}


@dataclass(frozen=True)
class Job:
    """One document to convert: from which project (current or approved), with which date stamp."""

    project: Project
    doc: Document
    stamp: Stamp


def plan(config: Config, project: Project, ctx: RenderContext, records: Sequence[Any] | None, workdir: Path,
         brief: Document | None = None, filed: bool = True) -> list[Job]:
    """Everything to convert; ``records`` are the ledger's records of the project (None: no history, no archive).

    ``filed`` (a bundle) files the application documents as approved. Without it (``xzdoc render``) they are
    the approved version only while the project's content is still exactly what was approved.
    """
    snapshot = None
    if records is not None and config.standard.reached(project.stage, "approved"):
        snapshot = archive.snapshot(config, records, workdir)
    approved = snapshot
    if approved is not None and not filed and not archive.same_content(approved.project, project):
        approved = None
    jobs = application(config, project, ctx, approved)
    # The later forms still quote the approved version (the adjustment's comparison, the approved total)
    # when the application documents show the current drafts.
    jobs += [Job(project, d, ctx.stamp) for d in generated(config, ctx, snapshot)]
    if brief is not None:
        jobs.append(Job(project, brief, ctx.stamp))
    return jobs


def application(config: Config, project: Project, ctx: RenderContext, approved: archive.Snapshot | None) -> list[Job]:
    """The application documents: as approved when an approving merge exists, else the current text."""
    if approved is None:
        return [Job(project, d, ctx.stamp)
                for d in document.documents(config, ctx, document.kinds(config, project))]
    old = approved.project
    stamp = approved.stamp()
    old_ctx = context.build(config, old, stamp)
    out = []
    for doc in document.documents(config, old_ctx, document.kinds(config, old)):
        cover = doc.cover and dataclasses.replace(doc.cover, rows=(*doc.cover.rows, ("批准版本", approved.mark)))
        out.append(Job(old, dataclasses.replace(doc, cover=cover), stamp))
    return out


def generated(config: Config, ctx: RenderContext, approved: archive.Snapshot | None) -> list[Document]:
    project = ctx.project
    records = ctx.variables.get("records") or {}
    total = {"total": approved_total(project, approved)}
    out = []
    for spec in SPECS:
        if spec.stage and not config.standard.reached(project.stage, spec.stage):
            continue
        if not records.get(_NEEDS[spec.slug]):
            continue
        if spec.slug == "self_evaluation":
            out += [_render(config, ctx, spec, f"{e['year']}年度自评价报告", self_evaluation(ctx, e))
                    for e in records["self_evaluations"] if isinstance(e, Mapping) and "year" in e]
        elif spec.slug == "adjustment":
            labels = dict(config.standard.caps.get("drift_fields", {}))
            out.append(_render(config, ctx, spec, spec.kind, {**adjustment(ctx, approved), "labels": labels, **total}))
        else:
            out.append(_render(config, ctx, spec, spec.kind, total))
    return out


def _render(config: Config, ctx: RenderContext, spec: Spec, kind: str, extra: Mapping[str, Any]) -> Document:
    env = document.environment(config)
    markdown = templates.render(env, [f"{spec.slug}/document.md.j2"],
                                {**ctx.template_vars(), "kind": kind, "r": loose(ctx.variables.get("records") or {}),
                                 "x": loose(extra), "s": loose(ctx.variables.get("security") or {})})
    return Document(kind, markdown, ctx.cover(kind) if spec.cover else None, f"templates/{spec.slug}")


def render_brief(config: Config, ctx: RenderContext, facts: Mapping[str, Any]) -> Document:
    markdown = templates.render(document.environment(config), ["brief/document.md.j2"],
                                {**ctx.template_vars(), "kind": BRIEF, "r": loose(ctx.variables.get("records") or {}),
                                 "x": facts})
    return Document(BRIEF, markdown, None, "templates/brief")


def approved_total(project: Project, approved: archive.Snapshot | None) -> str:
    """批复总投资 as the forms print it: the total at approval, and what an approved adjustment made of it."""
    from xzdoc.rules.integrity import approved_total as effective

    now, adjusted = effective(project)
    at_approval = approved.project.money.get(("budget", "total")) if approved is not None else None
    base = at_approval if at_approval is not None else project.money.get(("budget", "total"))
    if base is None:
        return "—"
    if adjusted and now is not None and now != base:
        return f"{base:.2f}（经批准调整为 {now:.2f}）"
    return f"{base:.2f}"


def adjustment(ctx: RenderContext, approved: archive.Snapshot | None) -> dict[str, Any]:
    if approved is None:
        return {"rows": [], "mark": "", "missing": "未能读取批复版本（项目不在 git 仓库中，或尚无批复的合并记录）"}
    return {"rows": archive.compare(approved.project, ctx.project), "mark": approved.mark, "missing": ""}


def self_evaluation(ctx: RenderContext, entry: Mapping[str, Any]) -> dict[str, Any]:
    year = entry["year"]
    budget = entry.get("budget")
    if budget is None:
        budget = ((ctx.variables.get("budget") or {}).get("years") or {}).get(year)
    spent = entry.get("spent")
    rate = f"{(Decimal(spent) * 100 / Decimal(budget)).quantize(CENT)}%" if spent is not None and budget else "—"
    actuals = entry.get("actuals") or {}
    goals = [{**g, "actual": actuals.get(g.get("indicator"), "—")}
             for g in ctx.variables.get("performance_goals") or () if isinstance(g, Mapping)]
    return {"entry": entry, "year": year, "budget": budget if budget is not None else "—",
            "spent": spent if spent is not None else "—", "rate": rate, "goals": goals}
