"""What a draft shows must be something the typesetter can read (第七条: what is filed must be a document the
bundle can produce): its images and its characters.

Both are checked again by render on the document pandoc reads; here they are
named at the draft line before a bundle is attempted, where Typst would
otherwise report them against the page template.
"""

from __future__ import annotations

from collections.abc import Iterator

from xzdoc.errors import XzdocError
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit
from xzdoc.source import assets, textio
from xzdoc.source.yamlio import Pos, YList, YMap


def check_images(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        if not draft.text or "![" not in draft.text:
            continue
        seen: set[str] = set()
        for line, target in assets.inline_images(draft.text):
            if target in seen or not target:
                continue
            seen.add(target)
            try:
                assets.image(target, project.folder, draft.file.parent, draft.path, line)
            except XzdocError as exc:
                yield Hit((line, 1), exc.message + (f"：{exc.hint}" if exc.hint else ""), path=draft.path)


def check_characters(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        if not draft.text or (draft.raw and not textio.may_hold_control(draft.raw)):
            continue
        exc = textio.control_character(draft.text, draft.path)
        if exc is not None:
            yield Hit((exc.line or 1, exc.column or 1), exc.message + f"：{exc.hint}", path=draft.path)
    # YAML refuses a raw control character; only a double-quoted escape ("\a", "\x1b", "\N") makes one.
    if "\\" in project.source:
        for pos, value in _strings(project.data):
            char = textio.first_control(value)
            if char is not None:
                yield Hit(pos, f"元数据中的“{value[:30].encode('unicode_escape').decode('ascii')}”含有控制字符 "
                               f"U+{ord(char):04X}，写入文稿后 PDF 和 DOCX 都无法容纳：删去这个转义字符")


def _strings(node: object) -> Iterator[tuple[Pos, str]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, YMap):
            for key, value in item.items():
                if isinstance(value, str):
                    yield item.at(key), value
                elif isinstance(value, (YMap, YList)):
                    stack.append(value)
                if isinstance(key, str):
                    yield item.keypos.get(key, item.pos), key
        elif isinstance(item, YList):
            for i, value in enumerate(item):
                if isinstance(value, str):
                    yield item.at(i), value
                elif isinstance(value, (YMap, YList)):
                    stack.append(value)
