"""`xzdoc doctor`: can this machine render bundles, and is this repository set up? Each check says what is missing and the fix."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xzdoc.errors import XzdocError

if TYPE_CHECKING:
    from xzdoc.config import Config

FONT_ROLES = {"body": "正文（仿宋_GB2312）", "title": "标题（小标宋）", "heading": "一级标题（黑体）",
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
    return [_pandoc(), _typst(), *_fonts(fonts), *_office_fonts(fonts), _git(), config_check, *repository(start),
            _tool("LibreOffice（可选，用于检查 DOCX 能否打开）", ("libreoffice", "soffice"),
                  "apt-get install -y libreoffice-writer-nogui"),
            _tool("poppler-utils（可选，测试用 pdffonts/pdftotext）", ("pdffonts",), "apt-get install -y poppler-utils")]


def failed(checks: list[Check]) -> bool:
    return any(c.required and not c.ok for c in checks)


def advisories(checks: list[Check]) -> int:
    """Problems that do not stop rendering but should be fixed (shown with ！)."""
    return sum(1 for c in checks if not c.required and not c.ok and "可选" not in c.name)


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
            # Rendering works, but the page is not in the official typeface: say so, with the fix.
            out.append(Check(f"字体 {label}", False, f"{names[0]} 未安装，以免费字体 {found[0]} 代替（版式不变，字形不同）",
                             f"把 {names[0]} 的字体文件复制到 ~/.local/share/fonts/ 或 /usr/share/fonts/ 后运行 fc-cache -f"
                             f"（商业字体须自行取得授权）；或在 xzdoc.yaml 的 fonts.{role} 中把 {found[0]} 写在最前，确认使用免费字体",
                             required=False))
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
        return Check("仓库配置 xzdoc.yaml", False, f"{root} 及其上级目录中没有 xzdoc.yaml：没有审批人，任何阶段变更都不算审批",
                     "在仓库根目录运行 xzdoc init --org <单位名称>（已有提交历史的仓库加 --adopt）",
                     required=False), loaded.fonts
    return Check("仓库配置 xzdoc.yaml", True, f"{root / loaded.path}，审批人 {len(loaded.approvers)} 名"), loaded.fonts


def _tool(name: str, commands: tuple[str, ...], fix: str) -> Check:
    found = next((shutil.which(c) for c in commands if shutil.which(c)), None)
    return Check(name, bool(found), found or "未安装", fix, required=False)


# -- the repository: approvers, baseline, register, signing keys ---------------------------------------


def repository(start: Path) -> list[Check]:
    """What a bureau repository needs beyond a readable xzdoc.yaml; nothing when there is none (reported above)."""
    from xzdoc import config

    root = config.find_root(start)
    try:
        loaded = config.load(root)
    except XzdocError:
        return []
    if loaded.path is None:
        return []
    return [_approvers(loaded), *_signing(loaded), _register(loaded), *_history(loaded)]


def _approvers(loaded: Config) -> Check:
    if not loaded.approvers:
        return Check("审批人", False, "xzdoc.yaml 的 approvers 为空：任何合并都不算审批，阶段变更都会报“未经审批”",
                     "在 xzdoc.yaml 的 approvers 下为局党组、数据中心、财务科各填写成员：- {name: 姓名, email: 提交所用邮箱}",
                     required=False)
    roles = sorted({a.role for a in loaded.approvers})
    # A role nobody holds: every change it gates is reported as unapproved (the three roles, and any a gate names).
    from xzdoc.config import ROLES

    empty = [r for r in dict.fromkeys([*ROLES, *loaded.gates.values()]) if r and r not in roles]
    if empty:
        return Check("审批人", False, f"{len(loaded.approvers)} 名（{'、'.join(roles)}），但{'、'.join(empty)}没有成员："
                     "须由该角色同意的变更都会报“未经审批”",
                     f"在 xzdoc.yaml 的 approvers 下为{'、'.join(empty)}填写成员：- {{name: 姓名, email: 提交所用邮箱, role: …}}",
                     required=False)
    return Check("审批人", True, f"{len(loaded.approvers)} 名（{'、'.join(roles)}）")


def _signing(loaded: Config) -> list[Check]:
    if not loaded.require_signed:
        return []
    missing = [f"{a.role} {a.name}" for a in loaded.approvers if not a.keys]
    if not missing:
        return [Check("签名公钥", True, "require_signed: true，每名审批人都登记了公钥")] if loaded.approvers else []
    return [Check("签名公钥", False, f"require_signed: true，但 {'、'.join(missing)} 没有登记公钥（keys），其合并不算审批",
                  "审批人运行 mkdir -p ~/.ssh && ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519，git config --global gpg.format ssh，"
                  "git config --global user.signingkey ~/.ssh/id_ed25519.pub，"
                  "把 ~/.ssh/id_ed25519.pub 的整行写入 xzdoc.yaml 中本人的 keys: [\"ssh-ed25519 …\"]", required=False)]


def _register(loaded: Config) -> Check:
    from xzdoc.source import register

    name = "系统目录 systems.yaml"
    try:
        found = register.load(loaded.root)
    except XzdocError as exc:
        where = f"（{exc.location()}）" if exc.location() else ""
        return Check(name, False, exc.message + where, exc.hint or "按提示修改 systems.yaml")
    if found is None:
        return Check(name, False, "没有全局政务信息系统目录：项目中的系统编号无从核对，总量只减不增无法判断（第一、八条）",
                     "运行 xzdoc init --org <单位名称> 写出 systems.yaml（已有的文件不会被改动），"
                     "再登记本局已有的每个系统", required=False)
    short = found.short()
    detail = f"登记 {len(found.systems)} 个系统，在用 {len(found.active_ids())} 个"
    unlisted = _unlisted_systems(loaded, found)
    if unlisted:
        # validate refuses these projects (art08.system-register): say so before anyone runs it in CI.
        return Check(name, False, detail + f"；项目要升级、整合或下线的 {'、'.join(unlisted[:5])}"
                     f"{' 等' if len(unlisted) > 5 else ''} 没有登记", "在 systems.yaml 中登记这些已有系统（编号、名称、"
                     "主管单位、部署、共享、状态），再运行 xzdoc validate", required=False)
    if short:
        return Check(name, False, detail + f"；{len(short)} 个未上云或未共享，{register.NO_OM_FUNDS}："
                     + "、".join(f"{s.id} {s.name}" for s in short),
                     "迁移上市级政务云并接入共享平台后，在 systems.yaml 中更新 cloud 和 shares_with", required=False)
    return Check(name, True, detail)


def _unlisted_systems(loaded: Config, found: Any) -> list[str]:
    """Ids the projects upgrade, merge or retire that the register does not list."""
    from xzdoc.source import loader, register

    try:
        projects = loader.load_projects(loaded)
    except XzdocError:
        return []
    ids = {u.id for p in projects for u in register.uses(p.id, p.yaml_path, p.stage, p.data.get("systems"))
           if u.action in register.EXISTING_ACTIONS}
    return sorted(i for i in ids if i not in found.systems)


def _history(loaded: Config) -> list[Check]:
    from xzdoc.history import gitlog, ledger

    if gitlog.repository_root(loaded.root) is None:
        return [Check("git 仓库", False, f"{loaded.root} 不在 git 仓库中，审批记录无从读取",
                      f"git init -b main {loaded.root}", required=False)]
    try:
        book = ledger.build(loaded)
    except XzdocError as exc:
        return [Check("审批台账", False, exc.message, exc.hint or "按提示修改后重新运行 xzdoc ledger")]
    if book is None:
        return [Check("审批台账", False, "主分支还没有提交", "git add -A && git commit -m \"采用 xzdoc\"", required=False)]
    base = f"，采用基线 {book.baseline[:10]}" if book.baseline else ""
    branch = re.sub(r"^refs/(?:heads/|remotes/[^/]+/)", "", book.branch)
    return [Check("审批台账", True, f"主分支 {branch}，{len(book.records)} 条记录{base}"),
            *_triggers(loaded.root, branch)]


def _triggers(root: Path, branch: str) -> list[Check]:
    """A workflow whose push trigger leaves out the main line never checks the ledger or renders bundles."""
    import fnmatch

    import yaml

    out = []
    for name in (".github/workflows/proposals.yml", ".gitea/workflows/proposals.yml"):
        try:
            data = yaml.safe_load((root / name).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue            # absent or unreadable: the forge reports a broken workflow itself
        on = data.get("on", data.get(True)) if isinstance(data, dict) else None   # YAML 1.1 reads on: as true
        push = on.get("push", False) if isinstance(on, dict) else None
        wanted = push.get("branches") if isinstance(push, dict) else None
        # A filter is a pattern where a backslash makes the next character literal.
        if not isinstance(wanted, list) or any(re.sub(r"\\(.)", r"\1", str(w)) == branch or
                                               ("\\" not in str(w) and fnmatch.fnmatchcase(branch, str(w)))
                                               for w in wanted):
            continue            # no branch filter, or one that takes the main line
        out.append(Check(f"工作流 {name}", False, f"推送触发只列了 {'、'.join(map(str, wanted))}，主分支 {branch} 上的合并"
                         "不会核对审批台账、生成申报材料包", f"把 branches: 改为 [{branch}]，或重新运行 xzdoc init --force",
                         required=False))
    return out
