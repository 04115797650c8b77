"""第二十四条 from git history: stage changes and filings without an approver's merge, content drift.

The ledger is built once per validation run (one ``git log``, one
``git cat-file --batch``) and kept in ``ctx.extras``. Outside a git
repository these rules say nothing: a folder of projects copied out of git
has no history to judge. A history that exists but cannot be read fully
(a shallow clone, a baseline not on the main branch) is one error, because
"no findings" would then be a wrong answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from xzdoc.config import GATE_ARTICLES
from xzdoc.errors import XzdocError
from xzdoc.history import gitlog, ledger
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, mapping
from xzdoc.source.yamlio import YMap, plain

LEDGER_KEY = _KEY = "art24.ledger"
_REPORTED = "art24.reported"


def ledger_for(ctx: Context) -> ledger.Ledger | XzdocError | None:
    """The run's ledger, built on first use; the error if history is unreadable; None outside git."""
    if _KEY not in ctx.extras:
        ctx.extras[_KEY] = _build(ctx)
    return ctx.extras[_KEY]  # type: ignore[no-any-return]


def _build(ctx: Context) -> ledger.Ledger | XzdocError | None:
    if gitlog.repository_root(ctx.config.root) is None:
        return None
    try:
        return ledger.build(ctx.config)
    except XzdocError as exc:
        return exc


def _folder(project: Project, ctx: Context) -> str | None:
    """The ledger's key for a project under projects_dir; None for folders elsewhere (fixtures, copies)."""
    prefix = ctx.config.projects_dir.rstrip("/") + "/"
    rest = project.display.removeprefix(prefix)
    return project.display if project.display.startswith(prefix) and rest and "/" not in rest else None


def _present(project: Project) -> set[str]:
    records = mapping(project.data.get("records"))
    return {str(k) for k, v in records.items() if v} if records else set()


def _state(project: Project, ctx: Context) -> tuple[ledger.Ledger, str] | None:
    found = ledger_for(ctx)
    folder = _folder(project, ctx)
    if not isinstance(found, ledger.Ledger) or folder is None:
        return None
    return found, folder


def check_history(project: Project, ctx: Context) -> Iterator[Hit]:
    found = ledger_for(ctx)
    if not isinstance(found, XzdocError) or _folder(project, ctx) is None or ctx.extras.get(_REPORTED):
        return
    ctx.extras[_REPORTED] = True
    hint = f"修改方法：{found.hint}" if found.hint else ""
    level = "warning" if "找不到 git" in found.message else None
    yield Hit((1, 1), f"无法核对审批记录：{found.message}。{hint}", path=found.path if found.path else None, level=level)


def _unapproved(project: Project, ctx: Context) -> list[ledger.ApprovalRecord]:
    state = _state(project, ctx)
    if state is None:
        return []
    book, folder = state
    return ledger.unapproved(ctx.config, book, folder, project.stage, _present(project))


def unapproved_reasons(project: Project, ctx: Context) -> list[str]:
    """For funding eligibility: each change the project's present state rests on that was not approved."""
    return [f"阶段变更“{r.describe()}”未经审批" if r.change == "stage" else f"{r.describe()}未经审批"
            for r in _unapproved(project, ctx)]


def _gate_text(ctx: Context, record: ledger.ApprovalRecord) -> str:
    needs = [f"{GATE_ARTICLES.get(g, '')}要求{ctx.config.gates[g]}同意" for g in record.gates if g in ctx.config.gates]
    return "，".join(dict.fromkeys(needs))


def check_unapproved_stage(project: Project, ctx: Context) -> Iterator[Hit]:
    for record in _unapproved(project, ctx):
        if record.change != "stage":
            continue
        back = record.from_stage or "draft"
        yield Hit(project.data.at("stage"),
                  f"阶段变更“{record.describe()}”未经审批（{_gate_text(ctx, record)}）：{record.explain()}。"
                  f"修改方法：把 stage 改回 {back} 并推送，再通过拉取请求由{'、'.join(record.roles)}成员合并")


def check_unapproved_filing(project: Project, ctx: Context) -> Iterator[Hit]:
    records = mapping(project.data.get("records"))
    for record in _unapproved(project, ctx):
        if record.change == "stage":
            continue
        key = record.change.split(".", 1)[1]
        where = records.at(key) if records else project.data.pos
        yield Hit(where, f"{record.change} 未经审批（{_gate_text(ctx, record)}）：{record.explain()}。"
                         f"修改方法：撤下该记录并推送，再通过拉取请求由{'、'.join(record.roles)}成员合并")


