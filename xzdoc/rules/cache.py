"""A content-addressed cache of each project's validation result, so an unchanged project is only read and hashed.

One file per project folder (its *slot*), holding the key it was computed
under, the files it read with their digests, and what validation kept of it:
the loader's findings, the per-project rules' findings and the packed index
row the cross-project rules read. A run uses an entry only when the key
matches and every file it depends on hashes the same; the cross-project rules
still run over the whole index each time (their result has an entry of its
own, keyed by every row).

The key covers what a per-project result can depend on beyond the project's
files: the toolkit's code (sizes and mtimes of its modules and standard
files, and of the libraries the rules run on), where the project folder
really is (a linked folder is shown at its target), the effective configuration, xzdoc.yaml and systems.yaml, the
check date, the names of every project in the run (the foreign-name check
reads them) and the approval ledger from git history (its full content, so a
new commit on the main branch is never answered from an older one). The
ledger's repository-wide issues are reported by the first two projects
checked; those two are therefore always checked afresh and never stored.

Never trusted blindly: each entry carries its key and a checksum of its
body, so a damaged, truncated or foreign file is a miss and is rewritten.
Writes are atomic. A cache folder that cannot be created or written turns the
cache off for the run; findings are the same either way.

Location: ``XZDOC_CACHE_DIR``; else ``.git/xzdoc/validate`` of the work tree
holding the configuration (found by walking up, git itself is not started);
else ``$XDG_CACHE_HOME/xzdoc/validate`` (default ``~/.cache``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import importlib.util
import json
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.model import Finding
from xzdoc.source import assets, fsio, loader
from xzdoc.source.drafts import MAX_DRAFT_BYTES

MAGIC = b"xzdoc-validate/1"
ENV = "XZDOC_CACHE_DIR"
SUBDIR = ("xzdoc", "validate")
MAX_ENTRIES = 50_000        # beyond this, the least recently written entries go
_code: str | None = None    # the toolkit's fingerprint, taken once per process
# Libraries whose behaviour reaches the findings (see code_fingerprint).
_LIBRARIES = ("chinese_calendar", "jinja2", "markupsafe", "yaml")


def location(config: Config) -> Path:
    """Where this repository's entries live (see the module text)."""
    given = os.environ.get(ENV)
    if given:
        return Path(given)
    git = git_dir(config.root)
    if git is not None:
        return git.joinpath(*SUBDIR)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).joinpath(*SUBDIR)


def git_dir(start: Path) -> Path | None:
    """The git directory of the work tree holding ``start``, read from the file system (``.git`` or its gitdir file)."""
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            try:
                line = dot.read_text("utf-8").strip()
            except OSError:
                return None
            if line.startswith("gitdir:"):
                target = Path(line.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else folder / target
            return None
    return None


def code_fingerprint() -> str:
    """Sizes and mtimes of every file of the toolkit and of the libraries its rules run on.

    An edited rule invalidates every entry; so does a new release of a library whose answers reach the findings
    (chinesecalendar adds each year's holidays, Jinja evaluates the drafts' expressions, PyYAML parses).
    """
    global _code
    if _code is None:
        package = Path(__file__).resolve().parent.parent
        marks = [sys.version, str(package), *_files(package)]
        for name in _LIBRARIES:
            marks += _library(name)
        try:
            import yaml
            marks.append(f"pyyaml:{yaml.__version__}:{yaml.__with_libyaml__}")
        except ImportError:
            marks.append("pyyaml:none")
        _code = _digest("\n".join(marks).encode("utf-8"))
    return _code


def _files(package: Path) -> list[str]:
    marks = []
    for base, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            info = os.stat(os.path.join(base, name))
            marks.append(f"{base}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return marks


def _library(name: str) -> list[str]:
    """The files of an installed library, found the way import finds it (the one already imported, if any)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return [f"{name}:none"]
    if spec.submodule_search_locations:
        return [f"{name}:", *(m for folder in spec.submodule_search_locations for m in _files(Path(folder)))]
    try:
        info = os.stat(spec.origin or "")
    except OSError:
        return [f"{name}:{spec.origin}"]
    return [f"{name}:{spec.origin}:{info.st_size}:{info.st_mtime_ns}"]


def canonical(value: Any) -> Any:
    """A JSON-able form of configuration and ledger objects that is the same in every process (sets sorted)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, Path)):
        return [type(value).__name__, str(value)]
    if isinstance(value, enum.Enum):
        return [type(value).__name__, str(value.value)]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if isinstance(value, dict) or hasattr(value, "items"):
        pairs = [[canonical(k), canonical(v)] for k, v in value.items()]
        return ["map", sorted(pairs, key=_order)]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((canonical(v) for v in value), key=_order)]
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, BaseException):
        return [type(value).__name__, canonical(getattr(value, "__dict__", {})), [str(a) for a in value.args]]
    if hasattr(value, "pattern"):        # a compiled expression
        return ["re", str(value.pattern), int(getattr(value, "flags", 0))]
    text = repr(value)
    if " at 0x" in text:
        # An object without a stable form: the key could never match, so nothing would be reused.
        raise TypeError(f"no canonical form for {type(value).__name__}")
    return ["repr", text]


