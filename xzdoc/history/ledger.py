"""Approval records derived from the first-parent history of the main branch.

A change that needs a role's consent (a stage gate, or a filing such as the
supervision unit under 第十七条) takes effect only when it enters the main
branch through a merge commit whose *author* is an approver of that role.
The author, not the committer: GitHub's web merges are committed by
"GitHub <noreply@github.com>" and authored by the person who pressed merge;
a local ``git merge`` has the merger as both. Anything else - a direct push,
a merge by someone without the role, a claim written only into a commit
message trailer, a squash or rebase merge (a single-parent commit on main
that leaves no merge to sign off) - is a finding under 第二十四条.

Adoption: commits at or before ``baseline`` (xzdoc.yaml) are accepted on the
evidence of the project's own records (批复文号, filing dates) and marked so.

Cost: one ``git log`` and one ``git cat-file --batch`` running side by side
(xzdoc/gitlog.py); stages come from xzdoc/facts.py, cached per blob. The log
is walked newest first while git writes it, each version settled against
the one before it once the facts of both are known.

A renamed project folder is a new project to the ledger: every gate up to
its stage must be passed again by one merge, so renaming cannot shed an
approval's record or escape the drift check.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from xzdoc.config import GATE_ARTICLES, Config
from xzdoc.errors import UsageError, XzdocError
from xzdoc.history import gitlog
from xzdoc.history.facts import Facts, FactsCache

APPROVED, ADOPTED, NO_GATE, UNAPPROVED = "approved", "adopted", "no-gate", "unapproved"
STATUS_ZH = {APPROVED: "已审批", ADOPTED: "基线采纳", NO_GATE: "无需审批", UNAPPROVED: "未经审批"}
DIRECT_PUSH, NON_APPROVER, TRAILER_CLAIM, SQUASH, UNSIGNED = (
    "direct-push", "non-approver-merge", "trailer-claim", "squash-or-rebase", "unsigned-merge")
PROBLEM_ZH = {
    DIRECT_PUSH: "直接推送到主分支，没有经过合并审批",
    NON_APPROVER: "合并人不是该角色的审批人",
    TRAILER_CLAIM: "仅在提交说明的尾注中声称已批准，尾注不是审批凭证",
    SQUASH: "以压缩合并（squash）或变基合并（rebase）进入主分支，没有可作审批凭证的合并提交",
    UNSIGNED: "合并提交的签名未通过 git verify-commit 验证",
}
PROJECT_FILE = "project.yaml"
_CLAIM_KEYS = {"approved-by", "reviewed-by", "acked-by", "consented-by", "批准人", "审批人", "同意人", "批准", "审批"}
_PR_SUBJECT = re.compile(r"\(#\d+\)\s*$")
_FORGE_COMMITTERS = {"noreply@github.com"}
# Where the evidence of an adopted stage lives in project.yaml.
_EVIDENCE: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "reviewed": ("review", (("date", "审核意见"),)),
    "approved": ("approval", (("doc_no", "批复文号"), ("date", "批复日期"))),
    "contracted": ("contract", (("signed", "合同签订"), ("filed", "合同备案"))),
    "building": ("supervision", (("unit", "监理单位"), ("consent", "局党组同意"), ("filed", "监理备案"))),
    "accepted": ("acceptance", (("date", "竣工验收"),)),
    "operating": ("acceptance_filing", (("date", "验收报告备案"), ("consent", "局党组同意"))),
    "terminated": ("termination", (("doc_no", "终止文号"), ("date", "终止日期"))),
    "records.supervision": ("supervision", (("unit", "监理单位"), ("consent", "局党组同意"), ("filed", "监理备案"))),
    "records.acceptance_filing": ("acceptance_filing", (("date", "验收报告备案"), ("consent", "局党组同意"))),
}


@dataclass(frozen=True)
class ApprovalRecord:
    """One change that entered the main branch: a stage change or a gated filing."""

    project: str                # 项目编号 (the folder name when project.yaml has no id)
    folder: str                 # projects/<id>, relative to the repository config root
    change: str                 # "stage", or "records.<key>" for a filing
    from_stage: str | None      # None when the project first appears
    to_stage: str | None
    gates: tuple[str, ...]      # gate keys the change passes: stages entered, or records.<key>
    roles: tuple[str, ...]      # roles whose merge it needs (from xzdoc.yaml gates)
    commit: str                 # the commit on the first-parent line that brought it into main
    date: str                   # that commit's committer date, ISO 8601: when it entered main
    merged_by: str              # its author, "name <email>"
    held: tuple[str, ...]       # the roles that author holds
    tree: str                   # git tree hash of the project folder at that commit: the content approved
    blob: str                   # project.yaml blob at that commit
    status: str                 # approved | adopted | no-gate | unapproved
    problem: str = ""           # why unapproved: direct-push, non-approver-merge, trailer-claim, ...
    current: bool = False       # this is the change in force for one of the project's gates
    evidence: str = ""          # for adopted changes: the records that stand for the approval
    claim: str = ""             # an approval claimed in a trailer, quoted

    @property
    def approved(self) -> bool:
        return self.status != UNAPPROVED

    @property
    def articles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(GATE_ARTICLES.get(g, "第二十四条") for g in self.gates if g in GATE_ARTICLES))

    def describe(self) -> str:
        if self.change == "stage":
            return f"{self.from_stage or '（新建）'} → {self.to_stage}"
        return f"{self.change} 备案"

    def explain(self) -> str:
        """Why the record is (not) an approval, in one sentence."""
        short = self.commit[:10]
        if self.status == ADOPTED:
            return f"基线之前已达到，按记录采纳（{self.evidence or '无记录可引'}）"
        if self.status == NO_GATE:
            return "新建项目" if self.from_stage is None else "阶段回退或无审批关口"
        roles = "、".join(self.roles)
        if self.status == APPROVED:
            return f"{roles}成员 {self.merged_by} 合并（提交 {short}）"
        text = f"需要{roles}成员合并；{PROBLEM_ZH.get(self.problem, self.problem)}（提交 {short}，{self.merged_by}"
        if self.held:
            text += f"，其角色：{'、'.join(self.held)}"
        text += "）"
        if self.claim:
            text += f"；尾注“{self.claim}”"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"project": self.project, "folder": self.folder, "change": self.change, "from": self.from_stage,
                "to": self.to_stage, "gates": list(self.gates), "roles": list(self.roles), "commit": self.commit,
                "date": self.date, "merged_by": self.merged_by, "merger_roles": list(self.held), "tree": self.tree,
                "blob": self.blob,
                "status": self.status, "approved": self.approved, "problem": self.problem or None,
                "current": self.current, "evidence": self.evidence or None, "explanation": self.explain()}


@dataclass(frozen=True)
class Reference:
    """The project.yaml that an approval fixed (for drift under 第十六、二十四条)."""

    commit: str
    blob: bytes
    adopted: bool


@dataclass(frozen=True)
class Ledger:
    workdir: str
    branch: str
    head: str
    baseline: str | None
    records: tuple[ApprovalRecord, ...]
    heads: Mapping[str, Facts]           # folder -> facts on the branch head
    references: Mapping[str, Reference]  # folder -> approved content, for projects past approved
    baseline_blobs: Mapping[str, str]    # folder -> blob id at the baseline commit

    def problems(self) -> list[ApprovalRecord]:
        return [r for r in self.records if r.current and not r.approved]


def crossed(config: Config, old: str | None, new: str | None) -> tuple[str, ...]:
    """The stages a change from ``old`` to ``new`` enters, in lifecycle order; none when moving back."""
    if new is None or new == old:
        return ()
    if new == "terminated":
        return ("terminated",)
    order = _order(config)
    high = order.get(new, -1)
    if high < 0:
        return ()
    # A project that first appears, was terminated or had an unknown stage starts again from draft.
    low = max(order.get(old, 0), 0) if old and old != "terminated" else 0
    return tuple(name for name, i in order.items() if low < i <= high)


_ORDERS: dict[int, tuple[Any, dict[str, int]]] = {}


def _order(config: Config) -> dict[str, int]:
    """Lifecycle position of each stage (terminated excluded), cached per standard."""
    std = config.standard
    cached = _ORDERS.get(id(std))
    if cached is None or cached[0] is not std:
        cached = _ORDERS[id(std)] = (std, {s.name: std.stage_order(s.name) for s in std.stages if s.name != "terminated"})
    return cached[1]


def gates_in_force(config: Config, stage: str, records: Iterable[str]) -> tuple[str, ...]:
    """Every gate key whose approval the project's present state rests on."""
    keys = list(crossed(config, None, stage))
    keys += [f"records.{r}" for r in sorted(set(records))]
    return tuple(k for k in keys if k in config.gates)


