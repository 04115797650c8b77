"""The only module that talks to git.

GitPython is imported lazily: most commands never touch history, and
`xzdoc --help` must start fast. History is read with one ``git log`` over the
first-parent line of the main branch and, for file contents, one
``git cat-file --batch`` for all blobs at once: per-commit objects or
per-blob subprocesses would make the ledger cost grow with history length
times a process start.
"""

from __future__ import annotations

import io
import re
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError

_NO_GIT_HINT = "安装 git（如 apt-get install -y git，或从 https://git-scm.com 下载），并确认 git 在 PATH 中"
_SHALLOW_HINT = ("在本地执行 git fetch --unshallow；在 GitHub Actions 中为 actions/checkout 设置 "
                 "with: {fetch-depth: 0}；其他 CI 请关闭浅克隆（clone depth）")
_HEX = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
# Fields of one commit. Free text (subject, trailers) comes last so that a
# message containing the field separator cannot shift the identity fields.
_FIELDS = ("%H", "%P", "%T", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%s", "%(trailers:unfold,only)")
_FORMAT = "%x1e" + "%x1f".join(_FIELDS)


@dataclass(frozen=True)
class Head:
    commit: str
    epoch: int      # committer date, seconds since 1970; feeds SOURCE_DATE_EPOCH
    dirty: bool


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Change:
    """One entry of the raw diff against the first parent, path relative to the walked folder."""

    path: str
    mode: str        # new mode; 040000 for a tree
    old: str         # blob or tree id before, zeros when added
    new: str         # after, zeros when deleted
    status: str      # A, M, D, T


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    tree: str
    author: Identity
    authored: str    # ISO 8601 with offset
    committer: Identity
    committed: str
    subject: str
    trailers: tuple[tuple[str, str], ...]
    changes: tuple[Change, ...]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) >= 2


@dataclass(frozen=True)
class History:
    """The first-parent line of ``branch``, oldest commit first."""

    workdir: Path
    branch: str
    under: str                 # the walked folder, relative to the repository root
    commits: tuple[Commit, ...]
    blobs: Mapping[str, bytes] = field(default_factory=dict)   # objects read for the changes asked for


