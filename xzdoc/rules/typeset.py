"""What a draft shows must be something the typesetter can read (第七条: what is filed must be a document the
bundle can produce): its images, its links, its characters and its size.

Render refuses the same things on the document pandoc reads; here they are
named at the draft line before a bundle is attempted, where Typst would
otherwise report them against the page template, or take minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

from xzdoc.errors import XzdocError
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, hit_of
from xzdoc.source import assets, textio
from xzdoc.source.yamlio import Pos, YList, YMap

# Pandoc and Typst spend about a quarter of a millisecond and tens of kilobytes on each paragraph, table row
# or emphasis: 40,000 took 7 s and 740 MB. Real documents have a few thousand; this bounds a render to seconds.
MAX_ELEMENTS = 30_000


def elements(body: str) -> int:
    """Lines (each at most one paragraph, item or table row), table cells (one "|" each: a 60,000-column table
    of seven lines took 93 s and 7 GB), and emphasis or code spans, counted cheaply."""
    return (body.count("\n") + body.count("|") + body.count("*") // 2 + body.count("`") // 2
            + body.count("_") // 2)


def too_many(body: str, path: str, kind: str = "文稿") -> XzdocError | None:
    count = elements(body)
    if count <= MAX_ELEMENTS:
        return None
    return XzdocError(f"《{kind}》有约 {count:,} 个段落、行、表格单元格和格式片段，超过 {MAX_ELEMENTS:,} 个的上限"
                      "（排版的时间和内存随之增长，数十万个时要数分钟、数 GB）", path,
                      hint="申请材料正文通常只有几千个段落；删去重复或无关的内容，数据清单改作附件")


def check_size(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        problem = too_many(draft.text or "", draft.path, draft.kind)
        if problem is not None:
            yield hit_of(problem)


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
                yield hit_of(exc, line)


def check_links(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        if not draft.text:
            continue
        seen: set[str] = set()
        for line, target in assets.links(draft.text):
            if target in seen:
                continue
            seen.add(target)
            try:
                assets.link(target, project.folder, draft.file.parent, draft.path, line)
            except XzdocError as exc:
                yield hit_of(exc, line)


def check_characters(project: Project, ctx: Context) -> Iterator[Hit]:
    for draft in project.drafts.values():
        if not draft.text:
            continue
        control, unfit = textio.may_hold(draft.raw) if draft.raw else (True, True)
        exc = textio.control_character(draft.text, draft.path) if control else None
        exc = exc or (textio.unfit_character(draft.text, draft.path) if unfit else None)
        if exc is not None:
            yield hit_of(exc)
    # YAML refuses a raw control character; only a double-quoted escape ("\a", "\x1b", "\N") makes one.
    escaped = "\\" in project.source
    if escaped:
        for pos, value in _strings(project.data):
            char = textio.first_control(value)
            if char is not None:
                shown = "".join(f"\\x{ord(c):02x}" if textio.first_control(c) else c for c in value[:30])
                yield Hit(pos, f"元数据中的“{shown}”含有控制字符 "
                               f"U+{ord(char):04X}，写入文稿后 PDF 和 DOCX 都无法容纳：删去这个转义字符")
    # An unfit character is written as it is, or as an escape ("\U0001F600").
    if escaped or textio.first_unfit(project.source) is not None:
        for pos, value in _strings(project.data):
            char = textio.first_unfit(value)
            if char is not None:
                yield Hit(pos, f"元数据中的“{value[:30]}”含有 U+{ord(char):04X}（{textio.unfit_kind(char)}），"
                               "写入文稿后 PDF 无法生成：删去它")


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
