"""Markdown drafts: headings, chapter bodies and outline matching."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from xzdoc.model import Heading
from xzdoc.standard import Chapter

MAX_DRAFT_BYTES = 4 * 1024 * 1024
# Scaffold guidance: shown while editing, never counted as text, dropped when rendering.
GUIDANCE = "> 【编写提示】"
# Written at the end of a line to accept a scanner's hit there; removed from rendered documents.
ALLOW_MARK = "xzdoc: allow"
ALLOW_TEXT = re.compile(r"[ \t\u3000]*(?:<!--[ \t]*)?[（(]?xzdoc:[ \t]*allow[)）]?(?:[ \t]*-->)?")

_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
# A one-line paragraph underlined with "=" is a level-1 heading to pandoc (setext style), even "1. 标题";
# under a bullet it is the item's, not the document's.
_SETEXT = re.compile(r"(?:\A|(?<=\n\n))(?![-*+][ \t])([^\n#`~ \t][^\n]*)\n=+[ \t]*(?=\n|\Z)")
_OPEN_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"([-*_=])(?:[ \t]*\1){2,}[ \t]*$")
_SPACES = re.compile(r"\s+")
# Used with match(text, pos, endpos) on one line: no ^, which would only match at offset 0.
# Word's habit of indenting paragraphs with full-width spaces (　　) still makes body text.
_BODY = re.compile(r"^(?!> 【编写提示】)[ \t\u3000]*[^\s#]", re.M)
_NUMBERING = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+[章节部分篇][、\s．.]*"
    r"|[一二三四五六七八九十百零〇]+[、.．]\s*"
    r"|[（(][一二三四五六七八九十\d]+[)）]\s*"
    r"|\d+(\.\d+)*[、.．]?\s+"
    r"|\d+[、.．]\s*)"
)


def chapters(text: str) -> tuple[Heading, ...]:
    """Level-1 headings (chapters) outside code fences, each knowing whether text follows it.

    Text under a sub-section counts for its chapter; headings and scaffold
    guidance alone do not. Found with str.find rather than a line loop:
    drafts run to tens of kilobytes and validation speed is a design target.
    """
    text = _as_atx(text)
    # A one-character search first: a three-character one scans all of a long Chinese draft slowly.
    if ("`" in text and "```" in text) or ("~" in text and "~~~" in text):
        return tuple(h for h in all_headings(text) if h.level == 1)
    starts = [0] if text.startswith("# ") else []
    at = text.find("\n# ")
    while at >= 0:
        if at == 0 or text[at - 1] == "\n" or not _continues(text[text.rfind("\n", 0, at) + 1:at]):
            starts.append(at + 1)
        at = text.find("\n# ", at + 1)
    bounds = [*starts, len(text)]
    lines = _line_numbers(text, starts)
    out = []
    for i, start in enumerate(starts):
        end = text.find("\n", start)
        end = bounds[i + 1] if end < 0 or end > bounds[i + 1] else end
        title = text[start + 2:end].strip().rstrip("#").strip()
        out.append(Heading(1, title, lines[i], bool(_BODY.search(text, end, bounds[i + 1]))))
    return tuple(out)


def glued(text: str) -> list[tuple[int, str]]:
    """(line, title) of each ``# `` line pandoc reads as part of the paragraph, list or quote above it.

    Pandoc wants a blank line before a heading: "正文\n# 二、…" is one paragraph, and the chapter
    would be missing from the document while an outline read line by line found it.
    """
    if not _may_glue(text):
        return []
    found, fenced, previous = [], None, ""
    for number, line in enumerate(text.split("\n"), 1):
        fenced, code = fence_step(line, fenced)
        if not code and line.startswith("# ") and _continues(previous):
            found.append((number, line[2:].strip().rstrip("#").strip()))
        previous = "" if code else line
    return found


def _may_glue(text: str) -> bool:
    """Is any ``# `` line right under a line that would take it in? Most drafts have none: no line walk then."""
    at = text.find("\n# ")
    while at >= 0:
        if at and text[at - 1] != "\n" and _continues(text[text.rfind("\n", 0, at) + 1:at]):
            return True
        at = text.find("\n# ", at + 1)
    return False


def fence_step(line: str, fenced: str | None) -> tuple[str | None, bool]:
    """The fence open after ``line`` (None: none) and whether ``line`` is code or a fence, read as pandoc reads.

    A fence is three or more backticks or tildes indented at most three spaces; only one of the same
    character, at least as long and with nothing after it, closes it. Backticks followed by a backtick
    on the same line are inline code, not a fence.
    """
    fence = _OPEN_FENCE.match(line) if line.lstrip(" ")[:1] in ("`", "~") else None
    if fenced is not None:
        closes = fence is not None and fence.group(1)[0] == fenced[0] and len(fence.group(1)) >= len(fenced) \
            and not line[fence.end():].strip()
        return (None if closes else fenced), True
    if fence and not (fence.group(1)[0] == "`" and "`" in line[fence.end():]):
        return fence.group(1), True
    return None, False


def heading_line(text: str, title: str) -> int:
    """The line of the first ATX heading titled ``title`` (1 when there is none)."""
    at = 0
    while True:
        at = text.find(title, at)
        if at < 0:
            return 1
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        found = _ATX.match(text[start:end if end >= 0 else len(text)])
        if found is not None and found.group(2) == title:
            return text.count("\n", 0, start) + 1
        at += len(title) or 1


