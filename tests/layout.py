"""Measure a rendered PDF against GB/T 9704 (STANDARD §9) from the page content, not from the template's intent.

Works on any PDF (Typst's, or LibreOffice's conversion of the DOCX): body text
is the 16 pt text inside the text block; a line's top is its baseline minus
0.88 em (the CJK em box), so the first line should sit exactly on the 37 mm
top margin. The page number's em-dash is found by rasterising the footer and
measuring its ink, as a ruler on paper would.

    python -m tests.layout FILE.pdf …     prints the figures for each file
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import re
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pymupdf

MM = 72 / 25.4
TOP, LEFT, WIDTH, HEIGHT = 37.0, 28.0, 156.0, 225.0
BODY_PT = 16.0
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff01-\uff5e]")
PAGE_NUMBER = re.compile(r"^—\s*(\d+)\s*—$")
LEVELS = {1: re.compile(r"^[一二三四五六七八九十]+、"), 2: re.compile(r"^（[一二三四五六七八九十]+）"),
          3: re.compile(r"^\d+\.\s*\S"), 4: re.compile(r"^（\d+）")}


@dataclass
class Line:
    page: int
    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    fonts: tuple[str, ...]
    chars: int
    last_x0: float = 0.0          # where the last character starts: its em box ends one em later


@dataclass
class Figures:
    pages: int
    page_mm: tuple[float, float]
    left_mm: float = 0.0          # text-block left edge, from the lines that start there
    right_mm: float = 0.0         # right edge, from full lines
    top_mm: float = 0.0           # first body line's em-box top on body pages (median)
    pitch_mm: float = 0.0         # line pitch of consecutive body lines
    lines_per_page: int = 0       # most body lines on one page
    chars_per_line: dict[int, int] = field(default_factory=dict)  # characters on full CJK lines -> how many lines
    number_offset_mm: list[float] = field(default_factory=list)   # dash below the text block, per numbered page
    number_sides: dict[str, str] = field(default_factory=dict)    # printed number -> "left"/"right"
    number_labels: dict[int, str] = field(default_factory=dict)   # page index -> printed number
    fonts: dict[str, list[str]] = field(default_factory=dict)     # role -> fonts seen

    def share_28(self) -> float:
        total = sum(self.chars_per_line.values())
        return self.chars_per_line.get(28, 0) / total if total else 0.0


def base_font(name: str) -> str:
    return name.split("+", 1)[-1]


def lines(doc: Any) -> list[Line]:
    out = []
    for index, page in enumerate(doc):
        raw = page.get_text("rawdict")
        for block in raw["blocks"]:
            for line in block.get("lines", ()):
                chars = [c for span in line["spans"] for c in span["chars"] if c["c"].strip()]
                if not chars:
                    continue
                sizes = [s["size"] for s in line["spans"] if s["chars"]]
                fonts = tuple(dict.fromkeys(base_font(s["font"]) for s in line["spans"]
                                            if any(c["c"].strip() for c in s["chars"])))
                out.append(Line(index, "".join(c["c"] for c in chars), min(c["bbox"][0] for c in chars),
                                max(c["bbox"][2] for c in chars), max(s["origin"][1] for s in line["spans"]),
                                max(sizes), fonts, len(chars), max(c["origin"][0] for c in chars)))
    return merged(out)


def merged(found: list[Line]) -> list[Line]:
    """Join pieces of one visual line (PDF producers split a line into several text objects)."""
    found.sort(key=lambda ln: (ln.page, round(ln.baseline, 0), ln.x0))
    out: list[Line] = []
    for ln in found:
        last = out[-1] if out else None
        if last and last.page == ln.page and abs(last.baseline - ln.baseline) < 1.0 and abs(last.size - ln.size) < 0.5:
            out[-1] = Line(ln.page, last.text + ln.text, min(last.x0, ln.x0), max(last.x1, ln.x1), last.baseline,
                           last.size, tuple(dict.fromkeys(last.fonts + ln.fonts)), last.chars + ln.chars,
                           max(last.last_x0, ln.last_x0))
        else:
            out.append(ln)
    return out


def in_block(ln: Line) -> bool:
    return (TOP - 3) * MM <= ln.baseline <= (TOP + HEIGHT + 1) * MM


def dash_offset(page: Any, line: Line) -> float:
    """How far below the text block the em-dash's ink sits (mm), measured on a 600 dpi raster of the number."""
    clip = pymupdf.Rect(line.x0, line.baseline - line.size, line.x0 + line.size * 0.9, line.baseline + line.size * 0.3)
    pix = page.get_pixmap(clip=clip, dpi=600, colorspace=pymupdf.csGRAY)
    rows = [y for y in range(pix.height) if any(pix.samples[y * pix.stride + x] < 128 for x in range(pix.width))]
    if not rows:
        return float("nan")
    middle = clip.y0 + (rows[0] + rows[-1]) / 2 / pix.height * clip.height
    return round(middle / MM - (TOP + HEIGHT), 2)