def roles_for(config: Config, gates: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(config.gates[g] for g in gates if g in config.gates))


def build(config: Config, require_signed: bool = False) -> Ledger | None:
    """The ledger of the repository holding ``config.root``; None before the first commit."""
    state_dir = gitlog.state_dir(config.root)
    cache = FactsCache(state_dir / "facts" if state_dir else None, frozenset(s.name for s in config.standard.stages),
                       load=False)   # read once git has started, while it starts up
    # One cat-file for the run: project.yaml versions not cached are read and scanned while the log streams,
    # and the approved versions the drift check needs are read from it as soon as the walk knows them.
    def digest(buf: bytes, objects: list[tuple[str, int, int]]) -> None:
        cache.digest(buf, objects)
        walk.retry()

    with gitlog.Objects(config.root, digest) as objects:
        walk = _Walk(config, cache, objects)
        history = gitlog.history(config.root, config.projects_dir, config.branch,
                                 lambda ch: _is_project_file(ch) and ch.new not in cache.known,
                                 _folder_or_project_file, objects, walk.push, cache.load)
        if history is None:
            return None
        objects.wait()   # for the project.yaml versions git is still reading; the walk goes on as they come
        walk.finish()
        objects.done_asking()
        base = _baseline_index(config, history)
        records = walk.records()
        if require_signed:
            records = _verify(history.workdir, records)
        cache.save()
        blobs = objects.read(blob for _, blob, _ in walk.chosen.values())
    references = {folder: Reference(commit, blobs.get(blob, b""), adopted)
                  for folder, (commit, blob, adopted) in walk.chosen.items()}
    commits = history.commits
    return Ledger(str(history.workdir), history.branch, commits[-1].sha if commits else "",
                  commits[base].sha if base is not None else None, tuple(records), walk.heads(), references,
                  walk.at_base)


