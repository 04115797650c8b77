"""What a change does to the portfolio: the review summary of a pull request, and the projects it touches.

``review`` compares two snapshots of the projects folder - a base revision
and either a head revision or the working tree - and returns frozen records;
``summary.as_markdown`` prints them for a pull request. Both sides are read the same
way: each project.yaml parsed strictly on its own (drafts are not needed to
compare metadata), the base side from git with one ``ls-tree`` and one
``cat-file --batch`` (xzdoc/gitlog.py).

总量只减不增 (第一条): the bureau's count of active systems (those not being
retired or merged away, as the catalog counts them) must not grow. A change
that adds systems without retiring or merging as many is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from xzdoc.config import GATE_ARTICLES, Config
from xzdoc.errors import XzdocError
from xzdoc.history import gitlog, revisions
from xzdoc.model import Project
from xzdoc.portfolio import catalog as portfolio
from xzdoc.source import register as reg
from xzdoc.source.yamlio import YMap, decode, loads, plain

PROJECT_FILE = "project.yaml"
WORKTREE = "工作区"
ADDED, CHANGED, REMOVED = "added", "changed", "removed"
STATUS_ZH = {ADDED: "新增", CHANGED: "修改", REMOVED: "删除"}
SYSTEM_STATUS_ZH = {ADDED: "新列入", CHANGED: "修改", REMOVED: "不再列入"}
CENT = Decimal("0.01")
SYSTEM_FIELDS = {"id": "系统编号", "name": "系统名称", "owner": "责任单位", "action": "建设方式", "cloud": "部署位置",
                 "cloud_exemption": "不上云理由", "network": "网络", "shares_with": "共享对象", "platforms": "依托平台",
                 "mlps_level": "等保级别", "justification": "新建理由"}
RESOURCE_FIELDS = {"code": "资源代码", "name": "资源名称", "provider": "提供方", "summary": "摘要", "format": "格式",
                   "items": "信息项", "share_type": "共享属性", "share_condition": "共享条件", "share_method": "共享方式",
                   "open_type": "开放属性", "update_cycle": "更新周期", "source": "数据来源", "system": "所属系统"}
_OWN_SECTIONS = ("stage", "budget", "systems", "resources")


@dataclass(frozen=True)
class Snapshot:
    label: str                          # short commit id, or 工作区
    projects: Mapping[str, Project]     # folder name under projects/ -> project
    problems: tuple[str, ...] = ()      # project.yaml files that could not be read
    register: reg.Register | None = None  # systems.yaml on that side
    unreadable: frozenset[str] = frozenset()  # folders whose project.yaml is there but does not load


@dataclass(frozen=True)
class StageChange:
    old: str | None                     # None: the project is new
    new: str
    old_label: str
    new_label: str
    gates: tuple[str, ...]              # the gated stages the change enters
    roles: tuple[str, ...]              # whose merge approves it (xzdoc.yaml gates)
    approvers: tuple[str, ...]          # members of those roles
    articles: tuple[str, ...]


@dataclass(frozen=True)
class Amount:
    """One budget line before and after; None where the line does not exist."""

    kind: str                           # year | source | total
    label: str
    before: Decimal | None
    after: Decimal | None

    @property
    def delta(self) -> Decimal:
        return (self.after or Decimal(0)) - (self.before or Decimal(0))


@dataclass(frozen=True)
class FieldChange:
    key: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ItemChange:
    kind: str                           # system | resource
    key: str                            # system id or resource code
    name: str
    status: str                         # added | changed | removed
    action: str = ""                    # systems: 新建/升级/整合/下线 after the change (before, when removed)
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class ProjectChange:
    folder: str                         # projects/<name>
    project: str                        # 项目编号
    name: str
    status: str                         # added | changed | removed
    files: tuple[str, ...]              # changed files, relative to the project folder
    stage: StageChange | None
    budget: tuple[Amount, ...]
    items: tuple[ItemChange, ...]
    other: tuple[str, ...]              # other top-level keys of project.yaml that changed


@dataclass(frozen=True)
class SystemCount:
    before: int
    after: int
    added: tuple[str, ...]              # "id 名称" of systems active after but not before
    retired: tuple[str, ...]            # active before, retiring or gone after
    registered: int | None = None       # systems in use as the head's systems.yaml lists them; None without one
    listed_only: bool = False           # every system added is one the register now lists as in use, no project's

    @property
    def grew(self) -> bool:
        return self.after > self.before

    @property
    def raised(self) -> bool:
        """The change adds systems and, once every project is carried out, more are in use than the register lists.

        Growth against the base that an earlier, approved 整合 or 下线 makes room for keeps the total from
        growing (the same judgment ``validate`` makes against the register).
        """
        return self.grew and (self.registered is None or self.after > self.registered)


@dataclass(frozen=True)
class Review:
    base: str
    head: str
    projects: tuple[ProjectChange, ...]
    systems: SystemCount
    warnings: tuple[str, ...] = ()      # duplicate construction the change introduces, unreadable files
    register: tuple[str, ...] = ()      # what the change does to systems.yaml
    shared: tuple[str, ...] = ()        # changed files every bundle is made with (templates/, xzdoc.yaml, ...)
    unreadable: tuple[str, ...] = ()    # project files the head side cannot load: the review cannot judge them

    @property
    def errors(self) -> tuple[str, ...]:
        broken = tuple(f"{name} 无法读取，这次改动对它的影响无法判断；运行 xzdoc validate 查看原因" for name in self.unreadable)
        if not self.systems.raised:
            return broken
        count = self.systems
        limit = f"，多于 {reg.REGISTER_NAME} 登记的在用系统 {count.registered} 个" if count.registered is not None else ""
        return (f"政务信息系统总量只减不增（第一条）：在用系统由 {count.before} 个增至 {count.after} 个{limit}，"
                f"新增 {len(count.added)} 个，仅下线或整合 {len(count.retired)} 个", *broken)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


# -- reading the two sides -----------------------------------------------------------------------------


def review(config: Config, base: str, head: str | None = None) -> Review:
    """Compare ``base`` with ``head`` (a revision), or with the working tree when ``head`` is None."""
    head_rev = revisions.revision(config.root, head, config.projects_dir) if head else None
    base_rev = revisions.fork_point(revisions.revision(config.root, base, config.projects_dir), head_rev)
    touched = revisions.changed_files(base_rev, head_rev)
    before = from_revision(config, base_rev)
    after = from_revision(config, head_rev) if head_rev else from_disk(config)
    return replace(compare(config, before, after, touched), shared=tuple(shared_inputs(config, base_rev, head_rev)))


def changed(config: Config, base: str, head: str | None = None) -> tuple[str, ...]:
    """Folders (``projects/<name>``) holding a project after the change and a changed file.

    A removed project is not listed: there is nothing left to validate or
    bundle, and ``xzdoc diff`` reports the removal.
    """
    head_rev = revisions.revision(config.root, head, config.projects_dir) if head else None
    base_rev = revisions.fork_point(revisions.revision(config.root, base, config.projects_dir), head_rev)
    folders = _folders(revisions.changed_files(base_rev, head_rev))
    if head_rev is None:
        every = {p.name for p in (config.root / config.projects_dir).iterdir() if (p / PROJECT_FILE).is_file()} \
            if (config.root / config.projects_dir).is_dir() else set()
    else:
        every = {p.split("/", 1)[0] for p in revisions.tree_files(head_rev) if _is_project_file(p)}
    if shared_inputs(config, base_rev, head_rev):
        return tuple(f"{config.projects_dir}/{f}" for f in sorted(every))
    return tuple(f"{config.projects_dir}/{f}" for f in sorted(folders & every))


# Files every bundle is made with besides its own folder: a change to one of them changes every bundle.
SHARED_INPUTS = ("templates", "xzdoc.yaml", reg.REGISTER_NAME)


def shared_inputs(config: Config, base: revisions.Revision, head: revisions.Revision | None) -> list[str]:
    """The repository's templates/, xzdoc.yaml and systems.yaml files that differ between the two revisions
    (already resolved: only the folder compared changes, so git is not asked to resolve them again)."""
    root = config.root.resolve().relative_to(base.workdir).as_posix()
    out: list[str] = []
    for name in SHARED_INPUTS:
        path = name if root == "." else f"{root}/{name}"
        if name == "templates":
            at = (replace(base, prefix=path), replace(head, prefix=path) if head else None)
            out += [f"templates/{p}" for p in revisions.changed_files(*at)]
            continue
        after = revisions.file_at(head, path) if head else _read(config.root / name)
        if revisions.file_at(base, path) != after:
            out.append(name)
    return out


def _read(path: Any) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def changed_json(folders: Sequence[str]) -> str:
    """For a GitHub Actions matrix: ``strategy: {matrix: ${{ fromJSON(...) }}}`` gives ``matrix.project``."""
    return json.dumps({"project": list(folders)}, ensure_ascii=False)


def from_revision(config: Config, rev: revisions.Revision) -> Snapshot:
    files = {p: blob for p, blob in revisions.tree_files(rev).items() if _is_project_file(p)}
    blobs = gitlog.read_objects(rev.workdir, files.values())
    named = rev.empty or rev.oid.startswith(rev.name.lower())
    label = rev.short if named else f"{rev.name}（{rev.short}）"
    root = config.root.resolve().relative_to(rev.workdir).as_posix()
    raw = revisions.file_at(rev, reg.REGISTER_NAME if root == "." else f"{root}/{reg.REGISTER_NAME}")
    return _snapshot(config, label, {p.split("/", 1)[0]: blobs.get(b, b"") for p, b in files.items()},
                     lambda: None if raw is None else reg.loads_register(raw))


def from_disk(config: Config) -> Snapshot:
    folder = config.root / config.projects_dir
    # Only regular files, as validate reads them: a folder named project.yaml is no project, and a FIFO would block.
    found = sorted(f for f in folder.glob(f"*/{PROJECT_FILE}") if f.is_file()) if folder.is_dir() else []
    return _snapshot(config, WORKTREE, {f.parent.name: f.read_bytes() for f in found}, lambda: reg.load(config.root))


def _snapshot(config: Config, label: str, raw: Mapping[str, bytes],
              read_register: Callable[[], reg.Register | None]) -> Snapshot:
    projects: dict[str, Project] = {}
    problems = []
    unreadable = set()
    register = None
    try:
        register = read_register()
    except XzdocError as exc:
        problems.append(f"{label}：{reg.REGISTER_NAME} 无法读取（{exc.message}），系统总量按项目统计；运行 xzdoc validate 查看")
    for name, data in sorted(raw.items()):
        try:
            projects[name] = _project(config, name, data)
        except XzdocError as exc:
            unreadable.add(name)
            problems.append(f"{label}：{exc.path or name} 无法读取（{exc.message}），未参与比较；运行 xzdoc validate 查看")
    return Snapshot(label, projects, tuple(problems), register, frozenset(unreadable))


def _project(config: Config, name: str, raw: bytes) -> Project:
    shown = f"{config.projects_dir}/{name}/{PROJECT_FILE}"
    data = loads(decode(raw, shown), shown)
    if not isinstance(data, YMap):
        raise XzdocError("顶层不是映射", shown, 1)
    return Project(id=str(data.get("id") or name), name=str(data.get("name") or ""), stage=str(data.get("stage") or "draft"),
                   folder=config.root / config.projects_dir / name, display=f"{config.projects_dir}/{name}",
                   yaml_path=shown, data=data)


def _is_project_file(path: str) -> bool:
    folder, _, rest = path.partition("/")
    return bool(folder) and rest == PROJECT_FILE


def _folders(paths: Iterable[str]) -> set[str]:
    return {p.split("/", 1)[0] for p in paths if "/" in p}


# -- comparing -----------------------------------------------------------------------------------------


def compare(config: Config, before: Snapshot, after: Snapshot, touched: Iterable[str]) -> Review:
    files: dict[str, list[str]] = {}
    for path in touched:
        folder, _, rest = path.partition("/")
        if rest:
            files.setdefault(folder, []).append(rest)
    out = []
    for folder in sorted(set(files) | (set(before.projects) ^ set(after.projects))):
        old, new = before.projects.get(folder), after.projects.get(folder)
        if (old is None and new is None) or folder in before.unreadable | after.unreadable:
            continue   # no project on either side (notes), or one side does not load: neither added nor removed
        out.append(_project_change(config, folder, old, new, tuple(sorted(files.get(folder, ())))))
    base_catalog = portfolio.build(list(before.projects.values()))
    head_catalog = portfolio.build(list(after.projects.values()))
    known = {f.message for f in base_catalog.findings}
    warnings = [f.message for f in head_catalog.findings if f.message not in known]
    return Review(before.label, after.label, tuple(out), _count(before, after),
                  tuple(warnings) + before.problems + after.problems, _register_changes(before.register, after.register),
                  unreadable=tuple(f"{config.projects_dir}/{name}/{PROJECT_FILE}" for name in sorted(after.unreadable)))


def _project_change(config: Config, folder: str, old: Project | None, new: Project | None,
                    files: tuple[str, ...]) -> ProjectChange:
    shown = new or old
    assert shown is not None
    status = ADDED if old is None else REMOVED if new is None else CHANGED
    return ProjectChange(
        folder=f"{config.projects_dir}/{folder}", project=shown.id, name=shown.name, status=status, files=files,
        stage=_stage(config, old, new),
        budget=_budget(old, new),
        items=_items("system", "id", SYSTEM_FIELDS, old, new) + _items("resource", "code", RESOURCE_FIELDS, old, new),
        other=_other(old, new) if status == CHANGED else (),
    )


def _stage(config: Config, old: Project | None, new: Project | None) -> StageChange | None:
    from xzdoc.history.ledger import crossed, roles_for

    if new is None or (old is not None and old.stage == new.stage):
        return None
    before = old.stage if old else None
    gates = tuple(g for g in crossed(config, before, new.stage) if g in config.gates)
    roles = roles_for(config, gates)
    approvers = tuple(dict.fromkeys(a.name for role in roles for a in config.members(role)))
    articles = tuple(dict.fromkeys(GATE_ARTICLES[g] for g in gates if g in GATE_ARTICLES))
    return StageChange(before, new.stage, _label(config, before) if before else "（新建）", _label(config, new.stage),
                       gates, roles, approvers, articles)


def _label(config: Config, stage: str) -> str:
    found = config.standard.stage(stage)
    return found.label if found else stage


def _budget(old: Project | None, new: Project | None) -> tuple[Amount, ...]:
    out = []
    for kind, key, label in (("year", "years", "{}年"), ("source", "sources", "资金来源：{}")):
        a, b = _lines(old, key), _lines(new, key)
        for name in sorted(set(a) | set(b), key=str):
            if a.get(name) != b.get(name):
                out.append(Amount(kind, label.format(name), a.get(name), b.get(name)))
    total_a, total_b = _total(old), _total(new)
    if total_a != total_b:
        out.append(Amount("total", "总投资", total_a, total_b))
    return tuple(out)


def _budget_node(project: Project | None) -> YMap | None:
    node = project.data.get("budget") if project else None
    return node if isinstance(node, YMap) else None


def _lines(project: Project | None, key: str) -> dict[Any, Decimal | None]:
    budget = _budget_node(project)
    node = budget.get(key) if budget else None
    return {k: amount(v) for k, v in node.items()} if isinstance(node, YMap) else {}


def _total(project: Project | None) -> Decimal | None:
    budget = _budget_node(project)
    return amount(budget.get("total")) if budget else None


def amount(value: Any) -> Decimal | None:
    """An amount in 万元 as exact Decimal with two places; None when it is not a number (validate says why)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip()).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


