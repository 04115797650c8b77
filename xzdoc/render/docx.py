"""DOCX through pandoc with our reference.docx, then the edits pandoc cannot make itself.

1. The cover becomes its own section (vertically centred, no page number), so
   the body starts on a new page numbered "— 1 —"; printed double-sided, the
   body section starts on an odd page, leaving the cover's back blank.
2. Paragraphs inside tables get the compact "Table Text" style instead of the
   body's fixed 28.95 pt grid, which would make every row two lines tall.
3. Lists are set as 公文 paragraphs: the number two characters in, wrapped lines
   flush left (pandoc's numbering hangs them).
4. Core properties: the title, the organisation as author, the source date.
Finally every zip entry gets the build's fixed timestamp.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from xzdoc.render import pandoc, refdoc
from xzdoc.render.reproducible import Stamp, read_zip, write_zip

_DATE_STYLE = re.compile(rb'<w:pStyle w:val="Date"\s*/>')
_TABLE = re.compile(rb"<w:tbl>.*?</w:tbl>", re.S)
_COMPACT = re.compile(rb'<w:pStyle w:val="Compact"\s*/>')
_LEVEL_IND = re.compile(rb"<w:ind\b[^>]*/>")
_CORE = {"dc:title": "title", "dc:creator": "author", "cp:lastModifiedBy": "author"}


@dataclass(frozen=True)
class Finish:
    """What the finishing edits need to know about one document."""

    cover: bool
    duplex: bool = False
    title: str = ""
    author: str = ""
    banner: str = ""        # the title printed first on a document without a cover
    contents: tuple[tuple[int, str, str], ...] = ()  # (level, text, bookmark) of the 目录's entries; () for none


def render(ast_json: bytes, reference: Path, stamp: Stamp, finish: Finish) -> bytes:
    parts = read_zip(pandoc.to_docx(ast_json, reference, stamp.epoch))
    out = []
    for name, data in parts:
        if name == "word/document.xml":
            data = finish_document(data, finish)
        elif name == "word/numbering.xml":
            data = flush_left_lists(data)
        elif name == "docProps/core.xml":
            data = core_properties(data, finish, stamp)
        out.append((name, data))
    return write_zip(out, stamp.zip_time, sort=False)


def finish_document(xml: bytes, finish: Finish) -> bytes:
    xml = _TABLE.sub(lambda m: _COMPACT.sub(b'<w:pStyle w:val="TableText" />', m.group(0)), xml)
    if finish.banner and not finish.cover and b"<w:body>" in xml:
        banner = (f'<w:p><w:pPr><w:pStyle w:val="Banner"/></w:pPr><w:r><w:t xml:space="preserve">'
                  f"{escape(finish.banner, quote=False)}</w:t></w:r></w:p>").encode()
        at = xml.index(b"<w:body>") + len(b"<w:body>")
        xml = xml[:at] + banner + xml[at:]
    if finish.cover:
        # The date closes the cover: its paragraph carries the cover's section properties (a section break).
        match = _DATE_STYLE.search(xml)
        if match:
            section = refdoc.section_xml(footers=False, cover=True).replace(f" {refdoc.NS}", "").encode()
            xml = xml[: match.end()] + section + xml[match.end():]
            end = xml.index(b"</w:p>", match.end()) + len(b"</w:p>")
            if finish.duplex:
                # A section of one empty page follows the (vertically centred) cover: the back of the cover stays
                # blank and the body starts on a recto, in Word and LibreOffice alike.
                blank = _blank_page(section.replace(b'<w:vAlign w:val="center"/>', b""))
                xml = xml[:end] + blank + xml[end:]
                end += len(blank)
            if finish.contents:
                xml = xml[:end] + contents_xml(finish.contents, finish.duplex) + xml[end:]
    return xml


def _blank_page(section: bytes) -> bytes:
    # It holds a no-break space: LibreOffice's PDF export drops pages with nothing on them.
    return b"<w:p><w:pPr>" + section + "</w:pPr><w:r><w:t>\u00a0</w:t></w:r></w:p>".encode()


def headings(ast: dict[str, Any]) -> tuple[tuple[int, str, str], ...]:
    """Levels 1 and 2 of the document, with the bookmark pandoc gives each heading (its identifier)."""
    out = []
    for block in ast.get("blocks", ()):
        if block.get("t") == "Header" and block["c"][0] <= 2 and block["c"][1][0]:
            out.append((block["c"][0], _plain(block["c"][2]), block["c"][1][0]))
    return tuple(out)


def _plain(inlines: Any) -> str:
    if isinstance(inlines, dict):
        kind = inlines.get("t")
        if kind == "Str":
            return str(inlines["c"])
        if kind in ("Space", "SoftBreak", "LineBreak"):
            return " "
        return _plain(inlines.get("c"))
    if isinstance(inlines, list):
        return "".join(_plain(i) for i in inlines)
    return ""


def contents_xml(entries: tuple[tuple[int, str, str], ...], duplex: bool) -> bytes:
    """The 目录 section: a title, one line per heading with a PAGEREF field, no page number of its own.

    The page numbers are fields that Word and LibreOffice compute when they lay
    the document out, so they match the body's printed numbers.
    """
    def run(text: str) -> str:
        return f'<w:r><w:t xml:space="preserve">{escape(text, quote=False)}</w:t></w:r>'

    out = ['<w:p><w:pPr><w:pStyle w:val="TOCHeading"/></w:pPr>' + run("目\u3000录") + "</w:p>"]
    for level, text, mark in entries:
        field = (f'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGEREF '
                 f'{escape(mark)} \\h </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
                 f'<w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>')
        out.append(f'<w:p><w:pPr><w:pStyle w:val="TOC{level}"/></w:pPr>{run(text)}<w:r><w:tab/></w:r>{field}</w:p>')
    section = refdoc.section_xml(footers=False, cover=True).replace(f" {refdoc.NS}", "").replace(
        '<w:vAlign w:val="center"/>', "").encode()
    xml = "".join(out).encode("utf-8") + b"<w:p><w:pPr>" + section + b"</w:pPr></w:p>"
    if duplex and contents_pages(entries) % 2:
        # Odd 目录 pages: a one-page blank section follows, so the body still starts on a recto.
        xml += _blank_page(section)
    return xml


def contents_pages(entries: tuple[tuple[int, str, str], ...]) -> int:
    """Pages the 目录 fills: 20 grid lines under its title, then 22 a page; an entry over 24 characters takes two."""
    lines = sum(2 if len(text) > 24 else 1 for _, text, _ in entries)
    return 1 + max(0, -(-(lines - 20) // refdoc.LINES_PER_PAGE))


def flush_left_lists(xml: bytes) -> bytes:
    """Every list level: number indented two characters, no hanging indent, no tab after the number."""
    first = refdoc.BODY_PT * 40
    xml = _LEVEL_IND.sub(f'<w:ind w:left="0" w:hanging="0" w:firstLine="{first}" w:firstLineChars="200"/>'.encode(), xml)
    xml = re.sub(rb"<w:suff\b[^>]*/>", b"", xml)
    return xml.replace(b"<w:lvlJc ", b'<w:suff w:val="nothing"/><w:lvlJc ')


def core_properties(xml: bytes, finish: Finish, stamp: Stamp) -> bytes:
    text = xml.decode("utf-8")
    when = stamp.local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for tag, field in _CORE.items():
        value = escape(getattr(finish, field), quote=False)
        if not value:
            continue
        if f"<{tag}" in text:
            text = re.sub(rf"<{tag}\b[^>]*>.*?</{tag}>|<{tag}\b[^>]*/>", f"<{tag}>{value}</{tag}>", text, flags=re.S)
        else:
            text = text.replace("</cp:coreProperties>", f"<{tag}>{value}</{tag}></cp:coreProperties>")
    for tag in ("dcterms:created", "dcterms:modified"):
        element = f'<{tag} xsi:type="dcterms:W3CDTF">{when}</{tag}>'
        if f"<{tag}" in text:
            text = re.sub(rf"<{tag}\b[^>]*>.*?</{tag}>|<{tag}\b[^>]*/>", element, text, flags=re.S)
        else:
            text = text.replace("</cp:coreProperties>", element + "</cp:coreProperties>")
    return text.encode("utf-8")
