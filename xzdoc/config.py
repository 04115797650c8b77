"""xzdoc.yaml -> a frozen Config; the repository root is where it lives."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xzdoc import standard as std
from xzdoc.errors import XzdocError
from xzdoc.keys import Key, keys_in
from xzdoc.source.yamlio import YList, YMap, load_file, loads, plain
from xzdoc.standard.overrides import check as check_overrides

if TYPE_CHECKING:
    from xzdoc.source.yearspec import YearSpec

CONFIG_NAME = "xzdoc.yaml"
ROLES = ("局党组", "数据中心", "财务科")
# Each role names the official (proprietary) font first, then its usual aliases, then the free face the README
# installs: LXGW WenKai stands in for 楷体 (full GB 2312 coverage, 1 em advances, the same em box as Noto CJK).
DEFAULT_FONTS = {
    "title": ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC"),
    "body": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "Noto Serif CJK SC"),
    "heading": ("黑体", "SimHei", "Noto Sans CJK SC"),
    "kai": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "LXGW WenKai", "AR PL UKai CN"),
    "number": ("宋体", "SimSun", "Noto Serif CJK SC"),
}
DEFAULT_REUSE_EXCLUDE = ("编制依据", "建设依据", "项目建设依据", "建设单位概况")
_FONT_FORBIDDEN = frozenset('"\\<>&#$[]{}`;')
_KNOWN = {"organisation", "projects_dir", "approvers", "gates", "baseline", "branch", "calendar", "fonts", "standard",
          "require_signed", "revoked_keys", "forge_committers", "layout", "reuse"}
_MEMBER_KEYS = ("name", "email", "emails", "github", "keys")
# Documents printed double-sided unless xzdoc.yaml says otherwise (layout.duplex): the long reports.
DUPLEX_KINDS = ("可行性研究报告", "初步设计")
TOC_PAGES = 10

# Which role's merge makes each change take effect, as the measures read.
# A key is a stage (entering it, from below) or ``records.<key>`` (the filing
# first appearing). Stages whose entry requires a filing the party group must
# consent to (监理 第十七条, 验收报告 第二十一条) are gated on the party group,
# so one merge by a party-group member carries both the stage and the filing.
DEFAULT_GATES: dict[str, str] = {
    "submitted": "局党组",            # 第七条 申请材料经局党组同意后报审批立项
    "reviewed": "局党组",             # 第十条 审核意见报局党组同意
    "approved": "数据中心",           # 第十条 市政府批复; 第五条 数据中心 is the implementing unit that records it
    "contracted": "数据中心",         # 第十二、十四条 数据中心受托签订合同并备案
    "building": "局党组",             # 第十七条 entering construction needs the supervision filing, consented by the party group
    "accepted": "局党组",             # 第二十一条 竣工验收报告经局党组同意
    "operating": "局党组",            # 第二十一条 验收报告备案 (the record operating requires) after party-group consent
    "terminated": "局党组",           # 第二十四条 the party group orders rectification, suspension, termination
    "records.supervision": "局党组",  # 第十七条 监理单位经局党组同意后备案
    "records.acceptance_filing": "局党组",  # 第二十一条
    "records.changes": "局党组",      # 第十六条 调整申请 only covers drift once it entered through the party group's merge
    "config": "局党组",               # xzdoc.yaml itself: who approves decides every other verdict
    "systems": "数据中心",            # 第八条、第三十条 systems.yaml, the register the data centre keeps
}
GATE_ARTICLES: dict[str, str] = {
    "submitted": "第七条", "reviewed": "第十条", "approved": "第十条", "contracted": "第十四条",
    "building": "第十七条", "accepted": "第二十一条", "operating": "第二十一条", "terminated": "第二十四条",
    "records.supervision": "第十七条", "records.acceptance_filing": "第二十一条", "records.changes": "第十六条",
    "config": "第二十四条", "systems": "第八条",
}
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,38}", re.ASCII)   # a GitHub or Gitea login
_NOREPLY = re.compile(r"(?:\d+\+)?(?P<login>[a-z0-9-]+)@users\.noreply\.github\.com")
_SHA = re.compile(r"[0-9a-f]{7,40}")
@dataclass(frozen=True)
class Approver:
    role: str
    name: str
    emails: tuple[str, ...]
    github: str | None = None   # forge login, for CODEOWNERS and GitHub's noreply merge e-mails
    keys: tuple[Key, ...] = ()  # the keys that sign this person's merges

    def matches(self, email: str) -> bool:
        email = email.strip().lower()
        if email in self.emails:
            return True
        # A merge made in GitHub's web UI is authored with the merger's noreply
        # address when they keep their e-mail private.
        found = _NOREPLY.fullmatch(email)
        return bool(self.github and found and found["login"] == self.github.lower())


@dataclass(frozen=True)
class Layout:
    """Print layout choices: which documents are printed double-sided, and from how many pages a 目录 is added."""

    duplex: tuple[str, ...] | bool = DUPLEX_KINDS   # True/False for every document, or the kinds printed duplex
    toc_pages: int = TOC_PAGES                      # a document with more body pages than this gets a 目录

    def is_duplex(self, kind: str) -> bool:
        return self.duplex if isinstance(self.duplex, bool) else kind in self.duplex


@dataclass(frozen=True)
class Config:
    root: Path
    path: str | None = None
    organisation: str = "忻州市交通运输局"
    projects_dir: str = "projects"
    approvers: tuple[Approver, ...] = ()
    gates: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GATES))
    baseline: str | None = None
    branch: str | None = None
    calendar_years: Mapping[int, YearSpec] = field(default_factory=dict)
    fonts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FONTS))
    standard: std.Standard = field(default_factory=std.build)
    require_signed: bool = False
    revoked_keys: tuple[Key, ...] = ()
    forge_committers: tuple[str, ...] = ()   # committer e-mails of a forge's web merges, e.g. noreply@github.com
    layout: Layout = field(default_factory=Layout)
    # Chapters every project writes alike (legal basis, the bureau's profile) are not reported as copied.
    reuse_exclude: tuple[str, ...] = DEFAULT_REUSE_EXCLUDE
    reuse_threshold: float = 0.6

    def role_of(self, email: str) -> set[str]:
        return {a.role for a in self.approvers if a.matches(email)}

    def members(self, role: str) -> tuple[Approver, ...]:
        return tuple(a for a in self.approvers if a.role == role)

    def entries_of(self, email: str) -> tuple[Approver, ...]:
        return tuple(a for a in self.approvers if a.matches(email))


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding xzdoc.yaml, else a .git, else start.

    An xzdoc.yaml inside the projects folder of the repository's own
    configuration does not count: a project folder cannot bring its own
    policy (the ledger reports such a file as an error).
    """
    start = start.resolve()
    if start.is_file():
        start = start.parent
    top = next((f for f in (start, *start.parents) if (f / ".git").exists()), None)
    fenced = _projects_of(top) if top is not None else None
    for folder in (start, *start.parents):
        if _present(folder / CONFIG_NAME) and (fenced is None or not folder.is_relative_to(fenced)):
            return folder
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def _projects_of(top: Path) -> Path | None:
    """The projects folder named by the top-level xzdoc.yaml (``projects`` when it names none)."""
    if not _present(top / CONFIG_NAME):
        return None
    try:
        return top / load(top).projects_dir
    except XzdocError:
        return top / "projects"


