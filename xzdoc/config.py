"""xzdoc.yaml -> a frozen Config; the repository root is where it lives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xzdoc import standard as std
from xzdoc.errors import XzdocError
from xzdoc.yamlio import YList, YMap, load_file

CONFIG_NAME = "xzdoc.yaml"
ROLES = ("局党组", "数据中心", "财务科")
DEFAULT_FONTS = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC"),
    "body": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "Noto Serif CJK SC"),
    "heading": ("黑体", "SimHei", "Noto Sans CJK SC"),
    "kai": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "Noto Serif CJK SC"),
}
_KNOWN = {"organisation", "projects_dir", "approvers", "gates", "baseline", "calendar", "fonts", "standard"}


@dataclass(frozen=True)
class Approver:
    role: str
    name: str
    emails: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    root: Path
    path: str | None = None
    organisation: str = "忻州市交通运输局"
    projects_dir: str = "projects"
    approvers: tuple[Approver, ...] = ()
    gates: Mapping[str, str] = field(default_factory=dict)
    baseline: str | None = None
    calendar_years: Mapping[Any, Any] = field(default_factory=dict)
    fonts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FONTS))
    standard: std.Standard = field(default_factory=std.build)

    def role_of(self, email: str) -> set[str]:
        email = email.lower()
        return {a.role for a in self.approvers if email in a.emails}


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding xzdoc.yaml, else a .git, else start."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def load(root: Path) -> Config:
    file = root / CONFIG_NAME
    if not file.is_file():
        return Config(root=root)
    data = load_file(file, CONFIG_NAME)
    if data is None:
        return Config(root=root, path=CONFIG_NAME)
    if not isinstance(data, YMap):
        raise XzdocError("xzdoc.yaml 的顶层应为映射（键: 值）", CONFIG_NAME, 1)
    for key in data:
        if key not in _KNOWN:
            raise XzdocError(f"xzdoc.yaml 中有未知的配置项“{key}”", CONFIG_NAME, data.keypos[key][0],
                             hint="可用配置项：" + "、".join(sorted(_KNOWN)))
    fonts = dict(DEFAULT_FONTS)
    for kind, names in _mapping(data, "fonts").items():
        fonts[str(kind)] = tuple(str(n) for n in names) if isinstance(names, list) else (str(names),)
    return Config(
        root=root,
        path=CONFIG_NAME,
        organisation=str(data.get("organisation") or "忻州市交通运输局"),
        projects_dir=str(data.get("projects_dir") or "projects"),
        approvers=_approvers(data),
        gates={str(k): str(v) for k, v in _mapping(data, "gates").items()},
        baseline=str(data["baseline"]) if data.get("baseline") else None,
        calendar_years=dict(_mapping(_mapping(data, "calendar"), "years")),
        fonts=fonts,
        standard=std.build(plain(_mapping(data, "standard"))),
    )


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        line = data.at(key)[0] if isinstance(data, YMap) else None
        raise XzdocError(f"xzdoc.yaml 的“{key}”应为映射（键: 值）", CONFIG_NAME, line)
    return value


def _approvers(data: YMap) -> tuple[Approver, ...]:
    out: list[Approver] = []
    for role, members in _mapping(data, "approvers").items():
        line = data["approvers"].at(role)[0]
        if role not in ROLES:
            raise XzdocError(f"未知的审批角色“{role}”", CONFIG_NAME, line, hint="角色只能是：" + "、".join(ROLES))
        if not isinstance(members, YList):
            raise XzdocError(f"角色“{role}”的成员应为列表", CONFIG_NAME, line,
                             hint="例如：\n  局党组:\n    - {name: 张某, email: zhang@example.gov.cn}")
        for i, member in enumerate(members):
            if not isinstance(member, dict) or not member.get("name") or not (member.get("email") or member.get("emails")):
                raise XzdocError(f"角色“{role}”第 {i + 1} 个成员缺少 name 或 email", CONFIG_NAME, members.at(i)[0],
                                 hint="每个成员写作 {name: 姓名, email: 提交代码所用的邮箱}")
            emails = member.get("emails") or [member["email"]]
            out.append(Approver(role, str(member["name"]), tuple(str(e).lower() for e in emails)))
    return tuple(out)


def plain(value: Any) -> Any:
    """Strip position bookkeeping so data can be merged and hashed."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