def repository_root(start: Path) -> Path | None:
    """The working tree holding ``start``, found without starting git or importing GitPython."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _repo(root: Path):  # type: ignore[no-untyped-def]
    try:
        import git
    except ImportError as exc:
        # GitPython refuses to import when it cannot find a git executable.
        if "git executable" in str(exc).lower() or "refresh" in str(exc).lower():
            raise XzdocError("找不到 git 命令，无法读取提交历史", hint=_NO_GIT_HINT) from None
        raise XzdocError("缺少 GitPython", hint="pip install gitpython") from exc
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    except git.GitCommandNotFound:
        raise XzdocError("找不到 git 命令", hint=_NO_GIT_HINT) from None


def _run(repo: Any, *args: str, stdin: bytes | None = None) -> bytes:
    """One git subprocess; its failure becomes an XzdocError naming the command."""
    import git

    try:
        if stdin is None:
            out = repo.git.execute(["git", *args], stdout_as_string=False, strip_newline_in_stdout=False)
            return out if isinstance(out, bytes) else bytes(out)
        proc = repo.git.execute(["git", *args], as_process=True, istream=subprocess.PIPE)
        stdout, stderr = proc.proc.communicate(stdin)
        if proc.proc.returncode:
            raise XzdocError(f"git {args[0]} 失败：{stderr.decode('utf-8', 'replace').strip()}")
        return bytes(stdout)
    except git.GitCommandNotFound:
        raise XzdocError("找不到 git 命令，无法读取提交历史", hint=_NO_GIT_HINT) from None
    except git.GitCommandError as exc:
        detail = exc.stderr.strip() if isinstance(exc.stderr, str) else str(exc.stderr)
        raise XzdocError(f"git {args[0]} 失败：{detail}") from None


def head(root: Path) -> Head | None:
    """HEAD of the repository holding ``root``; None outside git or before the first commit."""
    repo = _repo(root)
    if repo is None:
        return None
    try:
        out = repo.git.log("-1", "--format=%H %ct")
    except Exception:  # an empty repository has no HEAD to log
        return None
    commit, epoch = out.split()
    dirty = bool(repo.git.status("--porcelain", "--untracked-files=no"))
    return Head(commit, int(epoch), dirty)


def state_dir(root: Path) -> Path | None:
    """A folder inside the git directory where xzdoc may keep caches; None outside a repository."""
    repo = _repo(root)
    return Path(repo.common_dir) / "xzdoc" if repo is not None else None


def is_shallow(repo: Any) -> bool:
    return (Path(repo.common_dir) / "shallow").exists()


def _branch(repo: Any, wanted: str | None) -> str | None:
    """The ref to walk: the configured branch, else main/master, local before remote."""
    names = [wanted] if wanted else ["main", "master"]
    candidates = [f"refs/heads/{n}" for n in names] + [f"refs/remotes/origin/{n}" for n in names]
    if wanted:
        candidates.insert(0, wanted)
    known = {ref.path for ref in repo.refs}
    for ref in candidates:
        if ref in known:
            return ref
    return None


def history(root: Path, under: str, branch: str | None = None, want: Callable[[Change], bool] | None = None,
            keep: Callable[[bytes], bool] | None = None,
            on_commit: Callable[[Commit], None] | None = None) -> History | None:
    """The first-parent history of the main branch, oldest first, with raw diffs inside ``under``.

    ``under`` is a folder relative to ``root``; ``keep`` (on the raw path)
    drops the diff entries the caller has no use for before they are decoded.
    The new objects of the changes ``want`` selects are read too
    (``History.blobs``), by one ``git cat-file --batch`` fed while the log is
    still streaming, so the two overlap. ``on_commit`` sees each commit as it
    is parsed, so callers can do their own work while git is still writing.
    Returns None when the branch has no commits yet. Raises XzdocError outside
    a repository, in a shallow clone, or when the branch cannot be found.
    """
    repo = _repo(root)
    if repo is None:
        raise XzdocError(f"{root} 不在 git 仓库中，无法从提交历史得出审批记录",
                         hint="在仓库根目录执行 git init 并提交；审批以主分支上的合并提交为准")
    if is_shallow(repo):
        raise XzdocError("仓库是浅克隆（shallow clone），缺少完整的提交历史，无法判断阶段变更是否经过审批",
                         hint=_SHALLOW_HINT)
    workdir = Path(repo.working_tree_dir or root).resolve()
    try:
        prefix = (root.resolve() / under).relative_to(workdir).as_posix()
    except ValueError:
        raise XzdocError(f"{root / under} 不在仓库 {workdir} 之内") from None
    ref = _branch(repo, branch)
    if ref is None:
        if not branch and not repo.head.is_valid():
            return None
        shown = branch or "main 或 master"
        raise XzdocError(f"找不到主分支 {shown}，无法读取审批历史",
                         hint="在 xzdoc.yaml 中用 branch: <分支名> 指定主分支，或先 git fetch origin")
    args = ["log", "-z", "--first-parent", "--reverse", "--raw", "--no-abbrev", "--no-renames", "-t", "--no-color",
            "--no-show-signature", "--no-notes", "--encoding=UTF-8", f"--relative={prefix}/", f"--format={_FORMAT}",
            ref, "--"]
    commits, blobs = _stream(repo, args, want, keep, on_commit)
    _check_chain(commits)
    return History(workdir, ref, prefix, tuple(commits), blobs)


def _spawn(repo: Any, args: list[str], stdin: bool = False) -> Any:
    """A running git process (GitPython's wrapper, which must stay referenced: it kills the process when collected)."""
    import git

    try:
        return repo.git.execute(["git", *args], as_process=True, istream=subprocess.PIPE if stdin else None)
    except git.GitCommandNotFound:
        raise XzdocError("找不到 git 命令，无法读取提交历史", hint=_NO_GIT_HINT) from None


def _stream(repo: Any, args: list[str], want: Callable[[Change], bool] | None,
            keep: Callable[[bytes], bool] | None = None,
            on_commit: Callable[[Commit], None] | None = None) -> tuple[list[Commit], dict[str, bytes]]:
    log_process = _spawn(repo, args)
    cat_process = _spawn(repo, ["cat-file", "--batch"], stdin=True) if want else None
    log: subprocess.Popen[bytes] = log_process.proc
    cat: subprocess.Popen[bytes] | None = cat_process.proc if cat_process is not None else None
    output: list[bytes] = []
    reader = None
    if cat is not None:
        assert cat.stdout is not None
        reader = threading.Thread(target=lambda: output.append(cat.stdout.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
    asked: dict[str, None] = {}
    parser = _Parser(keep)
    try:
        assert log.stdout is not None

        def request(commits: list[Commit]) -> None:
            batch = []
            for commit in commits:
                if on_commit is not None:
                    on_commit(commit)
                for change in commit.changes:
                    if want is not None and change.new not in asked and change.status != "D" and want(change):
                        asked[change.new] = None
                        batch.append(change.new)
            if cat is not None and batch:
                assert cat.stdin is not None
                cat.stdin.write("".join(f"{b}\n" for b in batch).encode())
                cat.stdin.flush()

        stdout: io.BufferedReader = log.stdout  # type: ignore[assignment]
        while chunk := stdout.read1(1 << 16):
            request(parser.feed(chunk))
        done = len(parser.commits)
        parser.close()
        request(parser.commits[done:])
        if log.wait():
            detail = log.stderr.read().decode("utf-8", "replace").strip() if log.stderr else ""
            raise XzdocError(f"git log 失败：{detail}")
        blobs: dict[str, bytes] = {}
        if cat is not None and reader is not None:
            assert cat.stdin is not None
            cat.stdin.close()
            reader.join()
            cat.wait()
            blobs = _objects(list(asked), output[0] if output else b"")
        return parser.commits, blobs
    finally:
        for proc in (log, cat):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


class _Parser:
    """Incremental reader of ``git log -z --raw`` output.

    Tokens are NUL-separated and a commit message cannot contain NUL, so each
    header is exactly one token whatever its text holds; a raw diff entry is a
    ``:meta`` token followed by a path token.
    """

    def __init__(self, keep: Callable[[bytes], bool] | None = None) -> None:
        self.keep = keep
        self.commits: list[Commit] = []
        self.rest = b""
        self.header: bytes | None = None
        self.changes: list[Change] = []
        self.meta: bytes | None = None

    def feed(self, data: bytes) -> list[Commit]:
        """Consume a chunk; returns the commits it completed."""
        tokens = (self.rest + data).split(b"\0")
        self.rest = tokens.pop()
        done = len(self.commits)
        for token in tokens:
            self._token(token)
        return self.commits[done:]

    def close(self) -> None:
        if self.rest:
            self._token(self.rest)
            self.rest = b""
        if self.meta is not None:
            raise _garbled()
        if self.header is not None:
            self.commits.append(_commit(self.header, self.changes))
            self.header = None

    def _token(self, token: bytes) -> None:
        if self.meta is not None:
            if self.keep is None or self.keep(token):
                self.changes.append(_change(self.meta, token))
            self.meta = None
            return
        token = token.lstrip(b"\n")
        if token.startswith(b":") and self.header is not None:
            self.meta = token
        elif token.startswith(b"\x1e"):
            if self.header is not None:
                self.commits.append(_commit(self.header, self.changes))
            self.header, self.changes = token[1:], []
        elif token:
            raise _garbled()


def _check_chain(commits: list[Commit]) -> None:
    """Oldest first: a root, then each commit's first parent is the one before, and no sha repeats."""
    for older, newer in pairwise(commits):
        if not newer.parents or newer.parents[0] != older.sha:
            raise _garbled()
    if commits and commits[0].parents:
        raise _garbled()
    if len({c.sha for c in commits}) != len(commits):
        raise _garbled()


def _commit(header: bytes, changes: list[Change]) -> Commit:
    # maxsplit: a separator inside the free-text tail only garbles the tail.
    fields = header.decode("utf-8", "surrogateescape").split("\x1f", len(_FIELDS) - 1)
    if len(fields) != len(_FIELDS) or not _HEX.fullmatch(fields[0].encode()):
        raise _garbled()
    sha, parents, tree, an, ae, ad, cn, ce, cd, subject, trailers = fields
    return Commit(sha, tuple(parents.split()), tree, Identity(an, ae), ad, Identity(cn, ce), cd, subject,
                  _trailers(trailers), tuple(changes))


def _garbled() -> XzdocError:
    return XzdocError("无法解析 git log 的输出：第一父提交链不连续或字段异常",
                      hint="确认仓库完整（git fsck），且没有使用 git replace 或 grafts 改写历史")


def _trailers(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out.append((key.strip(), value.strip()))
    return tuple(out)


def _change(meta: bytes, path: bytes) -> Change:
    fields = meta[1:].decode("ascii", "replace").split(" ")
    if len(fields) != 5:
        raise _garbled()
    _old_mode, new_mode, old, new, status = fields
    return Change(path.decode("utf-8", "surrogateescape"), new_mode, old, new, status[:1])


def read_objects(workdir: Path, names: Iterable[str]) -> dict[str, bytes]:
    """Contents of many objects (ids or ``commit:path``) with one ``git cat-file --batch``.

    Missing objects are absent from the result.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    repo = _repo(workdir)
    if repo is None:
        raise XzdocError(f"{workdir} 不在 git 仓库中")
    out = _run(repo, "cat-file", "--batch", stdin="".join(f"{n}\n" for n in wanted).encode("utf-8"))
    return _objects(wanted, out)


def _objects(wanted: list[str], out: bytes) -> dict[str, bytes]:
    """Parse ``git cat-file --batch`` output for the names asked, in order; missing ones are left out."""
    result: dict[str, bytes] = {}
    pos = 0
    for name in wanted:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) < 3:
            continue
        size = int(header[2])
        result[name] = out[pos:pos + size]
        pos += size + 1
    return result


def object_ids(workdir: Path, names: Sequence[str]) -> dict[str, str]:
    """Object ids for ``commit:path`` names with one ``git cat-file --batch-check``."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    repo = _repo(workdir)
    if repo is None:
        raise XzdocError(f"{workdir} 不在 git 仓库中")
    out = _run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
               stdin="".join(f"{n}\n" for n in wanted).encode("utf-8"))
    result = {}
    for name, line in zip(wanted, out.decode("utf-8", "replace").splitlines(), strict=False):
        sha, _, kind = line.partition(" ")
        if kind and kind != "missing" and not sha.endswith("missing"):
            result[name] = sha
    return result


def verify_commit(workdir: Path, sha: str) -> bool:
    """Whether ``git verify-commit`` accepts the commit's signature."""
    repo = _repo(workdir)
    if repo is None:
        return False
    try:
        _run(repo, "verify-commit", sha)
    except XzdocError as exc:
        if "找不到 git" in exc.message:
            raise
        return False
    return True