_TREE = "040000"
_SUFFIX = "/" + PROJECT_FILE


def _is_project_file(ch: gitlog.Change) -> bool:
    """A project's project.yaml among the entries ``_folder_or_project_file`` keeps (the rest are folders)."""
    return ch.mode != _TREE and ch.path.endswith(_SUFFIX)
# One version of a project.yaml on the first-parent line: (position counted from the newest commit, position of
# the entry in its commit's diff, commit, diff entry, folder name).
_Version = tuple[int, int, gitlog.Commit, gitlog.Change, str]


class _Walk:
    """Derives the records while the log streams, newest commit first.

    A version's record compares it with the version before it, which comes
    later in the stream; so each commit is taken in turn once the facts of
    its project.yaml versions are known - at once when cached, else when
    they have been read and scanned - and each version is then settled
    against the one before it. Newest first, the first record of a project
    passing a gate is the one in force for that gate, and the first passing
    ``approved`` fixes the content the drift check compares with.
    """

    def __init__(self, config: Config, cache: FactsCache, objects: gitlog.Objects) -> None:
        self.config, self.cache, self.objects = config, cache, objects
        self.prefix = f"{config.projects_dir}/"
        self.waiting: deque[gitlog.Commit] = deque()       # commits whose facts are still being read
        self.position = 0                                  # of the next commit taken, counted from the newest
        self.base: int | None = None                       # position of the baseline commit, once passed
        self.head: dict[str, str | None] = {}              # folder -> blob id on the branch head, None if deleted
        self.at_base: dict[str, str] = {}                  # folder -> blob id at the baseline commit
        self.settled: set[str] = set()                     # folders whose baseline version is known
        self.older: dict[str, _Version] = {}               # folder -> its oldest version so far, awaiting the one before
        self.in_force: dict[str, set[str]] = {}            # folder -> gates of its head not yet given a current record
        self.chosen: dict[str, tuple[str, str, bool]] = {}  # folder -> (commit, blob, adopted) approved content
        self.held: dict[str, tuple[str, ...]] = {}         # author email -> roles
        self.roles: dict[tuple[str, ...], tuple[str, ...]] = {}                    # gates -> roles they need
        self.crossings: dict[tuple[str | None, str | None], tuple[str, ...]] = {}  # stage change -> gates
        self.out: list[tuple[tuple[int, int, int], ApprovalRecord]] = []
        self.asking: list[str] = []                        # approved contents to ask git for, a batch at a time
        self.final = False                                 # the log has ended and every object is read

    def push(self, commit: gitlog.Commit) -> None:
        self.waiting.append(commit)
        if len(self.waiting) == 1:
            self.retry()

    def retry(self) -> None:
        """Take the waiting commits, in order, as far as their facts are known."""
        waiting, known, final = self.waiting, self.cache.known, self.final
        while waiting:
            commit = waiting[0]
            if not final:
                for ch in commit.changes:
                    if ch.new not in known and ch.status != "D" and _is_project_file(ch):
                        return
            waiting.popleft()
            self._take(commit)

    def finish(self) -> None:
        """Once the log has ended and every object asked for is read: the commits left, then first versions."""
        self.final = True
        self.retry()
        for folder, (position, order, commit, ch, name) in self.older.items():
            if ch.status != "D":
                self._settle(folder, (position, order, commit, ch, name), None, self._facts(ch.new))
        self._ask()

    def records(self) -> list[ApprovalRecord]:
        return [record for _, record in sorted(self.out, key=lambda item: item[0])]

    def heads(self) -> dict[str, Facts]:
        return {folder: self._facts(blob) for folder, blob in self.head.items() if blob is not None}

    def _take(self, commit: gitlog.Commit) -> None:
        position = self.position
        self.position += 1
        baseline = self.config.baseline
        if baseline and self.base is None and commit.sha.startswith(baseline):
            self.base = position
        head, older, prefix = self.head, self.older, self.prefix
        for order, ch in enumerate(commit.changes):
            if ch.mode == _TREE or not ch.path.endswith(_SUFFIX):   # _is_project_file, inline: every commit passes
                continue
            name = ch.path[:-len(_SUFFIX)]
            folder = prefix + name
            gone = ch.status == "D"
            if folder not in head:
                head[folder] = None if gone else ch.new
            if self.base is not None and folder not in self.settled:
                self.settled.add(folder)
                if not gone:
                    self.at_base[folder] = ch.new
            version = (position, order, commit, ch, name)
            newer = older.get(folder)
            older[folder] = version
            if newer is not None and newer[3].status != "D":
                self._settle(folder, newer, None if gone else self._facts(ch.new), self._facts(newer[3].new))
        if position % 512 == 511:
            self._ask()   # in batches: every write to git costs a wake-up

    def _facts(self, blob: str) -> Facts:
        found = self.cache.known.get(blob)
        if found is None:
            if not self.final:   # a pair is settled only once its facts are in: this would be a guess
                raise RuntimeError(f"project.yaml {blob} looked at before it was read")
            found = self.cache.get(blob, self.objects.get(blob))
        return found

    def _settle(self, folder: str, version: _Version, old: Facts | None, now: Facts) -> None:
        if old is not None and old.stage == now.stage and now.records <= old.records:
            return   # the common case: an edit that neither moves the stage nor files a record
        config = self.config
        position, order, commit, ch, name = version
        in_force = self.in_force.get(folder)
        if in_force is None:
            blob = self.head[folder]
            head = self._facts(blob) if blob is not None else None
            in_force = self.in_force[folder] = set(gates_in_force(config, head.stage, head.records)
                                                  if head is not None and head.stage else ())
        email = commit.author.email
        held = self.held.get(email)
        if held is None:
            held = self.held[email] = tuple(sorted(config.role_of(email)))
        tree = next((c.new for c in commit.changes if c.mode == _TREE and c.path == name), "")
        for sub, (change, gates, frm, to) in enumerate(_changes(config, old, now, self.crossings)):
            roles = self.roles.get(gates)
            if roles is None:
                roles = self.roles[gates] = roles_for(config, gates)
            adopted = self.base is not None and position >= self.base and bool(roles)
            current = not in_force.isdisjoint(gates)
            in_force.difference_update(gates)
            self.out.append(((-position, order, sub), _record(config, commit, folder, name, now, change, gates, roles,
                                                             frm, to, tree, ch.new, held, adopted, current)))
            if "approved" in gates and folder not in self.chosen:
                self._choose(folder, commit, ch.new, adopted)

    def _choose(self, folder: str, commit: gitlog.Commit, blob: str, adopted: bool) -> None:
        """The approved content of a project past ``approved``, asked of git soon for the drift check."""
        head = self.head[folder]
        facts = self._facts(head) if head is not None else None
        if facts is None or facts.stage is None or not self.config.standard.reached(facts.stage, "approved"):
            return
        adopted = adopted and folder in self.at_base
        self.chosen[folder] = (commit.sha, self.at_base[folder] if adopted else blob, adopted)
        self.asking.append(self.chosen[folder][1])

    def _ask(self) -> None:
        if self.asking:
            self.objects.request(self.asking)
            self.asking = []


