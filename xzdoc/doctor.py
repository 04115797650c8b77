"""`xzdoc doctor`: is this machine able to render bundles? Each check says what is missing and the exact fix."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from xzdoc.errors import XzdocError

FONT_ROLES = {"body": "正文（仿宋）", "title": "标题（小标宋）", "heading": "一级标题（黑体）",
              "kai": "二级标题（楷体）", "number": "页码（宋体）"}
FONTCONFIG_FIX = "install -D -m 644 xzdoc/standard/fonts.conf /etc/fonts/conf.d/64-xzdoc-official-fonts.conf"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def lines(self) -> list[str]:
        mark = "✓" if self.ok else ("✗" if self.required else "！")
        out = [f"{mark} {self.name}：{self.detail}"]
        if not self.ok and self.fix:
            out.append(f"    修复：{self.fix}")
        return out


def run(start: Path) -> list[Check]:
    config_check, fonts = _config(start)
    return [_pandoc(), _typst(), *_fonts(fonts), *_office_fonts(fonts), _git(), config_check,
            _tool("LibreOffice（可选，用于检查 DOCX 能否打开）", ("libreoffice", "soffice"),
                  "apt-get install -y libreoffice-writer-nogui"),
            _tool("poppler-utils（可选，测试用 pdffonts/pdftotext）", ("pdffonts",), "apt-get install -y poppler-utils")]


def failed(checks: list[Check]) -> bool:
    return any(c.required and not c.ok for c in checks)


def _pandoc() -> Check:
    from xzdoc.render import pandoc

    try:
        return Check("pandoc", True, f"{pandoc.version()}（{pandoc.binary()}）")
    except XzdocError as exc:
        return Check("pandoc", False, exc.message, pandoc.FIX)


def _typst() -> Check:
    from xzdoc.render import pdf

    try:
        return Check("typst", True, f"{pdf.engine()}，在进程内编译")
    except XzdocError as exc:
        return Check("typst", False, exc.message, exc.hint or "pip install typst")


def _fonts(fonts: Mapping[str, tuple[str, ...]]) -> list[Check]:
    """One line per font role: the official font, or a warning naming the free font that stands in for it."""
    from xzdoc.render import pdf

    try:
        installed = pdf.families()
    except Exception as exc:  # the typst check above reports a missing package
        return [Check("中文字体", False, f"无法查询字体：{exc}", "pip install typst")]
    out = []
    for role, label in FONT_ROLES.items():
        names = fonts.get(role, ())
        found = [n for n in names if n.lower() in installed]
        if not found:
            out.append(Check(f"字体 {label}", False, f"{'、'.join(names)} 均未安装，PDF 会缺字",
                             f"{pdf.FONT_FIX}（或在 xzdoc.yaml 的 fonts.{role} 中列出已安装的字体）"))
        elif found[0] != names[0]:
            out.append(Check(f"字体 {label}", False, f"正式字体 {names[0]} 未安装，以 {found[0]} 代替",
                             f"安装正式字体 {names[0]}（商业字体，需自行取得授权）后即自动使用", required=False))
        else:
            out.append(Check(f"字体 {label}", True, found[0]))
    return out


def _office_fonts(fonts: Mapping[str, tuple[str, ...]]) -> list[Check]:
    """What LibreOffice will show for each role's official font name in a DOCX (it asks fontconfig)."""
    if not shutil.which("fc-match"):
        return []
    import subprocess

    wrong = []
    for role, label in FONT_ROLES.items():
        names = fonts.get(role, ())
        if not names:
            continue
        try:
            got = subprocess.run(["fc-match", "-f", "%{family[0]}", names[0]], capture_output=True, text=True,
                                 timeout=30, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return []
        if got not in names:
            wrong.append(f"{label.split('（')[0]} {names[0]} → {got or '？'}")
    if not wrong:
        return [Check("DOCX 替代字体（LibreOffice）", True, "各角色的正式字体名都映射到同类免费字体")]
    return [Check("DOCX 替代字体（LibreOffice）", False, "；".join(wrong) + "（字形类别不对）", FONTCONFIG_FIX,
                  required=False)]


def _git() -> Check:
    from xzdoc.history import gitlog

    found = gitlog.version()
    if found is None:
        return Check("git", False, "找不到 git 命令（审批记录和日期取自 git 历史）", "apt-get install -y git")
    return Check("git", True, found)


def _config(start: Path) -> tuple[Check, Mapping[str, tuple[str, ...]]]:
    from xzdoc import config

    root = config.find_root(start)
    try:
        loaded = config.load(root)
    except XzdocError as exc:
        where = f"（{exc.location()}）" if exc.location() else ""
        return Check("仓库配置 xzdoc.yaml", False, exc.message + where, exc.hint or "按提示修改 xzdoc.yaml"), \
            config.DEFAULT_FONTS
    if loaded.path is None:
        return Check("仓库配置 xzdoc.yaml", True, f"{root} 下没有 xzdoc.yaml，使用默认配置（审批人为空）",
                     required=False), loaded.fonts
    return Check("仓库配置 xzdoc.yaml", True, f"{root / loaded.path}，审批人 {len(loaded.approvers)} 名"), loaded.fonts


def _tool(name: str, commands: tuple[str, ...], fix: str) -> Check:
    found = next((shutil.which(c) for c in commands if shutil.which(c)), None)
    return Check(name, bool(found), found or "未安装", fix, required=False)