def _items(kind: str, key: str, labels: Mapping[str, str], old: Project | None,
           new: Project | None) -> tuple[ItemChange, ...]:
    a, b = _keyed(old, f"{kind}s", key), _keyed(new, f"{kind}s", key)
    out = []
    for ident in sorted(set(a) | set(b)):
        before, after = a.get(ident), b.get(ident)
        shown = after if after is not None else before
        assert shown is not None
        name, action = _show(shown.get("name")), _show(shown.get("action"))
        if before is None:
            out.append(ItemChange(kind, ident, name, ADDED, action))
        elif after is None:
            out.append(ItemChange(kind, ident, name, REMOVED, action))
        else:
            fields = tuple(FieldChange(k, labels.get(k, k), _show(before.get(k)), _show(after.get(k)))
                           for k in _keys(before, after) if plain(before.get(k)) != plain(after.get(k)))
            if fields:
                out.append(ItemChange(kind, ident, name, CHANGED, action, fields))
    return tuple(out)


def _keyed(project: Project | None, section: str, key: str) -> dict[str, YMap]:
    node = project.data.get(section) if project else None
    out: dict[str, YMap] = {}
    for item in node if isinstance(node, list) else ():
        if isinstance(item, YMap):
            ident = _show(item.get(key)) or _show(item.get("name"))
            if ident:
                out.setdefault(ident, item)
    return out


