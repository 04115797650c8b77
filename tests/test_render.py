"""Rendered demo documents, checked in the real files: DOCX parts, PDF pages and fonts, the xlsx formulas."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Demo, invoke
from xzdoc.model import Project
from xzdoc.render import refdoc

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NEEDS_POPPLER = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdffonts"),
                                   reason="poppler-utils (pdftotext, pdffonts) not installed")
OFFICE = shutil.which("libreoffice") or shutil.which("soffice")


def part(docx: Path, name: str) -> str:
    with zipfile.ZipFile(docx) as archive:
        return archive.read(name).decode("utf-8")


def chapters(project: Project, kind: str) -> list[str]:
    return [h.title for h in project.drafts[kind].headings if h.level == 1]


def pdftext(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    # U+200B marks where Typst may break a long Latin run; it is no part of the words.
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8").replace("\u200b", "")


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_registered_document_is_rendered(demo: Demo) -> None:
    for pid, project in demo.projects.items():
        names = set(demo.files[pid])
        for kind in project.drafts:
            assert {f"{kind}.docx", f"{kind}.pdf"} <= names, (pid, kind)
        assert "投资概算表.xlsx" in names
        assert "审批记录.pdf" in names


# -- DOCX -----------------------------------------------------------------------


def xml(docx: Path, name: str) -> ET.Element:
    return ET.fromstring(part(docx, name))


def attr(element: ET.Element | None, name: str = "val") -> str | None:
    return None if element is None else element.get(f"{W}{name}")


def test_docx_styles_follow_gbt9704(demo: Demo) -> None:
    styles = xml(demo.files["XZJT-2026-001"]["项目建议书.docx"], "word/styles.xml")
    defaults = styles.find(f"{W}docDefaults")
    assert attr(defaults.find(f".//{W}rFonts"), "eastAsia") == "仿宋_GB2312"
    assert attr(defaults.find(f".//{W}sz")) == "32"  # 三号 16 pt
    spacing = defaults.find(f".//{W}pPrDefault//{W}spacing")
    assert (attr(spacing, "line"), attr(spacing, "lineRule")) == (str(refdoc.line_pitch()), "exact")  # 22 lines a page

    def style(style_id: str) -> ET.Element:
        found = next((s for s in styles.findall(f"{W}style") if attr(s, "styleId") == style_id), None)
        assert found is not None, style_id
        return found

    def font(style_id: str) -> str | None:
        return attr(style(style_id).find(f"{W}rPr/{W}rFonts"), "eastAsia")

    assert font("Title") == "方正小标宋简体" and attr(style("Title").find(f"{W}rPr/{W}sz")) == "44"  # 二号小标宋
    assert font("Heading1") == "黑体"
    assert font("Heading2") == "楷体_GB2312"
    assert font("Heading3") == "仿宋_GB2312" and style("Heading3").find(f"{W}rPr/{W}b") is not None
    assert attr(style("BodyText").find(f"{W}pPr/{W}ind"), "firstLineChars") == "200"
    borders = style("Table").find(f"{W}tblPr/{W}tblBorders")
    assert {b.tag.removeprefix(W): attr(b) for b in borders} == dict.fromkeys(
        ("top", "left", "bottom", "right", "insideH", "insideV"), "single")


def test_docx_names_free_fallback_fonts(demo: Demo) -> None:
    fonts = xml(demo.files["XZJT-2026-001"]["项目建议书.docx"], "word/fontTable.xml")
    alternatives = {attr(f, "name"): attr(f.find(f"{W}altName")) for f in fonts.findall(f"{W}font")}
    assert alternatives["仿宋_GB2312"] == "Noto Serif CJK SC"
    assert alternatives["黑体"] == "Noto Sans CJK SC"


def test_docx_page_setup_and_page_numbers(demo: Demo) -> None:
    docx = demo.files["XZJT-2026-001"]["可行性研究报告.docx"]
    sections = xml(docx, "word/document.xml").findall(f".//{W}sectPr")
    assert len(sections) >= 4  # the cover, its blank back, the 目录 (and a blank page after an odd one), the body
    cover, body = sections[0], sections[-1]
    for section in sections:
        size = section.find(f"{W}pgSz")
        assert (attr(size, "w"), attr(size, "h")) == ("11906", "16838")  # A4
        margins = section.find(f"{W}pgMar")
        # 37, 28, 35, 26 mm, the page set 2.77 mm higher so the first line's characters start at 37 mm
        assert {k: attr(margins, k) for k in ("top", "left", "bottom", "right")} == {
            "top": "1941", "left": "1587", "bottom": "2141", "right": "1474"}
    assert cover.find(f"{W}footerReference") is None and attr(cover.find(f"{W}vAlign")) == "center"
    assert len(body.findall(f"{W}footerReference")) == 2 and attr(body.find(f"{W}pgNumType"), "start") == "1"
    assert "<w:evenAndOddHeaders" in part(docx, "word/settings.xml")
    odd, even = part(docx, "word/footer1.xml"), part(docx, "word/footer2.xml")
    for footer in (odd, even):
        assert "— " in footer and " PAGE " in footer and " —" in footer
    assert '<w:jc w:val="right"/>' in odd and '<w:jc w:val="left"/>' in even


def test_docx_text_has_cover_chapters_and_tables(demo: Demo) -> None:
    project = demo.projects["XZJT-2026-001"]
    xml = part(demo.files["XZJT-2026-001"]["可行性研究报告.docx"], "word/document.xml")
    text = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
    for expected in (project.name, "可行性研究报告", "项目编号：XZJT-2026-001", "申报单位：忻州市交通运输局",
                     "编制单位：忻州市交通运输数据中心", "项目阶段：已申报", *chapters(project, "可行性研究报告"),
                     "信息资源目录", "道路运输车辆实时位置", "2040.00"):
        assert expected in text, expected
    assert "{{" not in text and "【编写提示】" not in text
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", xml, re.S)
    assert tables and all('w:val="Compact"' not in t for t in tables)
    assert all('w:val="TableText"' in t for t in tables)


# -- PDF ------------------------------------------------------------------------


@NEEDS_POPPLER
def test_pdf_is_a4_with_embedded_cjk_font(demo: Demo) -> None:
    pdf = demo.files["XZJT-2026-001"]["项目建议书.pdf"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True).stdout.decode()
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # the emb column


@NEEDS_POPPLER
def test_pdf_text_has_project_name_and_every_chapter(demo: Demo) -> None:
    for pid, project in demo.projects.items():
        for kind in project.drafts:
            text = squeeze(pdftext(demo.files[pid][f"{kind}.pdf"]))
            assert squeeze(project.name) in text, (pid, kind)
            for title in chapters(project, kind):
                assert squeeze(title) in text, (pid, kind, title)
            assert "{{" not in text and "【编写提示】" not in text


@NEEDS_POPPLER
def test_pdf_cover_then_numbered_body(demo: Demo) -> None:
    pdf = demo.files["XZJT-2026-001"]["投资概算.pdf"]
    cover, first, second = (squeeze(pdftext(pdf, n)) for n in (1, 2, 3))
    assert "项目编号：XZJT-2026-001" in cover and "项目阶段：已申报" in cover and "—" not in cover
    assert first.endswith("—1—") and second.endswith("—2—")
    # Metadata references are rendered from the exact amounts: prose and tables agree.
    assert "经测算，项目概算总投资2040.00万元" in squeeze(pdftext(pdf))


@NEEDS_POPPLER
def test_approval_page_says_none_recorded_outside_git(demo: Demo) -> None:
    assert "尚无经合并确认的审批记录" in squeeze(pdftext(demo.files["XZJT-2026-003"]["审批记录.pdf"]))


# -- xlsx -----------------------------------------------------------------------


def evaluate(sheet: Any, ref: str, seen: frozenset[str] = frozenset()) -> Decimal:
    """Just enough of a spreadsheet to check our own formulas: ROUND(a*b,2), SUM of ranges and cells, a-b."""
    assert ref not in seen
    value = sheet[ref].value
    if not isinstance(value, str) or not value.startswith("="):
        return Decimal(str(value or 0))
    formula, seen = value[1:], seen | {ref}
    if m := re.fullmatch(r"ROUND\((\w+)\*(\w+),2\)", formula):
        return (evaluate(sheet, m[1], seen) * evaluate(sheet, m[2], seen)).quantize(Decimal("0.01"))
    if m := re.fullmatch(r"SUM\(([A-Z])(\d+):\1(\d+)\)", formula):
        return sum((evaluate(sheet, f"{m[1]}{r}", seen) for r in range(int(m[2]), int(m[3]) + 1)), Decimal(0))
    if m := re.fullmatch(r"SUM\(([\w,]+)\)", formula):
        return sum((evaluate(sheet, c, seen) for c in m[1].split(",")), Decimal(0))
    if m := re.fullmatch(r"(\w+)-(\w+)", formula):
        return evaluate(sheet, m[1], seen) - evaluate(sheet, m[2], seen)
    raise AssertionError(f"unexpected formula {value}")


def test_estimate_workbook_has_live_formulas(demo: Demo) -> None:
    from openpyxl import load_workbook

    for pid, project in demo.projects.items():
        book = load_workbook(demo.files[pid]["投资概算表.xlsx"])
        sheet = book["投资概算"]
        formulas = [c.value for row in sheet.iter_rows() for c in row if str(c.value).startswith("=")]
        groups = len({item["group"] for item in project.data["estimate"]})
        assert sum(str(v).startswith("=ROUND(D") for v in formulas) == len(project.data["estimate"])
        assert sum(str(v).startswith("=SUM(F") for v in formulas) == groups + 1  # subtotals and the total
        total = next(r for r in sheet.iter_rows() if r[1].value == "合计")[5].coordinate
        assert evaluate(sheet, total) == project.money[("budget", "total")]
        difference = sheet.cell(row=sheet[total].row + 2, column=6).coordinate
        assert evaluate(sheet, difference) == 0
        years = book["分年度预算"]
        sums = [c.coordinate for row in years.iter_rows() for c in row if str(c.value).startswith("=SUM(B")]
        assert [evaluate(years, s) for s in sums] == [project.money[("budget", "total")]] * 2


# -- the command ----------------------------------------------------------------


def test_render_command_writes_each_document(demo_repo: Path) -> None:
    result = invoke("render", "projects/XZJT-2026-003", "--format", "docx,pdf,xlsx", "--out", "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (demo_repo / "out").iterdir()) == ["投资概算表.xlsx", "项目建议书.docx", "项目建议书.pdf"]
    assert "已生成" in result.output


def test_render_rejects_unknown_format(demo_repo: Path) -> None:
    result = invoke("render", "projects/XZJT-2026-003", "--format", "odt")
    assert result.exit_code == 2
    assert "不支持的格式" in result.output


def test_render_wants_one_project(demo_repo: Path) -> None:
    result = invoke("render", "projects")
    assert result.exit_code == 2
    assert "一次只生成一个项目" in result.output


# -- a real office suite --------------------------------------------------------


@pytest.mark.skipif(not OFFICE, reason="LibreOffice not installed")
@NEEDS_POPPLER
def test_libreoffice_converts_the_docx(demo: Demo, tmp_path: Path) -> None:
    source = demo.files["XZJT-2026-003"]["项目建议书.docx"]
    subprocess.run([str(OFFICE), f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(source)], capture_output=True, timeout=240, check=True)
    converted = tmp_path / "项目建议书.pdf"
    assert converted.is_file()
    text = squeeze(pdftext(converted))
    assert squeeze(demo.projects["XZJT-2026-003"].name) in text
    for title in chapters(demo.projects["XZJT-2026-003"], "项目建议书"):
        assert squeeze(title) in text