@functools.lru_cache(maxsize=32)
def measure(path: Path) -> Figures:
    """The figures of one PDF (cached: a file is measured once however many tests ask)."""
    doc = pymupdf.open(path)
    first = doc[0].rect
    fig = Figures(len(doc), (round(first.width / MM, 1), round(first.height / MM, 1)))
    found = lines(doc)
    _page_numbers(doc, found, fig)
    # Body pages are the numbered ones: the cover, its blank back and the 目录 are front matter.
    found = [ln for ln in found if ln.page in fig.number_labels or ln.page == 0]
    body = [ln for ln in found if abs(ln.size - BODY_PT) < 0.6 and in_block(ln) and ln.page in fig.number_labels]
    if not body:
        return fig
    # The edge most lines start at: a line opening with "（" may start half a character early (its blank half trimmed).
    fig.left_mm = round(collections.Counter(round(ln.x0 / MM, 1) for ln in body).most_common(1)[0][0], 2)
    by_page: dict[int, list[Line]] = collections.defaultdict(list)
    for ln in body:
        by_page[ln.page].append(ln)
    full = full_lines(by_page, fig.left_mm)
    if full:
        fig.right_mm = round(statistics.median(ln.last_x0 + BODY_PT for ln in full) / MM, 2)
    tops = [min(ls, key=lambda ln: ln.baseline).baseline - 0.88 * BODY_PT for p, ls in by_page.items()
            if p in fig.number_labels]
    fig.top_mm = round(statistics.median(tops) / MM, 2) if tops else 0.0
    steps = [round(b.baseline - a.baseline, 1) for ls in by_page.values() for a, b in itertools.pairwise(ls)]
    if steps:
        fig.pitch_mm = round(collections.Counter(steps).most_common(1)[0][0] / MM, 2)
    fig.lines_per_page = max(len(ls) for ls in by_page.values())
    fig.chars_per_line = dict(sorted(collections.Counter(ln.chars for ln in full if all(
        CJK.match(ch) for ch in ln.text)).items()))
    fig.fonts = roles(found)
    return fig


def full_lines(by_page: dict[int, list[Line]], left_mm: float) -> list[Line]:
    """Lines that start at the left edge and run on into the next line (which also starts there): never short."""
    out = []
    for ls in by_page.values():
        for a, b in itertools.pairwise(ls):
            if abs(a.x0 / MM - left_mm) < 0.5 and abs(b.x0 / MM - left_mm) < 0.5 and a.chars > 12:
                out.append(a)
    return out


def _page_numbers(doc: Any, found: list[Line], fig: Figures) -> None:
    for ln in found:
        match = PAGE_NUMBER.match(ln.text.replace(" ", ""))
        if match and ln.baseline > (TOP + HEIGHT) * MM:
            page = doc[ln.page]
            fig.number_labels[ln.page] = match[1]
            centre = (ln.x0 + ln.x1) / 2
            fig.number_sides[match[1]] = "right" if centre > page.rect.width / 2 else "left"
            fig.number_offset_mm.append(dash_offset(page, ln))


def roles(found: list[Line]) -> dict[str, list[str]]:
    """The fonts of the cover title (largest text), each heading level (by its numbering) and body lines."""
    seen: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    largest = max((ln.size for ln in found), default=0)
    for ln in found:
        if ln.size >= largest - 0.5 and ln.page == 0:
            seen["title"].update(ln.fonts)
            continue
        if abs(ln.size - BODY_PT) >= 0.6 or not in_block(ln):
            continue
        level = next((n for n, rx in LEVELS.items() if rx.match(ln.text)), None)
        if level is not None and ln.x0 / MM > LEFT + 5:    # headings are indented two characters
            seen[f"heading{level}"][ln.fonts[0]] += 1
        elif ln.chars > 20:
            seen["body"][ln.fonts[0]] += 1
    return {role: [f for f, _ in c.most_common()] for role, c in sorted(seen.items())}


def page_labels(doc: Any) -> list[str]:
    """Each page's label read from the catalogue's /PageLabels (PyMuPDF's own reader takes /Type for a prefix)."""
    kind, value = doc.xref_get_key(doc.pdf_catalog(), "PageLabels")
    labels = [""] * len(doc)
    if kind != "xref":
        return labels
    tree = doc.xref_object(int(value.split()[0]))
    ranges = [(int(i), int(x)) for i, x in re.findall(r"(\d+)\s+(\d+)\s+0\s+R", tree.split("/Nums", 1)[-1])]
    for n, (start, xref) in enumerate(ranges):
        entry = doc.xref_object(xref)
        style = re.search(r"/S\s*/(\w)", entry)
        first = re.search(r"/St\s+(\d+)", entry)
        prefix = re.search(r"/P\s*\(([^)]*)\)", entry)
        end = ranges[n + 1][0] if n + 1 < len(ranges) else len(doc)
        for index in range(start, end):
            number = str(int(first[1] if first else 1) + index - start) if style and style[1] == "D" else ""
            labels[index] = (prefix[1] if prefix else "") + number
    return labels


def main(argv: list[str]) -> int:
    for name in argv:
        fig = measure(Path(name))
        data = asdict(fig)
        offsets = data.pop("number_offset_mm")
        data["number_offset_mm"] = [min(offsets), max(offsets)] if offsets else []
        data["number_sides"] = dict(list(fig.number_sides.items())[:4])
        data.pop("number_labels")
        data["share_28"] = round(fig.share_28(), 3)
        print(name)
        print(json.dumps(data, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
