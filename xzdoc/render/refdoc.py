"""The GB/T 9704 reference.docx, built from pandoc's own default so it always matches the pandoc in use.

We edit the XML parts with ElementTree: page setup and footers in the
section properties, fonts and sizes in the styles, "— N —" page numbers
(odd pages right, even pages left), and alternate names in the font table
so a machine without 仿宋_GB2312 falls back to a free CJK font, never tofu.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from xzdoc.render import pandoc
from xzdoc.render.reproducible import read_zip, write_zip

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FOOTER_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
FOOTER_CONTENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
NS = f'xmlns:w="{W}" xmlns:r="{R}"'
for _prefix, _uri in (("w", W), ("r", R)):
    ET.register_namespace(_prefix, _uri)

TWIPS_PER_MM = 1440 / 25.4
PAGE = {"w": 11906, "h": 16838}  # A4
MARGINS_MM = {"top": 37, "left": 28, "bottom": 35, "right": 26}  # STANDARD §9: text block 156 × 225 mm
BODY_PT, TITLE_PT, KIND_PT, FOOTER_PT, TABLE_PT = 16, 22, 26, 14, 12
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
# Word and LibreOffice centre a line's characters in its exact 28.95 pt grid line; with Noto CJK the em box of
# the first line starts 2.77 mm below the line's top (measured in LibreOffice). The page is set that much higher
# (the text block keeps its 225 mm), so the first line's characters start 37 mm from the top edge, as in the PDF.
FIRST_LINE_DROP_MM = 2.77
# The em-dash's centre sits 2.8 mm above the bottom of a single-spaced 14 pt footer line (Noto CJK metrics).
DASH_RISE_MM = 2.8
NUMBER_FONTS = ("宋体", "SimSun", "Noto Serif CJK SC")
ODD_FOOTER, EVEN_FOOTER = "rIdXzdocFooterOdd", "rIdXzdocFooterEven"


def twips(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


def margins() -> dict[str, int]:
    shift = {"top": -FIRST_LINE_DROP_MM, "bottom": FIRST_LINE_DROP_MM}
    return {k: twips(v + shift.get(k, 0)) for k, v in MARGINS_MM.items()}


def line_pitch() -> int:
    """Twips per line so that 22 lines fill the 225 mm text block."""
    return (PAGE["h"] - twips(MARGINS_MM["top"]) - twips(MARGINS_MM["bottom"])) // LINES_PER_PAGE


def _pitch_pt() -> float:
    return (PAGE["w"] - twips(MARGINS_MM["left"]) - twips(MARGINS_MM["right"])) / 20 / CHARS_PER_LINE


def char_space() -> int:
    """w:docGrid charSpace: the grid pitch minus the 16 pt body size, in 1/4096 pt, so 28 cells fill the line."""
    return int((_pitch_pt() - BODY_PT) * 4096)


def tracking() -> int:
    """Character spacing (1/20 pt), rounded down so a 16 pt character fits one grid cell.

    LibreOffice gives a character that is wider than its cell two cells (14 a
    line), and rounding −0.21 pt to −0.2 pt leaves 27; −0.25 pt fits 28, and
    Word's grid snaps each character to the same cells.
    """
    return math.floor((_pitch_pt() - BODY_PT) * 20)


def section_xml(footers: bool, cover: bool = False) -> str:
    """<w:sectPr>: A4, the GB/T 9704 margins, 22 lines a page; the body section numbers its pages from 1."""
    m = margins()
    refs = (f'<w:footerReference w:type="default" r:id="{ODD_FOOTER}"/>'
            f'<w:footerReference w:type="even" r:id="{EVEN_FOOTER}"/>') if footers else ""
    # The page number's dash line sits 7 mm below the text block; Word measures the footer from the page edge
    # to the footer line's bottom.
    footer = twips(MARGINS_MM["bottom"] - 7 - DASH_RISE_MM)
    start = "" if cover else '<w:pgNumType w:start="1"/>'
    valign = '<w:vAlign w:val="center"/>' if cover else ""
    return (f"<w:sectPr {NS}>{refs}"
            f'<w:pgSz w:w="{PAGE["w"]}" w:h="{PAGE["h"]}"/>'
            f'<w:pgMar w:top="{m["top"]}" w:right="{m["right"]}" w:bottom="{m["bottom"]}" w:left="{m["left"]}" '
            f'w:header="851" w:footer="{footer}" w:gutter="0"/>'
            f'{start}<w:cols w:space="425"/>{valign}'
            # A line grid: LibreOffice sets a character wider than its cell of a character grid in two cells (14
            # a line), so the run spacing carries the 28; charSpace is what Word's character grid would use.
            f'<w:docGrid w:type="lines" w:linePitch="{line_pitch()}" w:charSpace="{char_space()}"/>'
            "</w:sectPr>")


def _fonts(names: tuple[str, ...]) -> str:
    first = names[0]
    return f'<w:rFonts w:ascii="{first}" w:eastAsia="{first}" w:hAnsi="{first}" w:cs="{first}" w:hint="eastAsia"/>'


def _size(pt: float) -> str:
    return f'<w:sz w:val="{round(pt * 2)}"/><w:szCs w:val="{round(pt * 2)}"/>'


def _style(style_id: str, name: str, ppr: str = "", rpr: str = "", *, based: str | None = "Normal",
           kind: str = "paragraph", extra: str = "") -> str:
    based_xml = f'<w:basedOn w:val="{based}"/>' if based else ""
    custom = "" if style_id in {"Normal", "Title", "Subtitle", "Date", "Caption", "Footer"} or style_id.startswith(
        ("Heading", "BodyText", "BlockText", "Hyperlink")) else ' w:customStyle="1"'
    return (f'<w:style {NS} w:type="{kind}"{custom} w:styleId="{style_id}"><w:name w:val="{name}"/>{based_xml}'
            f"<w:qFormat/>{extra}" + (f"<w:pPr>{ppr}</w:pPr>" if ppr else "") + (f"<w:rPr>{rpr}</w:rPr>" if rpr else "")
            + "</w:style>")


def styles(fonts: Mapping[str, tuple[str, ...]]) -> list[str]:
    # One table on purpose: every style shares the same grid spacing and indents, and reading the
    # whole style sheet in one place is how a layout fault is found; splitting it would hide that.
    body, title, heading, kai = fonts["body"], fonts["title"], fonts["heading"], fonts["kai"]
    number = fonts.get("number", NUMBER_FONTS)
    exact = f'<w:spacing w:before="0" w:after="0" w:line="{line_pitch()}" w:lineRule="exact"/>'
    indent = f'<w:ind w:firstLineChars="200" w:firstLine="{BODY_PT * 40}"/>'
    no_indent = '<w:ind w:firstLineChars="0" w:firstLine="0"/>'
    plain_color = '<w:color w:val="000000"/>'
    keep = "<w:keepNext/><w:keepLines/>" + exact + indent
    width = PAGE["w"] - twips(MARGINS_MM["left"]) - twips(MARGINS_MM["right"])
    toc_tabs = f'<w:tabs><w:tab w:val="right" w:leader="middleDot" w:pos="{width}"/></w:tabs>'

    def head(level: int, names: tuple[str, ...], bold: bool) -> list[str]:
        b = "<w:b/><w:bCs/>" if bold else '<w:b w:val="0"/><w:bCs w:val="0"/>'
        rpr = _fonts(names) + b + plain_color + _size(BODY_PT)
        return [
            _style(f"Heading{level}", f"heading {level}", keep + f'<w:outlineLvl w:val="{level - 1}"/>', rpr,
                   extra=f'<w:next w:val="BodyText"/><w:link w:val="Heading{level}Char"/><w:uiPriority w:val="9"/>'),
            _style(f"Heading{level}Char", f"Heading {level} Char", rpr=rpr, kind="character",
                   based="DefaultParagraphFont", extra=f'<w:link w:val="Heading{level}"/>'),
        ]

    return [
        _style("Normal", "Normal", '<w:widowControl w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>'
               '<w:jc w:val="both"/>' + exact,
               # The size on Normal itself, not only in docDefaults: LibreOffice takes the grid's base width from it.
               _fonts(body) + _size(BODY_PT), based=None),
        _style("BodyText", "Body Text", exact + indent, extra='<w:link w:val="BodyTextChar"/>'),
        _style("FirstParagraph", "First Paragraph", based="BodyText", extra='<w:next w:val="BodyText"/>'),
        _style("Compact", "Compact", exact + indent, based="BodyText"),
        _style("TableText", "Table Text",
               '<w:spacing w:before="40" w:after="40" w:line="300" w:lineRule="auto"/>' + no_indent
               + '<w:snapToGrid w:val="0"/>', '<w:spacing w:val="0"/>' + _size(TABLE_PT)),
        _style("Title", "Title", '<w:keepNext/><w:spacing w:before="0" w:after="480" w:line="240" w:lineRule="auto"/>'
               + no_indent + '<w:jc w:val="center"/><w:snapToGrid w:val="0"/>',
               _fonts(title) + "<w:b/><w:bCs/>" + plain_color + _size(TITLE_PT), extra='<w:next w:val="BodyText"/>'),
        _style("Subtitle", "Subtitle", '<w:keepNext/><w:spacing w:before="0" w:after="1200" w:line="240" '
               'w:lineRule="auto"/>' + no_indent + '<w:jc w:val="center"/><w:snapToGrid w:val="0"/>',
               _fonts(title) + "<w:b/><w:bCs/>" + plain_color + _size(KIND_PT), extra='<w:next w:val="BodyText"/>'),
        # The first-page title of a document without a cover (a 备案表), as Typst's banner prints it.
        _style("Banner", "Banner", f'<w:keepNext/><w:spacing w:before="0" w:after="{line_pitch()}" w:line="240" '
               'w:lineRule="auto"/>' + no_indent + '<w:jc w:val="center"/><w:snapToGrid w:val="0"/>',
               _fonts(title) + plain_color + _size(22), extra='<w:next w:val="BodyText"/>'),
        _style("Author", "Author", "<w:keepNext/>" + exact + no_indent + '<w:jc w:val="center"/>',
               _fonts(body) + _size(BODY_PT), extra='<w:next w:val="BodyText"/>'),
        _style("Date", "Date", f'<w:spacing w:before="{line_pitch()}" w:after="0" w:line="{line_pitch()}" '
               'w:lineRule="exact"/>' + no_indent + '<w:jc w:val="center"/>', _fonts(body) + _size(BODY_PT)),
        *head(1, heading, False),
        *head(2, kai, False),
        *head(3, body, True),
        *head(4, body, False),
        _style("BlockText", "Block Text", exact + '<w:ind w:left="640" w:right="640" w:firstLineChars="200" '
               f'w:firstLine="{BODY_PT * 40}"/>', _fonts(kai), based="BodyText"),
        _style("Caption", "caption", '<w:keepNext/><w:spacing w:before="120" w:after="120" w:line="240" '
               'w:lineRule="auto"/>' + no_indent + '<w:jc w:val="center"/><w:snapToGrid w:val="0"/>',
               _fonts(heading) + '<w:i w:val="0"/><w:iCs w:val="0"/>' + _size(FOOTER_PT)),
        _style("TableCaption", "Table Caption", based="Caption"),
        _style("ImageCaption", "Image Caption", based="Caption"),
        _style("Footer", "footer", '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>' + no_indent
               + '<w:snapToGrid w:val="0"/>', _fonts(number) + _size(FOOTER_PT)),
        # 目录: entries on the body's line grid, page numbers flush right after a dotted leader.
        _style("TOCHeading", "TOC Heading", '<w:keepNext/><w:spacing w:before="0" w:after="' + str(line_pitch())
               + '" w:line="240" w:lineRule="auto"/>' + no_indent + '<w:jc w:val="center"/><w:snapToGrid w:val="0"/>',
               _fonts(heading) + plain_color + _size(TITLE_PT), extra='<w:next w:val="TOC1"/>'),
        _style("TOC1", "toc 1", toc_tabs + exact + no_indent, _fonts(heading), extra='<w:next w:val="TOC2"/>'),
        _style("TOC2", "toc 2", toc_tabs + exact + f'<w:ind w:left="{BODY_PT * 40}" w:firstLineChars="0" w:firstLine="0"/>'),
        _style("Hyperlink", "Hyperlink", rpr=plain_color, kind="character", based="BodyTextChar"),
        # Every border single 0.5 pt: GB/T 9704 tables are fully ruled.
        f'<w:style {NS} w:type="table" w:default="1" w:styleId="Table"><w:name w:val="Table"/>'
        '<w:basedOn w:val="TableNormal"/><w:qFormat/><w:pPr>' + no_indent + "</w:pPr><w:rPr>" + _size(TABLE_PT)
        + '</w:rPr><w:tblPr><w:jc w:val="center"/><w:tblBorders>'
        + "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                  for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        + '</w:tblBorders><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr>'
        '<w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/></w:rPr><w:tcPr><w:vAlign w:val="center"/></w:tcPr>'
        "</w:tblStylePr></w:style>",
    ]


def _doc_defaults(fonts: Mapping[str, tuple[str, ...]]) -> str:
    return (f"<w:docDefaults {NS}><w:rPrDefault><w:rPr>{_fonts(fonts['body'])}"
            f'<w:spacing w:val="{tracking()}"/>{_size(BODY_PT)}'
            '<w:kern w:val="2"/><w:lang w:val="zh-CN" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
            f'<w:pPrDefault><w:pPr><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>'
            f'<w:spacing w:after="0" w:line="{line_pitch()}" w:lineRule="exact"/></w:pPr>'
            "</w:pPrDefault></w:docDefaults>")


def _footer(odd: bool) -> str:
    # 4号 numerals between em-dashes; one character in from the outside edge (右空一字 / 左空一字).
    side = f'<w:jc w:val="right"/><w:ind w:right="{FOOTER_PT * 20}"/>' if odd else \
        f'<w:jc w:val="left"/><w:ind w:left="{FOOTER_PT * 20}"/>'
    run = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'
    field = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText>'
             '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
             '<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr {NS}><w:p><w:pPr><w:pStyle w:val="Footer"/>'
            f"{side}</w:pPr>{run.format('— ')}{field}{run.format(' —')}</w:p></w:ftr>")


def _q(tag: str, ns: str = W) -> str:
    return f"{{{ns}}}{tag}"


def _serialise(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + ET.tostring(root, encoding="utf-8")


def _edit_styles(data: bytes, fonts: Mapping[str, tuple[str, ...]]) -> bytes:
    root = ET.fromstring(data)
    old = root.find(_q("docDefaults"))
    new = ET.fromstring(_doc_defaults(fonts))
    if old is not None:
        root[list(root).index(old)] = new
    else:
        root.insert(0, new)
    by_id = {s.get(_q("styleId")): s for s in root.findall(_q("style"))}
    for xml in styles(fonts):
        style = ET.fromstring(xml)
        existing = by_id.get(style.get(_q("styleId")))
        if existing is not None:
            root[list(root).index(existing)] = style
        else:
            root.append(style)
    return _serialise(root)


def _edit_document(data: bytes) -> bytes:
    """Keep an empty body: pandoc takes only the section properties (page setup, footers) from it."""
    root = ET.fromstring(data)
    body = root.find(_q("body"))
    assert body is not None
    for child in list(body):
        body.remove(child)
    body.append(ET.fromstring(section_xml(footers=True)))
    return _serialise(root)


def _edit_settings(data: bytes) -> bytes:
    root = ET.fromstring(data)
    children = [c.tag for c in root]
    # Schema order matters to Word: mirrorMargins follows embedSystemFonts, evenAndOddHeaders precedes the grid.
    if _q("evenAndOddHeaders") not in children:
        anchor = _q("drawingGridHorizontalSpacing")
        index = children.index(anchor) if anchor in children else len(children)
        root.insert(index, ET.Element(_q("evenAndOddHeaders")))
    return _serialise(root)


def _edit_rels(data: bytes) -> bytes:
    # Plain insertion: these two parts use a default namespace with unqualified attributes, which ElementTree mangles.
    extra = "".join(f'<Relationship Id="{rid}" Type="{FOOTER_TYPE}" Target="{target}"/>'
                    for rid, target in ((ODD_FOOTER, "footer1.xml"), (EVEN_FOOTER, "footer2.xml")))
    return data.replace(b"</Relationships>", extra.encode("utf-8") + b"</Relationships>")


def _edit_types(data: bytes) -> bytes:
    extra = "".join(f'<Override PartName="{part}" ContentType="{FOOTER_CONTENT}"/>'
                    for part in ("/word/footer1.xml", "/word/footer2.xml"))
    return data.replace(b"</Types>", extra.encode("utf-8") + b"</Types>")


def _edit_font_table(data: bytes, fonts: Mapping[str, tuple[str, ...]]) -> bytes:
    """Each official font names a free alternative, which Word and LibreOffice use when it is missing."""
    root = ET.fromstring(data)
    known = {f.get(_q("name")) for f in root.findall(_q("font"))}
    for names in (*fonts.values(), NUMBER_FONTS):
        if names[0] in known:
            continue
        known.add(names[0])
        alternative = names[-1]
        font = ET.SubElement(root, _q("font"), {_q("name"): names[0]})
        if alternative != names[0]:
            ET.SubElement(font, _q("altName"), {_q("val"): alternative})
        ET.SubElement(font, _q("charset"), {_q("val"): "86"})  # GB2312
        # The family hint is what LibreOffice's substitution goes by when the font is missing.
        sans = any("Sans" in n or "黑" in n or "Hei" in n for n in names)
        ET.SubElement(font, _q("family"), {_q("val"): "swiss" if sans else "roman"})
        ET.SubElement(font, _q("pitch"), {_q("val"): "variable"})
    return _serialise(root)


@functools.lru_cache(maxsize=4)
def _build(fonts: tuple[tuple[str, tuple[str, ...]], ...]) -> bytes:
    font_map = dict(fonts)
    parts = dict(read_zip(pandoc.default_reference_docx()))
    order = list(parts)
    parts["word/styles.xml"] = _edit_styles(parts["word/styles.xml"], font_map)
    parts["word/document.xml"] = _edit_document(parts["word/document.xml"])
    parts["word/settings.xml"] = _edit_settings(parts["word/settings.xml"])
    parts["word/_rels/document.xml.rels"] = _edit_rels(parts["word/_rels/document.xml.rels"])
    parts["[Content_Types].xml"] = _edit_types(parts["[Content_Types].xml"])
    parts["word/fontTable.xml"] = _edit_font_table(parts["word/fontTable.xml"], font_map)
    parts["word/footer1.xml"] = _footer(odd=True).encode("utf-8")
    parts["word/footer2.xml"] = _footer(odd=False).encode("utf-8")
    order += ["word/footer1.xml", "word/footer2.xml"]
    return write_zip(((name, parts[name]) for name in order), (1980, 1, 1, 0, 0, 0), sort=False)


def build(fonts: Mapping[str, tuple[str, ...]]) -> bytes:
    """reference.docx bytes for these font lists (cached: pandoc is asked for its default once per process)."""
    return _build(tuple(sorted((k, tuple(v)) for k, v in fonts.items())))
