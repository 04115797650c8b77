"""`xzdoc import`: a Word/WPS document becomes a project's draft, through pandoc's docx reader.

Chapter headings come from Word heading styles or from 公文 numbering written by hand in
plain paragraphs (一、 （一） 1. （1）, 第一章); level-1 headings are matched to the outline
with its aliases. Tables stay tables, images are copied into the project, full-width
indentation and hand-typed list numbers go (the layout adds them back). What could not be
placed is reported, never silently dropped: the caller prints the report.
"""

from __future__ import annotations

import difflib
import functools
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from xzdoc.authoring import docx_archive
from xzdoc.authoring.docx_archive import walk as _walk
from xzdoc.authoring.scaffold import DRAFT_FILES, chapter_block
from xzdoc.config import Config
from xzdoc.errors import UsageError, XzdocError
from xzdoc.render import pandoc
from xzdoc.render.document import SLUGS
from xzdoc.source import drafts as md
from xzdoc.source import fsio, loader
from xzdoc.source.yamlio import YMap, loads, read_text
from xzdoc.standard import Chapter

MAX_DOCX_BYTES = 50 * 1024 * 1024
IMAGES = "images"
_LEVELS = (
    (1, re.compile(r"^(第[一二三四五六七八九十百零〇]+[章部分篇])[、\s．.:：]*")),
    (1, re.compile(r"^[一二三四五六七八九十百零〇]+[、．.]\s*")),
    (2, re.compile(r"^[（(][一二三四五六七八九十百]+[)）]\s*")),
    (3, re.compile(r"^\d+[、．.](?![\d.．])\s*")),
    (4, re.compile(r"^[（(]\d+[)）]\s*")),
)
# 1.1 / 1.1.1 section numbers: as many levels as parts, after 第一章-style chapters.
_DOTTED = re.compile(r"^\d+(?:[.．]\d+)+(?=[\s\u4e00-\u9fff])\s*")
# A table-of-contents line: dot leaders or a tab, then the page number.
_TOC_LINE = re.compile(r"(\.{3,}|…{2,}|·{3,}|\s)\s*\d+\s*$")
_LIST_NUMBER = re.compile(r"^(\d{1,9})[、．.](?![\d.．])\s*")  # a list is not numbered past nine digits
_SENTENCE_END = tuple("。；;，,：:！？")
# Where a missing chapter goes; random per run, so a vendor's text cannot hold it.
_MARK = "XZDOCMISSINGCHAPTER" + __import__("secrets").token_hex(8).upper() + "N"
_INDENT = "\u3000 \t\u00a0"


@dataclass
class Report:
    draft: Path
    registered: bool
    kind: str = ""
    chapters_found: list[str] = field(default_factory=list)
    chapters_missing: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)       # paragraphs before the first chapter, dropped
    extra: list[str] = field(default_factory=list)          # level-1 headings the outline does not name, kept
    images: list[Path] = field(default_factory=list)
    tables: int = 0
    comments: int = 0                                       # Word 批注, not part of the text: dropped
    hidden: int = 0                                         # runs of Word hidden text: dropped
    allow_marks: int = 0                                    # "xzdoc: allow" markers from outside: removed
    templates: int = 0                                      # {{ {% {# in the text: kept as text, not template


