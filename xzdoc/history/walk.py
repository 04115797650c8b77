"""The project folders along the main line, oldest commit first: records of gated changes, and drift as a state.

Per folder the walk keeps the tree as last approved. At a first-parent
commit C that changes the folder:

- C's tree equals the approved tree (a revert): the folder is clean again;
- C is an approving merge of the right role (xzdoc/history/merges.py) and
  its first parent's folder equals the approved tree: C's tree becomes the
  approved tree. The right role is that of every gate the change passes,
  or, for an edit that passes none, that of the stage the project stands on;
- C is such a merge over a drifted folder, and adjustment requests new in C
  cover every file and field that differs from the approved tree: likewise;
- otherwise the folder has drifted, from the first commit that diverged.

A project's first approval fixes its first approved tree; at or before the
baseline every folder's tree is taken as approved. Deleting an approved
folder leaves it drifted until the approved tree comes back. Symlinks,
submodules, ``.gitattributes`` and nested ``xzdoc.yaml`` under the projects
folder are issues while they are on the head.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from xzdoc.config import Config
from xzdoc.history import drift, gitlog
from xzdoc.history.calendar import beijing_date
from xzdoc.history.facts import Facts, FactsCache
from xzdoc.history.log import GITLINK, LINK, TREE, Change, Commit, History
from xzdoc.history.merges import Judge, Verdict
from xzdoc.history.policy import Timeline
from xzdoc.history.records import (
    ADOPTED,
    APPROVED,
    NO_GATE,
    PROJECT_FILE,
    UNAPPROVED,
    ApprovalRecord,
)
from xzdoc.history.signatures import NOT_CHECKED
from xzdoc.history.stages import crossed, gates_in_force, roles_for


@dataclass
class Folder:
    path: str
    tree: str | None = None
    blob: str | None = None
    approved_tree: str | None = None
    approved_blob: str | None = None
    approved_commit: str = ""
    adopted: bool = False
    baseline_blob: str | None = None               # the project.yaml the baseline adopted, kept as its evidence
    drifted: Commit | None = None                  # first commit that left the approved tree
    # record key -> (commit, date, and for a date only a later commit contradicts: that commit and its day)
    future: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)


@dataclass
class Walk:
    history: History
    timeline: Timeline
    cache: FactsCache
    judge: Judge
    today: dt.date
    folders: dict[str, Folder] = field(default_factory=dict)
    records: list[ApprovalRecord] = field(default_factory=list)
    layout: dict[str, tuple[str, str]] = field(default_factory=dict)   # path -> (commit, what is wrong)
    attributes: str | None = None                                      # root .gitattributes blob on the head
    coverage: list[tuple[Folder, Commit, str, str]] = field(default_factory=list)
    approving: set[str] = field(default_factory=set)   # commits that are an approver's merge of some change
    # commit -> (the latest day it can have entered main, the commit that says so): no later than any
    # commit after it on the line, so one commit dated ahead cannot make a filing written before its date
    # look already past. Which of two commits whose dates disagree is wrong, git cannot tell: see _future.
    entered: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Every projects folder any policy version names, walked from the first commit under the policy then in
    # force: a folder prepared under a projects_dir before an approved change moves there is judged as it
    # was committed, not skipped. Only folders under a projects_dir that was in force are reported.
    prefixes: tuple[str, ...] = ()

    def run(self) -> None:
        latest, by = "9999-12-31", ""
        for commit in reversed(self.history.commits):
            day = beijing_date(commit.committed)
            if day < latest:
                latest, by = day, commit.sha
            self.entered[commit.sha] = (latest, by)
        in_force = tuple(dict.fromkeys(_prefix(p) for p in self.timeline.before))
        self.prefixes = tuple(dict.fromkeys([*in_force, *self.prefixes]))
        for position, commit in enumerate(self.history.commits):
            policy = self.timeline.before[position]
            base = self.timeline.base
            adopted = base is not None and position <= base
            touched = self._touched(commit)
            self._moved(touched, position)
            for path, (tree, blob) in touched.items():
                folder = self.folders.setdefault(path, Folder(path))
                self._step(folder, commit, policy, adopted, tree, blob)
        self._keep(in_force)

    def _moved(self, touched: dict[str, tuple[str | None, str | None]], position: int) -> None:
        """Projects that move to the projects folder in force keep their approvals and their state.

        A folder arriving, new, under the projects folder in force after ``position`` takes over the state
        of the folder of the same name under another projects folder when that one leaves in the same
        commit (whatever the move changed is then judged as any change), or is the very same tree (a copy
        out of a folder no longer in force). At the commit that puts a projects folder in force, a folder
        already there whose tree is the approved tree of a same-named folder deleted elsewhere takes that
        folder's approvals (the projects were moved first, the policy after).
        """
        if len(self.prefixes) < 2:
            return   # one projects folder ever named (the usual case): nothing can move
        dest = _prefix(self.timeline.before[position + 1])
        for path, (tree, _) in list(touched.items()):
            if not path.startswith(dest) or tree is None or not self._fresh(path):
                continue
            for prefix in self.prefixes:
                source = prefix + path[len(dest):]
                before = self.folders.get(source)
                if prefix == dest or before is None or before.tree is None:
                    continue
                if touched.get(source, (before.tree, None))[0] is None or before.tree == tree:
                    touched.pop(source, None)
                    self._carry(before, path)
                    break
        if dest != _prefix(self.timeline.before[position]):
            for path, folder in list(self.folders.items()):
                if not path.startswith(dest) or folder.tree is None:
                    continue
                for prefix in self.prefixes:
                    old = self.folders.get(prefix + path[len(dest):])
                    if prefix != dest and old is not None and old.tree is None and old.approved_tree == folder.tree:
                        self.records = [r for r in self.records if r.folder != path]
                        self._carry(replace(old, tree=folder.tree, blob=folder.blob, drifted=None), path, old.path)
                        break

    def _fresh(self, path: str) -> bool:
        """A folder that never held anything judged: only such a one may take over another's state."""
        folder = self.folders.get(path)
        return folder is None or (folder.tree is None and folder.approved_tree is None
                                  and not any(r.folder == path for r in self.records))

    def _carry(self, folder: Folder, path: str, source: str = "") -> None:
        source = source or folder.path
        del self.folders[source]
        self.folders[path] = replace(folder, path=path)
        self.records = [replace(r, folder=path) if r.folder == source else r for r in self.records]

    def _keep(self, prefixes: tuple[str, ...]) -> None:
        """Forget what lies under folders no policy in force ever made the projects folder."""
        def kept(path: str) -> bool:
            return any(path.startswith(p) for p in prefixes)
        self.folders = {k: v for k, v in self.folders.items() if kept(k + "/")}
        self.records = [r for r in self.records if kept(r.folder + "/")]
        self.layout = {k: v for k, v in self.layout.items()
                       if kept(k) or any(k == p[:-1] for p in prefixes) or _above(k, prefixes)}

    def _touched(self, commit: Commit) -> dict[str, tuple[str | None, str | None]]:
        """Folder path -> (its new tree, its new project.yaml) for the folders ``commit`` changes."""
        out: dict[str, tuple[str | None, str | None]] = {}
        # Deletions first: a folder replaced by a symlink in one commit is listed as the link's addition and
        # then the tree's deletion, and the deletion must not clear what the addition found.
        for ch in sorted(commit.changes, key=lambda c: c.status != "D"):
            if ch.path == ".gitattributes":
                self.attributes = None if ch.status == "D" else ch.new
            elif _above(ch.path, self.prefixes):
                # git applies every .gitattributes on the way down: one in a folder holding a nested projects
                # folder (bureau/ for bureau/projects) converts the projects' files as the root one would.
                if ch.status == "D":
                    self.layout.pop(ch.path, None)
                else:
                    self._bad(ch, commit, "项目目录上级目录中的 .gitattributes（过滤、ident 或编码设置会让检出的文件与"
                                          "提交的内容不同；需要的规则写在仓库根目录的 .gitattributes 中）")
            for prefix in self.prefixes:
                if ch.path.startswith(prefix):
                    self._under(ch, commit, prefix, out)
                elif ch.path == prefix[:-1] and ch.mode in (LINK, GITLINK):
                    self._bad(ch, commit, "项目目录本身是符号链接或子模块")
        return out

    def _under(self, ch: Change, commit: Commit, prefix: str, out: dict[str, tuple[str | None, str | None]]) -> None:
        rest = ch.path[len(prefix):]
        name, _, sub = rest.partition("/")
        self._check_layout(ch, commit, rest)
        path = prefix + name
        current = self.folders.get(path)
        tree, blob = out.get(path, (current.tree, current.blob) if current else (None, None))
        if not sub:
            tree = ch.new if ch.mode == TREE and ch.status != "D" else None
            if tree is None:
                blob = None
        elif sub == PROJECT_FILE:
            blob = ch.new if ch.status != "D" and ch.mode not in (TREE, LINK, GITLINK) else None
        out[path] = (tree, blob)

    def _check_layout(self, ch: Change, commit: Commit, rest: str) -> None:
        leaf = rest.rsplit("/", 1)[-1]
        if ch.status == "D":
            self.layout.pop(ch.path, None)
            return
        if ch.mode == LINK:
            self._bad(ch, commit, "符号链接")
        elif ch.mode == GITLINK:
            self._bad(ch, commit, "子模块（gitlink）")
        elif leaf == ".gitattributes":
            self._bad(ch, commit, ".gitattributes（过滤、ident 或编码设置会让检出的文件与提交的内容不同）")
        elif leaf == "xzdoc.yaml":
            self._bad(ch, commit, "嵌套的 xzdoc.yaml（会接管该目录下的检查）")
        else:
            self.layout.pop(ch.path, None)

    def _bad(self, ch: Change, commit: Commit, what: str) -> None:
        self.layout.setdefault(ch.path, (commit.sha, what))

    def _facts(self, blob: str | None) -> Facts | None:
        return self.cache.get(blob) if blob else None

    def _step(self, folder: Folder, commit: Commit, policy: Config, adopted: bool, tree: str | None,
              blob: str | None) -> None:
        old, now = self._facts(folder.blob if folder.tree else None), self._facts(blob if tree else None)
        if tree is not None and tree == folder.approved_tree and not _on_stage(policy, old):
            # Back to the approved content after a deletion, a broken file or a misspelt stage: no stage was
            # left, so none is entered again. (A real step back, to a stage that exists, is a decision of its
            # own: stepping forward again needs the gate's merge, even onto the same content.)
            old = self._facts(folder.approved_blob)
        verdicts: dict[tuple[str, ...], Verdict] = {}

        def verdict(roles: tuple[str, ...]) -> Verdict:
            if roles not in verdicts:
                verdicts[roles] = self.judge.check(commit, policy, folder.path, tree, roles)
            return verdicts[roles]

        staged, filings, all_ok = False, [], True
        for change, gates, frm, to in _changes(policy, old, now) if now is not None else ():
            assert now is not None
            roles = roles_for(policy, gates)
            v = verdict(roles) if roles and not adopted else None
            status = ADOPTED if adopted and roles else NO_GATE if not roles else APPROVED if v and v.ok else UNAPPROVED
            if roles:
                staged = staged or change == "stage"
                filings += [] if change == "stage" else [change]
            all_ok = all_ok and status != UNAPPROVED
            if status == APPROVED:
                self.approving.add(commit.sha)
            self.records.append(_record(commit, folder, now, change, gates, roles, frm, to, tree or "", blob or "",
                                        status, v, policy, self.timeline))
        if now is not None:
            self._future(folder, commit, old, now, adopted)
        else:
            folder.future.clear()
        self._drift(folder, commit, policy, adopted, tree, blob, now, (staged, tuple(filings), all_ok), verdict)
        folder.tree, folder.blob = tree, blob

    def _drift(self, folder: Folder, commit: Commit, policy: Config, adopted: bool, tree: str | None,
               blob: str | None, now: Facts | None, passed: tuple[bool, tuple[str, ...], bool], verdict: object) -> None:
        staged, filings, all_ok = passed
        gated = staged or bool(filings)
        if adopted:
            if tree is not None and now is not None and now.stage and now.stage != "draft":
                folder.approved_tree, folder.approved_blob, folder.approved_commit = tree, blob, commit.sha
                folder.adopted, folder.baseline_blob = True, blob
            folder.drifted = None
            return
        if tree == folder.approved_tree:
            folder.drifted = None
            return
        if folder.approved_tree is None:
            if gated and all_ok and tree is not None:
                self._approve(folder, commit, tree, blob)
            return
        if tree is not None and now is not None:
            # A stage gate's role answers for the whole new version. A filing's role answers only for the filing:
            # anything else changed since the approval still needs the role of the stage the project stands on.
            if staged:
                ok = all_ok
            else:
                ok = (not filings or all_ok) and (
                    verdict(_edit_roles(policy, self._facts(folder.approved_blob))).ok  # type: ignore[operator]
                    or (bool(filings) and self._only(folder, tree, blob, now, filings)))
            if ok and folder.tree == folder.approved_tree and folder.drifted is None:
                self._approve(folder, commit, tree, blob)
                return
            role = policy.gates.get("records.changes")
            if ok and (not role or verdict((role,)).ok) and self._covered(folder, policy, tree, blob, now):  # type: ignore[operator]
                self._approve(folder, commit, tree, blob)
                return
        folder.drifted = folder.drifted or commit

    def _only(self, folder: Folder, tree: str, blob: str | None, now: Facts, filings: tuple[str, ...]) -> bool:
        """Is the filing itself (its project.yaml record, no file) all that changed since the approval?"""
        approved, now, files = self._since(folder, tree, blob, now)
        return drift.fields_only(files, approved, now, filings)

    def _since(self, folder: Folder, tree: str, blob: str | None, now: Facts) -> tuple[Facts | None, Facts, list[str]]:
        """The approved facts, the new ones with their field digests (read only now), and the files changed."""
        self.cache.complete([folder.approved_blob, blob])
        approved, now = self._facts(folder.approved_blob), self._facts(blob) or now
        assert folder.approved_tree is not None
        files = gitlog.diff_names(self.history.workdir, [(folder.approved_tree, tree)])[(folder.approved_tree, tree)]
        return approved, now, files

    def _covered(self, folder: Folder, policy: Config, tree: str, blob: str | None, now: Facts) -> bool:
        """Do adjustment requests this commit brings cover everything changed since the approval?"""
        requests = drift.valid_requests(self._facts(folder.approved_blob), now, self._facts(folder.blob))
        if not requests or folder.approved_tree is None:
            return False
        approved, now, files = self._since(folder, tree, blob, now)
        return not drift.uncovered(files, approved, now, requests, policy.standard.caps.get("drift_groups") or {})

    def _approve(self, folder: Folder, commit: Commit, tree: str, blob: str | None) -> None:
        folder.approved_tree, folder.approved_blob, folder.approved_commit = tree, blob, commit.sha
        folder.adopted, folder.drifted = False, None

    def _future(self, folder: Folder, commit: Commit, old: Facts | None, now: Facts, adopted: bool) -> None:
        """Filings dated after the commit that entered them (before adoption only after today: history then
        was not kept as evidence)."""
        before = dict(old.dates) if old else {}
        today, own = self.today.isoformat(), beijing_date(commit.committed)
        bound, by = (today, "") if adopted else self.entered.get(commit.sha, (own, commit.sha))
        for key, date in now.dates:
            if before.get(key) == date:
                continue
            folder.future.pop(key, None)
            if date > today or (not adopted and date > own):
                folder.future[key] = (commit.sha, date, "", "")     # the registering commit's own word
            elif date > bound:
                # Dated ahead, or the later commit dated back; state_issues weighs the two (see there).
                folder.future[key] = (commit.sha, date, by, bound)
        for key in [k for k in folder.future if k not in dict(now.dates)]:
            del folder.future[key]

    def finish(self, policy: Config) -> list[ApprovalRecord]:
        """Records oldest first, with the one in force for each gate of each project's head marked current."""
        latest: dict[tuple[str, str], int] = {}
        for i, r in enumerate(self.records):
            for gate in r.gates:
                latest[(r.folder, gate)] = i
        current: set[int] = set()
        for path, folder in self.folders.items():
            head = self._facts(folder.blob if folder.tree else None)
            if head is None or not head.stage:
                continue
            for gate in gates_in_force(policy, head.stage, head.records):
                if (path, gate) in latest:
                    current.add(latest[(path, gate)])
        return [replace(r, current=True) if i in current else r for i, r in enumerate(self.records)]

    def heads(self) -> dict[str, Facts]:
        out = {}
        for path, folder in self.folders.items():
            facts = self._facts(folder.blob if folder.tree else None)
            if facts is not None:
                out[path] = facts
        return out