def _continues(line: str) -> bool:
    """Whether a ``# `` line right under ``line`` is read by pandoc as more of ``line``'s paragraph, item or quote."""
    if not line.strip() or line.startswith(("    ", "\t", GUIDANCE)):
        return False     # blank, indented code, or scaffold guidance (dropped before pandoc reads the draft)
    head = line.lstrip(" ")
    return not (head.startswith(("#", "|", "```", "~~~")) or _RULE.match(head))


def _as_atx(text: str) -> str:
    """Setext level-1 headings rewritten as ``# title``, the underline left as a blank line so lines keep their numbers."""
    if "=" not in text or "\n=" not in text:
        return text
    return _SETEXT.sub(lambda m: f"# {m.group(1)}\n", text)


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    out, line, pos = [], 1, 0
    for offset in offsets:
        line += text.count("\n", pos, offset)
        pos = offset
        out.append(line)
    return out


def all_headings(text: str) -> tuple[Heading, ...]:
    """All headings, honouring code fences: one pass with a stack of open headings."""
    done: list[list] = []  # type: ignore[type-arg]
    stack: list[list] = []  # type: ignore[type-arg]  # [level, title, line, has_body]
    fenced: str | None = None
    skip = {number for number, _ in glued(text)}
    for number, line in enumerate(_as_atx(text).split("\n"), 1):
        if not line or line.isspace():
            continue
        was = fenced
        fenced, code = fence_step(line, fenced)
        if was is not None:
            if stack:
                stack[-1][3] = True    # code is a chapter's content too
            continue
        if not code and line[0] == "#" and number not in skip and (match := _ATX.match(line)):
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                _close(stack, done)
            stack.append([level, match.group(2).strip(), number, False])
            continue
        if not code and line.startswith(GUIDANCE):
            continue
        if stack:
            stack[-1][3] = True
    while stack:
        _close(stack, done)
    done.sort(key=lambda h: h[2])
    return tuple(Heading(level, title, line, body) for level, title, line, body in done)


def _close(stack: list[list], done: list[list]) -> None:  # type: ignore[type-arg]
    closed = stack.pop()
    if closed[3] and stack:
        stack[-1][3] = True
    done.append(closed)


@functools.lru_cache(maxsize=4096)
def normalise(title: str) -> str:
    # Chapter titles recur in every project of a portfolio: each spelling is normalised once.
    return _SPACES.sub("", _NUMBERING.sub("", title.strip()))


def match_outline(chapters: Iterable[Chapter], found: tuple[Heading, ...]) -> list[tuple[Chapter, Heading | None]]:
    """Each outline chapter paired with the level-1 heading that satisfies it."""
    top = {normalise(h.title): h for h in found if h.level == 1}
    pairs: list[tuple[Chapter, Heading | None]] = []
    for chapter in chapters:
        names = (chapter.title, *chapter.aliases)
        pairs.append((chapter, next((top[n] for n in names if n in top), None)))
    return pairs


_HASH_NO_SPACE = re.compile(r"#+(?=[^\s#])")
_DEEPER = re.compile(r"(#{2,6})[ \t]+")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1[ \t]*$")
_WIDE_HASH = re.compile(r"＃+[ \t\u3000]*")
_WIDE_SPACE = re.compile(r"#+\u3000+")


def malformed_heading(text: str, titles: Iterable[str],
                      window: tuple[int, int] | None = None) -> tuple[int, str, str] | None:
    """(line, the line, what is wrong) of the first line that is meant as one of these chapter headings.

    Word habits: the numbered title without ``#``, ``#`` without a space, a
    deeper level than a chapter, a bold line, a full-width ``＃``. A line
    counts only when, without that markup, it is exactly the title (numbering
    aside), so prose that merely mentions the chapter is never reported. A
    line strictly inside ``window`` (lines after, before) wins over any other.
    """
    found: list[tuple[int, str, str]] = []
    for title in titles:
        at = text.find(title)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            line = text[start: end if end >= 0 else len(text)]
            what = _what_is_wrong(line.strip(" \t\u3000"), title)
            if what:
                found.append((start, line.strip(), what))
            at = text.find(title, at + len(title))
    if not found:
        return None
    located = sorted((text.count("\n", 0, start) + 1, line, what) for start, line, what in found)
    if window is not None:
        inside = [f for f in located if window[0] < f[0] < window[1]]
        if inside:
            return inside[0]
    return located[0]


def _what_is_wrong(line: str, title: str) -> str | None:
    if (m := _DEEPER.match(line)) and normalise(line[m.end():].rstrip("# ")) == title:
        return f"章标题须是一级标题（一个“#”），这里是{len(m.group(1))}级标题"
    if (m := _HASH_NO_SPACE.match(line)) and normalise(line[m.end():]) == title:
        return "“#”后缺少空格，Markdown 不把它当作标题"
    if (m := _WIDE_HASH.match(line)) and normalise(line[m.end():]) == title:
        return "用了全角“＃”，须是半角“#”加空格"
    if (m := _WIDE_SPACE.match(line)) and normalise(line[m.end():]) == title:
        return "“#”后是全角空格，须是半角空格"
    if (m := _BOLD.match(line)) and normalise(m.group(2)) == title:
        return "加粗的一行不是标题，须写作 Markdown 一级标题"
    if not line.startswith(("#", "|", ">", "-", "*")) and normalise(line) == title:
        return "缺少标题标记“# ”，这一行只是正文"
    return None
