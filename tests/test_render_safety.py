"""Drafts are untrusted: template expressions, raw blocks, links and images must not escape. Real pandoc and Typst."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import invoke
from xzdoc.render import document

BASE = Path(__file__).resolve().parent / "resources" / "base_project"
PID = "XZJT-2025-902"
DRAFT = f"projects/{PID}/drafts/proposal.md"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
NEEDS_POPPLER = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one small project at the draft stage whose only document is the 项目建议书."""
    root = tmp_path / "repo"
    folder = root / "projects" / PID
    shutil.copytree(BASE, folder)
    meta = (folder / "project.yaml").read_text("utf-8")
    meta = meta.replace("stage: building", "stage: draft")
    meta = re.sub(r"documents:\n(  .*\n)+", "documents:\n  项目建议书: drafts/proposal.md\n", meta)
    (folder / "project.yaml").write_text(meta, "utf-8")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    monkeypatch.chdir(root)
    return root


def draft(repo: Path, extra: str) -> None:
    """The first chapter of the draft, then ``extra`` starting on line 3."""
    (repo / DRAFT).write_text(f"# 一、项目概述\n\n{extra}\n\n# 二、建设单位概况\n\n正文。\n", "utf-8")


def render(*formats: str) -> tuple[int, str]:
    result = invoke("render", f"projects/{PID}", "--format", ",".join(formats), "--out", "out")
    return result.exit_code, result.output


def pdftext(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return re.sub(r"[\s\u200b]+", "", out.decode("utf-8"))   # U+200B: a draft's own zero-width spaces


# -- Jinja in drafts --------------------------------------------------------------


@pytest.mark.parametrize("expression", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ (1).__class__.__base__ }}",
])
def test_reaching_for_python_internals_is_an_error(repo: Path, expression: str) -> None:
    draft(repo, f"总投资{{{{ budget.total }}}}万元。{expression}")
    code, output = render("docx")
    assert code == 1, output
    assert "试图访问 Python 内部属性" in output
    assert f"位置：{DRAFT}:3" in output
    assert "Traceback" not in output and "<class" not in output
    assert not (repo / "out").exists()


def test_unknown_metadata_is_an_error_at_its_line(repo: Path) -> None:
    draft(repo, "第一行。\n\n预算{{ budget.totl }}万元。")
    code, output = render("docx")
    assert code == 1
    assert "不存在的元数据" in output and f"位置：{DRAFT}:5" in output


def test_template_syntax_error_is_located(repo: Path) -> None:
    draft(repo, "金额{{ budget.total 万元。")
    code, output = render("pdf")
    assert code == 1 and f"位置：{DRAFT}:3" in output and "“{{”没有闭合" in output, output
    draft(repo, "金额{{ budget.total | }}万元。")
    code, output = render("pdf")
    assert code == 1 and f"位置：{DRAFT}:3" in output and "模板语法有误" in output, output


def test_guidance_lines_are_dropped_and_numbers_keep_their_lines() -> None:
    text = "# 一、概述\n\n> 【编写提示】在此撰写。\n正文\n"
    assert document.strip_guidance(text) == "# 一、概述\n\n\n正文\n"


# -- raw blocks -------------------------------------------------------------------

RAW = """\
```{=typst}
#set page(fill: red)
#panic("typst-injected")
```

行内`#text(fill: red)[tinted]`{=typst}与<script>alert(1)</script>以及\\newpage和$x^2$，联系@某人。

```{=html}
<iframe src="https://example.com"></iframe>
```

```{=openxml}
<w:p><w:r><w:t>INJECTED-PARAGRAPH</w:t></w:r></w:p>
```
"""


@NEEDS_POPPLER
def test_raw_typst_html_and_openxml_come_out_as_plain_text(repo: Path) -> None:
    draft(repo, RAW)
    code, output = render("docx", "pdf")
    assert code == 0, output
    text = pdftext(repo / "out" / "项目建议书.pdf")
    for literal in ('#setpage(fill:red)', '#panic("typst-injected")', "#text(fill:red)[tinted]", "<script>alert(1)</script>",
                    "\\newpage", "$x^2$", "@某人", '<iframesrc="https://example.com"></iframe>',
                    "<w:p><w:r><w:t>INJECTED-PARAGRAPH</w:t></w:r></w:p>"):
        assert literal in text, literal
    with zipfile.ZipFile(repo / "out" / "项目建议书.docx") as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert "<w:t>INJECTED-PARAGRAPH</w:t>" not in xml  # never a paragraph of its own
    assert "&lt;w:t&gt;INJECTED-PARAGRAPH&lt;/w:t&gt;" in xml
    assert "<iframe" not in xml and "&lt;iframe" in xml