def _on_stage(policy: Config, facts: Facts | None) -> bool:
    return facts is not None and not facts.error and any(s.name == facts.stage for s in policy.standard.stages)


def _prefix(policy: Config) -> str:
    return policy.projects_dir.strip("/") + "/"


def _edit_roles(policy: Config, approved: Facts | None) -> tuple[str, ...]:
    """Who may change an approved project without passing a gate: the role of the stage it stands on.

    Approved content with no stage that exists (a version without one, a misspelt one kept at adoption)
    falls to the party group's role (gate ``config``): "no stage" must not mean "anyone may merge".
    """
    if not _on_stage(policy, approved):
        return (policy.gates["config"],) if "config" in policy.gates else ()
    assert approved is not None and approved.stage
    stages = [g for g in gates_in_force(policy, approved.stage, ()) if g in policy.gates]
    if stages:
        return (policy.gates[stages[-1]],)
    return roles_for(policy, gates_in_force(policy, approved.stage, approved.records))


_CROSSINGS: dict[tuple[int, str | None, str | None], tuple[Config, tuple[str, ...]]] = {}


def _crossed(config: Config, frm: str | None, to: str | None) -> tuple[str, ...]:
    """``crossed``, remembered per policy: a long history repeats the same few stage changes."""
    key = (id(config), frm, to)
    found = _CROSSINGS.get(key)
    if found is None or found[0] is not config:
        found = _CROSSINGS[key] = (config, crossed(config, frm, to))
    return found[1]


