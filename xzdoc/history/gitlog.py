"""The only module that starts git.

Every call runs with replace objects and grafts off (``--no-replace-objects``,
``GIT_NO_REPLACE_OBJECTS``, an empty graft file): a ``refs/replace/*`` ref
pushed by anyone would otherwise rewrite what a commit holds. Commands that
read history take the repository as git sees it (the top level of the work
tree, or a bare repository's git directory for the server-side guard).

History is read with one ``git log --first-parent --raw`` and file contents
with one ``git cat-file --batch`` fed in a plain loop (xzdoc/history/log.py
takes the log apart). Nothing here interprets what it reads. Every command
writes into an unnamed temporary file (``start``), so the ledger can start the
next one, or do its own work, while git runs; the second-parent lookup is read
line by line as git answers (``kinds_in_order``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xzdoc.errors import XzdocError

# subprocess is imported where git starts: outside a repository, `xzdoc validate` loads this only to learn that.

_NO_GIT_HINT = "安装 git（如 apt-get install -y git，或从 https://git-scm.com 下载），并确认 git 在 PATH 中"
SHALLOW_HINT = ("在本地执行 git fetch --unshallow；在 GitHub Actions 中为 actions/checkout 设置 "
                "with: {fetch-depth: 0}；其他 CI 请关闭浅克隆（clone depth）")
_DUBIOUS = re.compile(r"detected dubious ownership in repository at '([^'\n]*)'")
_NULL_SHA = re.compile(r"0{40}(?:0{24})?")


@dataclass(frozen=True)
class Head:
    commit: str
    epoch: int      # committer date, seconds since 1970; feeds SOURCE_DATE_EPOCH
    dirty: bool


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_NO_REPLACE_OBJECTS="1", GIT_GRAFT_FILE=os.devnull, GIT_TERMINAL_PROMPT="0", LC_ALL="C.UTF-8")
    env.pop("GIT_REPLACE_REF_BASE", None)
    if extra:
        env.update(extra)
    return env


class Pending:
    """A git command under way: its output goes to an unnamed file, read by ``result`` (and ``available``).

    A file rather than a pipe: git never waits for the reader, so the caller can do other work meanwhile
    without a loop that drains pipes. One started ``piped`` is read line by line (``lines``) as git answers."""

    def __init__(self, name: str, process: Any, out: IO[bytes] | None, err: IO[bytes], check: bool) -> None:
        self.name, self.process, self.out, self.err, self.check = name, process, out, err, check
        self._taken = 0          # bytes already handed out by ``available``
        self._result: bytes | None = None

    def available(self) -> bytes:
        """The output git has written so far and ``available`` has not returned yet, without waiting.

        Git only appends, so this is a prefix of what is to come; read by position, since git writes
        through the same file offset, which must not move."""
        if self._result is not None or self.out is None:
            return b""
        fd = self.out.fileno()
        data = os.pread(fd, max(os.fstat(fd).st_size - self._taken, 0), self._taken)
        self._taken += len(data)
        return data

    def lines(self) -> Iterator[bytes]:
        """A piped command's output, line by line as git writes it; its failure is raised at the end."""
        try:
            yield from self.process.stdout
        finally:
            self.process.stdout.close()
        self.result()

    def result(self) -> bytes:
        """The output, less what ``available`` returned, once git has ended; its failure becomes an XzdocError."""
        if self._result is None:
            code = self.process.wait()
            with self.err:
                if self.check and code:
                    self.err.seek(0)
                    raise XzdocError(f"git {self.name} 失败：{self.err.read().decode('utf-8', 'replace').strip()}")
            if self.out is None:
                self._result = b""
            else:
                with self.out:
                    self.out.seek(self._taken)
                    self._result = self.out.read()
        return self._result


def start(where: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None,
          config: Sequence[str] = (), check: bool = True, piped: bool = False) -> Pending:
    """Start one git command in ``where`` without waiting for it; ``result`` (``lines`` when piped) gives its output."""
    exe = shutil.which("git")
    if exe is None:
        raise XzdocError("找不到 git 命令，无法读取提交历史", hint=_NO_GIT_HINT)
    command = [exe, "--no-replace-objects"]
    for item in config:
        command += ["-c", item]
    import subprocess
    import tempfile

    out = None if piped else tempfile.TemporaryFile()  # noqa: SIM115 - closed by Pending.result
    err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Pending.result
    sink = subprocess.PIPE if out is None else out
    try:
        if stdin is None:
            process = subprocess.Popen([*command, *args], cwd=where, stdin=subprocess.DEVNULL, stdout=sink,
                                       stderr=err, env=_env(env))
        else:
            with tempfile.TemporaryFile() as source:
                source.write(stdin)
                source.seek(0)
                process = subprocess.Popen([*command, *args], cwd=where, stdin=source, stdout=sink, stderr=err,
                                           env=_env(env))
    except OSError as exc:
        if out is not None:
            out.close()
        err.close()
        raise XzdocError(f"无法运行 git：{exc}", hint=_NO_GIT_HINT) from None
    return Pending(args[0], process, out, err, check)


