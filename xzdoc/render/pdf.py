"""The only typst user: pandoc's Typst source compiled in-process, inside a temp root holding only copies.

The temp root contains the page template, meta.json, the body and copies of
the project's checked images; nothing else on disk is reachable from Typst.
Fonts are named explicitly and checked before compiling: a role with none of
its fonts installed is an error with the fix, and so is any "unknown font
family" warning Typst still raises, so a PDF never ships with tofu.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError
from xzdoc.render.reproducible import Stamp
from xzdoc.render.safety import Asset

FONT_FIX = "apt-get install -y fonts-noto-cjk fonts-lxgw-wenkai"
ROLE_ZH = {"body": "正文（仿宋）", "title": "标题（小标宋）", "heading": "一级标题（黑体）", "kai": "二级标题（楷体）",
           "number": "页码（宋体）"}
NUMBER_FONTS = ("宋体", "SimSun", "Noto Serif CJK SC")
PDF_STANDARD = "a-2b"  # PDF/A-2b: archives keep submissions long-term (GB/T 18894 practice)
MAIN = '#import "page.typ": official, horizontalrule\n#show: official.with(json("meta.json"))\n\n'


def _typst() -> Any:
    try:
        import typst
    except ImportError:  # pragma: no cover - a declared dependency
        raise XzdocError("缺少 typst（Python 包）", hint="pip install typst") from None
    return typst


def engine() -> str:
    """The Typst engine and Python package versions, for `xzdoc doctor` and manifests."""
    from importlib.metadata import version

    typst = _typst()
    try:
        core = "Typst " + str(typst.eval(b"", "str(sys.version)")).strip('"') + "，"
    except Exception:  # older bindings lack eval; the package version is enough
        core = ""
    return f"{core}Python 包 typst {version('typst')}"


@functools.cache
def font_book() -> Any:
    """System and bundled fonts, scanned once per process (the scan is the slow part of a first compile)."""
    return _typst().Fonts(include_system_fonts=True, include_embedded_fonts=True)


@functools.cache
def families() -> frozenset[str]:
    return frozenset(f.lower() for f in font_book().families())


def resolve_fonts(fonts: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """For each role, the configured families that are installed, in order; a role with none is an error."""
    out: dict[str, list[str]] = {}
    wanted = {**fonts, "number": tuple(fonts.get("number", NUMBER_FONTS))}
    for role, names in wanted.items():
        found = [n for n in names if n.lower() in families()]
        if not found:
            raise XzdocError(f"没有安装{ROLE_ZH.get(role, role)}所需的任何字体：{'、'.join(names)}",
                             hint=f"安装免费中文字体：{FONT_FIX}；或在 xzdoc.yaml 的 fonts.{role} 中列出已安装的字体"
                                  "（可用 fc-list :lang=zh family 查看）")
        out[role] = found
    return out


_NO_GLYPH = re.compile(r'the text `"(.+?)"` could not be displayed with font `"(.+?)"`', re.S)
_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if int(m.group(1), 16) <= 0x10FFFF else m.group(0), text)


class MissingGlyph(XzdocError):
    """Text that no installed font can show: PDF/A admits no missing glyph. ``located`` names the draft line."""

    def __init__(self, text: str, font: str, path: str | None = None, line: int | None = None) -> None:
        codes = " ".join(f"U+{ord(c):04X}" for c in text[:8])
        where = f"第{line}行的" if line else ""
        super().__init__(f"{where}“{text[:20]}”（{codes}）在已安装的字体中都没有字形（正文字体 {font}），"
                         "PDF/A 不允许缺字", path, line,
                         hint="生僻字：在 xzdoc.yaml 的 fonts 中加入含该字的字体，或改用通用规范汉字；"
                              "表情符号和造字不能用于公文")
        self.text, self.font = text, font

    def located(self, draft: str | None, path: str) -> MissingGlyph:
        """The same error at the first line of ``draft`` that holds the text (none: it came from the metadata)."""
        at = draft.find(self.text) if draft else -1
        line = draft.count("\n", 0, at) + 1 if draft and at >= 0 else None
        return MissingGlyph(self.text, self.font, path, line)


def body_pages(data: bytes) -> int:
    """Pages with a printed (decimal) page label: the body, without cover, blank backs and 目录."""
    return len(re.findall(rb"/S\s*/D\b", data))


def compile_pdf(body: str, meta: Mapping[str, Any], template: Path, assets: Iterable[Asset], stamp: Stamp) -> bytes:
    typst = _typst()
    with tempfile.TemporaryDirectory(prefix="xzdoc-typst-") as tmp:
        root = Path(tmp)
        shutil.copyfile(template, root / "page.typ")
        (root / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        for asset in assets:
            (root / asset.name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(asset.file, root / asset.name)
        main = root / "main.typ"
        main.write_text(MAIN + body, "utf-8")
        compiler = typst.Compiler(root=str(root), font_paths=font_book())
        try:
            pdf, warnings = compiler.compile_with_warnings(input=str(main), format="pdf", timestamp=stamp.epoch,
                                                           pdf_standards=PDF_STANDARD)
        except typst.TypstError as exc:
            message = str(getattr(exc, "message", exc))
            if "maximum show rule depth" in message or "maximum parsing depth" in message:
                # Typst's depth limits are reached by the draft's quotes and lists, not by the template.
                raise XzdocError(f"PDF 排版失败：文稿的引用或列表嵌套层数过多（Typst：{message}）",
                                 hint="减少文稿中的“>”和列表缩进；xzdoc validate 的 art07.draft-nesting 指出所在行") from None
            missing = _NO_GLYPH.search(message)
            if missing is not None:
                raise MissingGlyph(_unescape(missing.group(1)), missing.group(2)) from None
            # Typst gives no place for these; they come from what the drafts bring (an image Typst cannot
            # decode, a character no font has) far more often than from the page template, so neither
            # is named as the place. Typst's own hints are English and stay in the detail.
            hints = "；".join(getattr(exc, "hints", None) or [])
            detail = f"{message}（{hints}）" if hints else message
            raise XzdocError(f"PDF 排版失败（Typst：{detail}）",
                             hint="多由文稿中的图片或特殊字符引起：先运行 xzdoc validate 查看所在行；"
                                  f"若 validate 无误，检查 {template.name} 是否改动过，未改动请报告缺陷") from None
    for warning in warnings:
        message = str(getattr(warning, "message", warning))
        if "unknown font family" in message:
            raise XzdocError(f"PDF 中引用的字体未安装（{message}），会显示为方框（豆腐块）", str(template),
                             hint=f"安装免费中文字体：{FONT_FIX}；或修改 xzdoc.yaml 的 fonts") from None
    return bytes(pdf)