def _present(file: Path) -> bool:
    """Is there an xzdoc.yaml (a file, or a link to be refused)? A name the system cannot look up is none."""
    try:
        return file.is_symlink() or file.is_file()
    except OSError:
        return False


def load(root: Path, text: str | None = None) -> Config:
    """The repository's configuration; ``text`` stands for xzdoc.yaml as an editor holds it, unsaved."""
    file = root / CONFIG_NAME
    if text is None and not _present(file):
        return Config(root=root)
    if text is None and file.is_symlink():
        # Git keeps a link as its target's text: a link whose text is the approved policy would pass every
        # history check while the checkout reads another file.
        raise XzdocError("xzdoc.yaml 是符号链接，不是文件", CONFIG_NAME,
                         hint="删除这个链接，在原处写入普通的 xzdoc.yaml 文件后再提交")
    return _from_data(load_file(file, CONFIG_NAME) if text is None else loads(text, CONFIG_NAME), root)


def parse(blob: bytes, root: Path, where: str = CONFIG_NAME) -> Config:
    """A version of xzdoc.yaml read from history (``where`` names it in errors, e.g. 提交 1a2b3c:xzdoc.yaml)."""
    from xzdoc.source.yamlio import decode

    try:
        return _from_data(loads(decode(blob, CONFIG_NAME), CONFIG_NAME), root)
    except XzdocError as exc:
        exc.message = f"{where}：{exc.message}"
        raise


