"""systems.yaml along the main line: the bureau's system register changes only through gate ``systems``.

The register (全局政务信息系统目录, 第八条、第三十条) decides which systems an
upgrade may name and how many systems are in use, so a push that adds a
system to it would let a project pass ``validate``. It is judged as a state,
as a project folder is: the version last approved is the one that entered
through an approving merge of the gate's role (默认数据中心) over the
approved version, or was there at or before the baseline, or while no
policy named an approver. The head must hold that version; putting it back
makes the register clean again. The first register of a repository needs no
approval (see ``walk``).
"""

from __future__ import annotations

from xzdoc.config import Config
from xzdoc.history.log import GITLINK, LINK, TREE, Commit, History
from xzdoc.history.merges import Judge, Verdict
from xzdoc.history.policy import Timeline
from xzdoc.history.records import (
    ADOPTED,
    APPROVED,
    NO_GATE,
    REGISTER_FILE,
    SYMLINK,
    UNAPPROVED,
    ApprovalRecord,
    Issue,
)
from xzdoc.history.signatures import NOT_CHECKED

GATE = "systems"


def walk(history: History, line: Timeline, judge: Judge) -> tuple[list[ApprovalRecord], list[Issue]]:
    """A record for every change of the register on the line, and an issue when the head holds an unapproved one."""
    approved: str | None = None          # blob of the approved version; None while there is none
    approved_at = ""
    current: str | None = None
    drifted: Commit | None = None
    records: list[ApprovalRecord] = []
    for position, commit in enumerate(history.commits):
        change = next((ch for ch in commit.changes if ch.path == REGISTER_FILE and ch.mode != TREE), None)
        if change is None:
            continue
        new = None if change.status == "D" else change.new
        policy = line.before[position]
        adopted = line.base is not None and position <= line.base
        # The first register of a repository that never had one needs no approval: without a register the
        # checks it feeds (第一条, 第八条) do not run at all, so a first one can only add checks.
        first = approved is None and not approved_at and current is None and drifted is None
        roles = (policy.gates[GATE],) if GATE in policy.gates and policy.approvers and not first else ()
        verdict = judge.check(commit, policy, REGISTER_FILE, new, roles) if roles and not adopted else None
        # A symlink would have the checkout read some other file as the register.
        plain = new is None or change.mode not in (LINK, GITLINK)
        ok = plain and (verdict is None or verdict.ok)
        status = ADOPTED if adopted else NO_GATE if not roles else APPROVED if ok else UNAPPROVED
        records.append(_record(commit, policy, new or "", status, roles, verdict))
        if plain and new == approved:
            drifted = None
        elif ok and current == approved and drifted is None:
            approved, approved_at = new, commit.sha
        else:
            drifted = drifted or commit
        current = new
    if drifted is None:
        return records, []
    role = line.last.gates.get(GATE, "数据中心")
    since = f"（提交 {approved_at[:10]} 中的版本）" if approved_at else "（此前没有经审批的版本：删除该文件）"
    return records, [Issue("art24.unapproved-register", "", REGISTER_FILE, drifted.sha,
                           f"{REGISTER_FILE} 自提交 {drifted.sha[:10]} 起的修改未经审批：全局政务信息系统目录只能由{role}成员"
                           f"合并拉取请求修改（gates.systems，第八条、第三十条）。修改方法：把 {REGISTER_FILE} 恢复为经审批的版本"
                           f"{since}，再通过拉取请求提交修改")]


def _record(commit: Commit, policy: Config, blob: str, status: str, roles: tuple[str, ...],
            verdict: Verdict | None) -> ApprovalRecord:
    held = verdict.held if verdict else tuple(sorted(policy.role_of(commit.author.email)))
    sig = verdict.signature if verdict else None
    problem = (verdict.problem if verdict and not verdict.ok else "") or (SYMLINK if status == UNAPPROVED else "")
    return ApprovalRecord(project=REGISTER_FILE, folder=REGISTER_FILE, change=GATE, from_stage=None, to_stage=None,
                          gates=(GATE,) if roles else (), roles=roles, commit=commit.sha, date=commit.committed,
                          merged_by=str(commit.author), held=held, tree=commit.tree, blob=blob, status=status,
                          problem=problem, signature=sig.status if sig else NOT_CHECKED, key=sig.key if sig else "")