def _order(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_bytes(path: Path) -> bytes | None:
    """A regular file's bytes; None for anything else (as the configuration's is_file sees it: a FIFO would block)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def token(path: str, folder: str, limit: int = MAX_DRAFT_BYTES) -> str:
    """What the loader would find at a draft's path: absent, not a file, too large, or these bytes there."""
    rel = path[len(folder) + 1:] if path.startswith(folder + "/") else ""
    # A symlink or .. on the way is what the loader judges (inside the project or not): its target is then part of it.
    real = os.path.realpath(path) if not rel or _indirect(folder, rel) else ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, ValueError):  # ValueError: a NUL in the name, no such file (as the loader reads it)
        return "absent"
    except OSError as exc:
        return f"unopened:{real}:{exc.errno}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"other:{real}:{info.st_mode}"
        if info.st_size > limit:
            return f"large:{real}:{info.st_size}"
        digest = hashlib.sha256()
        while chunk := os.read(fd, max(info.st_size + 1, 1 << 16)):
            digest.update(chunk)
        return f"{real}:{digest.hexdigest()}"
    except OSError as exc:
        return f"unreadable:{real}:{exc.errno}"
    finally:
        os.close(fd)


def _settled(folder: str, source: str, project: Any, deps: list[list[str]]) -> bool:
    """True when the files on disk are still the bytes the loader read (``source``: project.yaml's digest in the key)."""
    try:
        if hashlib.sha256((Path(folder) / loader.PROJECT_FILE).read_bytes()).hexdigest() != source:
            return False
    except OSError:
        return False
    for draft, (_, mark) in zip(project.drafts.values(), deps, strict=True):
        if draft.raw and mark.rsplit(":", 1)[-1] != hashlib.sha256(draft.raw).hexdigest():
            return False
    return True


def _images(project: Any, folder: str) -> list[list[Any]]:
    """The files art07.draft-images and art07.draft-links look at, as dependencies (hashed whole: the image
    check reads their headers).

    Read after the check, so an image replaced during those milliseconds is
    caught on the next run only if it changes again; drafts are verified
    against the bytes the loader read (see ``_settled``), images cannot be.
    """
    found: dict[str, str] = {}
    for draft in project.drafts.values():
        # art07.draft-links resolves a link's symlinks: a link that comes to leave the folder must be seen too.
        for _, target in [*assets.inline_images(draft.text or ""), *assets.links(draft.text or "")]:
            file = assets.read_by_check(target, project.folder, draft.file.parent)
            if file is not None and str(file) not in found:
                found[str(file)] = token(str(file), folder, assets.MAX_IMAGE_BYTES)
    return [[path, mark, assets.MAX_IMAGE_BYTES] for path, mark in found.items()]


def _indirect(folder: str, rel: str) -> bool:
    parts = rel.split("/")
    if ".." in parts or "." in parts or "" in parts:
        return True
    probe = folder
    for part in parts:
        probe = f"{probe}/{part}"
        if os.path.islink(probe):
            return True
    return False