def _from_data(data: Any, root: Path) -> Config:
    if data is None:
        return Config(root=root, path=CONFIG_NAME)
    if not isinstance(data, YMap):
        raise XzdocError("xzdoc.yaml 的顶层应为映射（键: 值）", CONFIG_NAME, 1)
    for key in data:
        if key not in _KNOWN:
            close = difflib.get_close_matches(str(key), sorted(_KNOWN), n=1, cutoff=0.6)
            raise XzdocError(f"xzdoc.yaml 中有未知的配置项“{key}”" + (f"，你是不是想写“{close[0]}”？" if close else ""),
                             CONFIG_NAME, data.keypos[key][0], column=data.keypos[key][1],
                             hint=None if close else "可用配置项：" + "、".join(sorted(_KNOWN)))
    overrides = _mapping(data, "standard")
    check_overrides(overrides, std.defaults()["caps"], CONFIG_NAME)
    standard = std.build(plain(overrides))
    approvers = _approvers(data)
    fonts = dict(DEFAULT_FONTS)
    for kind, names in _mapping(data, "fonts").items():
        fonts[str(kind)] = tuple(str(n) for n in names) if isinstance(names, list) else (str(names),)
        # fc-match cannot be given a NUL; the names go into the reference document's XML and the Typst setup.
        odd = next((c for name in fonts[str(kind)] for c in name if not c.isprintable() or c in _FONT_FORBIDDEN), None)
        if odd is not None:
            what = f"字符“{odd}”，字体名称中不会有它" if odd.isprintable() else "不可见字符"
            raise XzdocError(f"xzdoc.yaml 的 fonts.{kind} 中有{what}",
                             CONFIG_NAME, data["fonts"].at(kind)[0], hint="写字体名称，如 fonts: {body: [FangSong_GB2312, 仿宋]}")
    return Config(
        root=root,
        path=CONFIG_NAME,
        organisation=_organisation(data),
        projects_dir=_projects_dir(data),
        approvers=approvers,
        gates=_gates(data, approvers, standard),
        baseline=_baseline(data),
        branch=_branch(data),
        calendar_years=_calendar(data),
        fonts=fonts,
        standard=standard,
        require_signed=_flag(data, "require_signed"),
        revoked_keys=tuple(keys_in(data.get("revoked_keys"), "revoked_keys", data.at("revoked_keys")[0])),
        forge_committers=_emails(data, "forge_committers"),
        layout=_layout(data),
        **_reuse(data),
    )


def _organisation(data: YMap) -> str:
    """The bureau's name as printed on every cover: text, on one line."""
    value = data.get("organisation")
    if value is None:
        return "忻州市交通运输局"
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > 60 or any(not c.isprintable() for c in text):
        what = "不是文字" if not isinstance(value, str) else "为空" if not text else \
            "超过 60 个字" if len(text) > 60 else "含有换行或不可见字符"
        raise XzdocError(f"xzdoc.yaml 的 organisation {what}：它是印在每份材料封面上的单位全称", CONFIG_NAME,
                         data.at("organisation")[0], hint="写单位全称，如 organisation: 忻州市交通运输局")
    return text


def _projects_dir(data: YMap) -> str:
    value = data.get("projects_dir")
    if value is None or value == "":
        return "projects"
    text = str(value)
    parts = text.replace("\\", "/").split("/")
    # Outside the repository the approval history does not reach; a name that long no file system takes.
    if not isinstance(value, str) or os.path.isabs(text) or ".." in parts or len(text) > 200 or not text.isprintable():
        raise XzdocError(f"projects_dir 应为仓库内的相对目录，如 projects，而不是“{text[:60]}”", CONFIG_NAME,
                         data.at("projects_dir")[0], hint="项目目录必须在仓库中，审批台账才能从提交历史中读到它")
    # One spelling per folder: the ledger matches git's paths against it, so `./projects`, `projects/`
    # and `projects//` must all read as the `projects` git writes.
    normal = "/".join(part for part in parts if part not in ("", "."))
    # The root would make every top-level folder a project, and git's own folder never appears in its history:
    # either way the ledger would read no project folder at all.
    if not normal or normal.split("/")[0].lower() == ".git":
        raise XzdocError(f"projects_dir 不能是“{text[:60]}”：须是仓库根目录下的一个子目录，如 projects", CONFIG_NAME,
                         data.at("projects_dir")[0], hint="把项目目录放进 projects/ 之类的子目录，审批台账才能逐个项目目录判断")
    return normal