@NEEDS_POPPLER
def test_metadata_cannot_become_markup(repo: Path) -> None:
    meta = repo / "projects" / PID / "project.yaml"
    text = meta.read_text("utf-8")
    name = next(line for line in text.splitlines() if line.strip().startswith("name:") and line.startswith("  "))
    meta.write_text(text.replace(name, name.split(":")[0] + ': "![x](/etc/passwd) **粗** #import <a>"', 1), "utf-8")
    code, output = render("pdf")
    assert code == 0, output
    assert "![x](/etc/passwd)**粗**#import<a>" in pdftext(repo / "out" / "项目建议书.pdf")


# -- links and images -------------------------------------------------------------


@pytest.mark.parametrize(("target", "message"), [
    ("../../outside.png", "指向项目目录之外"),
    ("../../../outside.png", "指向项目目录之外"),
    ("/etc/passwd", "使用了绝对路径"),
    ("file:///etc/passwd", "不是项目目录内的文件"),
    ("https://example.com/a.png", "不是项目目录内的文件"),
    ("data:image/png;base64,iVBORw0KGgo=", "不是项目目录内的文件"),
    ("../images/missing.png", "不存在"),
    ("../images/link.png", "经符号链接指向项目目录之外"),
])
def test_image_outside_the_project_is_an_error(repo: Path, target: str, message: str) -> None:
    (repo / "outside.png").write_bytes(PNG)
    (repo / "projects" / PID / "images").mkdir()
    (repo / "projects" / PID / "images" / "link.png").symlink_to(repo / "outside.png")
    draft(repo, f"见下图。\n\n![示意图]({target})")
    code, output = render("docx", "pdf")
    assert code == 1, output
    assert message in output and f"位置：{DRAFT}:5" in output
    assert not (repo / "out").exists()


@pytest.mark.parametrize(("target", "message"), [
    ("../../secret.txt", "指向项目目录之外"),
    ("/etc/passwd", "使用了绝对路径"),
    ("file:///etc/passwd", "不允许的协议"),
    ("javascript:alert(1)", "不允许的协议"),
])
def test_link_outside_the_project_is_an_error(repo: Path, target: str, message: str) -> None:
    draft(repo, f"参见[附件]({target})。")
    code, output = render("docx")
    assert code == 1, output
    assert message in output and f"位置：{DRAFT}:3" in output


def test_web_links_and_links_inside_the_project_are_fine(repo: Path) -> None:
    draft(repo, "参见[标准](https://openstd.samr.gov.cn)、[邮箱](mailto:a@b.cn)、[附件](../records/a.pdf)和[本章](#一项目概述)。")
    code, output = render("docx")
    assert code == 0, output


@NEEDS_POPPLER
def test_image_inside_the_project_is_inlined(repo: Path) -> None:
    images = repo / "projects" / PID / "images"
    images.mkdir()
    (images / "架构图.png").write_bytes(PNG)
    draft(repo, "总体架构如下图所示。\n\n![总体架构](../images/架构图.png)")
    code, output = render("docx", "pdf")
    assert code == 0, output
    with zipfile.ZipFile(repo / "out" / "项目建议书.docx") as archive:
        assert any(n.startswith("word/media/") and n.endswith(".png") for n in archive.namelist())
    if shutil.which("pdfimages"):
        listing = subprocess.run(["pdfimages", "-list", str(repo / "out" / "项目建议书.pdf")], capture_output=True,
                                 check=True).stdout.decode()
        assert [line.split()[2] for line in listing.splitlines()[2:]].count("image") == 1
    assert "总体架构" in pdftext(repo / "out" / "项目建议书.pdf")


# -- what scanners and Word leave in drafts -------------------------------------------


@NEEDS_POPPLER
@pytest.mark.parametrize("mark", ["xzdoc: allow", "<!-- xzdoc: allow -->", "（xzdoc: allow）"])
def test_allow_marks_and_full_width_indents_never_reach_the_documents(repo: Path, mark: str) -> None:
    draft(repo, f"　　示例文件首页标注“密级：秘密”的位置。{mark}\n\n　　联系电话13912345678。{mark}")
    assert invoke("validate", f"projects/{PID}").exit_code == 0
    code, output = render("docx", "pdf")
    assert code == 0, output
    text = pdftext(repo / "out" / "项目建议书.pdf")
    with zipfile.ZipFile(repo / "out" / "项目建议书.docx") as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    for rendered in (text, xml):
        assert "示例文件首页标注" in rendered and "13912345678" in rendered
        assert "allow" not in rendered and "xzdoc" not in rendered
    assert "\u3000示例" not in xml, "the layout indents paragraphs; a full-width indent would double it"


# -- long paragraphs ------------------------------------------------------------