def import_docx(config: Config, source: Path, folder: Path, kind: str, force: bool = False) -> Report:
    kind = next((k for k, slug in SLUGS.items() if slug == kind), kind)  # --as proposal means 项目建议书
    if kind not in config.standard.enums.get("document_kind", ()):
        raise UsageError(f"未知的文档类型“{kind}”", "命令行选项 --as",
                         hint="可选：" + "、".join(config.standard.enums.get("document_kind", ())))
    if not (folder / loader.PROJECT_FILE).is_file():
        raise UsageError(f"{folder} 不是项目目录（没有 {loader.PROJECT_FILE}）", "命令行选项 --project",
                         hint="写项目目录或项目编号，例如 --project XZJT-2026-003")
    data = docx_archive.read_docx(source, MAX_DOCX_BYTES)
    comments = docx_archive.check_archive(data, source)
    docx_archive.check_tables(data, source)
    data, hidden = docx_archive.prepared(data)
    rel = _draft_rel(folder, kind)
    draft = folder / rel
    if draft.exists() and not force and not _untouched(draft):
        raise XzdocError(f"文稿 {rel} 已存在且已有正文", str(draft), hint="加 --force 用导入的内容覆盖它")
    try:
        ast = pandoc.from_docx(data)
    except XzdocError as exc:
        # pandoc's own words are English and about its internals; the file is what the user can act on.
        reason = "文件内容不是完整的 Word 文档，部件已损坏或缺失" if "couldn't parse docx" in exc.message else \
            exc.message[:200]
        raise XzdocError(f"无法读取 Word 文件 {source.name}（{reason}）", str(source),
                         hint="用 Word 或 WPS 打开并另存为 .docx 后再导入；文件可能已损坏") from None
    docx_archive.defuse(ast["blocks"])
    report = Report(draft, registered=False, kind=kind, comments=comments, hidden=hidden)
    chapters = config.standard.outlines.get(kind, ())
    blocks, missing = _arrange(_normalised(ast["blocks"], chapters), chapters, report)
    images = _images(data, ast, blocks, folder, SLUGS.get(kind, "document"))
    ast["blocks"] = blocks
    report.tables = sum(1 for node in _walk(blocks) if node.get("t") == "Table")
    text, report.allow_marks, report.templates = docx_archive.as_text(pandoc.to_markdown(ast))
    text = _fill_missing(text, missing, chapters)
    docx_archive.bounded(text, str(draft), kind)
    docx_archive.unclassified(text, source)
    yaml_file = folder / loader.PROJECT_FILE
    yaml_text = read_text(yaml_file, str(yaml_file))
    registered = register(yaml_text, kind, rel)
    # The images, the draft and its registration land together or not at all.
    files: list[tuple[Path, bytes | str]] = [*images.items(), (draft, text)]
    if registered != yaml_text:
        files.append((yaml_file, registered))
        report.registered = True
    fsio.refuse_outside(folder, [path for path, _ in files], "导入")
    if not force:
        fsio.refuse_replacing(folder, images, "图片")
    fsio.write_all(files)
    report.images = sorted(images)
    return report


def _untouched(draft: Path) -> bool:
    """A draft still as `xzdoc new` wrote it: headings and guidance, no text of anyone's."""
    try:
        text = draft.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return all(not h.has_body for h in md.all_headings(text)) and not [
        line for line in text.split("\n") if line.strip() and not line.startswith(("#", md.GUIDANCE))]


def _draft_rel(folder: Path, kind: str) -> str:
    """The registered draft of this kind if there is one, else drafts/<slug>.md as `xzdoc new` names it."""
    try:
        data = loads(read_text(folder / loader.PROJECT_FILE, loader.PROJECT_FILE), loader.PROJECT_FILE)
    except XzdocError:
        data = None
    documents = data.get("documents") if isinstance(data, YMap) else None
    current = documents.get(kind) if isinstance(documents, dict) else None
    if isinstance(current, str) and current.endswith(".md") and ".." not in current and not current.startswith("/"):
        return current
    return f"drafts/{DRAFT_FILES.get(kind, SLUGS.get(kind, 'document') + '.md')}"


# -- text of inlines ---------------------------------------------------------------------------------

