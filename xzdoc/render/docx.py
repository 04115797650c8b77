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
    if finish.cover:
        # The date closes the cover: its paragraph carries the cover's section properties (a section break).
        match = _DATE_STYLE.search(xml)
        if match:
            section = refdoc.section_xml(footers=False, cover=True).replace(f" {refdoc.NS}", "").encode()
            if finish.duplex:
                # An empty paragraph on a page of its own ends the cover section: the back of the cover stays
                # blank and the body starts on a recto, in Word and LibreOffice alike.
                end = xml.index(b"</w:p>", match.end()) + len(b"</w:p>")
                # It holds a no-break space: LibreOffice's PDF export drops pages with nothing on them.
                blank = b"<w:p><w:pPr><w:pageBreakBefore/>" + section + "</w:pPr><w:r><w:t>\u00a0</w:t></w:r></w:p>".encode()
                xml = xml[:end] + blank + xml[end:]
            else:
                xml = xml[: match.end()] + section + xml[match.end():]
    return xml


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
