"""What a vendor's .docx may bring into a project, checked before and while it is imported.

A .docx is a zip archive from outside the bureau: it may unpack to gigabytes,
carry damaged members, control characters that a terminal obeys, links that
run code, and media names that are Markdown of their own. Everything here
runs before the text reaches pandoc or a file is written.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from xzdoc.errors import UsageError, XzdocError, os_reason
from xzdoc.rules import typeset
from xzdoc.source import drafts as md
from xzdoc.source import textio

MAX_UNPACKED = 200 * 1024 * 1024
MAX_DOCUMENT_XML = 32 * 1024 * 1024
# Pandoc's Markdown for a table inside a table inside a table grows with the square of the depth: 30 levels
# took 0.6 s, 100 levels 3 s, 3,000 levels 25 s and 2.8 GB before failing. Word documents hold two or three.
MAX_TABLE_DEPTH = 8
_TABLE_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?tbl(?=[\s/>])")


def read_docx(source: Path, limit: int) -> bytes:
    """The bytes of a regular file that starts as a zip does; a .doc, a pipe or an oversized file is refused."""
    try:
        info = source.stat()
        size = info.st_size
        if not stat.S_ISREG(info.st_mode):  # a pipe blocks the read, /dev/zero never ends it
            raise XzdocError(f"{source} 不是普通文件", str(source), hint="导入 Word 或 WPS 保存的 .docx 文件")
        if size > limit:
            raise XzdocError(f"文件过大（{size / 1048576:.0f} MB）", str(source), hint="图片较多时先在 Word 中压缩图片")
        data = source.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"文件不存在：{source}", "命令行参数 FILE") from None
    except OSError as exc:
        raise XzdocError(f"无法读取 {source}：{os_reason(exc)}", str(source)) from None
    if not data.startswith(b"PK"):
        legacy = data.startswith(b"\xd0\xcf\x11\xe0")  # the .doc/.wps compound file format
        hint = "用 Word 或 WPS 另存为 .docx 后再导入" if legacy else "确认它是 Word 2007 及以后的 .docx 文件"
        raise XzdocError(f"{source.name} 不是 .docx 文件", str(source), hint=hint)
    return data


def check_archive(data: bytes, source: Path) -> int:
    """The .docx unpacked once within a budget, every member's checksum verified, before pandoc reads it whole.

    A few hundred kilobytes can unpack to gigabytes (a zip bomb); pandoc and the image copy would hold it all.
    Returns the number of Word comments (批注), which pandoc drops and the report should mention.
    """
    import zlib

    total = 0
    comments = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names:
                raise XzdocError(f"{source.name} 不是 Word 文档（缺少 word/document.xml）", str(source),
                                 hint="确认它是 Word 或 WPS 保存的 .docx 文件")
            for info in archive.infolist():
                size, tail = 0, b""
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        size += len(chunk)
                        total += len(chunk)
                        if info.filename == "word/comments.xml":  # the tag may straddle two chunks
                            comments += (tail + chunk).count(b"<w:comment ")
                            tail = chunk[-10:]
                        if total > MAX_UNPACKED or (info.filename == "word/document.xml" and size > MAX_DOCUMENT_XML):
                            raise XzdocError(f"{source.name} 解压后过大（{info.filename} 超过上限；全部内容至多 "
                                             f"{MAX_UNPACKED // 1048576} MB，正文至多 {MAX_DOCUMENT_XML // 1048576} MB）",
                                             str(source), hint="在 Word 中压缩图片，或把附件拆分后再导入")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise XzdocError(f"{source.name} 已损坏，无法解压（{str(exc)[:120]}）", str(source),
                         hint="用 Word 或 WPS 打开并另存为 .docx 后再导入") from None
    return comments


def defuse(blocks: list[dict[str, Any]]) -> None:
    """Control characters out of the text (no document can show them, a terminal obeys them); a link that is
    neither web, mail nor inside the document (javascript:, file:) kept as its text only."""
    for node in walk(blocks):
        kind = node.get("t")
        if kind == "Str" and isinstance(node.get("c"), str):
            node["c"] = textio.strip_controls(node["c"])
        elif kind in ("Code", "CodeBlock") and isinstance(node.get("c"), list) and len(node["c"]) == 2:
            node["c"][1] = textio.strip_controls(node["c"][1])
        elif kind == "Link" and isinstance(node.get("c"), list) and len(node["c"]) == 3:
            scheme = urlsplit(str(node["c"][2][0])).scheme.lower()
            if len(scheme) > 1 and scheme not in ("http", "https", "mailto"):
                node["t"], node["c"] = "Span", [node["c"][0], node["c"][1]]


_UNSAFE_NAME = re.compile(r"[^\w.\-]+")


def image_name(src: str, used: dict[str, str]) -> str:
    """A file name that is safe as a Markdown link target and unique in images/<kind>/; the same source keeps one."""
    if src in used:
        return used[src]
    stem, dot, suffix = _UNSAFE_NAME.sub("_", PurePosixPath(src).name).strip("._").rpartition(".")
    stem, suffix = (stem, suffix) if dot else (suffix, "")
    stem = stem[:60] or "image"
    candidate, n = f"{stem}.{suffix}" if suffix else stem, 1
    while candidate in used.values():
        n += 1
        candidate = f"{stem}-{n}.{suffix}" if suffix else f"{stem}-{n}"
    used[src] = candidate
    return candidate



def walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        yield from walk(value.get("c"))
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


_RUN = re.compile(rb"<w:r(?:\s[^>]*)?>.*?</w:r>", re.S)
_RUN_START = re.compile(rb"<w:r[\s>]")
_FORMER = re.compile(rb"<w:rPrChange\b.*?</w:rPrChange>", re.S)   # formatting before a tracked change
_HIDDEN = re.compile(rb'<w:(?:vanish|specVanish)(?:\s+w:val="(?:1|true|on)")?\s*/>')
# Custom paragraph styles that name a heading in Chinese ("标题 1", WPS's "WPS标题二"); pandoc knows a
# heading only by the built-in name "heading N".
_HEADING_NAME = re.compile(r'<w:name w:val="(?:WPS)?\s*标题\s*([1-9一二三四五六七八九])\s*"\s*/>'.encode())
_NUMERALS = "一二三四五六七八九"


def check_tables(data: bytes, source: Path) -> None:
    """Refuse tables nested past MAX_TABLE_DEPTH before pandoc reads them (check_archive bounded the member)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("word/document.xml")
    if document.count(b"tbl") < 2 * MAX_TABLE_DEPTH:
        return
    depth = 0
    for tag in _TABLE_TAG.finditer(document):
        if tag.group(1):
            depth = max(depth - 1, 0)
        elif not document.startswith(b"/>", document.find(b">", tag.end()) - 1):
            depth += 1
            if depth > MAX_TABLE_DEPTH:
                raise XzdocError(f"{source.name} 中的表格嵌套超过 {MAX_TABLE_DEPTH} 层（表格套表格），导入后的文稿无法排版",
                                 str(source), hint="在 Word 中把内层表格改为正文或单独的表格后再导入")