def test_cut_words_typeset_exactly_like_whole_ones() -> None:
    """A long Str is cut for pandoc's Typst writer, which is quadratic in a word's length; the text must not change."""
    import json
    import random

    from xzdoc.render import pandoc, safety
    rnd = random.Random(7)
    # Typst's special characters, pairs that start comments or markup, CJK and Latin letters and digits.
    alphabet = [*list("字汉中文abcXYZ0123456789#$*\\_`<@[]~/=+-.:;,!?'\"()&%^{}|，。：“”（）"), "//", "--", "..."]
    paragraphs = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(safety.WORD, 3 * safety.WORD)))
                  for _ in range(60)] + ["字" * (20 * safety.WORD)]
    ast = {"pandoc-api-version": pandoc.to_ast("x")["pandoc-api-version"], "meta": {},
           "blocks": [{"t": "Para", "c": [{"t": "Str", "c": p}]} for p in paragraphs]}
    before = json.dumps(ast)
    cut = safety.retarget(ast, {})
    assert json.dumps(ast) == before   # the caller's tree is left as it was
    pieces = [x["c"] for block in json.loads(cut)["blocks"] for x in block["c"]]
    assert len(pieces) > len(paragraphs) and max(map(len, pieces)) < 2 * safety.WORD + 200
    assert pandoc.to_typst(cut) == pandoc.to_typst(before.encode("utf-8"))


@NEEDS_POPPLER
def test_a_paragraph_of_sixty_thousand_characters_renders_whole(repo: Path) -> None:
    sentence = "交通运输数据资源共享交换平台建设内容，"
    body = sentence * 3000 + "段落结束。"
    draft(repo, body)
    code, output = render("pdf")
    assert code == 0, output
    text = re.sub(r"—\d+—", "", pdftext(repo / "out" / "项目建议书.pdf"))   # the page numbers between pages
    assert text.count(sentence) == 3000 and "段落结束。" in text


def test_long_latin_runs_break_inside_the_text_block(repo: Path) -> None:
    # WAS OVERFLOWING: Typst does not break a model number, hash or URL, so it ran past the right margin and
    # out of narrow table cells (the DOCX wrapped them). Every glyph now stays inside the page's text block.
    import pymupdf

    model = "HIKVISION-DS2CD3T86FWDV2-I3S-8MP-ULTRA-LOWLIGHT-" * 2
    url = "https://zwfw.xinzhou.gov.cn/api/v2/interface/specification/road-transport/vehicle-monitoring.html"
    head = "|" + "|".join(f"列{i}" for i in range(12)) + "|"
    row = "|" + "|".join(["X201140902K0000Y00114098100000"] * 12) + "|"
    draft(repo, f"终端型号为{model}。\n\n接口文档地址为{url}。\n\n{head}\n|" + "---|" * 12 + f"\n{row}\n")
    code, output = render("pdf")
    assert code == 0, output
    pdf = repo / "out" / "项目建议书.pdf"
    mm = 72 / 25.4
    with pymupdf.open(pdf) as doc:
        for page in doc:
            width = page.rect.width
            for block in page.get_text("rawdict")["blocks"]:
                for line in block.get("lines", []):
                    for span in line["spans"]:
                        for char in span["chars"]:
                            assert char["bbox"][2] <= width - 25 * mm, (page.number, char["c"], char["bbox"])
    # pdftotext drops a hyphen that ends a line; PyMuPDF gives the text layer as it is.
    with pymupdf.open(pdf) as doc:
        layer = "".join(page.get_text() for page in doc)
    text = re.sub(r"\s+", "", layer)
    assert model.rstrip("-") in text and url in text
    # WAS WRONG: the break opportunities were U+200B characters, which came along when a model number or an
    # address was copied out of the PDF; they are empty boxes now, with nothing in the text layer.
    assert "\u200b" not in layer


_SYNTAX_CASES = [
    ("{% if budget.total > 0 %}开始", "“{% if %}”没有结束：文稿到末尾也没有“{% elif %}”或“{% else %}”或“{% endif %}”"),
    ("{% for x in y %}{% endif %}", "与前面的“{% for %}”不配对，应先写“{% endfor %}”"),
    ("{% endif %}", "“{% endif %}”前面没有与之配对的开始语句"),
    ("{% bogus %}", "没有名为“bogus”的模板语句"),
    ("{{ budget.total | }}", "此处应是名称，却是“}}”"),
    ("{{ }}", "此处缺少表达式"),
    ("{# 注释", "注释“{#”没有闭合"),
    ("{% raw %}原样", "“{% raw %}”没有对应的“{% endraw %}”"),
    ("{{ 'abc }}", "引号没有成对"),
    ("{{ (name }}", "此处应是“)”，却是“}”"),
]


@pytest.mark.parametrize(("text", "said"), _SYNTAX_CASES, ids=[t for t, _ in _SYNTAX_CASES])
def test_template_syntax_errors_are_told_in_chinese(repo: Path, text: str, said: str) -> None:
    # WAS ENGLISH: Jinja's own words ("Encountered unknown tag 'endif'. Jinja was looking for ...") reached
    # the reader, who writes the draft in Chinese and never reads Jinja's documentation.
    draft(repo, f"金额{text}万元。")
    code, output = render("pdf")
    assert code == 1 and f"位置：{DRAFT}:3" in output and said in output, output
    assert "Jinja was" not in output and "expected" not in output and "Encountered" not in output, output
