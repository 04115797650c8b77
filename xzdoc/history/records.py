"""The ledger's vocabulary: one approval record per gated change, one issue per state the history must not be in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xzdoc.config import GATE_ARTICLES
from xzdoc.history.merges import PROBLEM_ZH
from xzdoc.history.signatures import NOT_CHECKED, SIGNATURE_ZH

APPROVED, ADOPTED, NO_GATE, UNAPPROVED = "approved", "adopted", "no-gate", "unapproved"
STATUS_ZH = {APPROVED: "已审批", ADOPTED: "基线采纳", NO_GATE: "无需审批", UNAPPROVED: "未经审批"}
PROJECT_FILE = "project.yaml"
CONFIG_FILE = "xzdoc.yaml"
REGISTER_FILE = "systems.yaml"
BASELINE_REWRITTEN, INVALID_CONFIG, SYMLINK = "baseline-rewritten", "invalid-config", "symlink"
ON_UNAPPROVED = "on-unapproved"
PROBLEM_ZH.update({BASELINE_REWRITTEN: "改写了已设定的 baseline（baseline 只能设定一次）",
                   INVALID_CONFIG: "新的 xzdoc.yaml 无法读取", SYMLINK: "提交的是符号链接或子模块，不是文件",
                   ON_UNAPPROVED: "合并时主分支上已有未经审批的修改，合并人看到的差异不含这些修改（先恢复为经审批的版本）"})


@dataclass(frozen=True)
class ApprovalRecord:
    """One change that entered the main branch: a stage change, a gated filing, or a change of xzdoc.yaml."""

    project: str                # 项目编号 (the folder name when project.yaml has no id); "xzdoc.yaml" for policy
    folder: str                 # projects/<id>, relative to the repository root
    change: str                 # "stage", "records.<key>" for a filing, "config", or "systems" (the register)
    from_stage: str | None      # None when the project first appears
    to_stage: str | None
    gates: tuple[str, ...]      # gate keys the change passes: stages entered, records.<key>, or config
    roles: tuple[str, ...]      # roles whose merge it needs (from the policy as of the first parent)
    commit: str                 # the commit on the first-parent line that brought it into main
    date: str                   # that commit's committer date, ISO 8601: when it entered main
    merged_by: str              # its author, "name <email>"
    held: tuple[str, ...]       # the roles that author holds, as of the first parent
    tree: str                   # git tree hash of the project folder at that commit: the content approved
    blob: str                   # project.yaml blob (xzdoc.yaml blob for a policy change) at that commit
    status: str                 # approved | adopted | no-gate | unapproved
    problem: str = ""           # why unapproved: direct-push, non-approver-merge, unsigned-merge, ...
    current: bool = False       # this is the change in force for one of the project's gates
    evidence: str = ""          # for adopted changes: the records that stand for the approval
    claim: str = ""             # an approval claimed in a trailer, quoted
    signature: str = NOT_CHECKED   # verified | unsigned | bad-signature | unknown-key | revoked-key | wrong-signer
    key: str = ""               # fingerprint of the key that signed the merge
    policy: str = ""            # blob id of the xzdoc.yaml the change was judged by

    @property
    def approved(self) -> bool:
        return self.status != UNAPPROVED

    @property
    def merge_commit(self) -> str:
        """The approving merge, whose folder tree (``tree``) is the content approved."""
        return self.commit

    @property
    def articles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(GATE_ARTICLES.get(g, "第二十四条") for g in self.gates if g in GATE_ARTICLES))

    @property
    def signature_text(self) -> str:
        text = SIGNATURE_ZH.get(self.signature, self.signature)
        return f"{text}（密钥 {self.key}）" if self.key else text

    def describe(self) -> str:
        if self.change == "stage":
            return f"{self.from_stage or '（新建）'} → {self.to_stage or '（无阶段）'}"
        if self.change == "config":
            return "修改 xzdoc.yaml"
        if self.change == "systems":
            return "修改 systems.yaml"
        return f"{self.change} 备案"

    def explain(self) -> str:
        """Why the record is (not) an approval, in one sentence."""
        short = self.commit[:10]
        if self.status == ADOPTED:
            return f"基线之前已达到，按记录采纳（{self.evidence or '无记录可引'}）"
        if self.status == NO_GATE:
            if self.change == "config":
                return f"首个 xzdoc.yaml，或此前的配置没有审批人（提交 {short}）"
            if self.change == "systems":
                return f"首个 systems.yaml，或尚无审批人、无审批关口（提交 {short}）"
            return "新建项目" if self.from_stage is None else "阶段回退或无审批关口"
        roles = "、".join(self.roles)
        signed = "" if self.signature == NOT_CHECKED else f"，{self.signature_text}"
        if self.status == APPROVED:
            return f"{roles}成员 {self.merged_by} 合并（提交 {short}{signed}）"
        text = f"需要{roles}成员合并；{PROBLEM_ZH.get(self.problem, self.problem)}（提交 {short}，{self.merged_by}"
        if self.held:
            text += f"，其角色：{'、'.join(self.held)}"
        text += f"{signed}）"
        if self.claim:
            text += f"；尾注“{self.claim}”"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"project": self.project, "folder": self.folder, "change": self.change, "from": self.from_stage,
                "to": self.to_stage, "gates": list(self.gates), "roles": list(self.roles), "commit": self.commit,
                "date": self.date, "merged_by": self.merged_by, "merger_roles": list(self.held), "tree": self.tree,
                "blob": self.blob, "status": self.status, "approved": self.approved, "problem": self.problem or None,
                "signature": self.signature, "key": self.key or None, "policy": self.policy or None,
                "current": self.current, "evidence": self.evidence or None, "explanation": self.explain()}


@dataclass(frozen=True)
class Issue:
    """A state of the main branch's head that history rules forbid: drift, a deleted project, a bad layout, …"""

    rule: str          # art24.content-drift, art24.deleted-project, art24.unapproved-config, ...
    folder: str        # the project folder it concerns, or "" for the repository
    path: str          # the file to point at, relative to the repository root
    commit: str        # the first commit that brought the state about
    message: str       # Chinese, complete
    level: str = "error"   # "warning" where the history cannot tell whether anything is wrong
    brief: str = ""        # a few words for a table cell (status, dashboard); the message says the rest

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "folder": self.folder or None, "path": self.path, "commit": self.commit,
                "message": self.message, "level": self.level}