def pending_gates(project: Project, ctx: Context) -> list[str]:
    """Gates of the working copy's state that no change on the main branch has passed yet."""
    state = _state(project, ctx)
    if state is None:
        return []
    book, folder = state
    return ledger.pending(ctx.config, book, folder, project.stage, _present(project))


def check_pending(project: Project, ctx: Context) -> Iterator[Hit]:
    state = _state(project, ctx)
    if state is None:
        return
    book, _ = state
    for gate in pending_gates(project, ctx):
        role = ctx.config.gates[gate]
        what = f"阶段 {gate}" if not gate.startswith("records.") else f"{gate} 备案"
        yield Hit(project.data.at("stage") if not gate.startswith("records.") else project.data.pos,
                  f"{what}尚未进入主分支 {book.branch.rsplit('/', 1)[-1]}：须由{role}成员合并拉取请求后才生效"
                  f"（{GATE_ARTICLES.get(gate, '第二十四条')}）")


def check_drift(project: Project, ctx: Context) -> Iterator[Hit]:
    state = _state(project, ctx)
    if state is None or not ctx.std.reached(project.stage, "approved"):
        return
    book, folder = state
    reference = book.references.get(folder)
    if reference is None or not reference.blob:
        return
    try:
        if (project.folder / ledger.PROJECT_FILE).read_bytes() == reference.blob:
            return
    except OSError:
        return
    approved = ledger.load_blob(reference.blob)
    if not isinstance(approved, dict):
        return
    current = plain(project.data)
    covered = _covered(ctx, current, approved)
    source = f"提交 {reference.commit[:10]}" + ("（采用 xzdoc 时的基线）" if reference.adopted else "")
    fields: Mapping[str, str] = ctx.std.caps.get("drift_fields") or {}
    for path, label in fields.items():
        before, after = _get(approved, path), _get(current, path)
        if before == after or _is_covered(path, covered):
            continue
        yield Hit(_pos(project.data, path),
                  f"批复后擅自调整了{label}（{path}）：{_describe(before, after)}；与批复时的内容（{source}）不一致，"
                  f"且没有覆盖该项的调整申请（第十六条）。修改方法：恢复原内容，或在 records.changes 中登记调整申请"
                  f"（date、fields: [{path}]、reason）")


def _covered(ctx: Context, current: Any, approved: Any) -> set[str]:
    """Fields named by adjustment requests recorded after the approval."""
    groups: Mapping[str, list[str]] = ctx.std.caps.get("drift_groups") or {}
    before = _get(approved, "records.changes") or []
    out: set[str] = set()
    for entry in _get(current, "records.changes") or []:
        if not isinstance(entry, dict) or entry in before:
            continue
        for name in entry.get("fields") or []:
            out.update(groups.get(str(name), [str(name)]))
    return out


def _is_covered(path: str, covered: set[str]) -> bool:
    return any(c == path or path.startswith(c + ".") or c.startswith(path + ".") for c in covered)


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(int(part)) if part.isdigit() and int(part) in data else data.get(part)
    return data


def _pos(data: YMap, path: str) -> tuple[int, int]:
    node: Any = data
    pos = data.pos
    for part in path.split("."):
        if not isinstance(node, YMap) or part not in node:
            break
        pos = node.at(part)
        node = node[part]
    return pos


def _describe(before: Any, after: Any) -> str:
    if isinstance(before, list) and isinstance(after, list):
        return _describe_list(before, after)
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        return "；".join(f"{k}：{_short(before.get(k))} → {_short(after.get(k))}" for k in keys[:4])
    return f"{_short(before)} → {_short(after)}"


def _describe_list(before: list[Any], after: list[Any]) -> str:
    old, new = _keyed(before), _keyed(after)
    if old is None or new is None:
        return f"{len(before)} 项 → {len(after)} 项"
    parts = []
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    changed = [k for k in new if k in old and new[k] != old[k]]
    for label, keys in (("新增", added), ("删除", removed), ("修改", changed)):
        if keys:
            parts.append(f"{label} {'、'.join(keys[:5])}{' 等' if len(keys) > 5 else ''}")
    return "；".join(parts) or "顺序调整"


def _keyed(values: list[Any]) -> dict[str, Any] | None:
    out = {}
    for value in values:
        if not isinstance(value, dict):
            return None
        key = value.get("id") or value.get("code") or value.get("name")
        if key is None or str(key) in out:
            return None
        out[str(key)] = value
    return out


def _short(value: Any) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, (list, dict)):
        return f"{len(value)} 项"
    return str(value)