def _changes(config: Config, old: Facts | None, now: Facts) -> list[tuple[str, tuple[str, ...], str | None, str | None]]:
    out: list[tuple[str, tuple[str, ...], str | None, str | None]] = []
    frm = old.stage if old else None
    if old is None or old.stage != now.stage:
        out.append(("stage", _crossed(config, frm, now.stage), frm, now.stage))
    before = old.records if old else frozenset()
    for key in sorted(now.records - before):
        gate = f"records.{key}"
        if gate in config.gates:
            out.append((gate, (gate,), now.stage, now.stage))
    return out


def _record(commit: Commit, folder: Folder, now: Facts, change: str, gates: tuple[str, ...], roles: tuple[str, ...],
            frm: str | None, to: str | None, tree: str, blob: str, status: str, verdict: Verdict | None,
            policy: Config, timeline: Timeline) -> ApprovalRecord:
    held = verdict.held if verdict else tuple(sorted(policy.role_of(commit.author.email)))
    sig = verdict.signature if verdict else None
    name = folder.path.rsplit("/", 1)[-1]
    return ApprovalRecord(project=now.id or name, folder=folder.path, change=change, from_stage=frm, to_stage=to,
                          gates=gates, roles=roles, commit=commit.sha, date=commit.committed,
                          merged_by=str(commit.author), held=held, tree=tree, blob=blob, status=status,
                          problem=verdict.problem if verdict and not verdict.ok else "",
                          claim=verdict.claim if verdict else "", signature=sig.status if sig else NOT_CHECKED,
                          key=sig.key if sig else "")


def _above(path: str, prefixes: Iterable[str]) -> bool:
    """A .gitattributes git would apply to a projects folder's files, other than the root's own: in a folder
    between the root and a nested projects folder, or spelt in other case (a checkout that ignores case,
    core.ignorecase, reads Bureau/.GitAttributes for bureau/, and Projects/X/ is projects/X/)."""
    low = path.lower()
    if low == ".gitattributes":
        return path != ".gitattributes"
    if not low.endswith("/.gitattributes"):
        return False
    folder = low[:-len(".gitattributes")]
    for prefix in prefixes:
        target = prefix.lower()
        if (target.startswith(folder) and target != folder) or (low.startswith(target) and not path.startswith(prefix)):
            return True
    return False
