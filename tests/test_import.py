"""`xzdoc import`: Word documents become drafts that pass the outline check."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.shared import Inches

from tests.conftest import AS_OF, invoke

PROJECT = "projects/XZJT-2026-003"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
# How a vendor writes the proposal: aliases for some chapter names, numbering typed by hand.
CHAPTERS = ["项目概况", "项目建设单位概况", "项目建设必要性", "需求分析", "总体方案", "本期建设内容", "招标采购方案",
            "组织机构与人员培训", "实施进度安排", "投资估算及资金来源", "效益和风险分析"]
NUMERALS = "一二三四五六七八九十"


def _cjk(text: str) -> Counter[str]:
    return Counter(ch for ch in text if "\u4e00" <= ch <= "\u9fff")


def _findings(path: str) -> list[dict]:
    result = invoke("validate", path, "--format", "json", "--as-of", AS_OF)
    findings: list[dict] = json.loads(result.output)
    return findings


def _unregister(repo: Path, kind: str, draft: str) -> None:
    file = repo / PROJECT / "project.yaml"
    file.write_text(file.read_text("utf-8").replace(f"  {kind}: {draft}\n", ""), "utf-8")
    (repo / PROJECT / draft).unlink()


def test_round_trip_through_word_keeps_the_outline_and_the_text(demo_repo: Path) -> None:
    original = (demo_repo / PROJECT / "drafts/proposal.md").read_text("utf-8")
    assert invoke("render", PROJECT, "--format", "docx", "--out", demo_repo / "out").exit_code == 0
    _unregister(demo_repo, "项目建议书", "drafts/proposal.md")
    result = invoke("import", demo_repo / "out/项目建议书.docx", "--project", "XZJT-2026-003", "--as", "项目建议书")
    assert result.exit_code == 0, result.output
    assert "已在 project.yaml 的 documents 中登记" in result.output
    assert "  项目建议书: drafts/proposal.md" in (demo_repo / PROJECT / "project.yaml").read_text("utf-8")
    imported = (demo_repo / PROJECT / "drafts/proposal.md").read_text("utf-8")
    assert not [f for f in _findings(PROJECT) if f["level"] == "error" or f["rule"] == "art07.outline"]
    want, got = _cjk(original), _cjk(imported)
    kept = sum(min(n, got[ch]) for ch, n in want.items()) / sum(want.values())
    assert kept >= 0.99, kept
    # Tables come back as Markdown tables.
    assert imported.count("\n|---") >= original.count("\n|---") - 1 and "| 信息资源名称" in imported


def _vendor_docx(path: Path, skip: str | None = None) -> None:
    """Word as vendors use it: Normal style everywhere, numbering and indentation typed by hand."""
    doc = docx.Document()
    doc.add_paragraph("忻州市农村公路养护巡查智能化升级项目")
    doc.add_paragraph("项目建议书")
    doc.add_paragraph("编制单位：某某信息技术有限公司")
    for i, title in enumerate(CHAPTERS):
        if title == skip:
            continue
        doc.add_paragraph(f"{NUMERALS[i] if i < 10 else '十' + NUMERALS[i - 10]}、{title}")
        doc.add_paragraph(f"（一）{title}的基本情况")
        doc.add_paragraph(f"\u3000\u3000本章说明{title}的有关情况，内容依据管理办法的规定编写，表述完整准确。")
        if i == 5:
            doc.add_paragraph("1．购置车载智能巡查终端40套；")
            doc.add_paragraph("2．开发病害智能识别模块；")
            doc.add_paragraph("3．建设养护巡查移动应用。")
            table = doc.add_table(rows=3, cols=2)
            for r, (a, b) in enumerate([("设备名称", "数量"), ("车载智能巡查终端", "40套"), ("边缘计算网关", "40台")]):
                table.cell(r, 0).text, table.cell(r, 1).text = a, b
            doc.add_picture(io.BytesIO(PNG), width=Inches(1))
            doc.add_paragraph("（1）终端部署")
            doc.add_paragraph("\u3000\u3000终端按各县市区农村公路里程配置。")
    doc.save(str(path))


def test_vendor_docx_without_heading_styles(demo_repo: Path) -> None:
    source = demo_repo / "vendor.docx"
    _vendor_docx(source)
    assert b"Heading" not in zipfile.ZipFile(source).read("word/document.xml")
    _unregister(demo_repo, "项目建议书", "drafts/proposal.md")
    result = invoke("import", source, "--project", PROJECT, "--as", "项目建议书")
    assert result.exit_code == 0, result.output
    assert "未归入任何章节的段落" in result.output and "编制单位：某某信息技术有限公司" in result.output
    assert "未找到的章节" not in result.output
    text = (demo_repo / PROJECT / "drafts/proposal.md").read_text("utf-8")
    headings = re.findall(r"^(#+) (.+)$", text, re.M)
    assert [h for level, h in headings if level == "#"] == [
        f"{NUMERALS[i] if i < 10 else '十' + NUMERALS[i - 10]}、{t}" for i, t in enumerate(CHAPTERS)]
    assert ("##", "（一）项目概况的基本情况") in headings and ("####", "（1）终端部署") in headings
    assert "\u3000" not in text and "编制单位" not in text
    assert "1.  购置车载智能巡查终端40套；\n2.  开发病害智能识别模块；" in text   # a list the layout numbers
    assert "| 设备名称" in text and "| 车载智能巡查终端" in text
    image = demo_repo / PROJECT / "images/proposal/image1.png"
    assert image.read_bytes() == PNG and "](../images/proposal/image1.png)" in text
    assert [f for f in _findings(PROJECT) if f["path"].endswith("proposal.md")] == []


def test_missing_chapter_is_reported_and_stubbed_in_place(demo_repo: Path) -> None:
    source = demo_repo / "vendor.docx"
    _vendor_docx(source, skip="招标采购方案")
    result = invoke("import", source, "--project", PROJECT, "--as", "项目建议书", "--force")
    assert result.exit_code == 0, result.output
    assert "未找到的章节（已按提纲补上标题和编写提示，请补写正文）：招标方案" in result.output
    text = (demo_repo / PROJECT / "drafts/proposal.md").read_text("utf-8")
    assert text.index("# 六、本期建设内容") < text.index("# 七、招标方案\n\n> 【编写提示】") < text.index("# 八、组织机构与人员培训")
    outline = [f for f in _findings(PROJECT) if f["rule"] == "art07.outline"]
    assert len(outline) == 1 and "招标方案" in outline[0]["message"] and "没有正文内容" in outline[0]["message"]


@pytest.mark.parametrize(("args", "code", "words"), [
    (("--as", "报告"), 2, "未知的文档类型"),
    (("--as", "项目建议书"), 1, "已存在且已有正文"),
])
def test_import_refuses_clearly(demo_repo: Path, args: tuple[str, ...], code: int, words: str) -> None:
    source = demo_repo / "vendor.docx"
    _vendor_docx(source)
    result = invoke("import", source, "--project", PROJECT, *args)
    assert result.exit_code == code and words in result.output and "位置" in result.output


def test_import_refuses_a_file_that_is_not_docx(demo_repo: Path) -> None:
    fake = demo_repo / "old.docx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    result = invoke("import", fake, "--project", PROJECT, "--as", "项目建议书", "--force")
    assert result.exit_code == 1 and "另存为 .docx" in result.output


def test_heading_styles_table_of_contents_and_dotted_sections(demo_repo: Path) -> None:
    """Chapters in Word's heading style as 第一章, a typed table of contents, sections numbered 1.1 by hand."""
    titles = ["项目概述", "建设单位概况", "项目建设的必要性", "需求分析", "总体建设方案", "本期项目建设方案", "招标方案",
              "组织机构和人员培训", "实施进度", "投资估算和资金来源", "效益与风险分析"]
    doc = docx.Document()
    doc.add_heading("目录", level=1)
    for i, title in enumerate(titles):
        doc.add_paragraph(f"第{NUMERALS[i] if i < 10 else '十' + NUMERALS[i - 10]}章 {title}……………{i + 1}")
    for i, title in enumerate(titles):
        doc.add_heading(f"第{NUMERALS[i] if i < 10 else '十' + NUMERALS[i - 10]}章 {title}", level=1)
        doc.add_paragraph(f"{i + 1}.1 {title}概况")
        doc.add_paragraph(f"\u3000\u3000{title}的正文：按照管理办法的要求编写，数字如 1.5 万元不受影响。")
        doc.add_paragraph(f"{i + 1}.1.1 细项")
        doc.add_paragraph("细项说明。")
    source = demo_repo / "styled.docx"
    doc.save(str(source))
    result = invoke("import", source, "--project", PROJECT, "--as", "项目建议书", "--force")
    assert result.exit_code == 0, result.output
    assert "未找到的章节" not in result.output and "提纲之外" not in result.output
    assert "· 目录" in result.output and "第一章 项目概述……………1" in result.output
    text = (demo_repo / PROJECT / "drafts/proposal.md").read_text("utf-8")
    assert "# 第一章 项目概述\n" in text and "## 1.1 项目概述概况\n" in text and "### 1.1.1 细项\n" in text
    assert "目录" not in text and "……" not in text and "数字如 1.5 万元不受影响" in text
    assert [f for f in _findings(PROJECT) if f["path"].endswith("proposal.md")] == []


