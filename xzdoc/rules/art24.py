"""第二十四条 from git history: unapproved stage changes, filings and policy changes, drift, layout, dates.

The ledger is built once per validation run (one ``git log``, one
``git cat-file --batch``) and kept in ``ctx.extras``. Outside a git
repository these rules say nothing: a folder of projects copied out of git
has no history to judge. A history that exists but cannot be read fully
(a shallow clone, a baseline not on the main branch) is one error, because
"no findings" would then be a wrong answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from xzdoc.config import GATE_ARTICLES
from xzdoc.errors import XzdocError
from xzdoc.history import gitlog
from xzdoc.history.deadlines import Reason
from xzdoc.history.facts import EVENT_DATES, FILINGS
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, mapping
from xzdoc.source.yamlio import YMap, as_date

if TYPE_CHECKING:
    from xzdoc.history import ledger

# xzdoc.history.ledger (and all it imports) is imported only once there is a git repository to read:
# a folder outside git, like a one-project check, never builds a ledger and should not pay for loading it.

LEDGER_KEY = _KEY = "art24.ledger"
_REPORTED = "art24.reported"
# Set by a whole-repository run (each of its shards too): what other folders and the repository have is
# then left to ``unattached``, which the run calls once, so no shard repeats it.
RUN_WIDE = "art24.run-wide"


def ledger_for(ctx: Context) -> ledger.Ledger | XzdocError | None:
    """The run's ledger, built on first use; the error if history is unreadable; None outside git."""
    if _KEY not in ctx.extras:
        ctx.extras[_KEY] = _build(ctx)
    return ctx.extras[_KEY]  # type: ignore[no-any-return]


def _build(ctx: Context) -> ledger.Ledger | XzdocError | None:
    if gitlog.repository_root(ctx.config.root) is None:
        return None
    from xzdoc.history import ledger

    try:
        return ledger.build(ctx.config, as_of=ctx.as_of)
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
    if found is None or isinstance(found, XzdocError) or folder is None:
        return None
    return found, folder


def check_history(project: Project, ctx: Context) -> Iterator[Hit]:
    found = ledger_for(ctx)
    if not isinstance(found, XzdocError) or _folder(project, ctx) is None or ctx.extras.get(_REPORTED) \
            or ctx.extras.get(RUN_WIDE):
        return
    ctx.extras[_REPORTED] = True
    yield _history_hit(found, None)


def _history_hit(found: XzdocError, default: str | None) -> Hit:
    hint = f"修改方法：{found.hint}" if found.hint else ""
    level = "warning" if "找不到 git" in found.message else None
    return Hit((1, 1), f"无法核对审批记录：{found.message}。{hint}", path=found.path or default, level=level)


def _unapproved(project: Project, ctx: Context, signed: bool = False) -> list[ledger.ApprovalRecord]:
    """Unapproved changes the project rests on: those refused for their signature, or (by default) the others."""
    state = _state(project, ctx)
    if state is None:
        return []
    book, folder = state
    from xzdoc.history import ledger  # loaded already: there is a ledger

    found = ledger.unapproved(book.policy or ctx.config, book, folder, project.stage, _present(project))
    return [r for r in found if (r.problem == ledger.UNSIGNED) == signed]


def unapproved_reasons(project: Project, ctx: Context) -> list[str]:
    """Each change the project's present state rests on that was not approved, in a few words."""
    return [f"阶段变更“{r.describe()}”未经审批" if r.change == "stage" else f"{r.describe()}未经审批"
            for r in _unapproved(project, ctx) + _unapproved(project, ctx, signed=True)]


# Head-of-branch states that leave a project's approved content unproven; other issues (an unapproved
# policy or register change) leave the ledger judging by the last approved policy, so approvals still hold.
_HOLDING = {"art24.content-drift": "经审批的内容被改动且未经审批", "art24.unreadable-project": "主分支上的项目文件无法读取",
            "art24.future-filing": "备案日期晚于登记它的提交", "art24.repository-layout": "仓库布局使审批记录无法核对"}


def funding_holds(project: Project, ctx: Context) -> list[Reason]:
    """What the approval history holds against releasing the project's funds (第二十四条): fails closed.

    Unapproved changes, approved content changed since, and a history that cannot be read at all: a ledger
    that cannot be built proves no approval, so it holds every project of the repository.
    """
    found = ledger_for(ctx)
    folder = _folder(project, ctx)
    if found is None or folder is None:
        return []
    if isinstance(found, XzdocError):
        return [Reason("第二十四条", f"无法核对审批记录（{found.message}）", "art24.approval-history")]
    out = [Reason("第二十四条", why, "art24.unapproved-stage-change") for why in unapproved_reasons(project, ctx)]
    # A stage or filing only in the working copy (a branch not merged yet) has passed no gate either.
    out += [Reason("第二十四条", f"{gate} 备案尚未经审批合并进入主分支" if gate.startswith("records.") else
                   f"阶段 {gate} 尚未经审批合并进入主分支", "art24.pending-approval") for gate in pending_gates(project, ctx)]
    for issue in found.issues:
        if issue.level == "error" and issue.rule in _HOLDING and (
                issue.folder == folder or (not issue.folder and issue.rule == "art24.repository-layout")):
            out.append(Reason("第二十四条", issue.brief or _HOLDING[issue.rule], issue.rule))
    return list(dict.fromkeys(out))


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
    from xzdoc.history import ledger  # loaded already: there is a ledger

    return ledger.pending(book.policy or ctx.config, book, folder, project.stage, _present(project))


