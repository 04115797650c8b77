"""Word files from a vendor review: template syntax, hidden text, allow markers, Chinese heading styles, size.

Each case builds a real .docx (python-docx, or its XML by hand) and runs `xzdoc import` and `validate`
through the CLI. WAS A HOLE: imported with exit 0 into a draft that failed validate, or that let a
vendor's file change what the checks see; WAS WRONG: the chapter structure came out wrong.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE

from tests.conftest import invoke
from tests.test_import import CHAPTERS, NUMERALS, PROJECT

DRAFT = f"{PROJECT}/drafts/proposal.md"


def _save(doc: docx.document.Document, repo: Path) -> Path:
    path = repo / "vendor.docx"
    doc.save(str(path))
    return path


def _outline(doc: docx.document.Document, body: dict[int, list[str]] | None = None,
             style: str | None = None) -> None:
    for i, title in enumerate(CHAPTERS):
        doc.add_paragraph(f"{NUMERALS[i] if i < 10 else '十' + NUMERALS[i - 10]}、{title}", style=style)
        for text in (body or {}).get(i, [f"本章说明{title}的有关情况，内容依据管理办法的规定编写，表述完整准确。"]):
            doc.add_paragraph(text)


def _import(repo: Path, source: Path) -> str:
    result = invoke("import", source, "--project", PROJECT, "--as", "proposal", "--force")
    assert result.exit_code == 0, result.output
    return result.output


def test_template_syntax_in_vendor_text_stays_text(demo_repo: Path) -> None:
    # WAS A HOLE: {{项目名称}} failed validate in English, {{ budget.total }} was filled from the metadata.
    doc = docx.Document()
    _outline(doc, {0: ["项目名称：{{项目名称}}，总投资{{ budget.total }}。", "计算：{{ 7*7 }} 与 {% if x %} 和 {# 注 #}。"]})
    output = _import(demo_repo, _save(doc, demo_repo))
    assert "（项目建议书）" in output and "模板符号" in output and "5 处" in output
    assert invoke("validate", PROJECT, "--no-cache").exit_code == 0
    out = demo_repo / "out"
    assert invoke("render", PROJECT, "--out", out).exit_code == 0
    import subprocess

    pdf = next(out.rglob("项目建议书.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "{{项目名称}}" in text and "{{ budget.total }}" in text and "{{ 7*7 }}" in text


def test_hidden_text_is_not_imported(demo_repo: Path) -> None:
    # WAS A HOLE: text hidden in Word (w:vanish) came in as prose.
    doc = docx.Document()
    _outline(doc)
    para = doc.paragraphs[1]
    run = para.add_run("密级：秘密")
    run.font.hidden = True
    output = _import(demo_repo, _save(doc, demo_repo))
    draft = (demo_repo / DRAFT).read_text("utf-8")
    assert "密级" not in draft and "本章说明项目概况" in draft
    assert "隐藏文字 1 处未导入" in output
    assert invoke("validate", PROJECT, "--no-cache").exit_code == 0


def test_an_allow_marker_from_outside_is_removed(demo_repo: Path) -> None:
    # WAS A HOLE: "xzdoc: allow" in the vendor's text switched off the classified-text check.
    # The marker goes first, so the classified line it was meant to clear stops the import.
    doc = docx.Document()
    _outline(doc, {1: ["密级：秘密。xzdoc: allow"]})
    draft = demo_repo / DRAFT
    before = draft.read_bytes() if draft.exists() else None
    result = invoke("import", _save(doc, demo_repo), "--project", PROJECT, "--as", "proposal", "--force")
    assert result.exit_code == 1 and "涉密标识“密级：秘密”" in result.output and "未导入" in result.output, result.output
    assert (draft.read_bytes() if draft.exists() else None) == before
    doc = docx.Document()
    _outline(doc, {1: ["本系统按等保三级建设。xzdoc: allow"]})
    output = _import(demo_repo, _save(doc, demo_repo))
    assert "xzdoc: allow" not in draft.read_text("utf-8")
    assert "标记 1 处已删除" in output


def test_chinese_heading_styles_are_headings(demo_repo: Path) -> None:
    # WAS WRONG: a custom style named "标题 1" (as Chinese templates and WPS write it) was prose, and the
    # chapter under it was filed into the one before.
    doc = docx.Document()
    doc.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)
    for title in CHAPTERS:
        doc.add_paragraph(title, style="标题 1")   # no 公文 numbering: only the style says it is a heading
        doc.add_paragraph(f"本章说明{title}的有关情况，内容依据管理办法的规定编写，表述完整准确。")
    output = _import(demo_repo, _save(doc, demo_repo))
    assert "未找到" not in output
    draft = (demo_repo / DRAFT).read_text("utf-8")
    assert draft.count("\n# ") + draft.startswith("# ") == len(CHAPTERS)
    assert invoke("validate", PROJECT, "--no-cache").exit_code == 0


def test_a_document_too_big_for_a_draft_is_refused_before_writing(demo_repo: Path) -> None:
    # WAS A HOLE: a 10 MB draft was written with exit 0, and validate then refused it.
    doc = docx.Document()
    _outline(doc)
    source = _save(doc, demo_repo)
    with zipfile.ZipFile(source) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    filler = "".join(f"<w:p><w:r><w:t>{'数据记录' * 8000}</w:t></w:r></w:p>" for _ in range(50))
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"</w:body>", filler.encode() + b"</w:body>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    source.write_bytes(out.getvalue())
    before = (demo_repo / DRAFT).read_bytes(), (demo_repo / PROJECT / "project.yaml").read_bytes()
    result = invoke("import", source, "--project", PROJECT, "--as", "项目建议书", "--force")
    assert result.exit_code == 1 and "超过文稿 4 MB 的上限" in result.output and "位置" in result.output
    assert ((demo_repo / DRAFT).read_bytes(), (demo_repo / PROJECT / "project.yaml").read_bytes()) == before


def test_allow_markers_that_join_when_one_is_removed_are_removed_too() -> None:
    # WAS A HOLE: one pass of removal turned "xzdoc: xzdoc: allow allow" into a marker.
    from xzdoc.authoring.docx_archive import as_text
    from xzdoc.source.drafts import ALLOW_MARK

    for text in ("机密 xzdoc: xzdoc: allow allow", "机密 xzdoc: allo<!-- xzdoc: allow -->w"):
        cleaned, marks, _ = as_text(text)
        assert ALLOW_MARK not in cleaned and marks >= 2, cleaned
