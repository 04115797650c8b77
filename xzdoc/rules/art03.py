"""第三条: what kind of project it is, and that it is not classified."""

from __future__ import annotations

import re
from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, bad_enum, comma_slip
from xzdoc.source.yamlio import YList

ALLOW_MARK = "xzdoc: allow"
# Formal markings (秘密★一年, 密级：机密) and a bare 涉密 or 绝密 that no negation qualifies.
_CANDIDATE = re.compile(r"(绝密|机密|秘密)\s*★|密级\s*[:：]\s*(绝密|机密|秘密|涉密)|涉密|绝密|国家秘密")
_NEGATED = re.compile(r"(非|不|无|未|不属于|不含|不涉及|不包含|不得|严禁|禁止)涉密$")


def check_type(project: Project, ctx: Context) -> Iterator[Hit]:
    hit = bad_enum(project.data, "type", ctx.enum("project_type"), "项目类型")
    if hit:
        yield hit


def check_categories(project: Project, ctx: Context) -> Iterator[Hit]:
    cats = project.data.get("categories")
    if not isinstance(cats, YList):
        return
    allowed = ctx.enum("category")
    for i, cat in enumerate(cats):
        slip = comma_slip(cat)
        if slip is not None:
            line, col = cats.at(i)
            yield Hit((line, col + slip), f"项目类别之间用了中文标点“{str(cat)[slip]}”：把“{str(cat)[slip]}”改为半角逗号“,”，"
                                          "例如 categories: [应用系统, 信息资源]")
        elif str(cat) not in allowed:
            yield Hit(cats.at(i), f"项目类别“{cat}”不在规定范围内（可选：{'、'.join(allowed)}）")
    if len(set(map(str, cats))) != len(cats):
        yield Hit(cats.pos, "项目类别有重复项")


def classified_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, marker) of every classification marker in ``text``, one per line."""
    last_line = 0
    at = text.find("密")
    while at >= 0:
        # Every marker has a 密 preceded by 绝/机/秘/涉 or followed by 级; 密码 and the like are skipped cheaply.
        here, at = at, text.find("密", at + 1)
        if (here == 0 or text[here - 1] not in "绝机秘涉") and not text.startswith("密级", here):
            continue
        match = _CANDIDATE.search(text, max(0, here - 3), here + 12)
        if match is None:
            continue
        start = match.start()
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        number = text.count("\n", 0, start) + 1
        if number == last_line or ALLOW_MARK in text[line_start: line_end if line_end >= 0 else len(text)]:
            continue
        if match.group(0) == "涉密" and _NEGATED.search(text[max(line_start, start - 4): match.end()]):
            continue
        last_line = number
        yield number, start - line_start + 1, match.group(0)


def check_classified(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        if draft.text:
            for line, col, marker in classified_lines(draft.text):
                yield Hit((line, col), _message(marker), path=draft.path)
    for pos, value in project.marked:
        for _, _, marker in classified_lines(value):
            yield Hit(pos, _message(marker))


def _message(marker: str) -> str:
    return (f"出现涉密标识“{marker}”：本办法只适用于非涉密项目，涉密内容不得进入本仓库，"
            f"请删除并按保密规定另行处理（如确为引用说明，在该行末尾注明“{ALLOW_MARK}”）")
