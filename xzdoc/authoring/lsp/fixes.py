"""Quick fixes for the findings an editor shows, computed from the text alone.

Each fix answers one kind of finding the rules report: a full-width colon or space after a
key, a Chinese comma in a flow list, an amount written as "120万元" or in full-width
digits, a missing outline chapter; plus the ``# yaml-language-server`` modeline that
gives other YAML tools the schema.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xzdoc.authoring.lsp.workspace import Diagnostic, Workspace
from xzdoc.authoring.scaffold import SCHEMA_FILE, chapter_block, chapter_heading
from xzdoc.source import drafts as md
from xzdoc.source import loader
from xzdoc.standard import Chapter

MODELINE = "# yaml-language-server: $schema="
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－", "0123456789.,-")
_MISSING = re.compile(r"缺少章节“([^”]+)”")


@dataclass(frozen=True)
class Edit:
    line: int
    start: int
    end_line: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    fixes: Diagnostic | None = None   # the diagnostic it resolves; None for a source action
    preferred: bool = False


def fixes(ws: Workspace, path: Path, diagnostics: list[Diagnostic]) -> list[Fix]:
    text = ws.text_of(path)
    lines = text.split("\n")
    out: list[Fix] = []
    for d in diagnostics:
        line = lines[d.line] if d.line < len(lines) else ""
        char = line[d.start] if d.start < len(line) else ""
        if char in ("：", "\u3000"):
            out.append(_replace(d, line, "把全角冒号“：”改为半角“:”" if char == "：" else "把全角空格改为半角空格",
                                ":" if char == "：" else " "))
        elif char in ("，", "、") and d.rule == "art03.categories":
            out.append(_replace(d, line, f"把“{char}”改为半角逗号“,”", ","))
        elif d.rule == "art07.schema" and "金额" in d.message:
            fixed = amount(line[d.start:d.end])
            if fixed is not None:
                edit = Edit(d.line, d.start, d.line, d.end, fixed)
                out.append(Fix(f"改写为 {fixed}（万元，两位小数）", (edit,), d, True))
        elif d.rule == "art07.outline" and (missing := _MISSING.search(d.message)):
            out += _chapter_fixes(ws, path, lines, missing.group(1), d)
    if path.name == loader.PROJECT_FILE and not text.startswith(MODELINE):
        schema = Path(os.path.relpath(ws.root / SCHEMA_FILE, path.parent)).as_posix()
        out.append(Fix("添加 # yaml-language-server 模式行（供其他 YAML 工具补全）",
                       (Edit(0, 0, 0, 0, f"{MODELINE}{schema}\n"),)))
    return out


def _replace(d: Diagnostic, line: str, title: str, by: str) -> Fix:
    # A key's colon and a list's comma are followed by a space in our style; add it when missing.
    after = line[d.start + 1: d.start + 2]
    text = by if by == " " or after in (" ", "") else by + " "
    return Fix(title, (Edit(d.line, d.start, d.line, d.start + 1, text),), d, True)


def amount(raw: str) -> str | None:
    """An amount in 万元 with two places, from "120万元", "１２０．５" or "1,200"; None when the intent is unclear."""
    text = raw.strip().strip("'\"").translate(_FULLWIDTH).replace(",", "").replace(" ", "")
    if text.endswith("元") and not text.endswith("万元"):
        return None  # yuan, not 万元: the author has to divide by 10,000, not us
    text = text.removesuffix("万元").removesuffix("万")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value < 0 or not isinstance(exponent, int) or exponent < -2:
        return None
    return f"{value:.2f}"


def _chapter_fixes(ws: Workspace, path: Path, lines: list[str], title: str, d: Diagnostic) -> list[Fix]:
    found = _outline_of(ws, path)
    if found is None:
        return []
    chapters, stage = found
    index = next((i for i, c in enumerate(chapters) if c.title == title), None)
    if index is None:
        return []
    text = "\n".join(lines)
    headings = md.chapters(text)
    pairs = md.match_outline(chapters, headings)
    after = [h.line for _, h in pairs[index + 1:] if h is not None]
    before = [h.line for _, h in pairs[:index] if h is not None]
    low, high = max(before, default=0), min(after, default=len(lines) + 1)
    matched = {h.line for _, h in pairs if h is not None}
    out = []
    # A heading in the chapter's place that matches nothing in the outline is most likely this chapter misnamed.
    for h in headings:
        if low < h.line < high and h.line not in matched:
            edit = Edit(h.line - 1, 0, h.line - 1, len(lines[h.line - 1]), chapter_heading(index, title))
            out.append(Fix(f"把标题“{h.title}”改为“{chapter_heading(index, title)[2:]}”", (edit,), d, True))
    # From submitted on a guidance line is itself an error (art07.placeholders): insert the bare heading.
    submitted = ws.config.standard.reached(stage, "submitted")
    block = chapter_heading(index, title) + "\n" if submitted else chapter_block(index, title)
    if after:
        edit = Edit(high - 1, 0, high - 1, 0, block + "\n")
    else:
        gap = "" if text.endswith("\n\n") or not text else "\n" if text.endswith("\n") else "\n\n"
        edit = Edit(len(lines) - 1, len(lines[-1]), len(lines) - 1, len(lines[-1]), gap + block)
    out.append(Fix(f"插入缺少的章节“{chapter_heading(index, title)[2:]}”", (edit,), d, not out))
    return out


def _outline_of(ws: Workspace, path: Path) -> tuple[tuple[Chapter, ...], str] | None:
    """The outline of the draft at ``path`` and its project's stage."""
    folder = ws.project_of(path)
    project = ws.projects.get(folder) if folder else None
    if project is None:
        return None
    kind = next((k for k, draft in project.drafts.items() if draft.file == path), None)
    chapters = ws.config.standard.outlines.get(kind) if kind else None
    return (chapters, project.stage) if chapters else None
