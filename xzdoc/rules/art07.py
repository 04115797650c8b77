"""第七条: the application set, its outlines, budgets by year, cross-department plans."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterator, Sequence

from xzdoc.errors import XzdocError
from xzdoc.model import Draft, Heading, Project
from xzdoc.rules.base import Context, Hit, did_you_mean, mapping, money, money_sum, yuan
from xzdoc.rules.prose import draft_values
from xzdoc.source import sandbox
from xzdoc.source.drafts import chapters as chapters_of
from xzdoc.source.drafts import glued, heading_line, malformed_heading, match_outline, normalise

OVERALL_PLAN = "整体方案"
SECTION_ARTICLES = {"resources": "第八条", "systems": "第八条", "security": "第三十一条",
                    "performance_goals": "第十条", "estimate": "第七条"}
SECTION_NAMES = {"resources": "信息资源目录", "systems": "涉及的信息系统", "security": "安全保障（等保、密码）",
                 "performance_goals": "绩效目标", "estimate": "投资概算明细"}


def check_stage(project: Project, ctx: Context) -> Iterator[Hit]:
    stage = project.data.get("stage")
    if stage is not None and ctx.std.stage(str(stage)) is None:
        names = "、".join(f"{s.name}（{s.label}）" for s in ctx.std.stages)
        by_label = {s.label: s.name for s in ctx.std.stages}   # 建设中 written for building
        maybe = f"，你是不是想写“{by_label[str(stage)]}”？" if str(stage) in by_label else \
            did_you_mean(str(stage), (s.name for s in ctx.std.stages))
        yield Hit(project.data.at("stage"), f"未知的阶段“{stage}”{maybe}（可选：{names}）")


def check_stage_requirements(project: Project, ctx: Context) -> Iterator[Hit]:
    data = project.data
    records = mapping(data.get("records"))
    for need in ctx.std.required_records(project.stage):
        if not records or not records.get(need.key):
            where = records.pos if records else data.pos
            yield Hit(where, f"阶段“{project.stage}”需要{need.what}（records.{need.key}，依据{need.article}）")
    for key in ctx.std.required_sections(project.stage):
        if not data.get(key):
            yield Hit(data.pos, f"阶段“{project.stage}”需要{SECTION_NAMES.get(key, key)}（{key}，"
                                f"依据{SECTION_ARTICLES.get(key, '第七条')}）")


def check_documents(project: Project, ctx: Context) -> Iterator[Hit]:
    documents = mapping(project.data.get("documents"))
    for kind in ctx.std.required_documents(project.stage):
        if not documents or kind not in documents:
            yield Hit(documents.pos if documents else project.data.pos,
                      f"阶段“{project.stage}”需要申请材料《{kind}》，请在 documents 中登记其文稿")
    if not documents:
        return
    allowed = ctx.enum("document_kind")
    for kind, _rel in documents.items():
        if kind not in allowed:
            yield Hit(documents.keypos[kind], f"未知的文档类型“{kind}”（可选：{'、'.join(allowed)}）")
            continue
        draft = project.drafts.get(str(kind))
        if draft and not os.path.exists(draft.file):  # os.path: an overlong name is absent, no crash
            yield Hit(documents.at(kind), f"《{kind}》的文稿 {draft.path} 不存在，请创建该文件或修正路径")


def check_outline(project: Project, ctx: Context) -> Iterator[Hit]:
    required = ctx.std.required_documents(project.stage)
    for kind, draft in project.drafts.items():
        # Work in progress on a document the stage does not yet need is only a warning.
        needed = kind in required or (kind == OVERALL_PLAN and ctx.std.reached(project.stage, "submitted"))
        level = None if needed else "warning"
        chapters = ctx.std.outlines.get(kind)
        if not chapters or draft.text is None:
            continue
        expanded = _expanded(project, ctx, draft)
        headings, lost = draft.headings, {}
        if expanded is None:
            stuck = glued(draft.text)
        else:
            # Judged on what render makes of the draft, each heading shown at its line as written.
            stuck = [(heading_line(draft.text, title), title) for _, title in glued(expanded)]
            headings = tuple(dataclasses.replace(h, line=heading_line(draft.text, h.title))
                             for h in chapters_of(expanded))
            written = sorted((*draft.headings, *(Heading(1, t, n, True) for n, t in glued(draft.text))),
                             key=lambda h: h.line)
            lost = {c.title: h for c, h in match_outline(chapters, tuple(written)) if h is not None}
        for line, title in stuck:
            yield Hit((line, 1), f"《{kind}》的标题“# {title}”紧接在上一行文字之后，排版时会并入上一段而不成为标题："
                                 "在它前面加一个空行", path=draft.path, level=level)
        last = max((h.line for h in headings), default=1)
        pairs = match_outline(chapters, headings)
        matched = {h.line for _, h in pairs if h is not None}
        for i, (chapter, heading) in enumerate(pairs):
            if heading is None:
                names = {normalise(n) for n in (chapter.title, *chapter.aliases)}
                if any(normalise(title) in names for _, title in stuck):
                    continue    # told above, at the heading that lacks its blank line
                if chapter.title in lost:
                    gone = lost[chapter.title]
                    yield Hit((gone.line, 1), f"《{kind}》的章节“{gone.title}”在模板展开后不见了：它写在 {{# … #}} 注释"
                                              "之内，或写在条件不成立、循环为空的 {% … %} 之间，成文中没有这一章。章节标题"
                                              "须写在模板语句之外，需要按条件取舍的内容放在标题之下",
                              path=draft.path, level=level)
                    continue
                # Shown where the chapter belongs: at the next outline chapter present, else at the last heading,
                # unless a line written as its heading in a Word habit, or a misspelt heading, is found there.
                at = next((h.line for _, h in pairs[i + 1:] if h is not None), last)
                after = next((h.line for _, h in reversed(pairs[:i]) if h is not None), 0)
                gap = [h for h in headings if h.level == 1 and after < h.line <= at and h.line not in matched]
                yield _missing(kind, chapter.title, (chapter.title, *chapter.aliases), draft.text, at, draft.path,
                               level, after, gap)
            elif not heading.has_body:
                yield Hit((heading.line, 1), f"《{kind}》的章节“{heading.title}”没有正文内容", path=draft.path, level=level)


def _expanded(project: Project, ctx: Context, draft: Draft) -> str | None:
    """The draft as render expands it, when it holds ``{% %}`` or ``{# #}``; None otherwise or when it fails.

    The outline is what the document filed holds: a chapter inside a false condition, an empty loop or a
    comment is not there, and a line holding only a statement becomes a blank line before a heading.
    References alone never add or remove a line, so drafts with nothing else are read as written.
    """
    text = draft.text or ""
    if "{" not in text or sandbox.expressions(text) is not None:
        return None
    try:
        return sandbox.render(text, draft.path, draft_values(project, ctx))
    except XzdocError:
        return None     # art07.draft-references reports it; render stops there too


def _missing(kind: str, title: str, names: tuple[str, ...], text: str, last: int, path: str,
             level: str | None, after: int = 0, gap: Sequence[Heading] = ()) -> Hit:
    """A missing chapter, at the line written as its heading in a Word habit when there is one.

    Such a line between the chapters before and after it is preferred: a sub-section elsewhere may bear the
    same name ("## （六）投资估算及资金来源" under 项目概述).
    """
    found = malformed_heading(text, names, (after, last))
    if found:
        line, written, what = found
        return Hit((line, 1), f"《{kind}》第{line}行“{written}”应是章节“{title}”的标题，但{what}"
                              f"（应写作“# {written.lstrip('#＃*_ 　').rstrip('*_ ')}”）", path=path, level=level)
    near = _misspelt(names, gap)
    if near is not None:
        return Hit((near.line, 1), f"《{kind}》缺少章节“{title}”：本行标题“{near.title}”不是大纲中的章节名，"
                                   f"若这一章就是“{title}”，请把标题改为“{title}”（可保留序号）", path=path, level=level)
    return Hit((last, 1), f"《{kind}》缺少章节“{title}”：须作为一级标题（# {title}）出现", path=path, level=level)


def check_multi_year(project: Project, ctx: Context) -> Iterator[Hit]:
    budget = mapping(project.data.get("budget"))
    total = money(project, "budget", "total")
    years = mapping(budget.get("years")) if budget else None
    if budget is None or total is None or not years:
        return
    summed = money_sum(project, ("budget", "years"), years)
    if summed is not None and summed != total:
        yield Hit(years.pos, f"分年度预算合计 {yuan(summed)}，与总预算 {yuan(total)} 不一致"
                             f"（相差 {yuan(summed - total)}）")


def check_sources(project: Project, ctx: Context) -> Iterator[Hit]:
    budget = mapping(project.data.get("budget"))
    total = money(project, "budget", "total")
    sources = mapping(budget.get("sources")) if budget else None
    if total is None or not sources:
        return
    summed = money_sum(project, ("budget", "sources"), sources)
    if summed is not None and summed != total:
        yield Hit(sources.pos, f"各资金来源合计 {yuan(summed)}，与总预算 {yuan(total)} 不一致")


def check_cross_department(project: Project, ctx: Context) -> Iterator[Hit]:
    data = project.data
    partners = data.get("partners")
    if not partners:
        if data.get("lead_department") and data.get("lead_department") != data.get("proposer"):
            yield Hit(data.at("lead_department"), "填写了牵头部门，但没有列出共建部门（partners）")
        return
    if not data.get("lead_department"):
        yield Hit(data.at("partners"), "跨部门共建项目须明确牵头部门（lead_department）")
    documents = mapping(data.get("documents"))
    if not ctx.std.reached(project.stage, "submitted"):
        return
    if not documents or OVERALL_PLAN not in documents:
        yield Hit(data.at("partners"), "跨部门共建项目须由牵头部门会同共建部门形成《整体方案》，"
                                       "请在 documents 中登记（整体方案: drafts/overall.md）")


def _misspelt(names: tuple[str, ...], gap: Sequence[Heading]) -> Heading | None:
    """The heading in the chapter's place that reads most like one of its names (a typo, a stray emoji)."""
    best, score = None, 0.6
    for heading in gap:
        written = normalise(heading.title)
        ratio = max(difflib.SequenceMatcher(None, written, normalise(n)).ratio() for n in names)
        if ratio > score:
            best, score = heading, ratio
    return best