def _folder_or_project_file(path: bytes) -> bool:
    """Raw diff paths the ledger reads: a project folder (its tree hash) or its project.yaml."""
    slash = path.find(b"/")
    return slash < 0 or (path.endswith(b"/project.yaml") and path.find(b"/", slash + 1) < 0)


def _baseline_index(config: Config, history: gitlog.History) -> int | None:
    if not config.baseline:
        return None
    hits = [i for i, c in enumerate(history.commits) if c.sha.startswith(config.baseline)]
    if len(hits) != 1:
        branch = history.branch.removeprefix("refs/heads/")
        raise XzdocError(f"xzdoc.yaml 的 baseline“{config.baseline}”不在主分支 {branch} 的第一父提交链上"
                         + ("（前缀不唯一）" if hits else ""), config.path or "xzdoc.yaml",
                         hint=f"用 git log --first-parent --format='%H %s' {branch} 找到采用 xzdoc 时的提交，写入完整哈希")
    return hits[0]


def _changes(config: Config, old: Facts | None, now: Facts, crossings: dict[tuple[str | None, str | None], tuple[str, ...]]
             ) -> list[tuple[str, tuple[str, ...], str | None, str | None]]:
    out: list[tuple[str, tuple[str, ...], str | None, str | None]] = []
    frm = old.stage if old else None
    if old is None or old.stage != now.stage:
        gates = crossings.get((frm, now.stage))
        if gates is None:
            gates = crossings[(frm, now.stage)] = crossed(config, frm, now.stage)
        out.append(("stage", gates, frm, now.stage))
    before = old.records if old else frozenset()
    for key in sorted(now.records - before):
        gate = f"records.{key}"
        if gate in config.gates:
            out.append((gate, (gate,), now.stage, now.stage))
    return out