def _flag(data: YMap, key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise XzdocError(f"{key} 应为 true 或 false", CONFIG_NAME, data.at(key)[0])
    return value


def _emails(data: YMap, key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and "@" in v for v in value):
        raise XzdocError(f"{key} 应为邮箱列表，如 [noreply@github.com]", CONFIG_NAME, data.at(key)[0])
    return tuple(_address(v, key, data.at(key)[0]) for v in value)


# One address as git records it: the allowed-signers file takes comma-separated patterns with * and ?,
# and a line break would start a line of its own, so anything beyond a plain address is refused.
_ADDRESS = re.compile(r"[^\s@,*?!\"'<>\\]+@[^\s@,*?!\"'<>\\]+")


def _address(value: Any, what: str, line: int | None) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if not _ADDRESS.fullmatch(text):
        shown = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(value)[:60])
        raise XzdocError(f"{what}“{shown}”不是有效的邮箱地址", CONFIG_NAME, line,
                         hint="写提交代码所用的邮箱，如 zhang@example.gov.cn；不能含空格、逗号、引号或通配符 * ?")
    return text


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
            keys = member if isinstance(member, dict) else {}
            extra = sorted(str(k) for k in keys if k not in _MEMBER_KEYS)
            if extra:
                raise XzdocError(f"角色“{role}”第 {i + 1} 个成员有未知字段“{extra[0]}”", CONFIG_NAME, members.at(i)[0],
                                 hint="成员可写 name、email（或 emails 列表）、github（代码托管平台用户名）和 keys（签名公钥）")
            if not isinstance(member, dict) or not member.get("name") or not (member.get("email") or member.get("emails")):
                raise XzdocError(f"角色“{role}”第 {i + 1} 个成员缺少 name 或 email", CONFIG_NAME, members.at(i)[0],
                                 hint="每个成员写作 {name: 姓名, email: 提交代码所用的邮箱}")
            emails = member.get("emails") or [member["email"]]
            if not isinstance(emails, list):
                emails = [emails]
            github = str(member["github"]).lstrip("@") if member.get("github") else None
            if github is not None and not _LOGIN.fullmatch(github):
                # Written into CODEOWNERS as is: "zw\n* @someone" would add an owner rule of its own.
                raise XzdocError(f"角色“{role}”第 {i + 1} 个成员的 github 用户名“{github[:40]}”不合规则", CONFIG_NAME,
                                 members.at(i)[0], hint="用户名只含字母、数字、连字符、下划线和点（以字母或数字开头），至多 39 个字符")
            where = (f"角色“{role}”第 {i + 1} 个成员的邮箱", members.at(i)[0])
            out.append(Approver(role, str(member["name"]), tuple(_address(e, *where) for e in emails), github,
                                tuple(keys_in(member.get("keys"), f"角色“{role}”第 {i + 1} 个成员的 keys",
                                            members.at(i)[0]))))
    return tuple(out)


def _gates(data: YMap, approvers: tuple[Approver, ...], standard: std.Standard) -> dict[str, str]:
    """Defaults overlaid with the repository's gates; ``null`` lifts a gate."""
    raw = _mapping(data, "gates")
    out = dict(DEFAULT_GATES)
    stages = [s.name for s in standard.stages if s.name != "draft"]
    records = set(standard.raw_schema["properties"]["records"]["properties"])
    for key, role in raw.items():
        line = raw.at(key)[0] if isinstance(raw, YMap) else None
        key = str(key)
        if key.startswith("records."):
            if key.split(".", 1)[1] not in records:
                raise XzdocError(f"gates 中的“{key}”不是已知的备案记录", CONFIG_NAME, line,
                                 hint="可用的记录：" + "、".join(f"records.{r}" for r in sorted(records)))
        elif key not in ("config", "systems") and key not in stages:
            raise XzdocError(f"gates 中的“{key}”不是可审批的阶段", CONFIG_NAME, line,
                             hint="阶段：" + "、".join(stages)
                             + "；config（xzdoc.yaml 本身）；systems（系统目录 systems.yaml）；"
                             "或 records.<记录名>，如 records.supervision")
        if role is None or role == "":
            out.pop(key, None)
            continue
        if role not in ROLES:
            raise XzdocError(f"gates.{key} 的角色“{role}”不是审批角色", CONFIG_NAME, line,
                             hint="角色只能是：" + "、".join(ROLES) + "；写 null 表示该变更无需审批")
        if approvers and not any(a.role == role for a in approvers):
            raise XzdocError(f"gates.{key} 需要“{role}”批准，但 approvers 中没有“{role}”的成员", CONFIG_NAME, line,
                             hint=f"在 approvers 下添加“{role}”的成员，或把 gates.{key} 改为已有成员的角色")
        out[key] = str(role)
    config = out.get("config")
    if approvers and config and not any(a.role == config for a in approvers):
        # Nobody could approve a change of the policy itself: it could never be changed again.
        line = raw.at("config")[0] if isinstance(raw, YMap) and "config" in raw else data.at("approvers")[0]
        raise XzdocError(f"approvers 中没有“{config}”的成员，而修改 xzdoc.yaml 本身须由“{config}”成员合并（gates.config）",
                         CONFIG_NAME, line, hint=f"在 approvers 下添加“{config}”的成员；否则这份配置以后再也无法经审批修改")
    return out


