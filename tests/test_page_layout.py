"""GB/T 9704 layout measured from the pages themselves: the Typst PDF, and the DOCX as LibreOffice lays it out.

Every figure comes from tests/layout.py reading text positions, fonts and ink
off the PDFs; nothing here reads the template's intent back. LibreOffice runs
once per session on the documents measured.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pymupdf
import pytest

from tests import layout
from tests.conftest import Demo
from xzdoc.render.context import balanced_lines

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
NEEDS_OFFICE = pytest.mark.skipif(not OFFICE, reason="LibreOffice not installed")
PID = "XZJT-2026-001"
LONG, SHORT = "可行性研究报告", "投资概算"    # a duplex report with a 目录; a single-sided document of 10 pages
ROLE_FACES = {"body": "NotoSerifCJK", "heading1": "NotoSansCJK", "heading2": "LXGWWenKai", "heading3": "NotoSerifCJK",
              "title": "NotoSerifCJK"}


@pytest.fixture(scope="session")
def office(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's DOCX files converted to PDF by LibreOffice, once: the slow step of this module."""
    if not OFFICE:
        pytest.skip("LibreOffice not installed")
    out = tmp_path_factory.mktemp("office")
    sources = [demo.files[PID][f"{kind}.docx"] for kind in (LONG, SHORT)]
    subprocess.run([OFFICE, f"-env:UserInstallation=file://{out / 'profile'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, sources)], capture_output=True, timeout=600, check=True)
    return {kind: out / f"{kind}.pdf" for kind in (LONG, SHORT)}


@pytest.fixture(scope="session")
def typst(demo: Demo) -> dict[str, Path]:
    return {kind: demo.files[PID][f"{kind}.pdf"] for kind in (LONG, SHORT)}


def both(typst: dict[str, Path], office: dict[str, Path]) -> list[tuple[str, Path]]:
    return [(f"typst {k}", p) for k, p in typst.items()] + [(f"office {k}", p) for k, p in office.items()]


# -- the grid ---------------------------------------------------------------------


def check_grid(name: str, pdf: Path) -> None:
    fig = layout.measure(pdf)
    assert fig.page_mm == (210.0, 297.0), name
    assert abs(fig.left_mm - 28.0) < 0.3, (name, fig.left_mm)
    assert abs(fig.right_mm - 184.0) < 0.6, (name, fig.right_mm)
    assert abs(fig.top_mm - 37.0) < 0.3, (name, fig.top_mm)
    assert abs(fig.pitch_mm - 225 / 22) < 0.06, (name, fig.pitch_mm)
    assert fig.lines_per_page == 22, name
    counts = fig.chars_per_line
    assert max(counts, key=counts.__getitem__) == 28, (name, counts)
    # Full lines of Chinese text hold 28 characters; Typst may fit a 29th by halving a line-end comma.
    assert fig.share_28() >= 0.85, (name, counts)
    assert not [n for n in counts if n < 27], (name, counts)


def test_typst_pdf_keeps_the_28_by_22_grid_inside_the_text_block(typst: dict[str, Path]) -> None:
    for kind, pdf in typst.items():
        check_grid(kind, pdf)


@NEEDS_OFFICE
def test_docx_in_libreoffice_keeps_the_same_grid(office: dict[str, Path]) -> None:
    for kind, pdf in office.items():
        check_grid(kind, pdf)
        assert layout.measure(pdf).share_28() >= 0.95, kind  # no punctuation squeezing: the grid is exact


# -- page numbers, duplex, page labels ---------------------------------------------


def check_numbers(name: str, pdf: Path) -> layout.Figures:
    fig = layout.measure(pdf)
    assert fig.number_offset_mm, name
    assert all(abs(o - 7.0) < 0.4 for o in fig.number_offset_mm), (name, fig.number_offset_mm)
    for number, side in fig.number_sides.items():
        assert side == ("right" if int(number) % 2 else "left"), (name, number, side)
    printed = [int(n) for _, n in sorted(fig.number_labels.items())]
    assert printed == list(range(1, len(printed) + 1)), name
    return fig


def test_page_numbers_sit_7_mm_below_the_text_block_on_the_outer_side(typst: dict[str, Path],
                                                                     office: dict[str, Path]) -> None:
    for name, pdf in both(typst, office):
        check_numbers(name, pdf)


def test_duplex_report_starts_its_body_on_a_recto_after_a_blank_cover_back(typst: dict[str, Path],
                                                                          office: dict[str, Path]) -> None:
    for name, pdf in both(typst, office):
        fig = layout.measure(pdf)
        first = min(fig.number_labels)
        doc = pymupdf.open(pdf)
        if LONG in name:
            assert not doc[1].get_text().strip(), name           # the back of the cover
            assert first % 2 == 0, (name, first)                   # physical page first + 1 is odd: a recto
        else:
            assert first == 1, (name, first)                       # single-sided: the body follows the cover


def test_pdf_page_labels_match_the_printed_numbers(typst: dict[str, Path]) -> None:
    for kind, pdf in typst.items():
        fig = layout.measure(pdf)
        labels = layout.page_labels(pymupdf.open(pdf))
        for index, label in enumerate(labels):
            assert label == fig.number_labels.get(index, ""), (kind, index, label)


# -- 目录 -------------------------------------------------------------------------


def contents(pdf: Path) -> tuple[dict[str, int], dict[int, str]]:
    """Entries of the 目录 (heading -> page number printed there) and each numbered page's text."""
    doc = pymupdf.open(pdf)
    fig = layout.measure(pdf)
    front = "".join(doc[i].get_text() for i in range(min(fig.number_labels)))
    entries = {m[1]: int(m[2]) for m in re.finditer(r"^([一二三四五六七八九十]+、[^·.\s]+)[\s·.]*?(\d+)$",
                                                    front.replace("\u2060", ""), re.M)}
    pages = {int(n): re.sub(r"\s+", "", doc[i].get_text()) for i, n in fig.number_labels.items()}
    return entries, pages


def test_long_documents_get_a_table_of_contents_with_true_page_numbers(typst: dict[str, Path],
                                                                      office: dict[str, Path]) -> None:
    for name, pdf in both(typst, office):
        text = "".join(page.get_text() for page in pymupdf.open(pdf))
        if SHORT in name:
            assert "目\u3000录" not in text and not re.search(r"目\s*录", text[:200]), name
            continue
        entries, pages = contents(pdf)
        assert len(entries) >= 10, (name, entries)
        for title, page in entries.items():
            # the heading is on the page the 目录 names (a heading may close the page before it starts a new one)
            assert re.sub(r"\s+", "", title) in pages[page], (name, title, page)


# -- fonts by role, the cover ------------------------------------------------------


def test_each_role_is_set_in_its_face(typst: dict[str, Path], office: dict[str, Path]) -> None:
    for name, pdf in both(typst, office):
        fonts = layout.measure(pdf).fonts
        for role, face in ROLE_FACES.items():
            if role not in fonts:
                assert SHORT in name and role in ("heading3",), (name, role)  # the estimate has no level 3
                continue
            assert fonts[role][0].startswith(face), (name, role, fonts[role])
        assert "Bold" in fonts["title"][0], name  # the stand-in for 小标宋 is the bold serif


def test_cover_titles_have_no_line_of_one_or_two_characters(demo: Demo) -> None:
    for pid, files in demo.files.items():
        for name, path in files.items():
            if not name.endswith(".pdf") or name.startswith("审批记录"):
                continue
            found = layout.lines(pymupdf.open(path))
            title = [ln for ln in found if ln.page == 0 and abs(ln.size - 22) < 0.6]
            assert title and all(ln.chars > 2 for ln in title), (pid, name, [ln.text for ln in title])


def test_balanced_lines_never_leave_one_or_two_characters() -> None:
    text = "忻州市综合交通运输数据共享与运行监测平台建设项目二期工程初步设计方案附件说明"
    for n in range(1, len(text) + 1):
        lines = balanced_lines(text[:n], 20)
        assert "".join(lines) == text[:n]
        assert all(len(line) <= 20 for line in lines)
        if len(lines) > 1:
            assert max(map(len, lines)) - min(map(len, lines)) <= 2, lines
            assert min(map(len, lines)) > 2, lines
    assert balanced_lines("ABC数据平台2026年度建设项目第一期工程的实施方案设计说明书", 20)[0].startswith("ABC数据平台2026")


# -- archival PDF ------------------------------------------------------------------


def test_every_pdf_is_pdf_a_2b_with_every_font_embedded(demo: Demo) -> None:
    pdfs = [p for files in demo.files.values() for n, p in files.items() if n.endswith(".pdf")]
    assert len(pdfs) >= 10
    for path in pdfs:
        doc = pymupdf.open(path)
        xmp = doc.get_xml_metadata()
        assert re.search(r"<pdfaid:part>2</pdfaid:part>|pdfaid:part=\"2\"", xmp), path
        assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>|pdfaid:conformance=\"B\"", xmp), path
        assert "<dc:title>" in xmp and "zh-CN" in xmp, path
        fonts = {f[3]: f[1] for page in doc for f in page.get_fonts(full=True)}
        assert fonts and all(ext != "n/a" for ext in fonts.values()), (path, fonts)


# -- DOCX parts ----------------------------------------------------------------------


def test_docx_core_properties_name_the_title_organisation_and_source_date(demo: Demo) -> None:
    import zipfile

    from xzdoc import config
    from xzdoc.render import bundle

    project = demo.projects[PID]
    with bundle.Builder(config.load(demo.root)) as builder:
        day = builder.stamp(project).local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    core = zipfile.ZipFile(demo.files[PID][f"{LONG}.docx"]).read("docProps/core.xml").decode("utf-8")
    assert f"<dc:title>{project.name} {LONG}</dc:title>" in core
    assert "<dc:creator>忻州市交通运输局</dc:creator>" in core
    assert f">{day}</dcterms:created>" in core and f">{day}</dcterms:modified>" in core
    assert "1970" not in core


def test_docx_lists_are_flush_left_paragraphs(demo: Demo) -> None:
    import zipfile

    numbering = zipfile.ZipFile(demo.files["XZJT-2025-002"]["初步设计.docx"]).read("word/numbering.xml").decode()
    indents = re.findall(r"<w:ind\b[^>]*/>", numbering)
    assert indents and all('w:left="0"' in i and 'w:hanging="0"' in i and 'w:firstLine="640"' in i for i in indents)
    assert 'w:val="nothing"' in numbering


def test_pdf_list_items_wrap_to_the_left_edge(demo: Demo) -> None:
    found = layout.lines(pymupdf.open(demo.files["XZJT-2025-002"]["初步设计.pdf"]))
    first = next(i for i, ln in enumerate(found) if ln.text.startswith("•法律法规和政策文件"))
    assert abs(found[first].x0 / layout.MM - (28 + 2 * 16 / layout.MM)) < 0.5   # the bullet two characters in
    assert abs(found[first + 1].x0 / layout.MM - 28) < 0.3                      # the next line back at the margin


def test_layout_settings_decide_the_contents_and_the_blank_back(tmp_path: Path) -> None:
    """xzdoc.yaml's layout: a 10-page estimate printed duplex with a 目录 from 5 pages on."""
    from tests.conftest import ROOT
    from xzdoc import config
    from xzdoc.render import bundle, context, document, safety

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "projects" / PID, root / "projects" / PID)
    (root / "xzdoc.yaml").write_text("layout:\n  duplex: true\n  toc_pages: 5\n", "utf-8")
    cfg = config.load(root)
    with bundle.Builder(cfg) as builder:
        project = bundle.load(cfg, root / "projects" / PID)
        the_stamp = builder.stamp(project)
        doc = document.documents(cfg, context.build(cfg, project, the_stamp), [SHORT])[0]
        where = safety.Where(project.folder, project.folder, doc.where, doc.draft)
        pdf = next(o.data for o in builder.convert(doc, ("pdf",), the_stamp, where, SHORT) if o.name.endswith(".pdf"))
    path = tmp_path / "estimate.pdf"
    path.write_bytes(pdf)
    pages = pymupdf.open(path)
    assert not pages[1].get_text().strip()                        # the blank back of the cover
    assert re.match(r"目\s*录", pages[2].get_text())              # then the 目录
    first = min(layout.measure(path).number_labels)
    assert first % 2 == 0 and "一、" in pages[first].get_text()   # the body from a recto
