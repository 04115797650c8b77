"""Approval records and history issues derived from the first-parent history of the main branch.

A change that needs a role's consent (a stage gate, a filing such as the
supervision unit under 第十七条, an adjustment request, xzdoc.yaml itself)
takes effect only when it enters the main branch through an approving merge
judged by the policy as of the merge's first parent (xzdoc/history/merges.py,
policy.py). Anything else - a direct push, a merge by someone without the
role, a claim written only into a commit message trailer, a squash or
rebase merge, a merge of main into a feature branch fast-forwarded later, an
amended merge - is a finding under 第二十四条. Drift of an approved folder
(xzdoc/history/walk.py) is a state of the head, as are a deleted approved
project, future-dated filings and files under the projects folder that
would make git and the file system disagree.

Adoption: commits at or before ``baseline`` are accepted on the evidence of
the project's own records (批复文号, filing dates) and marked so.

Cost: one ``git log --first-parent --raw``, ``git cat-file --batch`` for the
xzdoc.yaml and project.yaml versions not yet in the facts cache, one
``--batch-check`` for the merges' second parents and, when signing is
required, one ``git show`` for the signatures.

A renamed project folder is a new project to the ledger: every gate up to
its stage must be passed again, and the old folder counts as deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import UsageError, XzdocError
from xzdoc.history import gitlog, log, policy, register, walk
from xzdoc.history import issues as issues_mod
from xzdoc.history.facts import Facts, FactsCache
from xzdoc.history.merges import (
    COMMITTER,
    DIRECT_PUSH,
    NON_APPROVER,
    NOT_FROM_BRANCH,
    OCTOPUS,
    PROBLEM_ZH,
    SQUASH,
    TRAILER_CLAIM,
    UNSIGNED,
    Judge,
)
from xzdoc.history.records import (
    ADOPTED,
    APPROVED,
    CONFIG_FILE,
    NO_GATE,
    PROJECT_FILE,
    REGISTER_FILE,
    STATUS_ZH,
    UNAPPROVED,
    ApprovalRecord,
    Issue,
)
from xzdoc.history.stages import crossed, gates_in_force, roles_for
from xzdoc.keys import Key

__all__ = ["ADOPTED", "APPROVED", "COMMITTER", "DIRECT_PUSH", "NON_APPROVER", "NOT_FROM_BRANCH", "NO_GATE",
           "OCTOPUS", "PROBLEM_ZH", "SQUASH", "STATUS_ZH", "TRAILER_CLAIM", "UNAPPROVED", "UNSIGNED",
           "ApprovalRecord", "Issue", "Ledger", "Reference", "build", "crossed", "gates_in_force", "roles_for"]
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
class Reference:
    """The approved content of a project folder: the approving merge (or baseline commit) and its folder tree."""

    commit: str
    tree: str
    blob: str       # project.yaml blob id in that tree
    adopted: bool


@dataclass(frozen=True)
class Ledger:
    workdir: str
    branch: str
    head: str
    baseline: str | None
    records: tuple[ApprovalRecord, ...]
    heads: Mapping[str, Facts]           # folder -> facts on the branch head
    references: Mapping[str, Reference]  # folder -> approved content
    baseline_blobs: Mapping[str, str]    # folder -> project.yaml blob id at the baseline commit
    issues: tuple[Issue, ...] = ()       # states of the head that history rules forbid
    policy: Config | None = None         # the policy in force at the head (read from history)

    def problems(self) -> list[ApprovalRecord]:
        return [r for r in self.records if r.current and not r.approved]

    def failed(self) -> bool:
        return bool(self.problems() or errors(self.issues))


def build(config: Config, require_signed: bool = False, *, tip: str | None = None, workdir: Path | None = None,
          as_of: dt.date | None = None) -> Ledger | None:
    """The ledger of the repository holding ``config.root``; None before the first commit.

    ``tip`` walks a given commit instead of the main branch and ``workdir``
    names the repository (the server-side guard runs in a bare one).
    """
    repo = gitlog.repository(workdir or config.root, work_tree=workdir is None)
    where = workdir or (repo.workdir if repo else None)
    if where is None:
        raise XzdocError(f"{config.root} 不在 git 仓库中，无法从提交历史得出审批记录",
                         hint="在仓库根目录执行 git init 并提交；审批以主分支上的合并提交为准")
    if workdir is None and repo and repo.workdir:
        _at_top(config, repo.workdir)
    reading = log.start(where, config.branch, tip, repo.shallow if repo else None)
    if reading is None:
        return None
    cache = FactsCache(repo.git_dir / "xzdoc" if repo else None, where)   # read while git walks the history
    reading.advance()   # and the log git has written meanwhile taken apart while it writes the rest
    history = reading.history()
    if tip is None and workdir is None:
        _same_line(where, history)
    # The merges' second parents are looked up by git while the versions below are read and parsed. One
    # cat-file for the policy versions and the project.yaml versions under the working projects folder; a
    # second lookup of each kind only when a policy in history moved the projects folder elsewhere.
    known = {config.projects_dir.strip("/") + "/"}
    judge = Judge(where, history.commits, _merge_paths(history, known), require_signed)
    config_names = policy.config_blobs(history)
    wanted = cache.missing(_project_blobs(history, known))
    objects = gitlog.read_objects(where, [*config_names, *wanted])
    versions = policy.parse_all(config.root, {b: objects[b] for b in dict.fromkeys(config_names) if b in objects})
    policies = [v for v in versions.values() if isinstance(v, Config)]
    judge.read_signatures(policies)
    line = _timeline(history, config, versions, judge)
    if tip is None and workdir is None:
        _approved_branch(where, history, line.last)
    prefixes = _in_force(where, history, config, line, judge, cache, known, {b: objects[b] for b in wanted if b in objects})
    steps = walk.Walk(history, line, cache, judge, as_of or dt.date.today(), prefixes=tuple(sorted(prefixes)))
    steps.run()
    listed, unlisted = register.walk(history, line, judge)
    judge.finish()
    head_policy = line.last
    index = {c.sha: i for i, c in enumerate(history.commits)}
    records = sorted(line.records + steps.finish(head_policy) + listed, key=lambda r: index.get(r.commit, 0))
    attributes = gitlog.read_objects(where, [steps.attributes]).get(steps.attributes) if steps.attributes else None
    issues = [*line.issues, *unlisted, *issues_mod.layout_issues(steps, attributes),
              *issues_mod.state_issues(steps, steps.folders.values())]
    cache.save()   # after the drift findings, which add the field digests they read
    base = line.base
    references = {path: Reference(f.approved_commit, f.approved_tree, f.approved_blob or "", f.adopted)
                  for path, f in steps.folders.items() if f.approved_tree}
    # Adopted records keep the baseline's project.yaml as evidence after later approved changes.
    at_base = {path: f.baseline_blob for path, f in steps.folders.items() if f.baseline_blob}
    commits = history.commits
    return Ledger(str(where), history.branch, commits[-1].sha if commits else "",
                  commits[base].sha if base is not None else None, tuple(records), steps.heads(), references,
                  at_base, tuple(issues), head_policy)


def _timeline(history: log.History, config: Config, versions: Mapping[str, Config | XzdocError],
              judge: Judge) -> policy.Timeline:
    """The policy line judged with every key the head's policy revokes, policy changes included.

    A key revoked now voids what it signed before, so a policy change it signed (an approver added with
    a stolen key) is out of force too. Voiding it can change the head's policy and with it the revoked
    keys: the line is judged again until no key is added. Keys only join the set, so this ends.
    """
    revoked: dict[str, Key] = {}
    while True:
        judge.revoked = tuple(revoked.values())
        line = policy.timeline(history, config, versions, judge)
        added = {k.fingerprint: k for k in line.last.revoked_keys if k.fingerprint not in revoked}
        if not added:
            return line
        revoked.update(added)


def _at_top(config: Config, top: Path) -> None:
    """The ledger reads paths from the top of the repository; a bureau kept below it would be walked as empty."""
    if config.path and config.root.resolve() != top.resolve():
        raise XzdocError(f"xzdoc.yaml 不在 git 仓库的根目录（仓库根目录是 {top}），无法从提交历史核对审批",
                         config.path, hint="把 xzdoc.yaml 和项目目录放在仓库根目录，或为本单位单独建一个仓库")


def _same_line(where: Path, history: log.History) -> None:
    """The branch walked must grow from the root the checked-out commit grows from.

    Which branch is walked comes from the working copy (``branch:``, or main/master), which anyone who
    can push may change; a branch of their own, started from a root whose policy names them for every
    role, would otherwise be judged in place of the bureau's.
    """
    commits = history.commits
    head = gitlog.resolve(where, "HEAD")
    if not commits or head is None or head == commits[-1].sha:
        return
    roots = gitlog.run(where, "rev-list", "--first-parent", "--max-parents=0", head, "--").split()
    if roots[-1:] != [commits[0].sha.encode()]:
        raise XzdocError(f"主分支 {history.branch.removeprefix('refs/heads/')} 与当前检出的提交不是同一段历史"
                         f"（起点不同），不能以它核对审批",
                         hint="检出主分支或基于主分支的提交后再运行；xzdoc.yaml 中的 branch: 应指向本单位的主分支")


def _in_force(where: Path, history: log.History, config: Config, line: policy.Timeline, judge: Judge,
              cache: FactsCache, known: set[str], contents: dict[str, bytes]) -> set[str]:
    """The projects folders to walk, with the versions under them read into the cache.

    Only folders a policy in force named hold projects: one pushed and reverted unapproved would have a
    folder inside an approved project judged as a project of its own, inheriting that project's merges.
    """
    prefixes = {p.projects_dir.strip("/") + "/" for p in [config, *line.before]}
    if prefixes - known:
        judge.ask(_merge_paths(history, prefixes))
        contents.update(gitlog.read_objects(where, cache.missing(b for b in _project_blobs(history, prefixes)
                                                                 if b not in contents)))
    cache.add(contents)
    return prefixes


def _approved_branch(where: Path, history: log.History, approved: Config) -> None:
    """The branch walked must be the ref the policy in force on it picks (main or master when it names none).

    ``branch:`` is read from the working copy, which a push can change: pointed at an older branch that
    shares main's root (a pushed master beside main, another remote's stale main), the ledger would judge
    that branch and never see what main holds. So the whole ref is compared, not its short name.
    """
    expected = gitlog.branch_ref(where, approved.branch)   # refuses when it names none and both exist
    if history.branch == expected:
        return
    # A CI checkout of a pull request has no local main, only the remote's copy (refs/remotes/origin/main).
    walked = re.sub(r"^refs/(?:heads/|remotes/[^/]+/)", "", history.branch)
    named = f"branch: {approved.branch}" if approved.branch else "未写 branch:，即 main 或 master"
    raise XzdocError(f"当前 xzdoc.yaml 指定的主分支 {walked} 未经审批（{history.branch}）：{walked} 上经审批的配置为“{named}”，"
                     f"对应 {expected or '—'}，不能以它核对审批",
                     CONFIG_FILE,
                     hint="把 xzdoc.yaml 的 branch: 恢复为经审批的值；更改主分支须先由局党组成员合并修改 branch: 的拉取请求")


def _project_blobs(history: log.History, prefixes: set[str]) -> list[str]:
    out = []
    for commit in history.commits:
        for ch in commit.changes:
            if ch.status != "D" and ch.mode in ("100644", "100755"):
                for prefix in prefixes:
                    rest = ch.path[len(prefix):] if ch.path.startswith(prefix) else ""
                    if rest.endswith("/" + PROJECT_FILE) and rest.count("/") == 1:
                        out.append(ch.new)
    return out


def _merge_paths(history: log.History, prefixes: set[str]) -> dict[str, list[str]]:
    """For each merge, xzdoc.yaml and the project folders it changes: whose second-parent content is asked."""
    out: dict[str, list[str]] = {}
    for commit in history.commits:
        if len(commit.parents) != 2:
            continue
        paths = [ch.path for ch in commit.changes if ch.path in (CONFIG_FILE, REGISTER_FILE)]
        for ch in commit.changes:
            for prefix in prefixes:
                if ch.path.startswith(prefix) and "/" not in ch.path[len(prefix):]:
                    paths.append(ch.path)
        if paths:
            out[commit.sha] = paths
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


def of_folder(ledger: Ledger, folder: str) -> list[ApprovalRecord]:
    """Records of the project in ``folder`` (its path in the repository): what a bundle may show as its own.

    Not by 项目编号: a folder that copies another project's id must not borrow that project's approvals.
    """
    return [r for r in ledger.records if r.folder == folder]


def with_evidence(config: Config, ledger: Ledger, records: Sequence[ApprovalRecord]) -> list[ApprovalRecord]:
    """Fill in, for adopted records, the filings in the baseline's project.yaml that stand for the approval."""
    adopted = [r for r in records if r.status == ADOPTED]
    if not adopted:
        return list(records)
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
        documents = data.get("documents") if isinstance(data, dict) else None
        if gate == "submitted" and documents and isinstance(documents, (dict, list)):
            parts.append("申请材料：" + "、".join(str(k) for k in documents))
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