def plain(inlines: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "Str":
            out.append(str(content))
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in ("Code", "Math", "RawInline") and isinstance(content, list):
            out.append(str(content[1]))
        elif kind == "Quoted" and isinstance(content, list):
            out.append("“" + plain(content[1]) + "”")
        elif kind in ("Link", "Span", "Cite") and isinstance(content, list):
            out.append(plain(content[1]))
        elif kind not in ("Image", "Note") and isinstance(content, list):
            out.append(plain(content))
    return "".join(out)


def _level(text: str) -> tuple[int, str] | None:
    dotted = _DOTTED.match(text)
    if dotted and text[dotted.end():].strip():
        return min(dotted.group(0).count(".") + dotted.group(0).count("．") + 1, 6), text[dotted.end():].strip()
    for level, pattern in _LEVELS:
        found = pattern.match(text)
        if found and text[found.end():].strip():
            return level, text[found.end():].strip()
    return None


def _heading_like(text: str, level: int) -> bool:
    """A numbered paragraph is a heading when it is short and not a sentence."""
    rest = text.strip()
    return len(rest) <= (40 if level == 1 else 30) and not rest.endswith(_SENTENCE_END)


# -- normalising blocks --------------------------------------------------------------------------------

def _normalised(blocks: list[dict[str, Any]], chapters: tuple[Chapter, ...]) -> list[dict[str, Any]]:
    """Attributes dropped, Divs unwrapped, indentation stripped, numbered paragraphs turned into headings or lists."""
    out: list[dict[str, Any]] = []
    for block in _flat(blocks):
        kind = block["t"]
        if kind == "OrderedList" and any(_chapter_item(item, chapters) for item in block["c"][1]):
            out += _promoted(block, chapters)
            continue
        if kind == "Header":
            level, _, inlines = block["c"]
            text = plain(inlines).strip(_INDENT)
            numbered = _level(text)
            out.append(_header(numbered[0] if numbered else level, text))
        elif kind in ("Para", "Plain"):
            inlines = _strip_indent(block["c"])
            if not inlines:
                continue
            text = plain(inlines).strip()
            numbered = None if _toc_entry(inlines, text) else _level(text)
            if numbered and _heading_like(numbered[1], numbered[0]) and not _has_image(inlines):
                out.append(_header(numbered[0], text))
            else:
                out.append({"t": "Para", "c": _clean_inlines(inlines)})
        elif kind == "Table":
            out.append(_table(block))
        elif kind in ("BulletList", "OrderedList", "BlockQuote"):
            out.append(_clean_nested(block))
        elif kind not in ("RawBlock", "Null", "HorizontalRule"):
            out.append(block)
    return _lists(out)


def _chapter_item(item: list[dict[str, Any]], chapters: tuple[Chapter, ...]) -> bool:
    """A list item that is an outline chapter's title: Word's automatic numbering on chapter headings."""
    if not item or item[0]["t"] not in ("Para", "Plain"):
        return False
    text = plain(item[0]["c"]).strip()
    return len(text) <= 40 and not text.endswith(_SENTENCE_END) and _chapter_of(text, chapters) is not None


def _promoted(block: dict[str, Any], chapters: tuple[Chapter, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in block["c"][1]:
        if _chapter_item(item, chapters):
            out.append(_header(1, plain(item[0]["c"]).strip()))
            out += _normalised(item[1:], chapters)
        else:
            out.append(_clean_nested({"t": "OrderedList", "c": [block["c"][0], [item]]}))
    return out


def _flat(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        if block["t"] == "Div":
            yield from _flat(block["c"][1])
        else:
            yield block


def _header(level: int, text: str) -> dict[str, Any]:
    return {"t": "Header", "c": [min(max(level, 1), 6), ["", [], []], [{"t": "Str", "c": " ".join(text.split())}]]}


def _strip_indent(inlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = list(inlines)
    while items and items[0]["t"] in ("Space", "SoftBreak", "LineBreak"):
        items.pop(0)
    if items and items[0]["t"] == "Str":
        rest = items[0]["c"].lstrip(_INDENT)
        items[0] = {"t": "Str", "c": rest}
        if not rest:
            return _strip_indent(items[1:])
    return items


def _clean_inlines(inlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in inlines:
        kind = node["t"]
        if kind in ("Span", "Underline", "SmallCaps"):
            out += _clean_inlines(node["c"][1] if kind == "Span" else node["c"])
        elif kind in ("Strong", "Emph", "Strikeout", "Superscript", "Subscript"):
            out.append({"t": kind, "c": _clean_inlines(node["c"])})
        elif kind == "Image":
            out.append({"t": "Image", "c": [["", [], []], node["c"][1], node["c"][2]]})
        elif kind == "RawInline":
            continue
        else:
            out.append(node)
    return out


def _clean_nested(block: dict[str, Any]) -> dict[str, Any]:
    kind = block["t"]
    if kind == "BlockQuote":
        return {"t": kind, "c": [_clean_block(b) for b in block["c"]]}
    items = block["c"][1] if kind == "OrderedList" else block["c"]
    cleaned = [[_clean_block(b) for b in item] for item in items]
    return {"t": kind, "c": [block["c"][0], cleaned] if kind == "OrderedList" else cleaned}


def _clean_block(block: dict[str, Any]) -> dict[str, Any]:
    if block["t"] in ("Para", "Plain"):
        return {"t": block["t"], "c": _clean_inlines(_strip_indent(block["c"]))}
    if block["t"] in ("BulletList", "OrderedList", "BlockQuote"):
        return _clean_nested(block)
    return block


def _table(block: dict[str, Any]) -> dict[str, Any]:
    """Column widths dropped so simple tables come out as pipe tables; cells cleaned like paragraphs."""
    _, caption, specs, head, bodies, foot = block["c"]
    specs = [[align, {"t": "ColWidthDefault"}] for align, _ in specs]

    def rows(rows_: list[Any]) -> list[Any]:
        return [[r[0], [[c[0], c[1], c[2], c[3], [_clean_block(b) for b in c[4]]] for c in r[1]]] for r in rows_]

    head = [head[0], rows(head[1])]
    bodies = [[b[0], b[1], rows(b[2]), rows(b[3])] for b in bodies]
    foot = [foot[0], rows(foot[1])]
    return {"t": "Table", "c": [["", [], []], caption, specs, head, bodies, foot]}


def _toc_entry(inlines: list[dict[str, Any]], text: str) -> bool:
    """A line of Word's table of contents: a link to a _Toc bookmark, or a title followed by its page number."""
    links = [n for n in _walk(inlines) if n.get("t") == "Link"]
    return any(str(n["c"][2][0]).startswith("#_Toc") for n in links) or bool(_TOC_LINE.search(text) and len(text) <= 60)


def _has_image(inlines: list[dict[str, Any]]) -> bool:
    return any(n["t"] == "Image" for n in inlines)


def _lists(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of paragraphs numbered 1. 2. 3. by hand become one ordered list; the layout numbers them."""
    out: list[dict[str, Any]] = []
    run: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if len(run) >= 2:
            items = [[{"t": "Plain", "c": _drop_number(p["c"])}] for _, p in run]
            out.append({"t": "OrderedList", "c": [[run[0][0], {"t": "Decimal"}, {"t": "Period"}], items]})
        else:
            out.extend(p for _, p in run)
        run.clear()

    for block in blocks:
        found = _LIST_NUMBER.match(plain(block["c"]).strip()) if block["t"] == "Para" else None
        number = int(found.group(1)) if found else None
        if number is not None and (not run or number == run[-1][0] + 1):
            run.append((number, block))
            continue
        flush()
        if number is not None:
            run.append((number, block))
        else:
            out.append(block)
    flush()
    return out


def _drop_number(inlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = list(inlines)
    first = items[0]
    if first["t"] == "Str":
        found = _LIST_NUMBER.match(first["c"])
        if found:
            rest = first["c"][found.end():]
            items[0] = {"t": "Str", "c": rest}
            if not rest:
                items = _strip_indent(items[1:])
    return items


# -- chapters ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _chapter_of(title: str, chapters: tuple[Chapter, ...]) -> int | None:
    # Asked several times for each heading, and difflib is slow: a document of thousands of headings took minutes.
    name = md.normalise(title)
    for i, chapter in enumerate(chapters):
        if name in (chapter.title, *chapter.aliases):
            return i
    names = {n: i for i, c in enumerate(chapters) for n in (c.title, *c.aliases)}
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.75)
    return names[close[0]] if close else None


def _top_level(blocks: list[dict[str, Any]], chapters: tuple[Chapter, ...]) -> int:
    """The heading level the chapters are at: 1, unless a title sits at 1 and the chapters one below."""
    counts = {level: sum(1 for b in blocks if b["t"] == "Header" and b["c"][0] == level
                         and _chapter_of(plain(b["c"][2]), chapters) is not None) for level in (1, 2)}
    return 2 if counts[2] > counts[1] else 1


def _arrange(blocks: list[dict[str, Any]], chapters: tuple[Chapter, ...],
             report: Report) -> tuple[list[dict[str, Any]], list[int]]:
    top = _top_level(blocks, chapters)
    if top > 1:
        for b in blocks:
            if b["t"] == "Header":
                b["c"][0] = max(1, b["c"][0] - 1) if b["c"][0] >= top else 1
    heads = [i for i, b in enumerate(blocks) if b["t"] == "Header" and b["c"][0] == 1]
    # A title, 目录 and the like above the first outline chapter are front matter, not chapters.
    first = next((i for i in heads if _chapter_of(plain(blocks[i]["c"][2]), chapters) is not None), None)
    start = first if first is not None else heads[0] if heads else 0
    report.unplaced = [_summary(b) for b in blocks[:start]]
    body = blocks[start:]
    matched: dict[int, int] = {}     # outline index -> position in body
    for pos, block in enumerate(body):
        if block["t"] == "Header" and block["c"][0] == 1:
            index = _chapter_of(plain(block["c"][2]), chapters)
            title = plain(block["c"][2])
            if index is None or index in matched:
                report.extra.append(title)
            else:
                matched[index] = pos
                report.chapters_found.append(title)
    missing = [i for i in range(len(chapters)) if i not in matched]
    report.chapters_missing = [chapters[i].title for i in missing]
    inserts: dict[int, list[int]] = {}
    for i in missing:
        later = [matched[j] for j in matched if j > i]
        inserts.setdefault(min(later) if later else len(body), []).append(i)
    out: list[dict[str, Any]] = []
    for pos in range(len(body) + 1):
        out += [{"t": "Para", "c": [{"t": "Str", "c": f"{_MARK}{i}"}]} for i in inserts.get(pos, [])]
        if pos < len(body):
            out.append(body[pos])
    return out, missing


def _summary(block: dict[str, Any]) -> str:
    if block["t"] == "Table":
        return "（表格）"
    if block["t"] in ("Para", "Plain", "Header"):
        text = plain(block["c"] if block["t"] != "Header" else block["c"][2]).strip()
        return text[:40] + ("…" if len(text) > 40 else "") if text else "（图片）"
    return _KINDS.get(block["t"], "（其他内容）")


_KINDS = {"BulletList": "（列表）", "OrderedList": "（编号列表）", "BlockQuote": "（引文）", "CodeBlock": "（代码）",
          "Div": "（段落组）", "HorizontalRule": "（分隔线）", "LineBlock": "（分行文字）", "DefinitionList": "（定义列表）"}


def _fill_missing(markdown: str, missing: list[int], chapters: tuple[Chapter, ...]) -> str:
    for i in missing:
        markdown = markdown.replace(f"{_MARK}{i}", chapter_block(i, chapters[i].title).rstrip("\n"), 1)
    return markdown.rstrip("\n") + "\n"


# -- images --------------------------------------------------------------------------------------------

def _images(data: bytes, ast: dict[str, Any], blocks: list[dict[str, Any]], folder: Path, slug: str) -> dict[Path, bytes]:
    """Copy each image the draft shows out of the .docx into images/<kind>/, pointing the draft at the copy."""
    out: dict[Path, bytes] = {}
    used: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = set(archive.namelist())
        for node in _walk(blocks):
            if node.get("t") != "Image":
                continue
            src = node["c"][2][0]
            member = str(PurePosixPath("word") / src)
            if src.startswith(("http:", "https:")) or member not in members:
                continue
            name = docx_archive.image_name(src, used)
            target = folder / IMAGES / slug / name
            out[target] = archive.read(member)
            node["c"][2] = [f"../{IMAGES}/{slug}/{name}", node["c"][2][1]]
    return out


# -- registration ------------------------------------------------------------------------------------

def register(text: str, kind: str, rel: str) -> str:
    """project.yaml with ``documents: {kind: rel}`` set, comments and layout kept."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if re.match(r"^documents:\s*(#.*)?$", line)), None)
    entry = f"{kind}: {rel}"
    if start is None:
        if any(re.match(r"^documents:", line) for line in lines):
            raise XzdocError("project.yaml 的 documents 写成了单行形式，无法自动登记", loader.PROJECT_FILE,
                             hint=f"改为多行形式后重试：\ndocuments:\n  {entry}")
        new = text.rstrip("\n") + f"\ndocuments:\n  {entry}\n"
    else:
        end, indent, last = start + 1, "  ", start
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
            if lines[end].strip() and not lines[end].lstrip().startswith("#"):
                indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
                last = end
                if re.match(rf"^\s+{re.escape(kind)}\s*:", lines[end]):
                    lines[end] = f"{indent}{entry}"
                    return _checked("\n".join(lines), kind, rel)
            end += 1
        lines.insert(last + 1, f"{indent}{entry}")
        new = "\n".join(lines)
    return _checked(new, kind, rel)


def _checked(text: str, kind: str, rel: str) -> str:
    data = loads(text, loader.PROJECT_FILE)
    documents = data.get("documents") if isinstance(data, YMap) else None
    if not isinstance(documents, dict) or documents.get(kind) != rel:
        raise XzdocError("无法在 project.yaml 中登记文稿", loader.PROJECT_FILE, hint=f"在 documents 下手工添加：{kind}: {rel}")
    return text