def test_chapters_under_word_automatic_numbering(demo_repo: Path) -> None:
    """Chapter titles in a numbered list style: pandoc reads them as list items, they are still chapters."""
    doc = docx.Document()
    doc.add_paragraph("项目建议书")
    for title in CHAPTERS:
        doc.add_paragraph(title, style="List Number")
        doc.add_paragraph(f"{title}的正文，按照管理办法编写。")
    source = demo_repo / "numbered.docx"
    doc.save(str(source))
    result = invoke("import", source, "--project", PROJECT, "--as", "项目建议书", "--force")
    assert result.exit_code == 0, result.output
    text = (demo_repo / PROJECT / "drafts/proposal.md").read_text("utf-8")
    assert [h for h in re.findall(r"^# (.+)$", text, re.M)] == CHAPTERS
    assert [f for f in _findings(PROJECT) if f["path"].endswith("proposal.md")] == []


def test_import_into_a_fresh_scaffold_needs_no_force(demo_repo: Path) -> None:
    assert invoke("new", "projects/XZJT-2027-005", "--id", "XZJT-2027-005", "--name", "测试项目").exit_code == 0
    source = demo_repo / "vendor.docx"
    _vendor_docx(source)
    result = invoke("import", source, "--project", "XZJT-2027-005", "--as", "proposal")
    assert result.exit_code == 0, result.output
    text = (demo_repo / "projects/XZJT-2027-005/drafts/proposal.md").read_text("utf-8")
    assert "# 一、项目概况" in text and "【编写提示】" not in text
    again = invoke("import", source, "--project", "XZJT-2027-005", "--as", "项目建议书")
    assert again.exit_code == 1 and "已存在且已有正文" in again.output
