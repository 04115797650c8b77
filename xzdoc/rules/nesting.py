"""Draft nesting the PDF typesetter can take (第七条: what is filed must be a document the bundle can produce).

Typst applies a show rule for each level of a block quote or list and stops at
a fixed depth: on the bureau's page template a quote seventeen levels deep, or
a quote twelve deep holding a list eight deep, no longer typesets, and the
bundle fails far from the line at fault. The limits here (quotes 8 deep,
lists 12 deep, both together typeset) are well inside that and far beyond any
real draft, so validate names the line before a bundle is attempted.

Nesting is read from each line's prefix much as pandoc reads it: ``>``
markers (not right under a paragraph), then list markers whose indentation
reaches the text of the item above without going four columns past it (that
is code). On odd layouts (lists indented four spaces at the margin, say) the
count can differ from pandoc's by a level or two either way; the limits leave
room for that. Drafts with no ``>>``, no ``> >``, no tab and no run of 24
spaces cannot nest that deep, and are not scanned line by line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xzdoc.errors import XzdocError
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, hit_of

MAX_QUOTES = 8
MAX_LISTS = 12
MAX_BRACKETS = 4     # pandoc's time grows ~2.4x a level: 4 levels 20 ms, 7 levels 0.3 s, 10 levels 6.5 s
_BRACKET_MARKS = re.compile(r"\\.|`+|\[|\]")
_QUOTES = re.compile(r"[ \t]*((?:>[ \t]?)+)")
_ITEM = re.compile(r"([ \t]*)([-*+]|\d{1,9}[.)])(?:([ \t]+)|$)")
_FENCES = ("```", "~~~")
# Pandoc keeps a list's first number in a 64-bit integer: 9999999999999999999 wraps to a negative start
# that Typst refuses ("number must be at least zero"). CommonMark allows nine digits; so does this check.
MAX_DIGITS = 9
# pandoc's fancy lists number items as "12.", "12)" and "(12)".
# A template expression before the number may write nothing ({{ '' }}): it is looked through.
_HUGE = re.compile(r"(?:[ \t>]|[-*+][ \t]|\(?\d{1,9}[.)][ \t]|\{\{[^{}\n]*\}\})*\(?(\d{10,})[.)](?:[ \t]|$)")
# Ten digits after nothing but markers at a line's start; the leading newline lets the search skip ahead fast.
_HUGE_QUICK = re.compile(r"\n[ \t>*+\-0-9.()]*(?:\{\{[^{}\n]*\}\}[ \t>*+\-0-9.()]*)*[0-9]{10}")


def check_nesting(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        problem = too_deep(draft.text or "", draft.path, draft.kind)
        if problem is not None:
            yield hit_of(problem)


def too_deep(body: str, path: str, kind: str = "文稿") -> XzdocError | None:
    """The error for the first line nested past a limit, or None; render refuses what this rule reports."""
    square = brackets(body) if body else None
    if square is not None:
        line, depth = square
        return XzdocError(f"《{kind}》第{line}行方括号“[”嵌套 {depth} 层，嵌套过深（至多 {MAX_BRACKETS} 层：pandoc 读"
                          "嵌套的方括号，每多一层耗时约翻一倍半，二十层就转换不完）", path, line,
                          hint="去掉多余的“[”，或写作“\\[”；需要层级时改用列表或表格")
    huge = huge_number(body) if body else None
    if huge is not None:
        line, digits = huge
        return XzdocError(f"《{kind}》第{line}行有序列表的序号“{digits[:30]}”超过 {MAX_DIGITS} 位数，排版时会溢出成负数，"
                          "PDF 无法生成", path, line,
                          hint="改用较小的序号；若这不是列表，在“.”或“)”前加反斜杠，如“2025\\. ”")
    if not body or not _may_nest(body):
        return None
    found = deepest(body)
    if found is None:
        return None
    line, quotes, lists = found
    what = f"引用“>”嵌套 {quotes} 层" if quotes > MAX_QUOTES else f"列表嵌套 {lists} 层"
    return XzdocError(f"《{kind}》第{line}行{what}，嵌套过深（引用至多 {MAX_QUOTES} 层、列表至多 {MAX_LISTS} 层，"
                      "更深的嵌套会使 PDF 排版失败）", path, line, hint="减少“>”或缩进，把深层内容改写为正文或表格")


def _may_nest(body: str) -> bool:
    # Nine quote markers need two in a row somewhere; thirteen list levels need 24 columns of indent.
    # One-character searches first: they cost a fraction of a two-character search over Chinese text.
    return "\t" in body or " " * 24 in body or (">" in body and (">>" in body or "> >" in body))


def deepest(body: str) -> tuple[int, int, int] | None:
    """(line, quotes, lists) of the first line nested past a limit; None when none is."""
    stack: list[int] = []        # content column of each open list item, outermost first
    level = 0                    # quote depth the open lists belong to
    before = "blank"             # the line above: blank, text or item
    for number, line, _ in _outside_fences(body):
        marks = _QUOTES.match(line)
        quotes = marks.group(1).count(">") if marks else 0
        rest = line[marks.end():] if marks else line
        if not rest.strip():
            before = "blank"    # a blank line does not end a list: the next item may follow it
            continue
        if quotes and before != "blank" and not level:
            continue            # "> …" right under a paragraph or an item is that text's continuation
        if quotes != level:
            stack, level = [], quotes
        item = _ITEM.match(rest)
        indent = len((item.group(1) if item else rest[: len(rest) - len(rest.lstrip(" \t"))]).expandtabs(4))
        # Nor does a list start right under a paragraph, and four columns past the text above is code.
        if item and ((not stack and before == "text") or indent >= (stack[-1] if stack else 0) + 4):
            item = None
        if item:
            while stack and indent < stack[-1]:
                stack.pop()
            stack.append(indent + len(item.group(2)) + min(len((item.group(3) or " ").expandtabs(4)), 4))
        elif indent == 0:
            stack = []          # a paragraph at the margin closes every list
        before = "item" if item else "text"
        if quotes > MAX_QUOTES or len(stack) > MAX_LISTS:
            return number, quotes, len(stack)
    return None


def huge_number(body: str) -> tuple[int, str] | None:
    """(line, number) of the first list item outside code numbered with more than MAX_DIGITS digits; else None."""
    if _HUGE.match(body) is None and _HUGE_QUICK.search(body) is None:
        return None
    for number, line, _ in _outside_fences(body):
        found = _HUGE.match(line)
        if found is not None:
            return number, found.group(1)
    return None


def brackets(body: str) -> tuple[int, int] | None:
    """(line, depth) where unescaped "[" first nest past MAX_BRACKETS in a paragraph outside code; else None."""
    if body.count("[") <= MAX_BRACKETS:
        return None
    depth = 0
    for number, line, head in _outside_fences(body):
        if not head:
            depth = 0           # a paragraph ends: brackets do not span it
            continue
        if "[" not in line and "]" not in line:
            continue
        code = ""               # the backtick run that opened a code span on this line
        for mark in _BRACKET_MARKS.finditer(line):
            token = mark.group()
            if token[0] == "`":
                code = "" if token == code else (code or token)
            elif code or token[0] == "\\":
                continue
            elif token == "[":
                depth += 1
                if depth > MAX_BRACKETS:
                    return number, depth
            else:
                depth = max(depth - 1, 0)
    return None


def _outside_fences(body: str) -> Iterator[tuple[int, str, str]]:
    """(line number, line, line without its indent) for each line outside fenced code blocks."""
    fence: str | None = None
    for number, line in enumerate(body.split("\n"), 1):
        head = line.lstrip(" \t")
        if fence is not None:
            if head.startswith(fence):
                fence = None
            continue
        if head.startswith(_FENCES):
            fence = head[:3]
            continue
        yield number, line, head
