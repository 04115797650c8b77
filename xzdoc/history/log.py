"""The first-parent line of the main branch as commits with their raw diffs, oldest first.

Reads the output of ``gitlog.first_parent_log`` (``git log -z --raw``):
tokens are NUL-terminated and neither a commit header nor a path can hold
a NUL, so a header is one token whatever its text, and a raw diff entry is a
``:meta`` token followed by a path token taken by position (a path that looks
like a header is still read as a path). Fields inside a header are one per
line: a commit header is line-based and ``%s`` joins the subject's lines, so
no name, address or date can shift the fields after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path

from xzdoc.errors import XzdocError
from xzdoc.history import gitlog

_HEX = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
TREE, LINK, GITLINK = "040000", "120000", "160000"


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Change:
    """One entry of the raw diff against the first parent, path relative to the repository root."""

    path: str
    mode: str        # new mode; 040000 for a tree, 120000 a symlink, 160000 a submodule
    old: str         # object id before, zeros when added
    new: str         # after, zeros when deleted
    status: str      # A, M, D, T


@dataclass(frozen=True)
class Commit:
    """One commit of the first-parent line; ``fields`` are the header's, one per ``gitlog.LOG_FIELDS``."""

    sha: str
    parents: tuple[str, ...]
    changes: tuple[Change, ...]
    _fields: tuple[str, ...] = field(repr=False, compare=False)

    @property
    def tree(self) -> str:
        return self._fields[2]

    @cached_property
    def author(self) -> Identity:
        return Identity(self._fields[3], self._fields[4])

    @property
    def authored(self) -> str:
        return self._fields[5]

    @cached_property
    def committer(self) -> Identity:
        return Identity(self._fields[6], self._fields[7])

    @property
    def committed(self) -> str:
        """ISO 8601 with offset: when the commit entered the line."""
        return self._fields[8]

    @property
    def subject(self) -> str:
        return self._fields[9]

    @cached_property
    def trailers(self) -> tuple[tuple[str, str], ...]:
        out = []
        for line in self._fields[10].splitlines() if len(self._fields) > 10 else ():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                out.append((key.strip(), value.strip()))
        return tuple(out)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) >= 2


@dataclass(frozen=True)
class History:
    """The first-parent line of ``branch``, oldest commit first."""

    workdir: Path
    branch: str
    commits: tuple[Commit, ...]


def read(workdir: Path, branch: str | None, tip: str | None = None, shallow: bool | None = None) -> History | None:
    """The history of ``tip`` (else the main branch) in the repository at ``workdir``; None when unborn.

    ``shallow``: whether the repository is a shallow clone, when the caller already asked git.
    """
    reading = start(workdir, branch, tip, shallow)
    return reading.history() if reading is not None else None


class Reading:
    """A ``git log`` under way, taken apart as its output arrives: ``advance`` between other work, then ``history``."""

    def __init__(self, workdir: Path, ref: str, pending: gitlog.Pending) -> None:
        self.workdir, self.ref, self.pending = workdir, ref, pending
        self._parser = _Parser()
        self._rest = b""         # output after the last NUL seen: a token not yet complete

    def advance(self) -> None:
        """Take apart the tokens git has finished writing, without waiting for more."""
        data = self._rest + self.pending.available()
        cut = data.rfind(b"\0")
        if cut >= 0:
            self._parser.feed(data[:cut])
            data = data[cut + 1:]
        self._rest = data

    def history(self) -> History:
        self._parser.feed(self._rest + self.pending.result())
        commits = self._parser.end()
        commits.reverse()
        _check_chain(commits)
        return History(self.workdir, self.ref, tuple(commits))


def start(workdir: Path, branch: str | None, tip: str | None = None, shallow: bool | None = None) -> Reading | None:
    """``read`` with the log started but not awaited; None when unborn."""
    if gitlog.is_shallow(workdir) if shallow is None else shallow:
        raise XzdocError("仓库是浅克隆（shallow clone），缺少完整的提交历史，无法判断阶段变更是否经过审批",
                         hint=gitlog.SHALLOW_HINT)
    ref = tip or gitlog.branch_ref(workdir, branch)
    if ref is None:
        if gitlog.resolve(workdir, "HEAD") is None:
            return None      # before the first commit: nothing to read yet, whatever branch: names
        shown = branch or "main 或 master"
        raise XzdocError(f"找不到主分支 {shown}，无法读取审批历史",
                         hint="在 xzdoc.yaml 中用 branch: <分支名> 指定主分支，或先 git fetch origin")
    return Reading(workdir, ref, gitlog.first_parent_log(workdir, ref))


def parse(out: bytes) -> list[Commit]:
    """Commits of the log in git's order (newest first)."""
    parser = _Parser()
    parser.feed(out)
    return parser.end()


class _Parser:
    """The log's NUL-terminated tokens in order, fed in pieces that each end where a token ends."""

    def __init__(self) -> None:
        self.commits: list[Commit] = []
        self.header: str | None = None
        self.changes: list[Change] = []
        self.meta: str | None = None     # a raw diff entry's ``:meta`` token, waiting for its path

    def feed(self, piece: bytes) -> None:
        # One decode per piece: a NUL is never part of a UTF-8 sequence, so each token reads as if alone.
        header, changes, meta, commits = self.header, self.changes, self.meta, self.commits
        for token in piece.decode("utf-8", "surrogateescape").split("\0"):
            if meta is not None:
                changes.append(_change(meta, token))
                meta = None
            elif token[:1] == "\x1e":
                if header is not None:
                    commits.append(_commit(header, changes))
                header, changes = token[1:], []
            elif token[:1] == ":" or token[:2] == "\n:":
                if header is None:
                    raise _garbled()
                meta = token.lstrip("\n")
            elif token.strip("\n"):
                raise _garbled()
        self.header, self.changes, self.meta = header, changes, meta

    def end(self) -> list[Commit]:
        if self.meta is not None:
            raise _garbled()
        if self.header is not None:
            self.commits.append(_commit(self.header, self.changes))
            self.header = None
        return self.commits


def _commit(header: str, changes: list[Change]) -> Commit:
    parts = header.split("\n", len(gitlog.LOG_FIELDS) - 1)
    if len(parts) < len(gitlog.LOG_FIELDS) or not _HEX.fullmatch(parts[0]):
        raise _garbled()
    return Commit(parts[0], tuple(parts[1].split()), tuple(changes), tuple(parts))


def _change(meta: str, path: str) -> Change:
    if not meta.isascii():   # never from git; read byte by byte as before rather than as UTF-8
        meta = meta.encode("utf-8", "surrogateescape").decode("ascii", "replace")
    fields = meta.split(" ")
    if len(fields) != 5:
        raise _garbled()
    return Change(path, fields[1], fields[2], fields[3], fields[4][:1])


def _check_chain(commits: list[Commit]) -> None:
    """Oldest first: a root, then each commit's first parent is the one before, and no sha repeats."""
    for older, newer in pairwise(commits):
        if not newer.parents or newer.parents[0] != older.sha:
            raise _garbled()
    if commits and commits[0].parents:
        raise _garbled()
    if len({c.sha for c in commits}) != len(commits):
        raise _garbled()


def _garbled() -> XzdocError:
    return XzdocError("无法解析 git log 的输出：第一父提交链不连续或字段异常",
                      hint="确认仓库完整（git fsck），且没有使用 git replace 或 grafts 改写历史")
