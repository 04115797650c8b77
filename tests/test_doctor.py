"""`xzdoc doctor` on this machine, and with a configuration naming fonts that are not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke
from xzdoc import doctor


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_doctor_passes_where_everything_is_installed(repo: Path) -> None:
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    for name in ("pandoc", "typst", "git", "仓库配置 xzdoc.yaml"):
        assert f"✓ {name}" in result.output
    # The official typeface is commercial: where only the free substitute is installed, that is said, not ticked.
    body = next(line for line in result.output.splitlines() if "字体 正文（仿宋_GB2312）" in line)
    assert body.startswith("✓ 字体 正文（仿宋_GB2312）：仿宋_GB2312") or ("以免费字体" in body and body.startswith("！"))
    assert "可以运行 xzdoc bundle" in result.output


def test_substituted_official_fonts_are_warnings_naming_the_stand_in(repo: Path) -> None:
    """The proprietary fonts are not on a Debian machine: each role says what stands in, and that is no ✓."""
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    assert "！ 字体 正文（仿宋_GB2312）：仿宋_GB2312 未安装，以免费字体 Noto Serif CJK SC 代替" in result.output
    assert "！ 字体 二级标题（楷体）：楷体_GB2312 未安装，以免费字体 LXGW WenKai 代替" in result.output
    assert "✓ 字体" not in result.output


def test_an_installed_first_font_is_a_pass(repo: Path) -> None:
    (repo / "xzdoc.yaml").write_text("fonts:\n  kai: [LXGW WenKai]\n", "utf-8")
    result = invoke("doctor")
    assert "✓ 字体 二级标题（楷体）：LXGW WenKai" in result.output


def test_libreoffice_substitutes_are_checked_through_fontconfig(repo: Path) -> None:
    (repo / "xzdoc.yaml").write_text("fonts:\n  body: [不存在的仿宋, Noto Serif CJK SC]\n", "utf-8")
    result = invoke("doctor")
    assert "！ DOCX 替代字体（LibreOffice）：正文 不存在的仿宋 →" in result.output
    assert doctor.FONTCONFIG_FIX in result.output


def test_missing_fonts_fail_with_the_exact_fix(repo: Path) -> None:
    (repo / "xzdoc.yaml").write_text("fonts:\n  heading: [不存在的黑体]\n", "utf-8")
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "✗ 字体 一级标题（黑体）：不存在的黑体 均未安装" in result.output
    assert "修复：apt-get install -y fonts-noto-cjk" in result.output


def test_a_broken_config_is_reported_not_raised(repo: Path) -> None:
    (repo / "xzdoc.yaml").write_text("colour: red\n", "utf-8")
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "✗ 仓库配置 xzdoc.yaml" in result.output and "修复：" in result.output


def test_optional_tools_never_fail_the_check() -> None:
    check = doctor.Check("LibreOffice", False, "未安装", "apt-get install -y libreoffice-writer-nogui", required=False)
    assert not doctor.failed([check])
    assert check.lines() == ["！ LibreOffice：未安装", "    修复：apt-get install -y libreoffice-writer-nogui"]