def _record(config: Config, commit: gitlog.Commit, folder: str, name: str, now: Facts, change: str,
            gates: tuple[str, ...], roles: tuple[str, ...], frm: str | None, to: str | None, tree: str, blob: str,
            held: tuple[str, ...], adopted: bool, current: bool) -> ApprovalRecord:
    status, problem, claim = NO_GATE, "", ""
    if adopted:
        status = ADOPTED
    elif roles and commit.is_merge and set(roles) <= set(held):
        status = APPROVED
    elif roles:
        status, claim = UNAPPROVED, _claim(commit)
        if commit.is_merge:
            problem = NON_APPROVER
        elif claim:
            problem = TRAILER_CLAIM
        elif _merged_elsewhere(commit):
            problem = SQUASH
        else:
            problem = DIRECT_PUSH
    return ApprovalRecord(project=now.id or name, folder=folder, change=change, from_stage=frm, to_stage=to,
                          gates=gates, roles=roles, commit=commit.sha, date=commit.committed,
                          merged_by=str(commit.author), held=held, tree=tree, blob=blob, status=status,
                          problem=problem, claim=claim, current=current)


def _claim(commit: gitlog.Commit) -> str:
    for key, value in commit.trailers:
        low = key.lower()
        if low in _CLAIM_KEYS or "approv" in low:
            return f"{key}: {value}"
    return ""