def run(where: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None,
        config: Sequence[str] = (), check: bool = True) -> bytes:
    """One git command in ``where``; its failure becomes an XzdocError naming the command."""
    return start(where, *args, stdin=stdin, env=env, config=config, check=check).result()


def _text(where: Path, *args: str) -> str | None:
    try:
        out = run(where, *args)
    except XzdocError as exc:
        if "找不到 git" in exc.message or "无法运行 git" in exc.message:
            raise
        if found := _DUBIOUS.search(exc.message):
            # Git refuses a repository another user owns (a CI container's checkout, a shared folder):
            # it is a repository, and the user needs git's own fix, not "not a repository".
            raise XzdocError(f"git 拒绝读取仓库 {found[1]}：该目录属于另一个用户（git 的 safe.directory 检查）",
                             hint=f"确认这个仓库可信后执行 git config --global --add safe.directory {found[1]}"
                             "（CI 容器中在检出之后、运行 xzdoc 之前执行）") from None
        return None
    return out.decode("utf-8", "surrogateescape").rstrip("\n")


def repository_root(start: Path) -> Path | None:
    """The working tree holding ``start``, found without starting git (for the cheap "is this git?" question)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def toplevel(start: Path) -> Path | None:
    """The top level of the work tree holding ``start``, as git sees it; None outside a repository."""
    where = start if start.is_dir() else start.parent
    if repository_root(where) is None:
        return None
    found = _text(where, "rev-parse", "--show-toplevel")
    return Path(found).resolve() if found else None


def git_dir(where: Path) -> Path | None:
    """The common git directory (``.git``, or a bare repository itself)."""
    found = _text(where, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return Path(found) if found else None


def is_bare(where: Path) -> bool:
    return _text(where, "rev-parse", "--is-bare-repository") == "true"


def head(root: Path) -> Head | None:
    """HEAD of the repository holding ``root``; None outside git or before the first commit."""
    if repository_root(root) is None:
        return None
    out = _text(root, "log", "-1", "--format=%H %ct")
    if not out:
        return None
    commit, epoch = out.split()
    dirty = bool(run(root, "status", "--porcelain", "--untracked-files=no", check=False).strip())
    return Head(commit, int(epoch), dirty)


def state_dir(root: Path) -> Path | None:
    """A folder inside the git directory where xzdoc may keep caches; None outside a repository."""
    found = git_dir(root) if repository_root(root) is not None else None
    return found / "xzdoc" if found else None


@dataclass(frozen=True)
class Repository:
    """What the ledger asks of a repository before reading its history, answered by one ``git rev-parse``."""

    workdir: Path | None    # top level of the work tree; None when not asked (a bare repository)
    git_dir: Path           # the common git directory
    shallow: bool


def repository(where: Path, work_tree: bool = True) -> Repository | None:
    """Top level (with ``work_tree``), git directory and shallowness of the repository at ``where``; None outside git."""
    folder = where if where.is_dir() else where.parent
    if work_tree and repository_root(folder) is None:
        return None
    asked = ["--show-toplevel"] if work_tree else []
    out = _text(folder, "rev-parse", *asked, "--path-format=absolute", "--git-common-dir", "--is-shallow-repository")
    lines = out.split("\n") if out else []
    if len(lines) != len(asked) + 2:
        return None
    top = Path(lines[0]).resolve() if work_tree else None
    return Repository(top, Path(lines[-2]), lines[-1] == "true")


def is_shallow(where: Path) -> bool:
    return _text(where, "rev-parse", "--is-shallow-repository") == "true"


def resolve(where: Path, name: str) -> str | None:
    """The commit a ref or revision names; None when it names none."""
    if name.startswith("-"):
        return None
    out = _text(where, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
    return out or None


def refs(where: Path, pattern: str = "refs/") -> list[str]:
    return [line for line in run(where, "for-each-ref", "--format=%(refname)", pattern, check=False)
            .decode("utf-8", "surrogateescape").splitlines() if line]


def branch_ref(where: Path, wanted: str | None, head_first: bool = False) -> str | None:
    """The ref to walk: the configured branch, else main or master (not both: anyone may push the other),
    unless (``head_first``) a server's own HEAD, which no push moves, names which of the two it is."""
    names = [wanted] if wanted else ["main", "master"]
    head = run(where, "symbolic-ref", "-q", "HEAD", check=False).decode().strip() if head_first and not wanted else ""
    if head in (f"refs/heads/{n}" for n in names):
        return head
    candidates = [f"refs/heads/{n}" for n in names] + [f"refs/remotes/origin/{n}" for n in names]
    if wanted:
        candidates.insert(0, wanted)
    out = run(where, "for-each-ref", "--format=%(refname)", "refs/heads/", "refs/remotes/", check=False)
    known = set(out.decode("utf-8", "surrogateescape").splitlines())
    if not wanted and all(f"refs/heads/{n}" in known or f"refs/remotes/origin/{n}" in known for n in names):
        raise XzdocError("仓库中同时有 main 和 master 分支，无法确定以哪一个为主分支核对审批",
                         hint="在 xzdoc.yaml 中写 branch: main（或 branch: master），经审批合并后生效")
    return next((ref for ref in candidates if ref in known), None)


