"""DOCX through pandoc with our reference.docx, then two edits pandoc cannot make itself.

1. The cover becomes its own section (vertically centred, no page number), so
   the body starts on a new page numbered "— 1 —".
2. Paragraphs inside tables get the compact "Table Text" style instead of the
   body's fixed 28.95 pt grid, which would make every row two lines tall.
Finally every zip entry gets the build's fixed timestamp.
"""

from __future__ import annotations

import re
from pathlib import Path

from xzdoc.render import pandoc, refdoc
from xzdoc.render.reproducible import Stamp, read_zip, write_zip

_DATE_STYLE = re.compile(rb'<w:pStyle w:val="Date"\s*/>')
_TABLE = re.compile(rb"<w:tbl>.*?</w:tbl>", re.S)
_COMPACT = re.compile(rb'<w:pStyle w:val="Compact"\s*/>')


def render(ast_json: bytes, reference: Path, stamp: Stamp, cover: bool) -> bytes:
    parts = read_zip(pandoc.to_docx(ast_json, reference, stamp.epoch))
    out = []
    for name, data in parts:
        if name == "word/document.xml":
            data = finish_document(data, cover)
        out.append((name, data))
    return write_zip(out, stamp.zip_time, sort=False)


def finish_document(xml: bytes, cover: bool) -> bytes:
    xml = _TABLE.sub(lambda m: _COMPACT.sub(b'<w:pStyle w:val="TableText" />', m.group(0)), xml)
    if cover:
        # The date closes the cover: its paragraph carries the cover's section properties (a section break).
        match = _DATE_STYLE.search(xml)
        if match:
            section = refdoc.section_xml(footers=False, cover=True).replace(f" {refdoc.NS}", "").encode()
            xml = xml[: match.end()] + section + xml[match.end():]
    return xml