def errors(issues: Sequence[Issue]) -> list[Issue]:
    """The issues that fail a check; warnings are reported and leave the exit code alone."""
    return [i for i in issues if i.level == "error"]


def issues_of(ledger: Ledger, records: Sequence[ApprovalRecord]) -> list[Issue]:
    """The issues that concern the selected records' folders, and the repository-wide ones."""
    if len(records) == len(ledger.records):
        return list(ledger.issues)
    folders = {r.folder for r in records}
    return [i for i in ledger.issues if i.folder in folders or not i.folder]


def as_text(config: Config, ledger: Ledger, records: Sequence[ApprovalRecord]) -> str:
    branch = ledger.branch.removeprefix("refs/heads/")
    lines = [f"审批台账：主分支 {branch}，最新提交 {ledger.head[:10]}"
             + (f"，采用基线 {ledger.baseline[:10]}" if ledger.baseline else "，未设采用基线")]
    for folder in dict.fromkeys(r.folder for r in records):
        mine = [r for r in records if r.folder == folder]
        head = ledger.heads.get(folder)
        stage = "" if folder in (CONFIG_FILE, REGISTER_FILE) else f"  当前阶段：{head.stage if head and head.stage else '（已删除）'}"
        lines += ["", f"{mine[-1].project}  {folder}{stage}"]
        for r in mine:
            mark = "✔" if r.approved else "✘"
            flag = "  ←现行" if r.current else ""
            lines.append(f"  {mark} {r.date[:10]}  {r.describe():<24}  {STATUS_ZH[r.status]}：{r.explain()}"
                         f"  签名：{r.signature_text}  目录树 {r.tree[:10]}{flag}")
    problems = [r for r in records if r.current and not r.approved]
    issues = issues_of(ledger, records)
    lines.append("")
    if problems:
        lines.append(f"{len(problems)} 项现行变更未经审批（第二十四条）：")
        lines += [f"{_where(r)}: error [{rule_of(r)}] {r.project} {r.describe()}：{r.explain()}" for r in problems]
    if issues:
        lines.append(f"{len(issues)} 项历史问题（第十六、二十四条）：")
        lines += [f"{i.path}: {i.level} [{i.rule}] {i.message}" for i in issues]
    if not problems and not issues:
        lines.append("现行的阶段和备案均经审批；xzdoc.yaml 经审批，经审批的内容没有改动。")
    return "\n".join(lines)


def _where(record: ApprovalRecord) -> str:
    if record.change == "config":
        return CONFIG_FILE
    return REGISTER_FILE if record.change == "systems" else f"{record.folder}/{PROJECT_FILE}"


def rule_of(record: ApprovalRecord) -> str:
    if record.problem == UNSIGNED:
        return "art24.unsigned-merge"
    if record.change == "config":
        return "art24.unapproved-config"
    if record.change == "systems":
        return "art24.unapproved-register"
    return "art24.unapproved-stage-change" if record.change == "stage" else "art24.unapproved-filing"


def as_json(ledger: Ledger, records: Sequence[ApprovalRecord]) -> str:
    import json

    return json.dumps({"branch": ledger.branch, "head": ledger.head, "baseline": ledger.baseline,
                       "records": [r.as_dict() | ({"rule": rule_of(r)} if r.current and not r.approved else {})
                                   for r in records],
                       "issues": [i.as_dict() for i in issues_of(ledger, records)],
                       "approved": {folder: {"commit": ref.commit, "tree": ref.tree, "adopted": ref.adopted}
                                    for folder, ref in ledger.references.items()
                                    if folder in {r.folder for r in records}}}, ensure_ascii=False, indent=2)