def check_pending(project: Project, ctx: Context) -> Iterator[Hit]:
    state = _state(project, ctx)
    if state is None:
        return
    book, _ = state
    for gate in pending_gates(project, ctx):
        role = (book.policy or ctx.config).gates[gate]
        what = f"阶段 {gate}" if not gate.startswith("records.") else f"{gate} 备案"
        yield Hit(project.data.at("stage") if not gate.startswith("records.") else project.data.pos,
                  f"{what}尚未进入主分支 {book.branch.rsplit('/', 1)[-1]}：须由{role}成员合并拉取请求后才生效"
                  f"（{GATE_ARTICLES.get(gate, '第二十四条')}）")


def _issues(rule: str) -> Callable[[Project, Context], Iterator[Hit]]:
    """A check reporting the ledger's issues of one kind: the project's own, and once per run those of the
    repository and of folders that are not in the working copy any more (a deleted project)."""

    def check(project: Project, ctx: Context) -> Iterator[Hit]:
        state = _state(project, ctx)
        if state is None:
            return
        book, folder = state
        if ctx.extras.get(RUN_WIDE):
            yield from (Hit(project.data.pos, i.message, level=_level(i)) for i in book.issues
                        if i.rule == rule and i.folder == folder)
            return
        present = {_folder(p, ctx) for p in ctx.projects} | {folder}
        once = f"art24.reported.{rule}"
        for issue in book.issues:
            if issue.rule != rule:
                continue
            if issue.folder == folder:
                yield Hit(project.data.pos, issue.message, level=_level(issue))
            elif (not issue.folder or issue.folder not in present) and not ctx.extras.get(once):
                yield Hit((1, 1), issue.message, path=issue.path, level=_level(issue))
        if any(i.rule == rule and i.folder != folder for i in book.issues):
            ctx.extras[once] = True

    return check


def _level(issue: Any) -> str | None:
    """An issue's own level where it is milder than its rule's (None: the rule's)."""
    return "warning" if issue.level == "warning" else None


check_drift = _issues("art24.content-drift")
check_deleted = _issues("art24.deleted-project")
check_config = _issues("art24.unapproved-config")
check_register = _issues("art24.unapproved-register")
check_layout = _issues("art24.repository-layout")
check_unreadable = _issues("art24.unreadable-project")
_future_in_history = _issues("art24.future-filing")


def unattached(ctx: Context, present: set[str]) -> Iterator[tuple[str, Hit]]:
    """(rule id, hit) for what the ledger holds against folders the run did not check, not yet reported.

    The per-project checks report a folder's own findings and, once, those of the repository. When the
    working copy's projects_dir names a folder without those projects (an unapproved change of it can),
    nothing would carry them: they are reported here, once per full run.
    """
    found = ledger_for(ctx)
    if found is None:
        return
    if isinstance(found, XzdocError):
        yield "art24.approval-history", _history_hit(found, "xzdoc.yaml")
        return
    from xzdoc.history import ledger  # loaded already: there is a ledger

    for record in found.problems():
        if record.folder not in present and record.change not in ("config", "systems"):
            yield ledger.rule_of(record), Hit((1, 1), f"{record.folder}（不在本次检查的项目目录 {ctx.config.projects_dir} 中）"
                                                      f"的“{record.describe()}”未经审批：{record.explain()}",
                                              path=f"{record.folder}/project.yaml")
    for issue in found.issues:
        if issue.folder not in present:
            yield issue.rule, Hit((1, 1), issue.message, path=issue.path, level=_level(issue))


def check_future_filing(project: Project, ctx: Context) -> Iterator[Hit]:
    """Filings dated after the day the check runs for (--as-of), and those dated after the commit that entered them."""
    yield from _future_in_history(project, ctx)
    records = mapping(project.data.get("records"))
    for key, value in (records or {}).items():
        if key not in FILINGS:
            continue
        for when in _event_dates(value):
            if when > ctx.as_of:
                yield Hit(records.at(key) if isinstance(records, YMap) else project.data.pos,
                          f"records.{key} 的日期 {when.isoformat()} 晚于检查日 {ctx.as_of.isoformat()}：不能登记尚未发生的"
                          "备案（第二十四条）。修改方法：按实际日期登记，事情发生后再登记")
                break


def _event_dates(value: Any) -> Iterator[dt.date]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in EVENT_DATES and (day := as_date(v)) is not None:   # quoted or not
                yield day
            elif isinstance(v, (dict, list)):
                yield from _event_dates(v)
    elif isinstance(value, list):
        for v in value:
            yield from _event_dates(v)


def check_signed_records(project: Project, ctx: Context) -> Iterator[Hit]:
    """Where signing is checked: each approval the project's present state rests on, with its key."""
    state = _state(project, ctx)
    if state is None:
        return
    book, folder = state
    for record in book.records:
        if record.folder == folder and record.current and record.approved and record.signature:
            yield Hit(project.data.at("stage") if record.change == "stage" else project.data.pos,
                      f"审批记录：{record.describe()}，{record.explain()}")


def check_unsigned(project: Project, ctx: Context) -> Iterator[Hit]:
    for record in _unapproved(project, ctx, signed=True):
        yield Hit(project.data.at("stage") if record.change == "stage" else project.data.pos,
                  f"{record.describe()} 的审批合并签名未通过核验（{record.signature_text}）：{record.explain()}。"
                  "修改方法：审批人用 xzdoc.yaml 中登记的密钥重新签名合并（git merge --no-ff -S）")
