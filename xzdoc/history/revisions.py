"""Two revisions compared (xzdoc diff, xzdoc changed, the archived approved version of a bundle).

Git is started through xzdoc/history/gitlog.py, as everywhere. A base is
taken at its fork point with the compared side (``fork_point``), so commits
that reached main after a pull request branched off do not show up as the
pull request undoing them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from xzdoc.errors import UsageError, XzdocError
from xzdoc.history.gitlog import _NULL_SHA, SHALLOW_HINT, is_shallow, read_objects, resolve, run, toplevel


@dataclass(frozen=True)
class Revision:
    """A revision named on the command line, resolved once so every later call reads the same commit."""

    name: str       # as the user wrote it
    oid: str        # commit id, or the empty tree's id for an all-zero name (a push that created the branch)
    workdir: Path
    prefix: str     # the walked folder, relative to the repository root
    empty: bool = False

    @property
    def short(self) -> str:
        return "（空）" if self.empty else self.oid[:10]


def revision(root: Path, name: str, under: str) -> Revision:
    """Resolve ``name`` to a commit of the repository holding ``root``; ``under`` is relative to ``root``.

    An all-zero id (GitHub's ``before`` for a newly pushed branch) stands for
    the empty tree, so everything counts as added. A revision that is missing
    from a shallow clone gets the fetch-depth hint, not "unknown revision".
    """
    workdir = toplevel(root)
    if workdir is None:
        raise XzdocError(f"{root} 不在 git 仓库中，无法比较两个版本", str(root), hint="在 git 仓库的工作区中运行")
    try:
        prefix = (root.resolve() / under).relative_to(workdir).as_posix()
    except ValueError:
        raise XzdocError(f"{root / under} 不在仓库 {workdir} 之内") from None
    if _NULL_SHA.fullmatch(name.strip()):
        # Asked of git rather than spelled out: the empty tree's id differs between SHA-1 and SHA-256 repositories.
        empty = run(workdir, "hash-object", "-t", "tree", "--stdin", stdin=b"").decode("ascii").strip()
        return Revision(name, empty, workdir, prefix, empty=True)
    if name.startswith("-"):
        raise UsageError(f"“{name}”不是版本名", f"命令行参数“{name}”", hint="写提交哈希、分支名或标签，如 origin/main")
    oid = resolve(workdir, name)
    if not oid:
        if is_shallow(workdir):
            raise XzdocError(f"浅克隆（shallow clone）中找不到版本 {name}", hint=SHALLOW_HINT)
        raise UsageError(f"找不到版本 {name}", f"命令行参数“{name}”",
                         hint="确认提交哈希或分支名无误；远程分支需先 git fetch origin，写作 origin/main")
    return Revision(name, oid, workdir, prefix)


def tree_files(rev: Revision) -> dict[str, str]:
    """Every file under the revision's folder at that commit: path relative to the folder -> blob id.

    One ``git ls-tree``; contents are then read with one ``read_objects`` call.
    """
    if rev.empty:
        return {}
    out = run(rev.workdir, "ls-tree", "-r", "-z", "--full-tree", rev.oid, "--", f"{rev.prefix}/")
    files: dict[str, str] = {}
    start = len(rev.prefix) + 1
    for entry in out.split(b"\0"):
        meta, tab, path = entry.partition(b"\t")
        parts = meta.split(b" ")
        if tab and len(parts) == 3 and parts[1] == b"blob":
            files[path.decode("utf-8", "surrogateescape")[start:]] = parts[2].decode("ascii")
    return files


def file_at(rev: Revision, path: str) -> bytes | None:
    """One file of the revision (``path`` relative to the repository root), or None when it has none."""
    if rev.empty:
        return None
    name = f"{rev.oid}:{path}"
    return read_objects(rev.workdir, [name]).get(name)


def changed_files(base: Revision, head: Revision | None) -> list[str]:
    """Paths under the folder that differ between ``base`` and ``head``, relative to the folder.

    Without ``head`` the working tree is compared, untracked files included
    (they are about to be committed as much as the edited ones are).
    """
    scope = f"--relative={base.prefix}/"
    args = ["diff", "--name-only", "-z", "--no-renames", "--no-color", "--no-ext-diff", scope, base.oid]
    out = run(base.workdir, *args, *([head.oid] if head else []), "--", f"{base.prefix}/")
    paths = [p for p in out.split(b"\0") if p]
    if head is None:
        extra = run(base.workdir, "ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--",
                    f"{base.prefix}/")
        start = len(base.prefix) + 1
        paths += [p[start:] for p in extra.split(b"\0") if p]
    return sorted({p.decode("utf-8", "surrogateescape") for p in paths})


def fork_point(base: Revision, head: Revision | None) -> Revision:
    """``base`` where the compared side (``head``, else the checked-out commit) branched off it.

    The same commit when ``base`` is an ancestor (CI: the target commit against the merge result);
    ``base`` unchanged when it is empty or the two share no history.
    """
    if base.empty:
        return base
    out = run(base.workdir, "merge-base", base.oid, head.oid if head else "HEAD", check=False)
    found = out.decode("ascii", "replace").strip()
    return base if not found or found == base.oid else replace(base, oid=found)
