"""Characters an official document cannot show are named at their line, by validate and by render.

WAS SILENT: an emoji, a private-use character or an emoji joiner passed validate, and the bundle then failed
with Typst's English "could not be displayed with font" and no line. A character the installed fonts lack
(CJK Extension B) still cannot be caught without the fonts, so render now names its draft line in Chinese.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import BASE_PID
from xzdoc.cli import cli

PROPOSAL = Path("projects") / BASE_PID / "drafts" / "proposal.md"


def _append(repo: Path, text: str) -> int:
    """Adds ``text`` as a paragraph at the end of the proposal; returns its line number."""
    file = repo / PROPOSAL
    body = file.read_text("utf-8").rstrip("\n") + "\n\n"
    file.write_text(body + text + "\n", "utf-8")
    return body.count("\n") + 1


def _findings(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(cli, ["validate", "--no-cache", "--format", "json", *args], catch_exceptions=False)
    return result.exit_code, [f for f in json.loads(result.stdout) if f["rule"] == "art07.draft-characters"]


@pytest.mark.parametrize(("text", "code"), [
    ("系统上线后群众满意😀。", "U+1F600"),
    ("造字\ue000不能用。", "U+E000"),
    ("家庭👨\u200d👩\u200d👧出行。", "U+1F468"),
    ("标签字符\U000e0041。", "U+E0041"),
    ("变体选择符补充\U000e0100。", "U+E0100"),
    ("补充私用区\U000f0001。", "U+F0001"),
])
def test_validate_names_the_line_of_an_unfit_character(project_repo: Path, text: str, code: str) -> None:
    line = _append(project_repo, text)
    exit_code, found = _findings()
    assert exit_code == 1
    assert [(f["path"], f["line"], f["level"]) for f in found] == [(PROPOSAL.as_posix(), line, "error")]
    assert code in str(found[0]["message"])


def test_ordinary_symbols_of_chinese_documents_pass(project_repo: Path) -> None:
    _append(project_repo, "①②③ ☆★※ № ℃ ± × ÷ → — … 《》〔〕【】 Ⅰ Ⅱ ㎡ ‰ § ￥ “引号” ‘单引号’ 〇 ・ · 𠀀 ︰ ﹏")
    exit_code, found = _findings()
    assert found == [] and exit_code == 0


def test_the_byte_pass_sees_every_unfit_character() -> None:
    """validate scans a draft only when one byte-table pass says it may hold one: that pass must never miss."""
    from xzdoc.source import textio

    for code in [*range(0xE000, 0xF000, 7), *range(0x1F000, 0x1FB00, 5), *range(0xE0000, 0xE01F0, 3),
                 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD]:
        char = chr(code)
        assert textio.first_unfit(char) == char, hex(code)
        assert textio.may_hold(f"正文{char}正文".encode())[1], hex(code)
    assert textio.may_hold("，。：；（）“”《》、——…·①☆".encode()) == (False, False)


@pytest.mark.parametrize("spelling", ["name: 城乡客运😀升级项目", 'name: "城乡客运\\U0001F600升级项目"'])
def test_validate_names_an_unfit_character_in_the_metadata(project_repo: Path, spelling: str) -> None:
    file = project_repo / "projects" / BASE_PID / "project.yaml"
    lines = file.read_text("utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines[at] = spelling
    file.write_text("\n".join(lines), "utf-8")
    exit_code, found = _findings()
    assert exit_code == 1
    assert [(f["path"], f["line"]) for f in found] == [(f"projects/{BASE_PID}/project.yaml", at + 1)]
    assert "U+1F600" in str(found[0]["message"])


def test_render_refuses_an_emoji_at_its_line_before_typesetting(project_repo: Path) -> None:
    line = _append(project_repo, "满意😀")
    result = CliRunner().invoke(cli, ["render", BASE_PID, "--format", "docx"], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{PROPOSAL.as_posix()}:{line}" in result.stderr and "U+1F600" in result.stderr
    assert "could not be displayed" not in result.stderr


def test_a_character_no_installed_font_has_is_named_at_its_draft_line_in_chinese(project_repo: Path) -> None:
    line = _append(project_repo, "生僻字\U00020000测试。")
    result = CliRunner().invoke(cli, ["render", BASE_PID, "--format", "pdf"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert f"{PROPOSAL.as_posix()}:{line}" in result.stderr
    assert f"第{line}行的“\U00020000”（U+20000）在已安装的字体中都没有字形" in result.stderr
    assert "could not be displayed" not in result.stderr
    assert not (project_repo / "dist").exists() or not any((project_repo / "dist").rglob("*.pdf"))
