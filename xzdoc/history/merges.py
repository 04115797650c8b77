"""Whether one commit on the main line is an approving merge of a change, under the policy as of its first parent.

One judge for everything gated (stage gates, filings, folder edits,
xzdoc.yaml itself), so the ledger and the server-side guard cannot disagree.
A commit approves the change of ``path`` to ``new`` only when all hold:

- it is a merge with exactly two parents, on the first-parent line;
- the content comes from its second parent (``M^2:path`` is ``new``): a
  change already in ``M^1`` or made in the merge itself is not approved by
  it, which also makes a merge of main into a feature branch, fast-forwarded
  later, approve nothing;
- author and committer are the same person, unless the committer is a
  forge identity the policy names (an amended merge keeps the approver as
  author, but not as committer);
- the author holds every role the change needs;
- with signing required, the signature verifies with the author's key
  (xzdoc/history/signatures.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xzdoc.config import Config
from xzdoc.history import gitlog, signatures
from xzdoc.history.log import Commit
from xzdoc.keys import Key

DIRECT_PUSH, NON_APPROVER, TRAILER_CLAIM, SQUASH, UNSIGNED = (
    "direct-push", "non-approver-merge", "trailer-claim", "squash-or-rebase", "unsigned-merge")
OCTOPUS, COMMITTER, NOT_FROM_BRANCH = "octopus-merge", "committer-mismatch", "not-from-second-parent"
PROBLEM_ZH = {
    DIRECT_PUSH: "直接推送到主分支，没有经过合并审批",
    NON_APPROVER: "合并人不是该角色的审批人",
    TRAILER_CLAIM: "仅在提交说明的尾注中声称已批准，尾注不是审批凭证",
    SQUASH: "以压缩合并（squash）或变基合并（rebase）进入主分支，没有可作审批凭证的合并提交",
    UNSIGNED: "合并提交的签名未通过核验",
    OCTOPUS: "多于两个父提交的合并，无法确定审批的是哪个分支",
    COMMITTER: "合并提交的提交人与作者不是同一人（被他人修改过，或不是审批人亲自合并）",
    NOT_FROM_BRANCH: "该变更不是由合并的第二父提交（被合并的分支）带入的，合并前已在主分支上或在合并时另行改动",
}
_CLAIM_KEYS = {"approved-by", "reviewed-by", "acked-by", "consented-by", "批准人", "审批人", "同意人", "批准", "审批"}
_PR_SUBJECT = re.compile(r"\(#\d+\)\s*$")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problem: str = ""
    held: tuple[str, ...] = ()
    signature: signatures.Signature = field(default_factory=lambda: signatures.Signature(signatures.NOT_CHECKED))
    claim: str = ""


class Judge:
    """Reads, once per run, what judging needs from git: second-parent contents and signatures.

    The second-parent lookup is started by the constructor and read as git
    answers, oldest merge first, so git looks up the later merges while the
    ledger reads versions and judges the earlier ones.
    """

    def __init__(self, workdir: Path, commits: Sequence[Commit], paths: dict[str, list[str]],
                 require_signed: bool) -> None:
        """``paths``: merge sha -> the paths whose second-parent content may be asked, oldest merge first."""
        self.workdir = workdir
        self.commits = commits
        # Named by the second parent's id as the log gave it, not as ``M^2``: git then need not read M again.
        self._parent = {c.sha: c.parents[1] for c in commits if len(c.parents) == 2}
        self._asked: dict[str, Iterator[tuple[str, tuple[str, str] | None]]] = {}   # name -> its answers
        self.second: dict[str, str | None] = {}    # name -> id, None when it names nothing
        self.ask(paths)
        self.require = require_signed
        self.raw: dict[str, tuple[str, ...]] = {}
        self.revoked: tuple[Key, ...] = ()

    def ask(self, paths: dict[str, list[str]]) -> None:
        """Start looking up more second-parent contents (a policy in history named another projects folder)."""
        names = {f"{sha}^2:{path}": f"{self._parent[sha]}:{path}" for sha, wanted in paths.items()
                 if sha in self._parent for path in wanted}
        names = {name: asked for name, asked in names.items() if name not in self._asked}
        if names:
            by_asked: dict[str, list[str]] = {}   # two merges of one branch tip ask git once
            for name, asked in names.items():
                by_asked.setdefault(asked, []).append(name)
            answers = ((name, kind) for asked, kind in gitlog.kinds_in_order(self.workdir, by_asked)
                       for name in by_asked[asked])
            self._asked.update(dict.fromkeys(names, answers))

    def finish(self) -> None:
        """Read the answers not asked for: git is waited for, and its failure raised."""
        for answers in set(self._asked.values()):
            self._take(answers, None)

    def _take(self, answers: Iterator[tuple[str, tuple[str, str] | None]], wanted: str | None) -> None:
        for name, kind in answers:
            self.second[name] = kind[0] if kind else None
            if name == wanted:
                return

    def second_parent(self, commit: Commit, path: str) -> str | None:
        name = f"{commit.sha}^2:{path}"
        if name in self._asked and name not in self.second:
            self._take(self._asked[name], name)
        return self.second.get(name)

    def read_signatures(self, policies: Iterable[Config]) -> None:
        policies = list(policies)
        if self.require or any(p.require_signed for p in policies):
            merges = [c.sha for c in self.commits if len(c.parents) == 2]
            self.raw = signatures.read(self.workdir, merges, policies) if merges else {}

    def signature(self, commit: Commit, policy: Config) -> signatures.Signature:
        if not (self.require or policy.require_signed):
            return signatures.Signature(signatures.NOT_CHECKED)
        return signatures.judge(self.raw.get(commit.sha), policy, commit.author.email, self.revoked)

    def check(self, commit: Commit, policy: Config, path: str, new: str | None, roles: Sequence[str]) -> Verdict:
        """Does ``commit`` approve ``path`` becoming ``new`` (None: deleted) for ``roles`` under ``policy``?"""
        held = tuple(sorted(policy.role_of(commit.author.email)))
        if len(commit.parents) < 2:
            claim = _claim(commit)
            problem = TRAILER_CLAIM if claim else SQUASH if _merged_elsewhere(commit, policy) else DIRECT_PUSH
            return Verdict(False, problem, held, claim=claim)
        sig = self.signature(commit, policy)
        if len(commit.parents) > 2:
            return Verdict(False, OCTOPUS, held, sig)
        author, committer = commit.author.email.strip().lower(), commit.committer.email.strip().lower()
        if author != committer and committer not in policy.forge_committers:
            return Verdict(False, COMMITTER, held, sig)
        if self.second_parent(commit, path) != new:
            return Verdict(False, NOT_FROM_BRANCH, held, sig)
        if not set(roles) <= set(held):
            return Verdict(False, NON_APPROVER, held, sig)
        if sig.status not in (signatures.VERIFIED, signatures.NOT_CHECKED):
            return Verdict(False, UNSIGNED, held, sig)
        return Verdict(True, "", held, sig)


def _claim(commit: Commit) -> str:
    for key, value in commit.trailers:
        low = key.lower()
        if low in _CLAIM_KEYS or "approv" in low:
            return f"{key}: {value}"
    return ""


def _merged_elsewhere(commit: Commit, policy: Config) -> bool:
    """A single-parent commit that a forge or someone else put on main: squash, rebase or cherry-pick."""
    committer = commit.committer.email.lower()
    if committer in policy.forge_committers or committer == "noreply@github.com" or _PR_SUBJECT.search(commit.subject):
        return True
    if commit.subject.startswith("Squashed commit of the following"):   # git merge --squash's message
        return True
    return committer != commit.author.email.lower()
