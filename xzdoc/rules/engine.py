"""Run every rule over projects and collect the findings.

``validate`` streams a repository: one project in memory at a time, its
summary kept in a :class:`~xzdoc.rules.index.Index`, the cross-project rules
run over that index at the end (see rules/index.py). ``check_projects`` checks
projects the caller already holds (an editor's unsaved texts, a test's
fixtures) with no state outside the call. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xzdoc import rules
from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.model import ERROR, WARNING, Finding, Project
from xzdoc.rules import art24
from xzdoc.rules.art24 import LEDGER_KEY
from xzdoc.rules.cache import ResultCache, open_cache
from xzdoc.rules.index import Entry, Index, Shard, owner
from xzdoc.rules.prose import NAMES_KEY, name_candidates
from xzdoc.source import loader
from xzdoc.source.textio import regular_bytes

# Context data built from git history, which unsaved editor text cannot change.
_DURABLE = frozenset({LEDGER_KEY})


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]
    checked: int = 0    # folders looked at, including those too broken to load
    index: Index | None = None

    def count(self, level: str) -> int:
        return sum(1 for f in self.findings if f.level == level)

    def failed(self, strict: bool = False) -> bool:
        return any(f.level == ERROR or (strict and f.level == WARNING) for f in self.findings)


def validate(config: Config, paths: Iterable[Path] = (), as_of: dt.date | None = None,
             shard: Shard | None = None, portfolio: bool = True, cache: bool | Path = False) -> Result:
    """Check the projects under ``paths`` (default: the repository), streaming.

    With ``shard`` only that share of the folders is read; with
    ``portfolio=False`` the cross-project rules are left to a later
    :func:`join` of the shards' indexes. ``cache`` reuses the results of
    unchanged projects (rules/cache.py): True for the usual folder, or a folder.
    """
    # Project trees hold no reference cycles; pausing the cyclic collector keeps a
    # thousand-project run linear. Each project is released before the next is read.
    paused = gc.isenabled()
    gc.disable()
    try:
        ctx = rules.Context(config=config, as_of=as_of or dt.date.today())
        store = open_cache(config, cache)
        index = _stream(config, list(paths), ctx, shard, store)
        if portfolio:
            index.findings += _portfolio(index, ctx, store)
        if store is not None:
            store.finish(complete=not paths and shard is None)
        return Result(_sorted(index.findings), index.checked, index)
    finally:
        if paused:
            gc.enable()


def join(config: Config, indexes: Sequence[Index], as_of: dt.date | None = None) -> Result:
    """The findings of one run over everything, from the indexes of all its shards."""
    index = Index.merge(indexes)
    ctx = rules.Context(config=config, as_of=as_of or dt.date.today())
    try:
        joined = run_portfolio(index, ctx)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        # An index is a file anyone can edit; a summary of the wrong shape is not an index xzdoc wrote.
        raise XzdocError("索引文件中有不是 xzdoc validate --index-out 写出的内容",
                         hint="用同一版本的 xzdoc 重新运行各分片：xzdoc validate --shard i/n --index-out FILE") from None
    return Result(_sorted([*index.findings, *joined]), index.checked, index)


def check_projects(config: Config, projects: Sequence[Project], as_of: dt.date | None = None,
                   others: Iterable[Entry] = ()) -> list[Finding]:
    """Every rule over projects already in memory; ``others`` are entries to compare with but not report."""
    ctx = rules.Context(config=config, projects=tuple(projects), as_of=as_of or dt.date.today())
    index = Index(list(others))
    ctx.extras[NAMES_KEY] = _names([*(p.name for p in projects), *(e.name for e in index)])
    findings: list[Finding] = []
    for project in projects:
        findings += run_rules(project, ctx)
        index.add(summarize(project, ctx, asked=True))
    return [*findings, *run_portfolio(index, ctx)]


def check_project(config: Config, folder: Path, overlay: Mapping[Path, str] | None = None,
                  others: Sequence[Project] = (), as_of: dt.date | None = None,
                  durable: dict[str, Any] | None = None) -> loader.Loaded:
    """One project, with unsaved editor text in ``overlay``, judged against the repository's ``others``.

    The language server's entry point: the same loader and rule table as ``validate``, for one
    project at a time. ``durable`` carries run-wide data that unsaved text cannot change (the git
    ledger) from one call to the next, so an edit does not re-read history.
    """
    loaded = loader.load_project(config, folder.resolve(), overlay)
    if loaded.project is None:
        return loaded
    shown = loaded.project.display  # compared as text: a thousand Path comparisons per edit add up
    peers = tuple(p for p in others if p.display != shown)
    extras = {k: v for k, v in (durable or {}).items() if k in _DURABLE}
    extras[NAMES_KEY] = _names([loaded.project.name, *(p.name for p in peers)])
    ctx = rules.Context(config=config, projects=(loaded.project, *peers), as_of=as_of or dt.date.today(), extras=extras)
    index = Index([summarize(loaded.project, ctx, True), *(summarize(p, ctx, False) for p in peers)])
    findings = [*loaded.findings, *run_rules(loaded.project, ctx), *run_portfolio(index, ctx)]
    if durable is not None:
        durable.update((k, v) for k, v in ctx.extras.items() if k in _DURABLE)
    return loader.Loaded(loaded.project, _sorted(findings))


def _stream(config: Config, paths: list[Path], ctx: rules.Context, shard: Shard | None,
            store: ResultCache | None = None) -> Index:
    # Folders as strings, each made a Path only while it is read: a province's worth of
    # Path objects would outweigh the index.
    folders = loader.discover_names(config, paths)
    # Uniqueness is judged against the whole repository, not only the projects asked for.
    others = _other_folders(config, folders) if paths else []
    # Every shard scans its drafts for the names of all projects, its own and the other shards'.
    sources: dict[str, str] | None = {} if store is not None else None
    ctx.extras[NAMES_KEY] = name_candidates(_sources([*folders, *others], sources))
    # Where each folder really is: a project reached through a symlink is checked (and shown) at its target,
    # so what the ledger holds against the link's own path is no checked project's to report.
    root = os.path.realpath(config.root)
    shown = {os.path.relpath(os.path.realpath(f), root).replace(os.sep, "/") for f in folders}
    whole = _whole(config, paths)
    ctx.extras[art24.RUN_WIDE] = whole
    if shard is not None:
        folders = [f for f in folders if shard.holds(f)]
        others = [f for f in others if shard.holds(f)]
    if store is not None:
        found = art24.ledger_for(ctx)
        # The ledger's repository-wide issues go to the first projects checked (see rules/cache.py).
        # (Read by attribute: importing the ledger module would cost a run outside git its start-up time.)
        ordered = isinstance(found, XzdocError) or bool(getattr(found, "issues", None))
        store.begin(ctx.as_of, ctx.extras[NAMES_KEY], found, 2 if ordered else 0)
    index = Index(checked=len(folders))
    index.shard = (shard.number, shard.count) if shard is not None else None
    index.partial = not whole
    for folders_, asked in ((folders, True), (others, False)):
        for folder in folders_:
            source = sources.get(folder) if sources is not None else None
            if store is not None and source is not None:
                _cached(config, folder, source, ctx, index, asked, store)
            else:
                _one(config, Path(folder), ctx, index, asked)
    # Once for the run: by the first shard, the others' folders counting as checked (they are, by their shard).
    if (shard is None or shard.number == 1) and whole:
        index.findings += [f for rule, hit in art24.unattached(ctx, shown) for f in _findings(rules.BY_ID[rule], iter([hit]), "")]
    return index


def _whole(config: Config, paths: list[Path]) -> bool:
    """Does the run cover the repository (no paths, its root, or its projects folder)?"""
    whole = {config.root.resolve(), (config.root / config.projects_dir).resolve()}
    return not paths or any(p.resolve() in whole for p in paths)


def _one(config: Config, folder: Path, ctx: rules.Context, index: Index, asked: bool) -> None:
    _record(index, asked, *_check(config, folder, ctx, asked))


def _check(config: Config, folder: Path, ctx: rules.Context,
           asked: bool) -> tuple[loader.Loaded, list[Finding] | None, Entry | None]:
    """Load one project and run its rules; one that only stands for comparison is summarised, not checked."""
    loaded = loader.load_project(config, folder)
    project = loaded.project
    # A project that does not load has no rule findings either way.
    checked = [] if project is None else run_rules(project, ctx) if asked else None
    return loaded, checked, summarize(project, ctx, asked) if project is not None else None


def _record(index: Index, asked: bool, loaded: loader.Loaded, checked: list[Finding] | None,
            entry: Entry | None) -> None:
    if asked:
        index.findings += loaded.findings
        index.findings += checked or ()
    if entry is not None:
        index.add(entry)


def _cached(config: Config, folder: str, source: str, ctx: rules.Context, index: Index, asked: bool,
            store: ResultCache) -> None:
    """As :func:`_one`, answered from the cache when the project and everything it depends on are unchanged."""
    fresh = asked and store.fresh > 0
    hit = None if fresh else store.get(folder, source, asked)
    if hit is not None:
        if asked:
            index.findings += hit.loaded
            index.findings += hit.checked or ()
        if hit.head is not None:
            index.add_packed(hit.row(asked), asked)
        return
    loaded, checked, entry = _check(config, Path(folder), ctx, asked)
    _record(index, asked, loaded, checked, entry)
    if fresh:
        # Checked in the ledger's run-wide order: its result holds what only the first projects report.
        store.fresh -= loaded.project is not None and art24._folder(loaded.project, ctx) is not None
        return
    head = [entry.display, entry.id, entry.name] if entry is not None else None
    store.put(folder, source, loaded, checked, head, _pack(entry.parts) if entry is not None else b"")


def _portfolio(index: Index, ctx: rules.Context, store: ResultCache | None) -> list[Finding]:
    if store is None:
        return run_portfolio(index, ctx)
    digest = hashlib.sha256()
    for row in index.rows:
        digest.update(len(row).to_bytes(8, "little"))
        digest.update(row)
    found = store.portfolio(digest.hexdigest())
    if found is None:
        found = run_portfolio(index, ctx)
        store.put_portfolio(digest.hexdigest(), found)
    return found


def _sources(folders: list[str], digests: dict[str, str] | None = None) -> Iterator[str]:
    """Each folder's project.yaml as text, for the first pass over names (unreadable ones are the loader's to report).

    With ``digests``, each file's hash is kept there too: the cache's key for the project.
    """
    for folder in folders:
        # Regular files only: a pipe named project.yaml would block here before the loader could report it.
        raw = regular_bytes(Path(folder) / loader.PROJECT_FILE)
        if raw is None:
            continue
        if digests is not None:
            digests[folder] = hashlib.sha256(raw).hexdigest()
        # As read_text would give it: universal newlines.
        yield raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if len(n) >= 8))


def run_rules(project: Project, ctx: rules.Context) -> list[Finding]:
    # As _findings, inline: most of the ninety rules find nothing, and a wrapping generator per
    # rule per project would cost more than their empty checks.
    out: list[Finding] = []
    default_path = project.yaml_path
    for rule in rules.RULES:
        for hit in rule.check(project, ctx):
            message = hit.message if rule.article in hit.message else f"{hit.message}（依据{rule.article}）"
            out.append(Finding(hit.path or default_path, hit.pos[0], hit.pos[1], rule.id, hit.level or rule.level,
                               message, rule.article))
    return out


def summarize(project: Project, ctx: rules.Context, asked: bool) -> Entry:
    parts = {rule.id: rule.summarize(project, ctx) for rule in rules.RULES if rule.summarize is not None}
    return Entry(project.display, project.id, project.name, asked, parts)


def run_portfolio(index: Index, ctx: rules.Context) -> list[Finding]:
    out: list[Finding] = []
    for rule in rules.RULES:
        if rule.portfolio is not None:
            out += _findings(rule, rule.portfolio(index, ctx), "")
    asked = index.asked() if out else None
    return out if asked is None else [f for f in out if owner(asked, f.path)]


def _findings(rule: rules.Rule, hits: Iterator[rules.Hit], default_path: str) -> Iterator[Finding]:
    for hit in hits:
        level = hit.level or rule.level
        message = f"{hit.message}（依据{rule.article}）" if rule.article not in hit.message else hit.message
        yield Finding(hit.path or default_path, hit.pos[0], hit.pos[1], rule.id, level, message, rule.article)


def _other_folders(config: Config, asked: list[str]) -> list[str]:
    root = (config.root / config.projects_dir).resolve()
    # Projects kept elsewhere (fixtures, a scratch copy) are not part of the bureau's portfolio.
    if not root.is_dir() or any(os.path.dirname(p) != str(root) for p in asked):
        return []
    have = set(asked)
    return [f for f in loader.project_folders(root) if f not in have]


def _pack(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    # Every field takes part, so shards joined in any order print what one run prints.
    return tuple(sorted(set(findings)))
