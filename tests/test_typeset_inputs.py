"""What the typesetter cannot read is named at the draft line by validate and refused by render before Typst.

WAS A HOLE: a .png that was no PNG, an SVG linking file:///etc/passwd and a BEL character all passed
validate, then failed the bundle with the page template named as the place and an English hint.
A list nested 2,000 deep that validate reported still went to pandoc and held render for minutes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.test_render_safety import DRAFT, NEEDS_POPPLER, PID, PNG, draft, pdftext, render, repo  # noqa: F401 (fixture)

# A real 543-byte JPEG (a 16x16 picture): the check walks its segments.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q"
    "EBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQID"
    "BAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/"
    "2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx"
    "4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+"
    "Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolv"
    "w4KOp1KM6iCNvngZHwetf//Z"
)
SVG_OK = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
          b'width="10" height="10"><defs><linearGradient id="g"/></defs><rect fill="url(#g)" width="10" height="10"/>'
          b'<a href="https://example.com"><text>x</text></a>'
          b'<image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/></svg>')


def _findings(rule: str) -> list[dict[str, object]]:
    result = invoke("validate", f"projects/{PID}", "--format", "json", "--no-cache")
    return [f for f in json.loads(result.output) if f["rule"] == rule]


def _image(repo: Path, name: str, data: bytes) -> None:  # noqa: F811
    images = repo / "projects" / PID / "images"
    images.mkdir(exist_ok=True)
    (images / name).write_bytes(data)
    draft(repo, f"见下图。\n\n![示意图](../images/{name})")


BAD_IMAGES = [
    ("fake.png", b"not a png", "不是有效的 PNG 图片"),
    ("photo.png", JPEG, "内容却是 JPEG 格式"),
    ("shot.jpg", PNG, "内容却是 PNG 格式"),
    ("anim.gif", b"GIF00a", "不是有效的 GIF 图片"),
    ("empty.png", b"", "不是有效的 PNG 图片"),
    ("passwd.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
     "引用了外部文件“file:///etc/passwd”"),
    ("sibling.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><image xlink:href="other.png"/></svg>', "引用了外部文件“other.png”"),
    ("use.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><use href='lib.svg#icon'/></svg>", "引用了外部文件“lib.svg#icon”"),
    ("style.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(/etc/x.svg#p)"/></svg>', "引用了外部文件"),
    ("import.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://evil/a.css";</style></svg>',
     "引用了外部文件“http://evil/a.css”"),
    ("xxe.svg", b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "<!ENTITY"),
    ("text.svg", b"hello, not an svg", "找不到 <svg> 元素"),
    # WAS A FAILURE, these three: the first bytes were right, validate passed, and Typst's English decoder error
    # ("failed to decode image", "failed to parse SVG") came with no line and "请报告缺陷".
    ("garbage.png", b"\x89PNG\r\n\x1a\ngarbage", "不是完整的 PNG 图片"),
    ("cut.jpg", JPEG[:200], "不是完整的 JPEG 图片"),
    ("unclosed.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"></svg>', "不是格式正确的 SVG"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_IMAGES, ids=[b[0] for b in BAD_IMAGES])
def test_bad_image_is_found_by_validate_and_refused_by_render(repo: Path, name: str, data: bytes,  # noqa: F811
                                                              message: str) -> None:
    _image(repo, name, data)
    found = _findings("art07.draft-images")
    assert [(f["path"], f["line"]) for f in found] == [(DRAFT, 5)], found
    assert message in str(found[0]["message"]), found
    code, output = render("docx", "pdf")
    assert code == 1 and message in output and f"位置：{DRAFT}:5" in output, output
    assert "page.typ" not in output
    assert not (repo / "out").exists()


@pytest.mark.parametrize(("name", "data"), [("dot.png", PNG), ("photo.jpeg", JPEG), ("ok.svg", SVG_OK)])
def test_good_images_are_clean(repo: Path, name: str, data: bytes) -> None:  # noqa: F811
    _image(repo, name, data)
    assert _findings("art07.draft-images") == []


def test_images_validate_sees_are_the_ones_render_would_check(repo: Path) -> None:  # noqa: F811
    draft(repo, "行内 `![代码](x.png)` 不算图片之外，其余都查：\n\n![缺](../images/none.png)\n\n![外](https://e.cn/a.png)"
                "\n\n![尖括号](<../images/有 空格.png>)")
    found = _findings("art07.draft-images")
    lines = sorted((f["line"], str(f["message"]).split("”")[0]) for f in found)
    assert (5, "图片“../images/none.png") in lines and (7, "图片“https://e.cn/a.png") in lines
    assert (9, "图片“../images/有 空格.png") in lines


@pytest.mark.parametrize(("char", "name"), [("\a", "响铃符"), ("\x1b", "转义符 ESC"), ("\x0c", "换页符"),
                                            ("\x7f", "删除符 DEL"), ("\x85", "不可见的控制字符")])
def test_control_character_is_named_at_its_line_and_column(repo: Path, char: str, name: str) -> None:  # noqa: F811
    draft(repo, f"正文开始。\n\n第二段{char}结束。")
    found = _findings("art07.draft-characters")
    assert [(f["line"], f["column"]) for f in found] == [(5, 4)], found
    assert f"U+{ord(char):04X}（{name}）" in str(found[0]["message"])
    code, output = render("pdf")
    assert code == 1 and f"位置：{DRAFT}:5:4" in output and "PDF/A" not in output, output
    assert not (repo / "out").exists()


def test_tabs_and_ordinary_text_have_no_control_characters(repo: Path) -> None:  # noqa: F811
    draft(repo, "代码缩进\t保留。\n\n全角空格　和零宽字符\u200b不是控制字符。")
    assert _findings("art07.draft-characters") == []


def test_control_character_from_metadata_names_the_yaml(repo: Path) -> None:  # noqa: F811
    meta = repo / "projects" / PID / "project.yaml"
    text = meta.read_text("utf-8")
    line = next(x for x in text.splitlines() if x.startswith("name:"))
    meta.write_text(text.replace(line, 'name: "' + line.split(":", 1)[1].strip().strip('"') + '\\a"'), "utf-8")
    draft(repo, "项目名称为{{ name }}。")
    found = _findings("art07.draft-characters")
    assert [(f["path"], f["line"]) for f in found] == [(f"projects/{PID}/project.yaml", text[:text.index(line)].count("\n") + 1)]
    assert "U+0007" in str(found[0]["message"])
    code, output = render("pdf")
    assert code == 1 and "引用的元数据含有控制字符" in output and f"位置：{DRAFT}:3" in output, output
    assert "project.yaml" in output


def test_render_refuses_what_the_nesting_rule_reports_before_pandoc(repo: Path) -> None:  # noqa: F811
    draft(repo, "".join("  " * i + f"- 第{i + 1}层\n" for i in range(2000)))
    code, output = render("docx", "pdf")
    assert code == 1 and "列表嵌套 13 层" in output and f"位置：{DRAFT}:15" in output, output
    assert not (repo / "out").exists()


def test_the_byte_prefilter_never_misses_a_control_character() -> None:
    from xzdoc.source import textio

    for code in [*range(0x1, 0x3000), 0xFEFF, 0x10FFFF]:
        if 0xD800 <= code <= 0xDFFF or code == 0x0D:  # CR: the loader makes it a newline
            continue
        text = f"前文{chr(code)}后文\n"
        if textio.first_control(text) is not None:
            assert textio.may_hold(text.encode("utf-8"))[0], hex(code)
    assert textio.may_hold("全角·×°±§\t\r\n".encode()) == (False, False)


def test_a_draft_of_too_many_elements_is_named_and_refused(repo: Path) -> None:  # noqa: F811
    """WAS A HOLE: 2 MB of one-character paragraphs passed validate, then took minutes and gigabytes to render."""
    draft(repo, "甲\n\n" * 16000)
    found = _findings("art07.draft-size")
    assert [(f["path"], f["line"]) for f in found] == [(DRAFT, 1)] and "32,0" in str(found[0]["message"]), found
    code, output = render("docx")
    assert code == 1 and "上限" in output and f"位置：{DRAFT}" in output, output
    assert not (repo / "out").exists()
    draft(repo, "段落。\n\n" * 5000 + "**加粗**" * 2000)
    assert _findings("art07.draft-size") == []
    # WAS A HOLE: cells were not counted, so a seven-line table of 60,000 columns (0.9 MB) took 93 s and 7 GB.
    draft(repo, "|" + "甲|" * 6000 + "\n|" + "-|" * 6000 + "\n" + ("|" + "乙|" * 6000 + "\n") * 5)
    found = _findings("art07.draft-size")
    assert len(found) == 1 and "表格单元格" in str(found[0]["message"]), found
    code, output = render("docx")
    assert code == 1 and "上限" in output and not (repo / "out").exists(), output


BAD_LINKS = [
    ("[脚本](javascript:alert(1))", "javascript:alert(1)", "不允许的协议 javascript:"),
    ("<urn:isbn:7-111>", "urn:isbn:7-111", "不允许的协议 urn:"),
    ("[配置](../../../xzdoc.yaml)", "../../../xzdoc.yaml", "指向项目目录之外"),
    ("[![图](../images/dot.png)](file:///etc/passwd)", "file:///etc/passwd", "不允许的协议 file:"),
    ("[说明][页]\n\n[页]: data:text/html,hi", "data:text/html,hi", "不允许的协议 data:"),
    ("[绝对](/etc/passwd)", "/etc/passwd", "使用了绝对路径"),
]


@pytest.mark.parametrize(("text", "target", "message"), BAD_LINKS, ids=[b[1].split(":")[0] for b in BAD_LINKS])
def test_bad_link_is_found_by_validate_and_refused_by_render(repo: Path, text: str, target: str,  # noqa: F811
                                                             message: str) -> None:
    # WAS A HOLE: validate passed these and only the bundle refused them.
    _image(repo, "dot.png", PNG)
    draft(repo, f"见下图。\n\n![示意图](../images/dot.png)\n\n{text}")
    found = _findings("art07.draft-links")
    line = 7 + text.count("\n") * (text.startswith("[说明]"))
    assert [(f["path"], f["line"]) for f in found] == [(DRAFT, line)], found
    assert message in str(found[0]["message"]) and target in str(found[0]["message"]), found
    code, output = render("docx")
    assert code == 1 and message in output and target in output, output
    assert not (repo / "out").exists()


def test_links_render_takes_are_clean_and_code_is_not_a_link(repo: Path) -> None:  # noqa: F811
    _image(repo, "dot.png", PNG)
    draft(repo, "见[官网](https://jtyst.shanxi.gov.cn/)、[邮箱](mailto:a@b.cn)、[附件](../images/dot.png)、"
                "[本章](#一项目概述)、<https://www.gov.cn>，代码 `[x](javascript:x)` 照录。\n\n"
                "```\n[y](vbscript:y)\n```")
    assert _findings("art07.draft-links") == []


@NEEDS_POPPLER
def test_an_empty_link_or_one_to_a_missing_place_keeps_its_words(repo: Path) -> None:  # noqa: F811
    # WAS A FAILURE: Typst refused "URL must not be empty" and a label the document lacks, blaming page.typ.
    draft(repo, "见[空链接]()、[无处](#不存在的标题)、[井号](#)和[引用][r]。\n\n[r]: <>")
    assert _findings("art07.draft-links") == []
    code, output = render("docx", "pdf")
    assert code == 0, output
    text = pdftext(next((repo / "out").rglob("项目建议书.pdf")))
    assert "见空链接、无处、井号和引用。" in text


@pytest.mark.parametrize(("text", "line"), [("9999999999999999999. 很大的序号", 3), ("- 甲\n  12345678901) 乙", 4),
                                            ("> 1. 甲\n>    1234567890. 乙", 4), ("(12345678901234567890) 括号序号", 3),
                                            ("(1) 甲\n(12345678901) 乙", 4)])
def test_a_list_number_past_nine_digits_is_named_and_refused_before_typst(repo: Path, text: str,  # noqa: F811
                                                                          line: int) -> None:
    # WAS A FAILURE: pandoc keeps the first number in 64 bits, so 9999999999999999999 wrapped to a negative
    # start, validate passed, and Typst's "number must be at least zero" was blamed on page.typ.
    draft(repo, text)
    found = _findings("art07.draft-nesting")
    assert [(f["line"], "超过 9 位数" in str(f["message"])) for f in found] == [(line, True)], found
    code, output = render("pdf")
    assert code == 1 and "超过 9 位数" in output and f"位置：{DRAFT}:{line}" in output, output
    assert "page.typ" not in output and not (repo / "out").exists()


def test_nine_digit_numbers_and_numbers_in_code_or_prose_pass(repo: Path) -> None:  # noqa: F811
    draft(repo, "123456789. 九位序号\n\n```\n12345678901. 代码\n```\n\n电话 13912345678。\n\n2025012345\\. 不是列表")
    assert _findings("art07.draft-nesting") == []


@NEEDS_POPPLER
def test_task_list_boxes_use_squares_the_official_fonts_have(repo: Path) -> None:  # noqa: F811
    # WAS A FAILURE: pandoc writes "[ ]" and "[x]" as U+2610 and U+2612, which no official font has, so the
    # PDF failed with a missing glyph at a line the draft never wrote it on.
    import zipfile

    draft(repo, "- [ ] 待办事项\n- [x] 已办事项\n\n另有☐和☒。")
    code, output = render("docx", "pdf")
    assert code == 0, output
    text = pdftext(next((repo / "out").rglob("项目建议书.pdf")))
    assert "□待办事项" in text and "■已办事项" in text and "另有□和■。" in text, text
    with zipfile.ZipFile(next((repo / "out").rglob("项目建议书.docx"))) as docx:
        body = docx.read("word/document.xml").decode("utf-8")
    assert "□" in body and "■" in body and "\u2610" not in body and "\u2612" not in body


@NEEDS_POPPLER
@pytest.mark.parametrize("grid", [
    "+------+------+\n| 名称 | 说明 |\n+======+======+\n| 甲   | 乙   |\n|      |      |\n+      +      +\n|      |      |\n"
    "+------+------+\n\n后文。",
    "+-------+-------+\n| 名称  | 说明  |\n+=======+=======+\n| 合并单元格    |\n|       +-------+\n|       | 丙    |\n"
    "+-------+-------+\n\n后文。",
])
def test_a_grid_table_row_its_spans_cover_renders(repo: Path, grid: str) -> None:  # noqa: F811
    # WAS A FAILURE: pandoc keeps a row the row spans above cover entirely as a row of no cells, and its Typst
    # writer prints it as a lone comma: "PDF 排版失败（Typst：unexpected comma）", no line, "请报告缺陷".
    draft(repo, grid)
    code, output = render("docx", "pdf")
    assert code == 0, output
    text = pdftext(repo / "out" / "项目建议书.pdf")
    assert "名称" in text and "说明" in text and "后文。" in text
    import zipfile
    body = zipfile.ZipFile(repo / "out" / "项目建议书.docx").read("word/document.xml").decode("utf-8")
    assert "名称" in body and "后文。" in body


@NEEDS_POPPLER
def test_metadata_written_into_a_draft_stays_text(repo: Path) -> None:  # noqa: F811
    # WAS A HOLE: {{ name }} wrote the name as Markdown. "![图](/etc/passwd)" in the name passed validate and
    # failed the bundle against the draft with no line; "**粗**" came out bold in the body.
    import zipfile

    meta = repo / f"projects/{PID}/project.yaml"
    text = meta.read_text("utf-8")
    name = next(line for line in text.split("\n") if line.startswith("name:"))
    meta.write_text(text.replace(name, 'name: "智慧交通![图](/etc/passwd) **粗** <b>x</b> [链](http://a)"'), "utf-8")
    draft(repo, "项目名称为{{ name }}。")
    assert _findings("art07.draft-images") == [] and _findings("art07.draft-links") == []
    code, output = render("docx", "pdf")
    assert code == 0, output
    shown = pdftext(repo / "out" / "项目建议书.pdf")
    assert "项目名称为智慧交通![图](/etc/passwd)**粗**<b>x</b>[链](http://a)。" in shown, shown
    body = zipfile.ZipFile(repo / "out" / "项目建议书.docx").read("word/document.xml").decode("utf-8")
    assert "**粗**" in body and "/etc/passwd" in body and "<w:hyperlink" not in body


@pytest.mark.parametrize("line", ["{{ '' }}12345678901234567890. 项", "{{ '' }}(12345678901234567890) 项"])
def test_an_expression_before_a_list_number_does_not_hide_it(repo: Path, line: str) -> None:  # noqa: F811
    # WAS A FAILURE: an expression writing nothing before the number hid it from validate; render failed with
    # Typst's "number must be at least zero", no line, "请报告缺陷".
    draft(repo, line)
    found = _findings("art07.draft-nesting")
    assert [(f["line"], "超过 9 位数" in str(f["message"])) for f in found] == [(3, True)], found
    code, output = render("pdf")
    assert code == 1 and f"位置：{DRAFT}:3" in output and "Typst" not in output, output


@pytest.mark.parametrize(("text", "rule", "line"), [
    ("![图[1]](/etc/passwd)", "art07.draft-images", 3),
    ("![图\n说明](/etc/passwd)", "art07.draft-images", 3),
    ("![图][p]\n\n[p]: ../images/fake.png", "art07.draft-images", 5),
    ("见[附件 [甲 [乙]]](/etc/passwd)。", "art07.draft-links", 3),
    ("> 见[附件][p]。\n>\n> [p]: /etc/passwd", "art07.draft-links", 5),
])
def test_links_and_images_pandoc_reads_are_the_ones_validate_checks(repo: Path, text: str, rule: str,  # noqa: F811
                                                                      line: int) -> None:
    # WAS A HOLE, each: brackets in the alt text or nested two deep in a link's text, alt text over two lines,
    # a reference-style image, and a definition inside a quote passed validate; only render refused them.
    images = repo / "projects" / PID / "images"
    images.mkdir(exist_ok=True)
    (images / "fake.png").write_bytes(b"not a png")
    draft(repo, text)
    found = _findings(rule)
    assert [(f["path"], f["line"]) for f in found] == [(DRAFT, line)], found
    code, output = render("docx")
    assert code == 1 and not (repo / "out").exists(), output


def _with_bad_text_chunk(png: bytes) -> bytes:
    """``png`` with a tEXt chunk whose checksum is wrong, before IEND: an ancillary chunk decoders skip."""
    import struct

    body = b"tEXtnote\0x"
    return png[:-12] + struct.pack(">I", len(body) - 4) + body + b"\0\0\0\0" + png[-12:]


GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


@pytest.mark.parametrize(("name", "data"), [
    ("gb.svg", b'<?xml version="1.0" encoding="GB2312"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
    ("tail.gif", GIF + b"\r\n"), ("short.gif", GIF[:-1]),
    ("stray.jpg", JPEG[:20] + b"\0\0" + JPEG[20:]),
    ("note.png", _with_bad_text_chunk(PNG)),
])
def test_images_decoders_read_are_not_refused(repo: Path, name: str, data: bytes) -> None:  # noqa: F811
    # WAS WRONG (the structure checks when new): an SVG declaring GB2312 crashed validate (exit 3, expat's
    # ValueError); a GIF without its trailer or with bytes after it, a JPEG with stray bytes between segments and
    # a PNG whose checksum was bad only on an ancillary chunk were refused, though the typesetter reads them all.
    _image(repo, name, data)
    assert _findings("art07.draft-images") == []


def test_a_definition_in_indented_code_is_code(repo: Path) -> None:  # noqa: F811
    # Four spaces make a code block, where "[cfg]: /etc/x" is text, not a definition.
    draft(repo, "示例配置：\n\n    [cfg]: /etc/xzdoc/config\n\n正文。")
    assert _findings("art07.draft-links") == []
