"""第六、十条: every project belongs to a plan year or went through pre-review."""

from __future__ import annotations

from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, mapping


def check_plan_year(project: Project, ctx: Context) -> Iterator[Hit]:
    year = project.data.get("plan_year")
    if not isinstance(year, int) or isinstance(year, bool):
        return
    budget = mapping(project.data.get("budget"))
    years = mapping(budget.get("years")) if budget else None
    spans = [int(y) for y in years or () if str(y).isdigit()]
    if spans and not min(spans) <= year <= max(spans):
        yield Hit(project.data.at("plan_year"),
                  f"所属年度计划 {year} 年与分年度预算的年份（{min(spans)}–{max(spans)}）不一致")


def check_unplanned(project: Project, ctx: Context) -> Iterator[Hit]:
    if project.data.get("planned") is not False or project.stage == "draft":
        return
    records = mapping(project.data.get("records"))
    if not records or not records.get("pre_review"):
        yield Hit(project.data.at("planned"),
                  "项目未纳入规划（planned: false），申报前须有市政务信息管理局的前置审查记录 records.pre_review")