def _merged_elsewhere(commit: gitlog.Commit) -> bool:
    """A single-parent commit that a forge or someone else put on main: squash, rebase or cherry-pick."""
    if commit.committer.email.lower() in _FORGE_COMMITTERS or _PR_SUBJECT.search(commit.subject):
        return True
    if commit.subject.startswith("Squashed commit of the following"):   # git merge --squash's message
        return True
    return commit.committer.email.lower() != commit.author.email.lower()


def _verify(workdir: Any, records: list[ApprovalRecord]) -> list[ApprovalRecord]:
    verdicts: dict[str, bool] = {}
    out = []
    for r in records:
        if r.status == APPROVED:
            if r.commit not in verdicts:
                verdicts[r.commit] = gitlog.verify_commit(workdir, r.commit)
            if not verdicts[r.commit]:
                r = replace(r, status=UNAPPROVED, problem=UNSIGNED)
        out.append(r)
    return out


def latest(records: Sequence[ApprovalRecord], folder: str, gate: str) -> ApprovalRecord | None:
    """The most recent change of ``folder`` that passed ``gate``: the one the present state rests on."""
    for r in reversed(records):
        if r.folder == folder and gate in r.gates:
            return r
    return None


def records_for(config: Config, project_id: str, require_signed: bool = False) -> list[ApprovalRecord]:
    """The approval records of one project (by 项目编号 or folder), oldest first, evidence filled in.

    For the bundle's approval-record page. Raises XzdocError when history is
    unavailable (not a repository, shallow clone, no git).
    """
    ledger = build(config, require_signed)
    if ledger is None:
        return []
    return with_evidence(config, ledger, of_project(ledger, project_id))


def of_project(ledger: Ledger, project_id: str) -> list[ApprovalRecord]:
    """Records of one project, named by 项目编号, folder path or folder name."""
    return [r for r in ledger.records if project_id in (r.project, r.folder, r.folder.rsplit("/", 1)[-1])]


def with_evidence(config: Config, ledger: Ledger, records: Sequence[ApprovalRecord]) -> list[ApprovalRecord]:
    """Fill in, for adopted records, the filings in the baseline's project.yaml that stand for the approval."""
    adopted = [r for r in records if r.status == ADOPTED]
    if not adopted:
        return list(records)
    from pathlib import Path

    blobs = gitlog.read_objects(Path(ledger.workdir), {ledger.baseline_blobs[r.folder] for r in adopted
                                                       if r.folder in ledger.baseline_blobs})
    parsed: dict[str, Any] = {}
    out = []
    for r in records:
        if r.status == ADOPTED:
            blob_id = ledger.baseline_blobs.get(r.folder, "")
            if blob_id not in parsed:
                parsed[blob_id] = load_blob(blobs.get(blob_id, b""))
            r = replace(r, evidence=evidence(parsed[blob_id], r))
        out.append(r)
    return out


def load_blob(blob: bytes) -> Any:
    """A project.yaml version as plain data; None when it does not parse."""
    from xzdoc.source.yamlio import decode, loads, plain

    try:
        return plain(loads(decode(blob, PROJECT_FILE), PROJECT_FILE))
    except XzdocError:
        return None


def evidence(data: Any, record: ApprovalRecord) -> str:
    """The record fields that stand for an adopted approval, e.g. 批复文号 忻政数函〔2025〕37号."""
    records = data.get("records") if isinstance(data, dict) else None
    parts: list[str] = []
    for gate in record.gates:
        if gate == "submitted" and isinstance(data, dict) and data.get("documents"):
            parts.append("申请材料：" + "、".join(str(k) for k in data["documents"]))
        key, fields = _EVIDENCE.get(gate, ("", ()))
        entry = records.get(key) if isinstance(records, dict) and key else None
        if isinstance(entry, dict):
            parts += [f"{label} {entry[f]}" for f, label in fields if entry.get(f) not in (None, "")]
        elif key:
            parts.append(f"缺少 records.{key}")
    return "；".join(dict.fromkeys(parts))


