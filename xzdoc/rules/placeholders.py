"""第七条: what `xzdoc new` writes as a stand-in must be replaced before the materials are submitted.

The scaffold (templates/project/) fills required fields with placeholders so a
fresh project loads; from ``submitted`` on they would reach the bureau as if
they were the applicant's words and figures.
"""

from __future__ import annotations

from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, mapping
from xzdoc.source.drafts import GUIDANCE

# Field -> the scaffold's stand-in text (templates/project/project.yaml.j2).
TEXT = {"proposer": "项目提出单位名称"}


def check_placeholders(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "submitted"):
        return
    for key, stand_in in TEXT.items():
        if str(project.data.get(key) or "").strip() == stand_in:
            yield Hit(project.data.at(key), f"“{key}”仍是模板占位内容“{stand_in}”，提交前须填写实际内容")
    budget = mapping(project.data.get("budget"))
    if budget is not None and project.money.get(("budget", "total")) == 0:
        yield Hit(budget.at("total"), "总预算仍是模板占位值 0.00，提交前须填写实际金额（万元）")
    for draft in project.drafts.values():
        text = draft.text or ""
        if GUIDANCE not in text:
            continue
        for number, line in enumerate(text.split("\n"), 1):
            if line.startswith(GUIDANCE):
                yield Hit((number, 1), "文稿中仍有模板的编写提示行（以“> 【编写提示】”开头），提交前写好正文并删除提示",
                          path=draft.path)
                break