def prepared(data: bytes) -> tuple[bytes, int]:
    """The .docx as pandoc should read it: hidden text (w:vanish) taken out, Chinese heading styles named
    as headings. Returns the archive (the same bytes when nothing changed) and how many hidden runs went.

    Hidden text is not part of what the vendor delivered on paper, and could carry what a reader never sees
    (a marker that turns a check off). Members are only read here after check_archive bounded them.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("word/document.xml")
        styles = archive.read("word/styles.xml") if "word/styles.xml" in archive.namelist() else b""
        hidden = 0

        def drop(run: re.Match[bytes]) -> bytes:
            nonlocal hidden
            body = run.group()
            rest = body[body.index(b">") + 1:].lstrip()
            # Only a run's own properties, its first child, count; a run holding a text box (runs inside
            # it) is left whole, since the match does not reach its end.
            if not rest.startswith(b"<w:rPr>") or _RUN_START.search(rest):
                return body
            if _HIDDEN.search(_FORMER.sub(b"", rest[:rest.find(b"</w:rPr>")])):
                hidden += 1
                return b""
            return body

        new_document = _RUN.sub(drop, document) if b"anish" in document else document
        new_styles = _HEADING_NAME.sub(_heading, styles)
        if new_document == document and new_styles == styles:
            return data, 0
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as copy:
            for info in archive.infolist():
                body = new_document if info.filename == "word/document.xml" else \
                    new_styles if info.filename == "word/styles.xml" else archive.read(info)
                copy.writestr(info, body, compress_type=info.compress_type)
    return out.getvalue(), hidden


def _heading(found: re.Match[bytes]) -> bytes:
    level = found.group(1).decode()
    number = _NUMERALS.index(level) + 1 if level in _NUMERALS else int(level)
    return f'<w:name w:val="heading {number}"/>'.encode()


# A draft is a template: these open a Jinja expression, statement or comment.
_TEMPLATE = re.compile(r"\{[{%#]")


def as_text(markdown: str) -> tuple[str, int, int]:
    """The vendor's words as words: template openers written as literal text, allow markers taken out.

    A Word placeholder "{{项目名称}}" would otherwise fail validate, and "{{ budget.total }}" would be
    filled from the metadata; only project staff may mark a line as cleared of the classified check.
    Returns the text, the markers removed and the openers kept as text.
    """
    marks = 0
    while True:   # taking one out can join the halves of another ("xzdoc: xzdoc: allow allow")
        markdown, found = md.ALLOW_TEXT.subn("", markdown)
        if not found:
            break
        marks += found
    markdown, openers = _TEMPLATE.subn(lambda m: "{{ '" + m.group() + "' }}", markdown)
    return markdown, marks, openers


def unclassified(text: str, source: Path) -> None:
    """Refuse a document carrying a classification mark: it must not reach the working tree, let alone a commit.

    Validate would flag it (art03.classified), but only after the file is on disk, where a careless
    `git add -A` takes it into history for good.
    """
    from xzdoc.rules.art03 import classified_lines

    for line, _, marker in classified_lines(text):
        raise XzdocError(f"{source.name} 中有涉密标识“{marker}”（导入后的文稿第{line}行）：本办法只适用于非涉密项目，"
                         "涉密内容不得进入项目仓库，未导入", str(source),
                         hint="确认文件不涉密后在 Word 中删去或改写这一处再导入；涉密文件按保密规定另行处理")


def bounded(text: str, rel: str, kind: str) -> None:
    """Refused before anything is written when validate would refuse the draft for its size."""
    size = len(text.encode("utf-8"))
    if size > md.MAX_DRAFT_BYTES:
        raise XzdocError(f"导入后的文稿有 {size / 1048576:.1f} MB，超过文稿 {md.MAX_DRAFT_BYTES // 1048576} MB 的上限，未写入",
                         rel, hint="申请材料正文通常只有几百 KB；数据清单、日志等改作附件，或把文档拆分后分别导入")
    problem = typeset.too_many(text, rel, kind)
    if problem is not None:
        raise XzdocError(problem.message + "，未写入", rel, hint=problem.hint)
