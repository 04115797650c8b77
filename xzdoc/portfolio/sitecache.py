"""`xzdoc site` without the work when nothing changed: the dashboard page keyed by a digest of its inputs.

Kept apart from site.py so that the unchanged case imports neither the
rules nor the portfolio views: it hashes the few files the page is made of,
asks git where the main branch is, and compares with the digest stored
beside the page. Only a changed digest builds the page (site.build and
site.render, as a build from nothing does), and only changed bytes are
written, so the page is byte for byte what a full regeneration gives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
from pathlib import Path

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.render import templates
from xzdoc.source import register

PAGE = "index.html"


def write(config: Config, out: Path, as_of: dt.date) -> tuple[Path, bool, tuple[tuple[str, int, str], ...]]:
    """The page in ``out``, whether it was written, and the projects it leaves out; unchanged inputs keep the page.

    Beside the page, ``.index.html.inputs`` holds the digest of what it was made from (see ``inputs``);
    when it matches this run's, nothing is loaded or rendered. Otherwise the page is built in full and
    written only when its bytes differ, so an unchanged page keeps its mtime.
    """
    from xzdoc.source.fsio import write_atomic

    target, marker = out / PAGE, out / INPUTS
    key = inputs(config, as_of)
    stored = _read(marker)
    if target.is_file() and stored is not None and stored[0] == key:
        return target, False, stored[1]
    from xzdoc.portfolio import site

    dashboard = site.build(config, as_of)
    page = site.render(config, dashboard).encode("utf-8")
    written = _read_bytes(target) != page
    if written:
        write_atomic(target, page)
    # The projects left out are kept with the key: an unchanged rerun must fail as the first run did.
    write_atomic(marker, "\n".join([key, *(json.dumps(w, ensure_ascii=False) for w in dashboard.left_out)]) + "\n")
    return target, written, dashboard.left_out


INPUTS = f".{PAGE}.inputs"


def inputs(config: Config, as_of: dt.date) -> str:
    """A digest of what the page is made from, read without parsing any YAML or reading any draft.

    The toolkit version and the day; xzdoc.yaml and systems.yaml; the site templates of the loader
    chain; each project folder's project.yaml (the page reads no other project file); and, in git,
    the commit of the main branch the approval ledger walks (its records, policy and attributes all
    come from that history).
    """
    from xzdoc import __version__
    from xzdoc.config import CONFIG_NAME
    from xzdoc.history import gitlog
    from xzdoc.source import loader

    parts: list[object] = [__version__, as_of.isoformat(), str(config.root), config.projects_dir,
                           _file(config.root / CONFIG_NAME), _file(register.path_of(config.root))]
    for i, folder in enumerate(templates.search_path(config)):
        parts += [(i, f.relative_to(folder).as_posix(), _file(f))
                  for f in sorted((folder / "site").rglob("*")) if f.is_file()]
    parts += [(f.as_posix(), _file(f / loader.PROJECT_FILE)) for f in loader.discover(config, [])]
    try:
        where = gitlog.toplevel(config.root)
        if where is not None:
            ref = None if gitlog.is_shallow(where) else gitlog.branch_ref(where, config.branch)
            parts.append((str(where), ref, gitlog.resolve(where, ref) if ref else None))
    except XzdocError as exc:
        parts.append(exc.message)  # no git to run: the page says so, and this stands for that state
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _file(path: Path) -> str | None:
    data = _read_bytes(path)
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _read(path: Path) -> tuple[str, tuple[tuple[str, int, str], ...]] | None:
    """The stored key and the projects left out with it; None for a marker this version did not write."""
    data = _read_bytes(path)
    if data is None:
        return None
    key, *rest = data.decode("utf-8", "replace").strip().split("\n")
    try:
        left = tuple((str(p), int(n), str(w)) for p, n, w in (json.loads(line) for line in rest))
    except (ValueError, TypeError):
        return None
    return key, left


def _read_bytes(path: Path) -> bytes | None:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None  # a pipe would block, /dev/zero never end; the page's own read reports it
        return path.read_bytes()
    except OSError:
        return None
