"""What a vendor's .docx may bring into a project, checked before and while it is imported.

A .docx is a zip archive from outside the bureau: it may unpack to gigabytes,
carry damaged members, control characters that a terminal obeys, links that
run code, and media names that are Markdown of their own. Everything here
runs before the text reaches pandoc or a file is written.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from xzdoc.errors import XzdocError
from xzdoc.source import textio

MAX_UNPACKED = 200 * 1024 * 1024
MAX_DOCUMENT_XML = 32 * 1024 * 1024


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