def _keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _other(old: Project | None, new: Project | None) -> tuple[str, ...]:
    a = old.data if old else {}
    b = new.data if new else {}
    return tuple(str(k) for k in _keys(a, b) if k not in _OWN_SECTIONS and plain(a.get(k)) != plain(b.get(k)))


def _show(value: Any) -> str:
    """A metadata value as one line of text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_entry(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {_show(v)}" for k, v in value.items())
    return " ".join(str(value).split())


def _entry(value: Any) -> str:
    if isinstance(value, dict) and "name" in value:
        rest = "，".join(_show(v) for k, v in value.items() if k != "name")
        return f"{_show(value['name'])}（{rest}）" if rest else _show(value["name"])
    return _show(value)


def _uses(snapshot: Snapshot) -> list[reg.Use]:
    return [u for p in snapshot.projects.values() for u in reg.uses(p.id, p.yaml_path, p.stage, p.data.get("systems"))]


def _count(before: Snapshot, after: Snapshot) -> SystemCount:
    """Systems in use on each side, counted from that side's register (第一条 总量只减不增).

    A system either side upgrades, merges or retires existed before the change, registered or not, so an
    upgrade never reads as "0 → 1" and merging two into one new system reads as 2 → 1.
    """
    a_uses, b_uses = _uses(before), _uses(after)
    known = {u.id for u in a_uses + b_uses if u.action in reg.EXISTING_ACTIONS}
    names: dict[str, str] = {}
    for snapshot, side in ((before, a_uses), (after, b_uses)):
        names.update({u.id: u.name for u in side})
        names.update({s.id: s.name for s in (snapshot.register.systems.values() if snapshot.register else ())})

    def existing(snapshot: Snapshot) -> set[str]:
        # With a register, what it lists is what exists, as validate counts (an unlisted id that a project
        # retires is art08.system-register's error, and offsets nothing); without one, the projects say.
        found = snapshot.register
        return found.active_ids() if found else known

    a, b = reg.count(existing(before), a_uses).after, reg.count(existing(after), b_uses).after
    newly = existing(after) - existing(before) if after.register is not None else set()
    return SystemCount(len(a), len(b), tuple(f"{i} {names.get(i, '')}".rstrip() for i in sorted(b - a)),
                       tuple(f"{i} {names.get(i, '')}".rstrip() for i in sorted(a - b)),
                       len(existing(after)) if after.register is not None else None,
                       listed_only=bool(b - a) and (b - a) <= newly)


def _register_changes(before: reg.Register | None, after: reg.Register | None) -> tuple[str, ...]:
    def rows(found: reg.Register | None) -> dict[str, tuple[object, ...]]:
        return {s.id: (s.name, s.owner, s.cloud, s.cloud_exemption, s.shares_with, s.status, s.om_funding, s.project)
                for s in (found.systems.values() if found else ())}

    a, b = rows(before), rows(after)
    shown = {**{i: r[0] for i, r in a.items()}, **{i: r[0] for i, r in b.items()}}
    out = [f"{what} {i} {shown[i]}" for what, ids in (("新登记", set(b) - set(a)), ("删除登记", set(a) - set(b)),
                                                     ("修改登记", {i for i in set(a) & set(b) if a[i] != b[i]}))
           for i in sorted(ids)]
    return tuple(out)


# -- printing ------------------------------------------------------------------------------------------
