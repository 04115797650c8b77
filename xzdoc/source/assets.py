"""Files a draft points at: inside the project folder, of a kind the typesetter reads, and what they claim to be.

Render checks every image and link pandoc finds before it writes anything;
validate checks the images and links it can see in the Markdown
(``![说明](路径)``, ``[文字](路径)``) the same way, so a screenshot saved with
the wrong extension, an SVG that pulls in another file or a ``javascript:``
link is named at its draft line, not reported at bundle time.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from xzdoc.errors import XzdocError

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".svg": "image/svg+xml"}
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_SIGNATURES = {".png": (b"\x89PNG\r\n\x1a\n",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
               ".gif": (b"GIF87a", b"GIF89a")}
_KIND_OF = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"<svg": "SVG", b"<?xm": "SVG", b"RIFF": "WebP",
            b"BM": "BMP", b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"%PDF": "PDF"}
# An SVG may only point inside itself (#id) or carry its data inline; Typst refuses anything else.
_SVG_REFERENCE = re.compile(
    rb"""<(?:\w+:)?(?:image|use|feImage|tref|script)\b[^>]*?\b(?:href|src)\s*=\s*(["'])\s*(?!#|data:)([^"']*)\1"""
    rb"""|url\(\s*["']?\s*(?!#|data:)([^)"']*)|@import\s+["']?([^"';\s]*)""", re.I)


def _bracketed(depth: int) -> str:
    """A bracketed text with brackets nested ``depth`` levels inside it, over lines: ``[附件 [甲 [乙]]]``.

    Deeper nesting is refused by art07.draft-nesting before a link could hide in it.
    """
    inner = r"(?:[^\[\]\\]|\\.)"
    for _ in range(depth):
        inner = rf"(?:[^\[\]\\]|\\.|\[{inner}*\])"
    return rf"\[{inner}*\]"


_TEXT = _bracketed(3)
_INLINE_IMAGE = re.compile(rf"!{_TEXT}\(\s*(<[^>\n]*>|[^\s)]+)")
# ![说明][标签], ![标签][] and ![标签]: an image whose file a definition names.
_REFERENCE_IMAGE = re.compile(rf"!({_TEXT})(?:[ \t]?\[((?:[^\[\]\\]|\\.)*)\])?(?![(\[])")
LINK_SCHEMES = {"http", "https", "mailto"}
# [text](target), with one level of brackets inside the text ([![图](a.png)](target)); [label]: target; <scheme:…>.
_INLINE_LINK = re.compile(rf"(?<![!\\]){_TEXT}\(\s*(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))+)")
# A definition may stand in a quote: "> [p]: /etc/passwd" defines p as well (four spaces make it code).
_DEFINITION = re.compile(r"^(?: {0,3}>[ \t]?)* {0,3}\[(?!\^)((?:[^\]\\\n]|\\.)+)\]:[ \t]*\n?[ \t>]*(<[^>\n]*>|\S+)", re.M)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*)>")
_LINK_PATTERNS = (_INLINE_LINK, _DEFINITION, _AUTOLINK)
_CODE_SPAN = re.compile(r"(`+)[^`\n]+?\1(?!`)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def contained(target: str, folder: Path, base: Path, what: str, source: str, line: int | None) -> Path:
    """The file ``target`` names, provided it stays inside ``folder``, symlinks included.

    ``base`` is the folder relative targets start from (the draft's own, as editors preview them).
    """
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise XzdocError(f"{what}“{target}”使用了绝对路径", source, line,
                         hint="改用相对于文稿所在目录的路径，且文件须在项目目录之内")
    normal = _normal(path, folder, base)
    if normal == ".." or normal.startswith("../"):
        raise XzdocError(f"{what}“{target}”指向项目目录之外", source, line,
                         hint="只能引用本项目目录内的文件；把文件复制到项目目录（如 images/）后再引用")
    file = folder / normal
    try:
        file.resolve().relative_to(folder.resolve())
    except ValueError:
        raise XzdocError(f"{what}“{target}”经符号链接指向项目目录之外", source, line,
                         hint="不要用符号链接引用项目目录之外的文件；把文件复制到项目目录内") from None
    return file


def _normal(path: str, folder: Path, base: Path) -> str:
    start = base.relative_to(folder).as_posix() if base != folder else ""
    return posixpath.normpath(posixpath.join(start, path.replace("\\", "/")))


def read_by_check(target: str, folder: Path, base: Path) -> Path | None:
    """The file ``image`` would look at for ``target``; None when the text alone decides (a URL, an absolute path)."""
    if len(urlsplit(target).scheme) > 1:
        return None
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return None
    normal = _normal(path, folder, base)
    return None if normal == ".." or normal.startswith("../") else folder / normal


def image(target: str, folder: Path, base: Path, source: str, line: int | None) -> Path:
    """The checked image file ``target`` names; an XzdocError at ``source``:``line`` otherwise."""
    scheme = urlsplit(target).scheme
    if scheme and len(scheme) > 1:
        raise XzdocError(f"图片“{target[:80]}”不是项目目录内的文件", source, line,
                         hint="图片须保存在项目目录内（如 images/），用相对路径引用：![说明](../images/图1.png)")
    file = contained(target, folder, base, "图片", source, line)
    if not file.is_file():
        raise XzdocError(f"图片“{target}”不存在", source, line, hint="检查文件名和路径；路径相对于文稿所在目录")
    suffix = file.suffix.lower()
    if suffix not in IMAGE_TYPES:
        raise XzdocError(f"图片“{target}”的格式不受支持", source, line, hint="使用 PNG、JPEG、GIF 或 SVG 格式")
    if file.stat().st_size > MAX_IMAGE_BYTES:
        raise XzdocError(f"图片“{target}”超过 {MAX_IMAGE_BYTES // 1048576} MB", source, line, hint="压缩图片后再引用")
    problem = _content_problem(file.read_bytes(), suffix)
    if problem:
        raise XzdocError(f"图片“{target}”{problem[0]}", source, line, hint=problem[1])
    return file


def _content_problem(data: bytes, suffix: str) -> tuple[str, str] | None:
    if suffix in _SIGNATURES:
        if data.startswith(_SIGNATURES[suffix]):
            broken = _STRUCTURE[suffix](data)
            expected = IMAGE_TYPES[suffix].split("/")[1].upper()
            return None if broken is None else (f"不是完整的 {expected} 图片（{broken}，文件可能已损坏）",
                                                f"用看图软件打开确认后重新导出为 {expected}")
        actual = next((kind for magic, kind in _KIND_OF.items() if data.startswith(magic)), None)
        expected = IMAGE_TYPES[suffix].split("/")[1].upper()
        if actual and actual != expected:
            return (f"的扩展名是 {suffix}，内容却是 {actual} 格式",
                    f"按实际格式改扩展名，或重新导出为 {expected}")
        return f"不是有效的 {expected} 图片（文件头不符，可能已损坏或只是改了扩展名）", f"重新导出为 {expected} 后再引用"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<svg" not in data[:65536] or head[:1] != b"<":
        return "不是有效的 SVG 图片（找不到 <svg> 元素）", "重新导出为 SVG，或改用 PNG"
    if b"<!ENTITY" in data:
        return "含有 XML 实体声明（<!ENTITY），可能读取外部内容", "重新导出 SVG，不要手写 DOCTYPE 和实体"
    found = _SVG_REFERENCE.search(data)
    if found:
        what = (found.group(2) or found.group(3) or found.group(4) or b"").decode("utf-8", "replace")[:80]
        return (f"引用了外部文件“{what}”，排版时无法读取",
                "把被引用的图片嵌入 SVG（导出时选择“嵌入图像”），或直接改用 PNG")
    broken = _xml_problem(data)
    if broken is not None:
        return f"不是格式正确的 SVG（{broken}）", "用绘图软件重新导出 SVG，或改用 PNG"
    return None


# What the typesetter's decoders need of a file whose first bytes are right: enough to tell a damaged or
# truncated file here, at the draft line, rather than by Typst's English error against the page template.

def _png_problem(data: bytes) -> str | None:
    import struct
    import zlib

    at, kept = 8, 0
    seen: list[bytes] = []
    packed: list[bytes] = []
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 12 + length
        if end > len(data):
            return f"数据块 {kind.decode('latin-1')} 被截断"
        # Decoders skip an ancillary chunk (lower-case first letter: tEXt, pHYs) whatever its checksum.
        if kind[:1].isupper() and zlib.crc32(data[at + 4:end - 4]) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"数据块 {kind.decode('latin-1')} 的校验和不符"
        seen.append(kind)
        if kind == b"IDAT" and kept < 1 << 16:   # a running total: a file of a million tiny IDATs stays linear
            packed.append(data[at + 8:end - 4])
            kept += length
        at = end
        if kind == b"IEND":
            break
    if not seen or seen[0] != b"IHDR":
        return "缺少文件头数据块 IHDR"
    if b"IDAT" not in seen:
        return "没有图像数据"
    if seen[-1] != b"IEND":
        return "文件不完整，缺少结尾"
    try:
        zlib.decompressobj().decompress(b"".join(packed), 1 << 16)
    except zlib.error:
        return "图像数据无法解压"
    return None


def _jpeg_problem(data: bytes) -> str | None:
    at, frame = 2, False
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            # Decoders pass over stray bytes between segments to the next marker, and so does this walk.
            at = data.find(b"\xff", at)
            if at < 0:
                break
            continue
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1        # fill bytes before a marker
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            at += 2
            continue
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2 or at + 2 + length > len(data):
            return "数据段被截断"
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = True
        if marker == 0xDA:
            if not frame:
                return "缺少图像尺寸信息（SOF）"
            return None if at + 2 + length < len(data) else "没有图像数据"
        at += 2 + length
    return "文件不完整，找不到图像数据"


def _gif_problem(data: bytes) -> str | None:
    # Only the image block is needed: decoders read GIFs that lack the trailer or have bytes after it.
    if len(data) < 14 or b"\x2c" not in data[13:]:
        return "没有图像数据"
    return None


def _xml_problem(data: bytes) -> str | None:
    from xml.parsers import expat

    parser = expat.ParserCreate()
    # Entities are refused above; nothing outside the file is ever read.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        return f"第 {exc.lineno} 行：{expat.ErrorString(exc.code)}"
    except (ValueError, LookupError):
        return None   # an encoding expat cannot read (GB2312, GBK, Big5): left to the typesetter, which reads it
    return None


_STRUCTURE = {".png": _png_problem, ".jpg": _jpeg_problem, ".jpeg": _jpeg_problem, ".gif": _gif_problem}


def inline_images(text: str) -> list[tuple[int, str]]:
    """(line, target) of each ``![说明](路径)`` in Markdown text, outside code spans it cannot tell apart."""
    if "![" not in text:
        return []
    found = []
    line_of = _lines(text)
    for m in _INLINE_IMAGE.finditer(text):
        target = m.group(1)
        if target.startswith("<"):
            target = target[1:-1]
        found.append((line_of(m.start()), target))
    if "]:" in text:
        defined: dict[str, tuple[int, str]] = {}
        for m in _DEFINITION.finditer(text):
            target = m.group(2)[1:-1] if m.group(2).startswith("<") else m.group(2)
            defined.setdefault(_label(m.group(1)), (line_of(m.start(2)), target))
        for m in _REFERENCE_IMAGE.finditer(text):
            named = defined.get(_label(m.group(2) or m.group(1)[1:-1]))
            if named is not None:
                found.append(named)
    return sorted(set(found))


def _lines(text: str) -> Callable[[int], int]:
    """The line number of an offset in ``text``; the line starts are found once, on first use, so a draft
    of a million links costs one pass, not one count from the top per link."""
    starts: list[int] = []

    def line_of(at: int) -> int:
        if not starts:
            starts.append(0)
            starts.extend(m.end() for m in re.finditer("\n", text))
        return bisect.bisect_right(starts, at)

    return line_of


def _label(text: str) -> str:
    """A reference label as pandoc matches it: case and runs of white space do not count."""
    return " ".join(text.split()).casefold()


def link(target: str, folder: Path, base: Path, source: str, line: int | None) -> None:
    """Nothing, when a link may point at ``target``: the web, mail, a place in the document, or a file in the project."""
    if not target or target.startswith("#"):
        return
    scheme = urlsplit(target).scheme.lower()
    if scheme and len(scheme) > 1:
        if scheme not in LINK_SCHEMES:
            raise XzdocError(f"链接“{target[:80]}”使用了不允许的协议 {scheme}:", source, line,
                             hint="链接只能是 http(s)、mailto，或项目目录内的文件")
        return
    contained(target, folder, base, "链接", source, line)


def links(text: str) -> list[tuple[int, str]]:
    """(line, target) of each link pandoc would read in Markdown text: inline, reference definitions, autolinks.

    Code blocks and code spans are left out, where brackets are text; anything else that looks like a
    link is taken as one (render checks pandoc's own reading, so a miss here is caught there).
    """
    if ("](" not in text and "]:" not in text and "<" not in text) or not any(
            pattern.search(text) for pattern in _LINK_PATTERNS):
        return []
    masked = _without_code(text)    # only now: blanking code costs more than the searches
    found = []
    line_of = _lines(masked)
    for pattern in _LINK_PATTERNS:
        for m in pattern.finditer(masked):
            target = m.group(pattern.groups)   # the last group is the target
            if pattern is not _AUTOLINK and target.startswith("<"):
                target = target[1:-1]
            found.append((line_of(m.start(pattern.groups)), target))
    return sorted(found)


def _without_code(text: str) -> str:
    """``text`` with fenced code blocks and code spans blanked out, line for line."""
    lines = text.split("\n")
    fence: str | None = None
    for number, line in enumerate(lines):
        opened = _FENCE.match(line)
        if fence is not None:
            lines[number] = ""
            if opened and opened.group(1).startswith(fence) and not line[opened.end():].strip():
                fence = None
        elif opened and not (opened.group(1)[0] == "`" and "`" in line[opened.end():]):
            fence, lines[number] = opened.group(1), ""
        elif "`" in line:
            lines[number] = _CODE_SPAN.sub(lambda m: " " * len(m.group()), line)
    return "\n".join(lines)
