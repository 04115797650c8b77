"""`xzdoc init`: lay out a bureau repository, or adopt xzdoc in one that already has history.

Every file is rendered first and compared with what is on disk; nothing is
written when any differing file would be overwritten without ``force``, so a
refusal leaves the folder as it was and a second run changes nothing.

The proposal workflow is the toolkit's own ``.github/workflows/proposals.yml``
(shipped in the wheel), with its install step pinned to the running version,
so the repository's CI and the people's machines run the same xzdoc.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from xzdoc import __version__
from xzdoc import config as cfg
from xzdoc.authoring.scaffold import schema_text
from xzdoc.errors import XzdocError
from xzdoc.render.templates import environment
from xzdoc.source.fsio import write_all
from xzdoc.source.register import REGISTER_NAME

_PACKAGE = Path(__file__).resolve().parents[1]
WORKFLOW_NAME = "proposals.yml"
WORKFLOWS = (_PACKAGE / "_workflows" / WORKFLOW_NAME,               # in the wheel
             _PACKAGE.parent / ".github" / "workflows" / WORKFLOW_NAME)   # in a source checkout
# `pip install .` (and -e, extras, python -m pip) as the toolkit's own workflow installs itself.
# Also a bare line inside a `run: |` block.
_INSTALL = re.compile(r"^(?P<lead>\s*(?:-\s+)?(?:run:\s*)?)(?:python3? -m )?pip install (?:-e )?(?P<q>[\x22\x27]?)"
                      r"\.(?:\[[^\]]*\])?(?P=q)\s*$", re.MULTILINE)
_BASELINE = re.compile(r'^baseline:.*$', re.MULTILINE)
_BRANCH = re.compile(r"^branch:.*$", re.MULTILINE)
GITEA_NOTE = ("# Gitea Actions 版本：与 .github/workflows/proposals.yml 相同。runs-on 标签、actions 的来源（内网镜像或\n"
              "# DEFAULT_ACTIONS_URL）、制品上传的版本按 xzdoc README“在 Gitea Actions 上运行”一节调整。\n")


@dataclass(frozen=True)
class Planned:
    path: Path
    content: str
    state: str        # new | same | differs


@dataclass(frozen=True)
class Outcome:
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    baseline: str | None
    kept: tuple[Path, ...] = ()     # the repository's own files, left alone when adopting


def default_install() -> str:
    return f"xzdoc=={__version__}"


def plan(target: Path, organisation: str, install: str, baseline: str | None = None,
         branch: str = "main") -> list[Planned]:
    """Every file init lays out, rendered, with how it compares to the disk; ``branch`` is the main line."""
    if not organisation.strip():
        raise XzdocError("单位名称不能为空", hint="例如 xzdoc init --org 忻州市交通运输局")
    if not organisation.isprintable():
        raise XzdocError("单位名称中有换行或控制字符", hint="名称写在一行内，例如 xzdoc init --org 忻州市交通运输局")
    _check_install(install)
    settings = cfg.Config(root=target, organisation=organisation.strip())
    env = environment(settings)
    context = {"organisation": settings.organisation, "organisation_yaml": _yaml_text(settings.organisation),
               "projects_dir": settings.projects_dir, "version": __version__,
               "baseline": baseline, "prefix": "XZJT", "install_shell": shlex.quote(install),
               "branch": _yaml_text(branch)}
    workflow = workflow_text(install, branch)
    files = {
        cfg.CONFIG_NAME: env.get_template("init/xzdoc.yaml.j2").render(context),
        REGISTER_NAME: env.get_template("init/systems.yaml.j2").render(context),
        ".github/workflows/" + WORKFLOW_NAME: workflow,
        ".gitea/workflows/" + WORKFLOW_NAME: GITEA_NOTE + workflow,
        ".vscode/settings.json": env.get_template("init/vscode-settings.json.j2").render(context),
        ".vscode/xzdoc.schema.json": schema_text(settings.standard),
        ".pre-commit-config.yaml": env.get_template("init/pre-commit-config.yaml.j2").render(context),
        ".gitignore": env.get_template("init/gitignore.j2").render(context),
        "README.md": env.get_template("init/README.md.j2").render(context),
        f"{settings.projects_dir}/.gitkeep": "",
    }
    return [Planned(target / name, text, _state(target / name, text)) for name, text in files.items()]


def run(target: Path, organisation: str, install: str, force: bool = False, branch: str = "main") -> Outcome:
    planned = plan(target, organisation, install, branch=branch)
    return _write(planned, force, None)


def configured_branch(target: Path) -> str | None:
    """The ``branch:`` an existing xzdoc.yaml names, read as text: adopting must not need it to load."""
    config_file = target / cfg.CONFIG_NAME
    if not config_file.is_file():
        return None
    found = _BRANCH.search(config_file.read_text("utf-8"))
    try:
        value = yaml.safe_load(found.group(0)) if found else None
    except yaml.YAMLError:
        return None         # config.load reports it, with its line
    named = value.get("branch") if isinstance(value, dict) else None
    return named if isinstance(named, str) and named.strip() else None


def adopt(target: Path, organisation: str, install: str, head: str, force: bool = False,
          branch: str = "main") -> Outcome:
    """Init in a repository with history: the baseline is ``head`` unless xzdoc.yaml already names one.

    An existing xzdoc.yaml keeps everything the bureau wrote; only its baseline line is added.
    """
    config_file = target / cfg.CONFIG_NAME
    current = _existing_baseline(config_file)
    # Write-once: a baseline already set stays, --force or not (a new one is an unapproved config change).
    baseline = current or head
    planned = plan(target, organisation, install, baseline, branch)
    if config_file.is_file():
        text = config_file.read_text("utf-8")
        line = f'baseline: "{baseline}"'
        updated = _BASELINE.sub(line, text, count=1) if _BASELINE.search(text) else text.rstrip("\n") + "\n\n" + line + "\n"
        if not _BRANCH.search(updated):
            # Named, not left to the main-or-master rule: a pushed branch of the other name would make
            # that rule refuse to choose, and where the main line has another name it finds nothing.
            updated += f"branch: {_yaml_text(branch)}\n"
        planned = [Planned(p.path, updated, _state(p.path, updated)) if p.path == config_file else p for p in planned]
    return _write(planned, force, baseline, keep=not force)


def workflow_text(install: str, branch: str = "main") -> str:
    source = next((p for p in WORKFLOWS if p.is_file()), None)
    if source is None:
        raise XzdocError(f"安装包中缺少工作流模板 {WORKFLOW_NAME}", hint="重新安装 xzdoc 的 wheel")
    text = source.read_text("utf-8")
    body = text.split("\nname:", 1)
    header = (f"# 项目材料的流水线，由 xzdoc init 按 xzdoc {__version__} 写出：拉取请求按编制规范检查并给出变更审查摘要，\n"
              f"# 合并到 {branch} 后检查审批台账、生成改动项目的申报材料包和项目看板。\n"
              "# 各作业安装的 xzdoc 版本固定为与各人本机相同的版本；升级时同时改这里的每个 pip install。\n")
    text = header + "name:" + body[1] if len(body) == 2 and text.startswith("#") else text
    pinned, count = _INSTALL.subn(lambda m: f"{m['lead']}pip install {shlex.quote(install)}", text)
    # The trigger and its comment name the main line. A branch filter is a pattern (*, ?, +, [, ! have
    # meanings; a backslash makes one literal), and the YAML around it needs quotes for ":" or "#".
    trigger = _yaml_text(re.sub(r"([*?+\[\]!\\])", r"\\\1", branch))
    pinned = pinned.replace("branches: [main]", f"branches: [{trigger}]", 1).replace("推送到 main：", f"推送到 {branch}：", 1)
    if not count:
        raise XzdocError(f"工作流模板 {source} 中没有找到安装 xzdoc 的步骤（pip install .）",
                         hint="这是 xzdoc 安装包的缺陷，请报告")
    return pinned


def _yaml_text(value: str) -> str:
    """``value`` as a YAML scalar: bare when that reads back as the same text (not null, true, 0x1F or a
    date), else double-quoted."""
    plain = re.fullmatch(r"[A-Za-z0-9][\w./-]*", value, re.ASCII) and yaml.safe_load(value) == value
    return value if plain else json.dumps(value, ensure_ascii=False)


def _check_install(install: str) -> None:
    version = re.escape(__version__)
    # Pinned means exactly this version: ==, this version's wheel file, or a git tag of it; >=, != and ~= are not.
    pinned = (rf"xzdoc(?:\[[\w,-]+\])?=={version}", rf"[\w./~-]*xzdoc-{version}-py3-none-any\.whl",
              rf"(?:xzdoc(?:\[[\w,-]+\])?\s*@\s*)?git\+[\w.+:/~%-]+@v?{version}")
    if not any(re.fullmatch(p, install) for p in pinned):
        raise XzdocError(f"安装来源“{install}”没有固定为当前版本 {__version__}",
                         hint=f"写 xzdoc=={__version__}（内网镜像）、仓库中的 wheel 文件路径 "
                              f"./tools/xzdoc-{__version__}-py3-none-any.whl，或 "
                              f"xzdoc@git+https://git.example.gov.cn/xzjt/xzdoc@v{__version__}")


def _state(path: Path, text: str) -> str:
    if not path.exists():
        return "new"
    try:
        return "same" if path.is_file() and path.read_text("utf-8") == text else "differs"
    except (OSError, UnicodeDecodeError):
        return "differs"


def _existing_baseline(config_file: Path) -> str | None:
    if not config_file.is_file():
        return None
    found = re.search(r'^baseline:\s*"?([0-9a-fA-F]{7,40})"?\s*(?:#.*)?$', config_file.read_text("utf-8"), re.MULTILINE)
    return found.group(1).lower() if found else None


def _write(planned: list[Planned], force: bool, baseline: str | None, keep: bool = False) -> Outcome:
    """Write new and differing files; ``keep`` (adopting) leaves a repository's own files as they are."""
    config_file = next(p.path for p in planned if p.path.name == cfg.CONFIG_NAME)
    kept = tuple(p.path for p in planned if keep and p.state == "differs" and p.path != config_file)
    planned = [p for p in planned if p.path not in kept]
    clash = [p for p in planned if p.state == "differs" and not (keep and p.path == config_file)]
    if clash and not force:
        names = "、".join(str(p.path) for p in clash)
        raise XzdocError(f"以下文件已存在且内容不同，未做任何改动：{names}", str(clash[0].path),
                         hint="确认要覆盖时加 --force；只想设置基线时用 --adopt")
    written = [p for p in planned if p.state != "same"]
    # All or none: a path that cannot be written (a file named projects, a folder named .gitignore) must not
    # leave a half-laid-out repository whose xzdoc.yaml already claims it is set up.
    write_all([(p.path, p.content) for p in written])
    return Outcome(tuple(p.path for p in written), tuple(p.path for p in planned if p.state == "same"), baseline, kept)
