"""Markdown drafts: headings, chapter bodies and outline matching."""

from __future__ import annotations

import re
from collections.abc import Iterable

from xzdoc.model import Heading
from xzdoc.standard import Chapter

MAX_DRAFT_BYTES = 4 * 1024 * 1024

_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
_NUMBERING = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+[章节部分篇][、\s．.]*"
    r"|[一二三四五六七八九十百零〇]+[、.．]\s*"
    r"|[（(][一二三四五六七八九十\d]+[)）]\s*"
    r"|\d+(\.\d+)*[、.．]?\s+"
    r"|\d+[、.．]\s*)"
)


def headings(text: str) -> tuple[Heading, ...]:
    """ATX headings outside code fences, each knowing whether prose follows it."""
    found: list[tuple[int, str, int]] = []
    body_lines: list[int] = []
    fenced = False
    for number, line in enumerate(text.split("\n"), 1):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            body_lines.append(number)
            continue
        match = None if fenced else _ATX.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2).strip(), number))
        elif line.strip():
            body_lines.append(number)
    out = []
    for i, (level, title, line) in enumerate(found):
        end = next((ln for lv, _, ln in found[i + 1:] if lv <= level), 1 << 30)
        has_body = any(line < b < end for b in body_lines)
        out.append(Heading(level, title, line, has_body))
    return tuple(out)


def normalise(title: str) -> str:
    return re.sub(r"\s+", "", _NUMBERING.sub("", title.strip()))


def match_outline(chapters: Iterable[Chapter], found: tuple[Heading, ...]) -> list[tuple[Chapter, Heading | None]]:
    """Each outline chapter paired with the level-1 heading that satisfies it."""
    top = {normalise(h.title): h for h in found if h.level == 1}
    pairs: list[tuple[Chapter, Heading | None]] = []
    for chapter in chapters:
        names = (chapter.title, *chapter.aliases)
        pairs.append((chapter, next((top[n] for n in names if n in top), None)))
    return pairs