def _on_main(config: Config, ledger: Ledger, folder: str) -> set[str]:
    head = ledger.heads.get(folder)
    return set(gates_in_force(config, head.stage, head.records)) if head and head.stage else set()


def pending(config: Config, ledger: Ledger, folder: str, stage: str, records: Iterable[str]) -> list[str]:
    """Gates the working copy's state needs that the main branch's present state has not passed."""
    have = _on_main(config, ledger, folder)
    return [g for g in gates_in_force(config, stage, records) if g not in have]


def unapproved(config: Config, ledger: Ledger, folder: str, stage: str, records: Iterable[str]) -> list[ApprovalRecord]:
    """The unapproved changes on main that the working copy's state still rests on."""
    have = _on_main(config, ledger, folder)
    out = []
    for gate in gates_in_force(config, stage, records):
        found = latest(ledger.records, folder, gate) if gate in have else None
        if found is not None and not found.approved and found not in out:
            out.append(found)
    return out


def select(ledger: Ledger, project: str | None) -> list[ApprovalRecord]:
    """Records of one project (项目编号 or folder), or all; an unknown project is an error."""
    if not project:
        return list(ledger.records)
    name = project.rstrip("/").rsplit("/", 1)[-1]
    found = [r for r in ledger.records if name in (r.project, r.folder.rsplit("/", 1)[-1])]
    if not found:
        known = "、".join(sorted({r.project for r in ledger.records})) or "（无）"
        raise UsageError(f"主分支上没有项目“{project}”的记录", "命令行参数 PROJECT", hint=f"已有记录的项目：{known}")
    return found


def as_text(config: Config, ledger: Ledger, records: Sequence[ApprovalRecord]) -> str:
    branch = ledger.branch.removeprefix("refs/heads/")
    lines = [f"审批台账：主分支 {branch}，最新提交 {ledger.head[:10]}"
             + (f"，采用基线 {ledger.baseline[:10]}" if ledger.baseline else "，未设采用基线")]
    folders = list(dict.fromkeys(r.folder for r in records))
    for folder in folders:
        mine = [r for r in records if r.folder == folder]
        head = ledger.heads.get(folder)
        stage = head.stage if head and head.stage else "（已删除）"
        lines += ["", f"{mine[-1].project}  {folder}  当前阶段：{stage}"]
        for r in mine:
            mark = "✔" if r.approved else "✘"
            flag = "  ←现行" if r.current else ""
            lines.append(f"  {mark} {r.date[:10]}  {r.describe():<24}  {STATUS_ZH[r.status]}：{r.explain()}"
                         f"  目录树 {r.tree[:10]}{flag}")
    problems = [r for r in records if r.current and not r.approved]
    lines.append("")
    if problems:
        lines.append(f"{len(problems)} 项现行变更未经审批（第二十四条）：")
        lines += [f"{r.folder}/{PROJECT_FILE}: error [{rule_of(r)}] {r.project} {r.describe()}：{r.explain()}"
                  for r in problems]
    else:
        lines.append("现行的阶段和备案均经审批。")
    return "\n".join(lines)


def rule_of(record: ApprovalRecord) -> str:
    if record.problem == UNSIGNED:
        return "art24.unsigned-merge"
    return "art24.unapproved-stage-change" if record.change == "stage" else "art24.unapproved-filing"


def as_json(ledger: Ledger, records: Sequence[ApprovalRecord]) -> str:
    import json

    return json.dumps({"branch": ledger.branch, "head": ledger.head, "baseline": ledger.baseline,
                       "records": [r.as_dict() | ({"rule": rule_of(r)} if r.current and not r.approved else {})
                                   for r in records]}, ensure_ascii=False, indent=2)
