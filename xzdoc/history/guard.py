"""The server-side guard: a pre-receive hook that refuses history the ledger would flag.

git runs the hook in the receiving repository with one ``<old> <new> <ref>``
line per updated ref on stdin, the pushed objects already readable. For
the main branch the guard requires a fast-forward, no deletion, and every
new first-parent commit a merge whose first parent is the previous tip;
then it builds the ledger (the same code as ``xzdoc ledger``) on the old
and the new tip and refuses when the new one has any finding the old one
did not: an unapproved stage change, filing or policy change, a signature
the policy does not accept, drift, a symlink or submodule under the
projects folder. Pushes to ``refs/replace/*`` are refused outright.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from xzdoc.config import Config, parse
from xzdoc.errors import UsageError, XzdocError
from xzdoc.history import gitlog, ledger

_ZERO = re.compile(r"0{40}(?:0{24})?")
HOOK = """#!/bin/sh
# xzdoc guard: refuses pushes to the main branch that the approval ledger would flag.
PYTHONPATH="{path}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{python}" -m xzdoc guard
"""
SETTINGS = (("receive.fsckObjects", "true"), ("receive.denyNonFastForwards", "true"), ("receive.denyDeletes", "true"))


def check(where: Path, lines: Iterable[str]) -> list[str]:
    """Reasons to refuse the push described by ``lines``; empty when it may go in."""
    out: list[str] = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            # git writes "old new ref" per line; anything else is not a push we can judge: refuse, not pass.
            out.append(f"无法识别的推送信息“{line[:80]}”：应为“旧提交 新提交 引用”，为安全起见拒绝本次推送")
            continue
        old, new, ref = parts
        if ref.startswith("refs/replace/"):
            out.append(f"拒绝推送 {ref}：不允许替换对象（git replace），它会改写提交历史的内容")
            continue
        if ref != _main_ref(where, None if _ZERO.fullmatch(old) else old):
            continue
        out += _main(where, old, new, ref)
    return out


def _main_ref(where: Path, old: str | None) -> str:
    policy = _policy(where, old)
    branch = policy.branch if policy is not None and policy.branch else None
    if branch:
        return branch if branch.startswith("refs/") else f"refs/heads/{branch}"
    return gitlog.branch_ref(where, None, head_first=True) or "refs/heads/main"


def _policy(where: Path, commit: str | None) -> Config | None:
    if commit is None:
        return None
    blob = gitlog.read_objects(where, [f"{commit}:xzdoc.yaml"]).get(f"{commit}:xzdoc.yaml")
    try:
        return parse(blob, where) if blob is not None else None
    except XzdocError:
        return None


def _main(where: Path, old: str, new: str, ref: str) -> list[str]:
    name = ref.removeprefix("refs/heads/")
    if _ZERO.fullmatch(new):
        return [f"拒绝删除主分支 {name}"]
    created = bool(_ZERO.fullmatch(old))
    forward = None if created else gitlog.is_ancestor(where, old, new)
    if forward is None and not created:
        return [f"拒绝推送 {name}：仓库中缺少提交 {old[:12]} 或 {new[:12]}（浅克隆或对象缺失），无法确认这是快进；"
                "在完整的仓库中运行检查"]
    if forward is False:
        return [f"拒绝推送 {name}：不是快进（fast-forward），主分支的历史不能改写"]
    out = []
    previous = None if created else old
    for sha, parents in gitlog.first_parents(where, previous, new):
        if previous is not None and (len(parents) < 2 or parents[0] != previous):
            out.append(f"拒绝推送 {name}：提交 {sha[:10]} 不是以原主分支为第一父提交的合并提交；"
                       "主分支只接受审批人合并拉取请求（git merge --no-ff）")
            break
        previous = sha
    if out:
        return out
    before = _findings(where, old, ref) if not created else set()
    after = _findings(where, new, ref)
    return [f"拒绝推送 {name}：{text}" for key, text in sorted(after.items()) if key not in before]


def _findings(where: Path, tip: str, ref: str) -> dict[tuple[str, ...], str]:
    config = Config(root=where, branch=ref)
    book = ledger.build(config, tip=tip, workdir=where)
    if book is None:
        return {}
    out: dict[tuple[str, ...], str] = {}
    for r in book.problems():
        out[("record", r.folder, r.change, r.commit)] = (f"[{ledger.rule_of(r)}] {r.project} {r.describe()}："
                                                        f"{r.explain()}")
    # A drift is keyed by the folder's content too: a folder already drifting when the guard came (or after a
    # forced push) must not hide a further unapproved change of it behind the same first drifted commit.
    drifted = [f"{tip}:{i.folder}" for i in book.issues if i.rule == "art24.content-drift" and i.folder]
    trees = gitlog.read_objects(where, drifted) if drifted else {}
    for issue in book.issues:
        content = trees.get(f"{tip}:{issue.folder}", b"").hex() if issue.rule == "art24.content-drift" else ""
        out[("issue", issue.rule, issue.folder, issue.path, issue.commit, content)] = f"[{issue.rule}] {issue.message}"
    return out


def install(bare: Path) -> list[str]:
    """Write the hook into a bare repository and set the recommended ``receive.*`` settings; returns what was done."""
    if not bare.is_dir():
        raise UsageError(f"路径不存在：{bare}", "命令行选项 --install", hint="给出服务器上裸仓库的路径，如 /srv/git/projects.git")
    git_dir = gitlog.git_dir(bare)
    if git_dir is None:
        raise UsageError(f"{bare} 不是 git 仓库", "命令行选项 --install", hint="给出服务器上裸仓库的路径，如 /srv/git/projects.git")
    if not gitlog.is_bare(bare):
        # A working copy's hook guards pushes into that copy only; the shared repository is the bare one.
        raise UsageError(f"{bare} 是带工作区的仓库，不是裸仓库", "命令行选项 --install",
                         hint="在服务器上接受推送的裸仓库中安装（git clone --bare 得到），如 /srv/git/projects.git")
    hook = git_dir / "hooks" / "pre-receive"
    hook.parent.mkdir(parents=True, exist_ok=True)
    package = Path(__file__).resolve().parent.parent.parent
    hook.write_text(HOOK.format(path=package, python=sys.executable), "utf-8")
    hook.chmod(0o755)
    for key, value in SETTINGS:
        gitlog.set_config(git_dir, key, value)
    return [str(hook)] + [f"{key}={value}" for key, value in SETTINGS]
