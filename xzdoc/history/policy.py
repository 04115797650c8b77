"""The policy in force at each commit of the main line: xzdoc.yaml read from history, never from the working copy.

The first xzdoc.yaml on the line is taken as it is: before it there is no
policy that could approve it. Every later change is gated (gate
``config``, default 局党组) and takes effect only when it enters through an
approving merge judged by the policy before it (xzdoc/history/merges.py);
until then the last approved policy stays in force and the change is an
issue. A change back to the policy in force is clean again. ``baseline`` is
write-once: a change that rewrites it is refused even from an approver.
Commits at or before the baseline are adopted, their policy changes too; a baseline
set by a later change reaches back only over commits no approver-naming policy judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xzdoc.config import Config, parse
from xzdoc.errors import XzdocError
from xzdoc.history.log import GITLINK, LINK, TREE, Commit, History
from xzdoc.history.merges import Judge
from xzdoc.history.records import (
    ADOPTED,
    APPROVED,
    BASELINE_REWRITTEN,
    CONFIG_FILE,
    INVALID_CONFIG,
    NO_GATE,
    ON_UNAPPROVED,
    SYMLINK,
    UNAPPROVED,
    ApprovalRecord,
    Issue,
)
from xzdoc.history.signatures import NOT_CHECKED


@dataclass
class Timeline:
    before: list[Config] = field(default_factory=list)   # policy in force as of each commit's first parent
    blob: str | None = None                              # xzdoc.yaml blob of the policy in force at the head
    base: int | None = None                              # position of the baseline commit
    records: list[ApprovalRecord] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def last(self) -> Config:
        return self.before[-1]


def config_blobs(history: History) -> list[str]:
    """Every xzdoc.yaml version on the line (root of the repository only)."""
    return [ch.new for c in history.commits for ch in c.changes
            if ch.path == CONFIG_FILE and ch.mode != TREE and ch.status != "D"]


def parse_all(root: Path, blobs: Mapping[str, bytes]) -> dict[str, Config | XzdocError]:
    out: dict[str, Config | XzdocError] = {}
    for blob, data in blobs.items():
        try:
            out[blob] = parse(data, root, f"xzdoc.yaml（版本 {blob[:10]}）")
        except XzdocError as exc:
            out[blob] = exc
    return out


def timeline(history: History, working: Config, parsed: Mapping[str, Config | XzdocError], judge: Judge) -> Timeline:
    """Walk the line oldest first, keeping the policy in force; the policy of a change is that before it."""
    out = Timeline()
    # Before the first xzdoc.yaml on the line, its projects folder (not the working copy's, which anyone may edit).
    first = next((v for b in config_blobs(history) if isinstance(v := parsed.get(b), Config)), working)
    policy = Config(root=working.root, branch=working.branch, projects_dir=first.projects_dir)
    blob: str | None = None
    bootstrapped = False
    pending: tuple[Commit, str] | None = None     # first commit of a config change not in force, and why
    for position, commit in enumerate(history.commits):
        out.before.append(policy)
        change = next((ch for ch in commit.changes if ch.path == CONFIG_FILE and ch.mode != TREE), None)
        if change is None:
            continue
        # Git keeps a link as its target's text: a link reading as the approved policy is still no policy.
        plain = change.status == "D" or change.mode not in (LINK, GITLINK)
        new = None if change.status == "D" else change.new
        version = parsed.get(new) if new and plain else None
        if not bootstrapped:
            if isinstance(version, Config):
                policy, blob, bootstrapped = version, new, True
                out.base = _locate(history, version, position)
                out.records.append(_record(commit, policy, new or "", NO_GATE, "", (), current=False))
            continue
        # What main held before this change: a merge answers for its own diff, so one made over an
        # unapproved change would have its approver sign for lines the pull request never showed.
        over_pending = pending is not None
        if new == blob and plain:
            pending = None
            continue
        adopted = out.base is not None and position <= out.base
        # A policy naming no approver protects nothing, and nobody could approve a change of it: the change
        # that first names approvers starts the ledger, as a first xzdoc.yaml does.
        roles = (policy.gates["config"],) if "config" in policy.gates and policy.approvers else ()
        verdict = judge.check(commit, policy, CONFIG_FILE, new, roles) if roles and not adopted else None
        problem = verdict.problem if verdict is not None else ""
        if not problem and not plain:
            problem = SYMLINK
        if not problem and not isinstance(version, Config):
            problem = INVALID_CONFIG
        if not problem and roles and not adopted and over_pending:
            problem = ON_UNAPPROVED
        if not problem and isinstance(version, Config) and policy.baseline and version.baseline != policy.baseline:
            problem = BASELINE_REWRITTEN
        status = ADOPTED if adopted else NO_GATE if not roles else APPROVED if not problem else UNAPPROVED
        out.records.append(_record(commit, policy, new or "", status, problem, roles, verdict=verdict))
        if problem:
            pending = pending or (commit, problem)
            continue
        assert isinstance(version, Config)
        if out.base is None and version.baseline:
            out.base = _reach(out, _locate(history, version, position))
        policy, blob, pending = version, new, None
    out.before.append(policy)
    out.blob = blob
    _currents(out, pending)
    return out


def _currents(out: Timeline, pending: tuple[Commit, str] | None) -> None:
    """Mark the change that put the policy in force, and report one still waiting for approval."""
    for i in range(len(out.records) - 1, -1, -1):
        r = out.records[i]
        if r.approved and r.blob == (out.blob or ""):
            out.records[i] = _replace_current(r)
            break
    if pending is not None:
        commit, _ = pending
        for i in range(len(out.records) - 1, -1, -1):
            if out.records[i].commit == commit.sha:
                out.records[i] = _replace_current(out.records[i])
                break
        out.issues.append(Issue("art24.unapproved-config", "", CONFIG_FILE, commit.sha,
                                f"xzdoc.yaml 自提交 {commit.sha[:10]} 起的修改未经审批，仍按此前经审批的配置判断："
                                "修改审批人、关口或基线须由局党组成员（gates.config）合并拉取请求后才生效。"
                                "修改方法：把 xzdoc.yaml 恢复为现行版本，再通过拉取请求提交修改"))


def _replace_current(record: ApprovalRecord) -> ApprovalRecord:
    from dataclasses import replace

    return replace(record, current=True)


def _record(commit: Commit, policy: Config, blob: str, status: str, problem: str, roles: tuple[str, ...],
            verdict: object = None, current: bool = False) -> ApprovalRecord:
    from xzdoc.history.merges import Verdict

    held = verdict.held if isinstance(verdict, Verdict) else tuple(sorted(policy.role_of(commit.author.email)))
    sig = verdict.signature if isinstance(verdict, Verdict) else None
    return ApprovalRecord(project=CONFIG_FILE, folder=CONFIG_FILE, change="config", from_stage=None, to_stage=None,
                          gates=("config",) if roles else (), roles=roles, commit=commit.sha, date=commit.committed,
                          merged_by=str(commit.author), held=held, tree=commit.tree, blob=blob, status=status,
                          problem=problem, current=current, signature=sig.status if sig else NOT_CHECKED,
                          key=sig.key if sig else "")


def _reach(out: Timeline, base: int | None) -> int | None:
    """A baseline set by a later change adopts only commits made before any policy named an approver.

    Commits judged under a policy with approvers have been reported as they were; letting a later
    baseline adopt them would turn every finding up to it into 基线采纳.
    """
    if base is None:
        return None
    judged = next((i for i, p in enumerate(out.before) if p.approvers), None)
    return base if judged is None or base < judged else (judged - 1 if judged else None)


def _locate(history: History, version: Config, position: int) -> int | None:
    """Position of the baseline on the line, at or before the commit that set it."""
    if not version.baseline:
        return None
    hits = [i for i, c in enumerate(history.commits[:position + 1]) if c.sha.startswith(version.baseline)]
    if len(hits) != 1:
        branch = history.branch.removeprefix("refs/heads/")
        raise XzdocError(f"xzdoc.yaml 的 baseline“{version.baseline}”不在主分支 {branch} 的第一父提交链上"
                         + ("（前缀不唯一）" if hits else ""), CONFIG_FILE,
                         hint=f"用 git log --first-parent --format='%H %s' {branch} 找到采用 xzdoc 时的提交，写入完整哈希")
    return hits[0]
