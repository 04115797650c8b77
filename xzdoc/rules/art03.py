"""第三条: what kind of project it is, and that it is not classified."""

from __future__ import annotations

import re
from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, bad_enum, comma_slip
from xzdoc.source.drafts import ALLOW_MARK
from xzdoc.source.yamlio import YList

# What marks a document as classified (GB/T 7156 style marks and statements about this document or system),
# as opposed to the ordinary non-classified wording every security chapter has (涉密不上网、上网不涉密,
# 本系统不处理涉密信息, 涉密人员, 机密性, 商业秘密).
_LEVEL = "(?:绝密|机密|秘密)"
_LEVEL_LINE = re.compile(rf"密\s*级[\s*_]*(?:[:：|]|为|是)?[\s*_|]*({_LEVEL})")
_STARRED = re.compile(rf"{_LEVEL}\s*[★☆]")
_HEADER = re.compile(rf"(?:{_LEVEL}|涉密)(?:文件|文档|资料|件)?[\s★☆]*(?:\d+年|[一二三四五六七八九十]+年|长期|启用前)?")
_PAREN = re.compile(r"[（(【\[〔]\s*涉密\s*[）)】\]〕]")
_SUBJECT = re.compile(r"(?:本|该|此)(?:项目|系统|平台|文件|文档|报告|材料|方案|文稿|资料|数据库|数据|件)")
_VERB = re.compile(r"(?:属于|定为|列为|含有|包含|涉及|存储|处理|传输|承载|存放|汇聚|为|系|是|含|属)(?:的|了)?$")
_NEGATION = re.compile(r"不|非|未|无|严禁|禁止|杜绝|防止|避免|拒绝|否")
_CLAUSE_END = "，。；！？：,;!?\n"
_MARKUP = " \t\u3000#*>_【】[]"


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
        before = text[here - 1] if here else ""
        if before not in "绝机秘涉" and not _LEVEL_LINE.match(text, here):
            continue
        line_start = text.rfind("\n", 0, here) + 1
        line_end = text.find("\n", here)
        line = text[line_start: line_end if line_end >= 0 else len(text)]
        if ALLOW_MARK in line:
            continue
        found = _marker(text, here, line_start, line)
        number = text.count("\n", 0, here) + 1 if found else 0
        if found and number != last_line:
            last_line = number
            yield number, found[0] - line_start + 1, found[1]


def _marker(text: str, here: int, line_start: int, line: str) -> tuple[int, str] | None:
    """(offset, marker) when the 密 at ``here`` belongs to a classification mark or statement."""
    if m := _LEVEL_LINE.match(text, here):
        return here, m.group(0)
    start = here - 1
    word = text[start: here + 1]
    if word != "涉密" and _STARRED.match(text, start):
        return start, _STARRED.match(text, start).group(0)  # type: ignore[union-attr]
    bare = line.strip(_MARKUP)
    if _HEADER.fullmatch(bare):
        return start, bare
    if word == "涉密" and _PAREN.search(text, max(line_start, start - 2), here + 3):
        return start, word
    if word == "秘密" and text[start - 2: start] == "国家":
        start, word = start - 2, "国家秘密"
    elif word != "涉密" and not text.startswith(("级", "文件", "文档", "材料", "资料"), here + 1):
        return None     # 商业秘密, 机密性, a list of the levels: not marks; 本报告为秘密文件 is one
    return (start, word) if _affirmed(text, start, line_start) else None


def _affirmed(text: str, start: int, line_start: int) -> bool:
    """True when the clause says this document, project or system is (or holds) classified material."""
    clause = max(line_start, *(text.rfind(c, line_start, start) + 1 for c in _CLAUSE_END))
    prefix = text[clause:start]
    subject = _SUBJECT.search(prefix)
    if subject is None or _NEGATION.search(prefix):
        return False
    rest = prefix[subject.end():]
    return rest == "" or (len(rest) <= 8 and _VERB.search(rest) is not None)


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