LOG_FIELDS = ("%H", "%P", "%T", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%s", "%(trailers:unfold,only)")


def first_parent_log(where: Path, tip: str) -> Pending:
    """``git log -z --first-parent --raw`` of ``tip`` over the whole tree, newest first (xzdoc/history/log.py).

    Started, not awaited: the caller reads its facts cache while git walks.
    """
    fmt = "%x1e" + "%n".join(LOG_FIELDS)
    return start(where, "log", "-z", "--first-parent", "--raw", "--no-abbrev", "--no-renames", "-t", "--no-color",
               "--no-show-signature", "--no-notes", "--no-use-mailmap", "--encoding=UTF-8", "--no-ext-diff",
               f"--format={fmt}", tip, "--")


def read_objects(workdir: Path, names: Iterable[str]) -> dict[str, bytes]:
    """Contents of many objects (ids or ``commit:path``) with one ``git cat-file --batch``.

    Missing objects are absent from the result.
    """
    wanted = [n for n in dict.fromkeys(names) if "\n" not in n]
    if not wanted:
        return {}
    return _objects(wanted, run(workdir, "cat-file", "--batch",
                                stdin="".join(f"{n}\n" for n in wanted).encode("utf-8", "surrogateescape")))


def _objects(wanted: list[str], out: bytes) -> dict[str, bytes]:
    result: dict[str, bytes] = {}
    pos = 0
    for name in wanted:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue   # "<name> missing" or "ambiguous"
        size = int(header[2])
        result[name] = out[pos:pos + size]
        pos += size + 1
    return result


def object_ids(workdir: Path, names: Sequence[str]) -> dict[str, str]:
    """Object ids for ``commit:path`` names with one ``git cat-file --batch-check``."""
    return {name: sha for name, (sha, _) in object_kinds(workdir, names).items()}


def object_kinds(workdir: Path, names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``name -> (id, type)`` for the names that exist, with one ``git cat-file --batch-check``."""
    return {name: kind for name, kind in kinds_in_order(workdir, names) if kind is not None}


def kinds_in_order(workdir: Path, names: Iterable[str]) -> Iterator[tuple[str, tuple[str, str] | None]]:
    """``object_kinds`` as git answers: each name with its ``(id, type)``, or None when it names nothing.

    In the order given, one ``git cat-file --batch-check`` read line by line,
    so the caller can use the first answers while git looks up the rest.
    """
    wanted = [n for n in dict.fromkeys(names) if "\n" not in n]
    if not wanted:
        return iter(())
    pending = start(workdir, "cat-file", "--batch-check=%(objectname) %(objecttype)", "--buffer", piped=True,
                    stdin="".join(f"{n}\n" for n in wanted).encode("utf-8", "surrogateescape"))
    return _answers(wanted, pending.lines())


def _answers(wanted: list[str], lines: Iterator[bytes]) -> Iterator[tuple[str, tuple[str, str] | None]]:
    # One line per name, ending in "\n" only: a name git echoes back ("<name> missing") may hold other breaks.
    for name in wanted:
        yield name, _kind(next(lines, b""))
    next(lines, None)   # the end of the output: git is waited for and its failure raised


def _kind(line: bytes) -> tuple[str, str] | None:
    sha, _, kind = line.decode("utf-8", "replace").rstrip("\n").partition(" ")
    if kind and kind not in ("missing", "ambiguous") and not sha.endswith("missing"):
        return sha, kind
    return None


def signatures(where: Path, shas: Sequence[str], allowed_signers: Path, gnupg_home: Path) -> dict[str, tuple[str, ...]]:
    """``sha -> (%G?, %GS, %GF, %GP)`` for each commit, verified against ``allowed_signers`` only.

    The machine's git configuration is left out (no global or system file)
    and gpg gets an empty home of its own, so no trust set up on the
    verifying machine can make a signature count.
    """
    if not shas:
        return {}
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GNUPGHOME": str(gnupg_home)}
    config = [f"gpg.ssh.allowedSignersFile={allowed_signers}", "gpg.ssh.revocationFile=", "gpg.program=gpg",
              "gpg.ssh.program=ssh-keygen", "gpg.minTrustLevel=fully"]
    out = run(where, "show", "-s", "--no-walk=unsorted", "-z", "--format=%H%x1f%G?%x1f%GS%x1f%GF%x1f%GP",
              *shas, "--", env=env, config=config)
    result = {}
    for entry in out.split(b"\0"):
        parts = entry.decode("utf-8", "replace").strip("\n").split("\x1f")
        if len(parts) == 5:
            result[parts[0]] = tuple(parts[1:])
    return result


def is_ancestor(where: Path, old: str, new: str) -> bool | None:
    """Whether ``old`` is an ancestor of ``new``; None when git cannot tell (a commit it does not have)."""
    exe = shutil.which("git") or "git"
    import subprocess

    code = subprocess.run([exe, "--no-replace-objects", "merge-base", "--is-ancestor", old, new], cwd=where,
                          env=_env(), capture_output=True, check=False).returncode
    return True if code == 0 else False if code == 1 else None


def first_parents(where: Path, old: str | None, new: str) -> list[tuple[str, tuple[str, ...]]]:
    """``(commit, parents)`` on the first-parent line from ``new`` back to (not including) ``old``, oldest first."""
    span = [new] + ([f"^{old}"] if old else [])
    out = run(where, "rev-list", "--first-parent", "--parents", "--reverse", *span, "--")
    rows = []
    for line in out.decode("ascii", "replace").splitlines():
        sha, *parents = line.split()
        rows.append((sha, tuple(parents)))
    return rows


def set_config(where: Path, key: str, value: str) -> None:
    run(where, "config", key, value)


_PAIR = re.compile(rb"([0-9a-f]{40,64}) ([0-9a-f]{40,64})\n")


def diff_names(where: Path, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Paths that differ between each pair of trees, recursively, with one ``git diff-tree --stdin``."""
    wanted = list(dict.fromkeys(pairs))
    out: dict[tuple[str, str], list[str]] = {pair: [] for pair in wanted}
    if not wanted:
        return out
    text = run(where, "diff-tree", "--stdin", "-r", "-z", "--raw", "--no-renames",
               stdin="".join(f"{a} {b}\n" for a, b in wanted).encode("ascii"))
    # By position: "<pair>\n" lines glued to each ":<modes> <ids> <status>" token, its path the next token.
    # A path is never searched for a pair header: a file may be named like one.
    current, tokens = None, text.split(b"\0")
    for i in range(0, len(tokens) - 1, 2):
        head = tokens[i]
        while (found := _PAIR.match(head)) is not None:
            current = out.setdefault((found[1].decode(), found[2].decode()), [])
            head = head[found.end():]
        if head.startswith(b":") and current is not None:
            current.append(tokens[i + 1].decode("utf-8", "surrogateescape"))
    return out


def version() -> str | None:
    """The installed git's version, or None when there is no git command."""
    exe = shutil.which("git")
    if exe is None:
        return None
    import subprocess

    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return out.removeprefix("git version ").strip()


def main_line(root: Path, configured: str | None) -> str:
    """The main branch's short name, for the workflow and config ``xzdoc init`` writes: the configured
    one, else main or master as the ledger would pick it, else the branch HEAD names (a repository before
    its first commit, or one whose main line has another name); main outside git."""
    if configured:
        return configured
    if repository_root(root) is None:
        return "main"
    try:
        ref = branch_ref(root, None, head_first=True)
    except XzdocError:
        # Both exist and HEAD is neither: the repository's xzdoc.yaml (if any) is what init is writing.
        raise XzdocError("仓库中同时有 main 和 master 分支，无法确定哪一个是主分支", str(root),
                         hint="先检出主分支（git checkout main 或 git checkout master）再运行 xzdoc init") from None
    if ref:
        return re.sub(r"^refs/(?:heads/|remotes/[^/]+/)", "", ref)
    head = run(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).decode("utf-8", "replace").strip()
    return head or "main"
