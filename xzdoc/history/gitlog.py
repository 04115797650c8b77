"""The only module that talks to git.

GitPython is imported lazily: most commands never touch history, and
`xzdoc --help` must start fast. History is read with one ``git log`` over the
first-parent line of the main branch and, for file contents, one
``git cat-file --batch`` kept open for the whole run and fed while the log is
still streaming: per-commit objects or per-blob subprocesses would make the
ledger cost grow with history length times a process start.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

from xzdoc.errors import UsageError, XzdocError

_NO_GIT_HINT = "安装 git（如 apt-get install -y git，或从 https://git-scm.com 下载），并确认 git 在 PATH 中"
_SHALLOW_HINT = ("在本地执行 git fetch --unshallow；在 GitHub Actions 中为 actions/checkout 设置 "
                 "with: {fetch-depth: 0}；其他 CI 请关闭浅克隆（clone depth）")
# Fields of one commit, one per line. A commit header is line-based and %s
# joins the subject's lines, so no name, address, date or subject can hold a
# newline and shift the fields after it (a separator byte could: git accepts
# \x1f in an author name, which would then forge the address). Trailers, the
# only multi-line field, come last.
_FIELDS = ("%H", "%P", "%T", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%s", "%(trailers:unfold,only)")
_FORMAT = "%x1e" + "%n".join(_FIELDS)
_HEX = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_PIPE_SIZE = 1 << 20
_PAUSE = 0.0005   # seconds; git writes some 20 KB of log or 200 KB of objects meanwhile
_SHORT = 64 << 10  # a read shorter than this has caught up with git


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
    """One commit of the first-parent line.

    Only the identity and the diff are taken apart while the log streams;
    the other fields are decoded from ``header`` on first use, since most
    commits of a long history are never looked at beyond their parents.
    """

    sha: str
    parents: tuple[str, ...]
    changes: tuple[Change, ...]
    header: bytes = field(repr=False, compare=False)   # the fields of _FORMAT as git wrote them

    @cached_property
    def _text(self) -> list[str]:
        return self.header.decode("utf-8", "surrogateescape").split("\n", len(_FIELDS) - 1)

    @property
    def tree(self) -> str:
        return self._text[2]

    @cached_property
    def author(self) -> Identity:
        return Identity(self._text[3], self._text[4])

    @property
    def authored(self) -> str:
        """ISO 8601 with offset."""
        return self._text[5]

    @cached_property
    def committer(self) -> Identity:
        return Identity(self._text[6], self._text[7])

    @property
    def committed(self) -> str:
        return self._text[8]

    @property
    def subject(self) -> str:
        return self._text[9]

    @cached_property
    def trailers(self) -> tuple[tuple[str, str], ...]:
        return _trailers(self._text[10])

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


class Objects:
    """One ``git cat-file --batch`` kept open for every round of objects a run asks for.

    Names go in while earlier answers are still coming out. A reader thread
    only cuts git's output into objects, so that git never waits on Python;
    ``digest(buffer, [(name, start, end), ...])`` then runs on the caller's
    thread, from ``pump()`` and ``wait()``, on the objects read since, without
    copying them: all the Python work on one thread, rather than two taking
    turns at the interpreter lock while git stalls. Use as a context manager;
    the process starts with the first history or request that needs it.
    """

    def __init__(self, root: Path, digest: Callable[[bytes, list[tuple[str, int, int]]], None] | None = None) -> None:
        self.root = root
        self.digest = digest
        self._process: Any = None           # GitPython's wrapper: it kills the process when collected
        self._asked: list[str] = []         # in the order written; answers come back in the same order
        self._seen: set[str] = set()
        self._spans: dict[str, tuple[bytes, int, int]] = {}
        self._pending: deque[tuple[bytes, list[tuple[str, int, int]]]] = deque()   # read, not digested yet
        self._done = 0                      # answers read
        self._queued: list[bytes] = []      # asked before git was up
        self._closing = False
        self._eof = False
        self._failure: BaseException | None = None
        self._ready = threading.Condition()
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Objects:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, repo: Any = None) -> None:
        """Start git in the background: the reader thread spawns it, so the caller never waits for that."""
        if self._reader is not None:
            return
        if repo is None:
            repo = _repo(self.root)
            if repo is None:
                raise XzdocError(f"{self.root} 不在 git 仓库中")
        self._reader = threading.Thread(target=self._run, args=(repo,), name="xzdoc-cat-file", daemon=True)
        self._reader.start()

    def request(self, names: Iterable[str]) -> None:
        """Ask for objects (ids or ``commit:path``) without waiting; each name is asked once."""
        # A name with a newline cannot be asked on a line of its own; it stays unanswered, like a missing object.
        new = [n for n in dict.fromkeys(names) if n not in self._seen and "\n" not in n]
        if not new:
            return
        self.start()
        data = "".join(f"{n}\n" for n in new).encode("utf-8", "surrogateescape")
        with self._ready:
            self._seen.update(new)
            self._asked.extend(new)   # before writing: the reader pairs each answer with the next name asked
            if self._process is None:   # still starting: the reader writes these once git is up
                self._queued.append(data)
                return
        stdin = self._process.proc.stdin
        try:
            stdin.write(data)
            stdin.flush()
        except OSError:
            self.wait()   # git has gone: say why
            raise

    def idle(self, timeout: float) -> None:
        """Wait a moment for objects to arrive, digesting them if they do."""
        with self._ready:
            if not self._pending and self._reader is not None and not self._eof:
                self._ready.wait(timeout)
        self.pump()

    def pump(self) -> None:
        """Digest the objects read since the last call."""
        pending, digest = self._pending, self.digest
        while pending:
            buf, got = pending.popleft()
            if digest is not None:
                digest(buf, got)

    def wait(self, timeout: float | None = None) -> bool:
        """Until every object asked for so far has been read and digested; False if ``timeout`` came first."""
        if self._reader is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.pump()
            with self._ready:
                if self._pending:
                    continue
                if self._done >= len(self._asked) or self._eof:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._ready.wait(left)
        if self._failure is not None:
            raise self._failure
        if self._done < len(self._asked):
            stderr = self._process.proc.stderr if self._process is not None else None
            detail = stderr.read().decode("utf-8", "replace").strip() if stderr else ""
            raise XzdocError(f"git cat-file 意外退出：{detail}")
        return True

    def done_asking(self) -> None:
        """No more names will come: git answers those asked and exits meanwhile."""
        with self._ready:
            self._closing = True
            process = self._process
        if process is not None:
            _close(process.proc.stdin)

    def read(self, names: Iterable[str]) -> dict[str, bytes]:
        """Contents of objects, asking for those not asked yet; missing objects are left out."""
        wanted = list(dict.fromkeys(names))
        self.request(wanted)
        self.wait()
        return {n: self[n] for n in wanted if n in self._spans}

    def contents(self, names: Iterable[str]) -> Mapping[str, bytes]:
        """The objects among ``names`` as they are read, each copied out of git's output only when used."""
        return _Contents(self._spans, frozenset(names))

    def __getitem__(self, name: str) -> bytes:
        buf, start, end = self._spans[name]
        return buf[start:end]

    def __contains__(self, name: object) -> bool:
        return name in self._spans

    def get(self, name: str) -> bytes | None:
        """An object read so far; None when it was not asked for, not read yet, or missing."""
        return self[name] if name in self._spans else None

    def close(self) -> None:
        if self._reader is None:
            return
        self.done_asking()
        if self._failure is None:
            self._reader.join(5)
        if self._process is None:
            return
        proc = self._process.proc
        if proc.poll() is None:
            try:
                proc.wait(0 if self._failure is not None else 5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _run(self, repo: Any) -> None:
        try:
            process = _spawn(repo, ["cat-file", "--batch"], stdin=True)
            _widen(process.proc.stdout)
            _widen(process.proc.stdin)    # so that asking never waits for git to catch up
            with self._ready:
                # Under the lock, so that nothing asked meanwhile overtakes what was queued.
                self._process = process
                if self._queued:
                    process.proc.stdin.write(b"".join(self._queued))
                    process.proc.stdin.flush()
                    self._queued.clear()
                if self._closing:
                    _close(process.proc.stdin)
        except BaseException as exc:  # raised again on the caller's thread by wait()
            self._failure = exc
            with self._ready:
                self._eof = True
                self._ready.notify_all()
            return
        self._read()

    def _read(self) -> None:
        stdout = self._process.proc.stdout
        rest = b""
        try:
            while chunk := _read(stdout):
                pos = 0
                if rest:
                    # Finish the answer cut at the end of the last chunk from the head of this one, copying
                    # only that answer rather than the whole chunk.
                    rest, pos = self._finish(rest, chunk)
                    if rest:
                        continue
                rest = chunk[self._take(chunk, pos):]
        except BaseException as exc:  # raised again on the caller's thread by wait()
            self._failure = exc
        finally:
            with self._ready:
                self._eof = True
                self._ready.notify_all()

    def _finish(self, rest: bytes, chunk: bytes) -> tuple[bytes, int]:
        """Complete the answer cut short in ``rest``: returns what is still cut (the chunk was too short for it)
        and where the chunk's own answers start."""
        nl = rest.find(b"\n")
        pos = 0
        if nl < 0:
            cut = chunk.find(b"\n")
            if cut < 0:
                return rest + chunk, len(chunk)
            nl, pos = len(rest) + cut, cut + 1
            rest += chunk[:pos]
        head = rest[:nl].split(b" ")
        size = nl + 1 + (int(head[2]) + 1 if len(head) == 3 and head[2].isdigit() else 0)
        missing = size - len(rest)
        if missing > len(chunk) - pos:
            return rest + chunk[pos:], len(chunk)
        whole = rest + chunk[pos:pos + missing] if missing > 0 else rest
        self._take(whole, 0)
        return b"", pos + max(missing, 0)

    def _take(self, buf: bytes, pos: int) -> int:
        """Queue the complete answers in ``buf`` from ``pos``; returns where the unfinished one starts."""
        size, done = len(buf), self._done
        asked, spans = self._asked, self._spans
        got: list[tuple[str, int, int]] = []
        while (nl := buf.find(b"\n", pos)) >= 0:
            head = buf[pos:nl].split(b" ")
            if len(head) == 3 and head[2].isdigit():
                start = nl + 1
                end = start + int(head[2])
                if end >= size:   # the contents or their closing newline are still to come
                    break
                name = asked[done]
                spans[name] = (buf, start, end)
                got.append((name, start, end))
                pos = end + 1
            else:   # "<name> missing" (or ambiguous): nothing to read
                pos = nl + 1
            done += 1
        if done != self._done:
            with self._ready:
                if got:
                    self._pending.append((buf, got))
                self._done = done
                self._ready.notify_all()
        return pos


class _Contents(Mapping[str, bytes]):
    """Object contents by name, cut out of git's output only when looked up."""

    def __init__(self, spans: dict[str, tuple[bytes, int, int]], names: frozenset[str]) -> None:
        self._spans = spans
        self._names = names

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        buf, start, end = self._spans[name]
        return buf[start:end]

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._names if n in self._spans)

    def __len__(self) -> int:
        return sum(1 for n in self._names if n in self._spans)


