"""``.github/CODEOWNERS`` from xzdoc.yaml, so the forge requests the right reviewers.

Each project folder is owned by the members of the role its next gate needs
(a draft asks the party group, an approved project the data center, ...);
projects at the end of the lifecycle fall back to the role that may
terminate them. xzdoc.yaml itself is owned by the party group: whoever edits
it decides whose merges count as approvals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xzdoc.config import CONFIG_NAME, GATE_ARTICLES, Config
from xzdoc.history import deadlines as lifecycle
from xzdoc.model import Project
from xzdoc.source.register import REGISTER_NAME

PATH = Path(".github") / "CODEOWNERS"
OWNER_OF_CONFIG = "局党组"


@dataclass(frozen=True)
class Codeowners:
    text: str
    skipped: tuple[str, ...]   # approvers left out for want of a forge username


def render(config: Config, projects: Sequence[Project]) -> Codeowners:
    skipped = tuple(f"{a.role} {a.name}" for a in config.approvers if not a.github)
    lines = ["# 由 xzdoc codeowners 根据 xzdoc.yaml 生成，请勿手工修改；审批人或项目阶段变化后重新运行。",
             "# 每个项目目录的审核人是其下一道审批关口所需角色的成员（依据忻交发〔2022〕81号）。", ""]
    lines += [f"# xzdoc.yaml 决定谁的合并算作审批，由{OWNER_OF_CONFIG}审核", _entry(config, f"/{CONFIG_NAME}", OWNER_OF_CONFIG)]
    register_role = config.gates.get("systems")
    if register_role:
        # The ledger and the guard gate systems.yaml by this role; the forge should ask it to review too.
        lines += ["", f"# 系统目录 {REGISTER_NAME} 的改动由{register_role}审核（{GATE_ARTICLES.get('systems', '')}）",
                  _entry(config, f"/{REGISTER_NAME}", register_role)]
    for project in sorted(projects, key=lambda p: p.display):
        gate = lifecycle.next_gate(config, project.stage)
        key = gate.stage if gate and gate.role else "terminated"
        role = config.gates.get(key)
        if not role:
            continue
        label = lifecycle.label_of(config, project.stage)
        step = f"{project.stage}（{label}）→ {gate.stage}（{gate.label}）" if gate else f"{project.stage}（{label}）→ 终止"
        lines += ["", _comment(f"# {project.id} {project.name}：{step}，需{role}同意（{GATE_ARTICLES.get(key, '')}）"),
                  _entry(config, f"/{_pattern(project.display)}/", role)]
    return Codeowners("\n".join(lines) + "\n", skipped)


def _comment(text: str) -> str:
    """A comment on one line: a project name holding a line break would otherwise write rules of its own
    (a later line wins on the forge, so "/xzdoc.yaml @someone" would take the config file over)."""
    return " ".join(text.split())


def _pattern(path: str) -> str:
    """A folder as a CODEOWNERS pattern: spaces, "#" and glob characters escaped; a character no pattern can
    hold (a line break, a control character) matches as "?", one character, so the folder is still covered."""
    out = []
    for char in path:
        if not char.isprintable() or char in "\r\n":
            out.append("?")
        elif char in " #\\*?[]!":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _entry(config: Config, pattern: str, role: str) -> str:
    """One CODEOWNERS line; a role whose members have no forge username gets a comment instead of a broken line."""
    logins = [f"@{a.github}" for a in config.members(role) if a.github]
    if not logins:
        names = "、".join(a.name for a in config.members(role)) or "无成员"
        return _comment(f"# {pattern}：{role}（{names}）没有填写 github 用户名，未指定审核人")
    return f"{pattern} {' '.join(dict.fromkeys(logins))}"


def write(config: Config, projects: Sequence[Project], check: bool = False) -> tuple[Path, bool, Codeowners]:
    """Write the file (or, with ``check``, only compare); returns the path and whether it differed."""
    from xzdoc.source.fsio import write_atomic

    result = render(config, projects)
    path = config.root / PATH
    try:
        old = path.read_text("utf-8")
    except OSError:
        old = None
    changed = old != result.text
    if changed and not check:
        write_atomic(path, result.text)
    return path, changed, result