def _layout(data: YMap) -> Layout:
    raw = _mapping(data, "layout")
    where = (lambda k: raw.at(k)[0]) if isinstance(raw, YMap) else (lambda k: None)
    unknown = [str(k) for k in raw if k not in ("duplex", "toc_pages")]
    if unknown:
        raise XzdocError(f"layout 中有未知的配置项“{unknown[0]}”", CONFIG_NAME, where(unknown[0]),
                         hint="可用配置项：duplex（true、false 或双面印刷的文档列表）、toc_pages（超过多少页加目录）")
    duplex: tuple[str, ...] | bool = DUPLEX_KINDS
    if "duplex" in raw:
        value = raw["duplex"]
        if isinstance(value, bool):
            duplex = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            duplex = tuple(value)
        else:
            raise XzdocError("layout.duplex 应为 true、false 或文档名称列表", CONFIG_NAME, where("duplex"),
                             hint="例如 duplex: [可行性研究报告, 初步设计]")
    pages = raw.get("toc_pages", TOC_PAGES)
    if isinstance(pages, bool) or not isinstance(pages, int) or pages < 0:
        raise XzdocError("layout.toc_pages 应为非负整数（正文超过该页数时加目录）", CONFIG_NAME, where("toc_pages"),
                         hint="例如 toc_pages: 10")
    return Layout(duplex, pages)


def _baseline(data: YMap) -> str | None:
    value = data.get("baseline")
    if value is None or value == "":
        return None
    line = data.at("baseline")[0]
    # An unquoted hash such as 1234567 or 8223e10 reaches us as a number.
    if not isinstance(value, str) or not _SHA.fullmatch(value.strip().lower()):
        raise XzdocError("baseline 应为采用 xzdoc 时主分支上的提交哈希（7–40 位十六进制，加引号）", CONFIG_NAME, line,
                         hint='用 git rev-parse HEAD 查得，写作 baseline: "8223ea1…"')
    return value.strip().lower()


def _branch(data: YMap) -> str | None:
    value = data.get("branch")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.startswith("-") or any(c.isspace() for c in value):
        raise XzdocError(f"branch 应为主分支名称，如 main，而不是“{value}”", CONFIG_NAME, data.at("branch")[0])
    return value


def _calendar(data: YMap) -> dict[int, YearSpec]:
    calendar = _mapping(data, "calendar")
    unknown = [str(k) for k in calendar if k != "years"]
    if unknown:
        line = calendar.at(unknown[0])[0] if isinstance(calendar, YMap) else None
        raise XzdocError(f"calendar 中有未知的配置项“{unknown[0]}”", CONFIG_NAME, line, hint="calendar 下只有 years")
    years = _mapping(calendar, "years")
    if not years:
        return {}
    from xzdoc.source.yearspec import parse_year_specs

    try:
        return parse_year_specs(plain(years), CONFIG_NAME)
    except XzdocError as exc:
        exc.line = exc.line or (calendar.at("years")[0] if isinstance(calendar, YMap) else None)
        raise


def _reuse(data: YMap) -> dict[str, Any]:
    """reuse: {exclude: [章节标题, …], threshold: 0.6}; the listed titles replace the defaults."""
    node = _mapping(data, "reuse")
    line = data.at("reuse")[0]
    out: dict[str, Any] = {}
    unknown = [k for k in node if k not in ("exclude", "threshold")]
    if unknown:
        raise XzdocError(f"xzdoc.yaml 的 reuse 中有未知的配置项“{unknown[0]}”", CONFIG_NAME, line,
                         hint="可用：exclude（不比对的章节标题列表）、threshold（0–1 之间的相同语句比例）")
    exclude = node.get("exclude")
    if exclude is not None:
        if not isinstance(exclude, list) or not all(isinstance(t, str) for t in exclude):
            raise XzdocError("reuse.exclude 应为章节标题的列表", CONFIG_NAME, line)
        out["reuse_exclude"] = tuple(exclude)
    threshold = node.get("threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, Decimal)) \
                or threshold != threshold or not 0 < threshold <= 1:  # NaN first: a Decimal NaN raises on <
            raise XzdocError("reuse.threshold 应为 0 到 1 之间的小数，例如 0.6", CONFIG_NAME, line)
        out["reuse_threshold"] = float(threshold)
    return out