@dataclasses.dataclass(frozen=True)
class Hit:
    loaded: list[Finding]          # the loader's findings
    checked: list[Finding] | None  # the per-project rules' findings; None when only summarized
    head: list[Any] | None         # display, id, name of the index entry; None when the project did not load
    parts: bytes                   # the entry's packed summaries

    def row(self, asked: bool) -> bytes:
        """The index row, as Index.add would pack it."""
        assert self.head is not None
        head = json.dumps([*self.head, asked], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return head[:-1] + b"," + self.parts + b"]"


class ResultCache:
    """Entries of one run: looked up by project folder, written after a miss, pruned at the end."""

    def __init__(self, folder: Path, config: Config) -> None:
        self.folder = folder
        self.config = config
        self.context = ""
        self.used: set[str] = set()
        self.fresh = 0          # projects to check afresh before entries may be used (see the module text)
        self.broken = False     # writing failed once: stop trying for this run
        self._root = str(config.root)

    def begin(self, as_of: dt.date, names: Iterable[str], ledger: Any, fresh: int) -> None:
        """Fix the run-wide part of every key."""
        root = self.config.root
        parts = [MAGIC.decode(), code_fingerprint(), self._root, as_of.isoformat(),
                 _order(canonical(self.config)),
                 _digest(_file_bytes(root / "xzdoc.yaml") or b"-"), _digest(_file_bytes(root / "systems.yaml") or b"-"),
                 _digest("\0".join(names).encode("utf-8")), _digest(_order(canonical(ledger)).encode("utf-8"))]
        self.context = _digest("\n".join(parts).encode("utf-8"))
        self.fresh = fresh

    def _slot(self, folder: str) -> str:
        return _digest(f"{self._root}\0{folder}".encode())[:40]

    def _path(self, slot: str) -> Path:
        return self.folder / f"p-{slot}"

    def key(self, folder: str, source: str) -> str:
        # Findings show where the folder really is (a linked project folder is shown at its target), and a
        # folder really outside the repository relative to the working directory.
        real = os.path.realpath(folder)
        here = "" if real.startswith(self._root + "/") else os.getcwd()
        return _digest(f"{self.context}\0{folder}\0{real}\0{here}\0{source}".encode())

    def get(self, folder: str, source: str, asked: bool) -> Hit | None:
        slot = self._slot(folder)
        self.used.add(slot)
        data = _file_bytes(self._path(slot))
        if data is None:
            return None
        try:
            return self._parse(data, self.key(folder, source), asked, folder)
        except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError):
            return None      # damaged or written by another version: checked again and rewritten

    def _parse(self, data: bytes, key: str, asked: bool, folder: str) -> Hit | None:
        magic, stored, checksum, body = data.split(b"\n", 3)
        if magic != MAGIC or stored.decode("ascii") != key or _digest(body) != checksum.decode("ascii"):
            return None
        meta_line, parts = body.split(b"\n", 1)
        meta = json.loads(meta_line)
        if asked and meta["rules"] is None:
            return None
        if any(token(dep[0], folder, *dep[2:]) != dep[1] for dep in meta["deps"]):
            return None
        rows = meta["rules"]
        return Hit([Finding(*f) for f in meta["loaded"]], None if rows is None else [Finding(*f) for f in rows],
                   meta["head"], parts)

    def put(self, folder: str, source: str, loaded: loader.Loaded, checked: list[Finding] | None,
            head: list[Any] | None, parts: bytes) -> None:
        if self.broken:
            return
        project = loaded.project
        deps = [[str(d.file), token(str(d.file), folder)] for d in project.drafts.values()] if project else []
        if project is not None and not _settled(folder, source, project, deps):
            return      # a file was saved while it was being checked: the findings may be of the older bytes
        if project is not None:
            deps += _images(project, folder)
        meta = {"deps": deps, "loaded": [_row(f) for f in loaded.findings],
                "rules": None if checked is None else [_row(f) for f in checked], "head": head}
        body = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n" + parts
        data = b"\n".join([MAGIC, self.key(folder, source).encode("ascii"), _digest(body).encode("ascii"), body])
        self._write(self._path(self._slot(folder)), data)

    def _write(self, path: Path, data: bytes) -> None:
        try:
            fsio.write_atomic(path, data)
        except (XzdocError, OSError):
            self.broken = True   # read-only or full: the run goes on without the cache

    def portfolio(self, rows_digest: str) -> list[Finding] | None:
        """The cross-project rules' findings for an index whose rows hash to ``rows_digest``."""
        data = _file_bytes(self._path(self._portfolio_slot()))
        if data is None:
            return None
        try:
            magic, stored, checksum, body = data.split(b"\n", 3)
            if magic != MAGIC or stored.decode("ascii") != self._portfolio_key(rows_digest) \
                    or _digest(body) != checksum.decode("ascii"):
                return None
            return [Finding(*f) for f in json.loads(body)]
        except (ValueError, TypeError, UnicodeDecodeError):
            return None

    def put_portfolio(self, rows_digest: str, findings: list[Finding]) -> None:
        if self.broken:
            return
        body = json.dumps([_row(f) for f in findings], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._write(self._path(self._portfolio_slot()), b"\n".join(
            [MAGIC, self._portfolio_key(rows_digest).encode("ascii"), _digest(body).encode("ascii"), body]))

    def _portfolio_slot(self) -> str:
        return self._slot("\0portfolio")

    def _portfolio_key(self, rows_digest: str) -> str:
        return _digest(f"{self.context}\0portfolio\0{rows_digest}".encode())

    def finish(self, complete: bool) -> None:
        """Prune: after a run over every project, the entries it did not use; otherwise only beyond MAX_ENTRIES."""
        try:
            names = [n for n in os.listdir(self.folder) if n.startswith("p-")]
        except OSError:
            return
        fsio.sweep_stale(self.folder)
        keep = {f"p-{s}" for s in self.used} | {f"p-{self._portfolio_slot()}"}
        if complete:
            gone = [n for n in names if n not in keep]
        elif len(names) > MAX_ENTRIES:
            gone = sorted((n for n in names if n not in keep), key=self._age)[:len(names) - MAX_ENTRIES]
        else:
            return
        for name in gone:
            try:
                os.unlink(self.folder / name)
            except OSError:
                continue

    def _age(self, name: str) -> int:
        try:
            return os.stat(self.folder / name).st_mtime_ns
        except OSError:
            return 0


def _row(f: Finding) -> list[Any]:
    return [f.path, f.line, f.column, f.rule, f.level, f.message, f.article]


def open_cache(config: Config, where: bool | Path) -> ResultCache | None:
    """The cache for this run: ``False`` for none, ``True`` for the usual location, or a folder."""
    if where is False:
        return None
    folder = location(config) if where is True else Path(where)
    return ResultCache(folder, config)