def history(root: Path, under: str, branch: str | None = None, want: Callable[[Change], bool] | None = None,
            keep: Callable[[bytes], bool] | None = None, objects: Objects | None = None,
            on_commit: Callable[[Commit], None] | None = None,
            on_start: Callable[[], None] | None = None) -> History | None:
    """The first-parent history of the main branch, oldest first, with raw diffs inside ``under``.

    ``under`` is a folder relative to ``root``; ``keep`` (on the raw path)
    drops the diff entries the caller has no use for before they are decoded.
    The new objects of the changes ``want`` selects are read too
    (``History.blobs``), asked for while the log is still streaming, so git
    reads them meanwhile. With a batch of its own, history waits for them;
    with the caller's ``objects``, it returns when the log ends and the
    caller waits (``objects.wait``), while ``objects.digest`` sees the
    objects as they arrive and ``History.blobs`` fills in. ``on_commit``
    sees each commit as it is parsed, newest first (git's order:
    ``--reverse`` would hold the whole log back until the walk ends), so
    callers can work while git writes; ``on_start`` runs once git has
    started, so the caller's own setup overlaps git's.
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
    args = ["log", "-z", "--first-parent", "--raw", "--no-abbrev", "--no-renames", "-t", "--no-color",
            "--no-show-signature", "--no-notes", "--no-use-mailmap", "--encoding=UTF-8", f"--relative={prefix}/",
            f"--format={_FORMAT}", ref, "--"]
    batch = (objects or Objects(root)) if want is not None else None
    try:
        commits, asked = _stream(repo, args, want, keep, batch, on_commit, on_start)
        blobs: Mapping[str, bytes] = {}
        if batch is not None:
            if batch is not objects:
                batch.wait()
            blobs = batch.contents(asked)
    finally:
        if batch is not None and batch is not objects:
            batch.close()
    commits.reverse()
    _check_chain(commits)
    return History(workdir, ref, prefix, tuple(commits), blobs)


def _spawn(repo: Any, args: list[str], stdin: bool = False, env: Mapping[str, str] | None = None) -> Any:
    """A running git process (GitPython's wrapper, which must stay referenced: it kills the process when collected)."""
    import git

    try:
        return repo.git.execute(["git", *args], as_process=True, istream=subprocess.PIPE if stdin else None, env=env)
    except git.GitCommandNotFound:
        raise XzdocError("找不到 git 命令，无法读取提交历史", hint=_NO_GIT_HINT) from None


def _read(pipe: Any) -> bytes:
    """What git has written so far, at least one byte unless it has finished.

    Git writes in small pieces (cat-file several per object), so taking
    whatever is there would wake Python thousands of times for a few hundred
    bytes each; after a short read it pauses a moment instead, and git fills
    the pipe meanwhile. (The log reader pauses after its own work instead.)
    """
    chunk: bytes = pipe.read1(_PIPE_SIZE)
    if 0 < len(chunk) < _SHORT:
        time.sleep(_PAUSE)
    return chunk


def _close(pipe: Any) -> None:
    try:
        if pipe is not None and not pipe.closed:
            pipe.close()
    except OSError:
        pass


def _widen(pipe: Any) -> None:
    """A megabyte of pipe (Linux) rather than 64 KB, so that neither side stalls while the other is busy."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def _stream(repo: Any, args: list[str], want: Callable[[Change], bool] | None,
            keep: Callable[[bytes], bool] | None, objects: Objects | None,
            on_commit: Callable[[Commit], None] | None = None,
            on_start: Callable[[], None] | None = None) -> tuple[list[Commit], list[str]]:
    """The commits of the log, newest first, and the objects asked for on the way."""
    # GIT_FLUSH=0: git log would otherwise write (and wake the reader) once per commit.
    log_process = _spawn(repo, args, env={"GIT_FLUSH": "0"})
    log: subprocess.Popen[bytes] = log_process.proc
    assert log.stdout is not None
    _widen(log.stdout)
    asked: list[str] = []
    parser = _Parser(keep)
    seen = 0

    def request(changes: list[Change]) -> None:
        if objects is None or want is None:
            return
        batch = [c.new for c in changes if c.status != "D" and want(c)]
        if batch:
            asked.extend(batch)
            objects.request(batch)

    def report() -> None:
        nonlocal seen
        if on_commit is not None:
            for commit in parser.commits[seen:]:
                on_commit(commit)
        seen = len(parser.commits)

    try:
        if objects is not None:
            objects.start(repo)
        if on_start is not None:
            on_start()
        stdout: Any = log.stdout
        while chunk := stdout.read1(_PIPE_SIZE):
            request(parser.feed(chunk))
            if objects is not None:
                objects.pump()
            report()
            if len(chunk) < _SHORT:   # caught up with git: let it write some more, digesting what arrives meanwhile
                if objects is not None:
                    objects.idle(_PAUSE)
                else:
                    time.sleep(_PAUSE)
        request(parser.close())
        report()
        if log.wait():
            detail = log.stderr.read().decode("utf-8", "replace").strip() if log.stderr else ""
            raise XzdocError(f"git log 失败：{detail}")
        return parser.commits, asked
    finally:
        if log.poll() is None:
            log.kill()
            log.wait()


class _Parser:
    """Incremental reader of ``git log -z --raw`` output.

    Tokens are NUL-terminated and neither a commit message nor a path can
    contain NUL, so each header is exactly one token whatever its text holds;
    a raw diff entry is a ``:meta`` token followed by a path token, taken by
    position, so a path that looks like a header is still read as a path.
    """

    def __init__(self, keep: Callable[[bytes], bool] | None = None) -> None:
        self.keep = keep
        self.commits: list[Commit] = []     # in git's order
        self.rest = b""
        self.header: bytes | None = None
        self.changes: list[Change] = []

    def feed(self, data: bytes) -> list[Change]:
        """Consume a chunk; returns the diff entries it kept."""
        tokens = (self.rest + data if self.rest else data).split(b"\0")
        self.rest = tokens.pop()
        return self._tokens(tokens)

    def close(self) -> list[Change]:
        """The last tokens; raises when the output stops inside an entry."""
        rest, self.rest = self.rest, b""
        kept = self._tokens([rest] if rest.strip(b"\n") else [])
        if self.rest:
            raise _garbled()
        if self.header is not None:
            self.commits.append(_commit(self.header, self.changes))
            self.header = None
        return kept

    def _tokens(self, tokens: list[bytes]) -> list[Change]:
        keep, kept, changes, header, commits = self.keep, [], self.changes, self.header, self.commits
        i, count = 0, len(tokens)
        while i < count:
            token = tokens[i]
            if token.startswith(b"\x1e"):
                if header is not None:
                    commits.append(_commit(header, changes))
                header, changes = token[1:], []
                i += 1
                continue
            if header is None or not token.startswith((b":", b"\n:")):
                raise _garbled()
            if i + 1 == count:
                # The path is in the next chunk: keep the entry whole for then.
                self.rest = b"\0".join((token, self.rest))
                break
            path = tokens[i + 1]
            i += 2
            if keep is None or keep(path):
                change = _change(token, path)
                changes.append(change)
                kept.append(change)
        self.header, self.changes = header, changes
        return kept


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
    first = header.find(b"\n")
    second = header.find(b"\n", first + 1)
    sha = header[:first]
    # Every field but the trailers ends in a newline; trailers may add more.
    if second < 0 or not _HEX.fullmatch(sha) or header.count(b"\n", second) < len(_FIELDS) - 2:
        raise _garbled()
    return Commit(sha.decode(), tuple(header[first + 1:second].decode("ascii", "replace").split()), tuple(changes),
                  header)


def _change(meta: bytes, path: bytes) -> Change:
    fields = meta.decode("ascii", "replace").split(" ")
    if len(fields) != 5:
        raise _garbled()
    return Change(path.decode("utf-8", "surrogateescape"), fields[1], fields[2], fields[3], fields[4][:1])


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


# -- Comparing two revisions (xzdoc diff / xzdoc changed) ---------------------------------------------

_NULL_SHA = re.compile(r"0{40}(?:0{24})?")


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
    repo = _repo(root)
    if repo is None:
        raise XzdocError(f"{root} 不在 git 仓库中，无法比较两个版本", str(root), hint="在 git 仓库的工作区中运行")
    workdir = Path(repo.working_tree_dir or root).resolve()
    try:
        prefix = (root.resolve() / under).relative_to(workdir).as_posix()
    except ValueError:
        raise XzdocError(f"{root / under} 不在仓库 {workdir} 之内") from None
    if _NULL_SHA.fullmatch(name.strip()):
        # Asked of git rather than spelled out: the empty tree's id differs between SHA-1 and SHA-256 repositories.
        empty = _run(repo, "hash-object", "-t", "tree", "--stdin", stdin=b"").decode("ascii").strip()
        return Revision(name, empty, workdir, prefix, empty=True)
    if name.startswith("-"):
        raise UsageError(f"“{name}”不是版本名", f"命令行参数“{name}”", hint="写提交哈希、分支名或标签，如 origin/main")
    try:
        out = _run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
    except XzdocError:
        out = b""
    oid = out.decode("ascii", "replace").strip()
    if not oid:
        if is_shallow(repo):
            raise XzdocError(f"浅克隆（shallow clone）中找不到版本 {name}", hint=_SHALLOW_HINT)
        raise UsageError(f"找不到版本 {name}", f"命令行参数“{name}”",
                         hint="确认提交哈希或分支名无误；远程分支需先 git fetch origin，写作 origin/main")
    return Revision(name, oid, workdir, prefix)


def tree_files(rev: Revision) -> dict[str, str]:
    """Every file under the revision's folder at that commit: path relative to the folder -> blob id.

    One ``git ls-tree``; contents are then read with one ``read_objects`` call.
    """
    if rev.empty:
        return {}
    repo = _repo(rev.workdir)
    out = _run(repo, "ls-tree", "-r", "-z", "--full-tree", rev.oid, "--", f"{rev.prefix}/")
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
    repo = _repo(base.workdir)
    scope = f"--relative={base.prefix}/"
    args = ["diff", "--name-only", "-z", "--no-renames", "--no-color", "--no-ext-diff", scope, base.oid]
    out = _run(repo, *args, *([head.oid] if head else []), "--", f"{base.prefix}/")
    paths = [p for p in out.split(b"\0") if p]
    if head is None:
        extra = _run(repo, "ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--", f"{base.prefix}/")
        start = len(base.prefix) + 1
        paths += [p[start:] for p in extra.split(b"\0") if p]
    return sorted({p.decode("utf-8", "surrogateescape") for p in paths})


def version() -> str | None:
    """The installed git's version, or None when there is no git command."""
    exe = shutil.which("git")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return out.removeprefix("git version ").strip()
