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
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xzdoc import rules
from xzdoc.config import Config
from xzdoc.model import ERROR, WARNING, Finding, Project
from xzdoc.rules.art24 import LEDGER_KEY
from xzdoc.rules.index import Entry, Index, Shard, owner
from xzdoc.rules.prose import NAMES_KEY, name_candidates
from xzdoc.source import loader

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
             shard: Shard | None = None, portfolio: bool = True) -> Result:
    """Check the projects under ``paths`` (default: the repository), streaming.

    With ``shard`` only that share of the folders is read; with
    ``portfolio=False`` the cross-project rules are left to a later
    :func:`join` of the shards' indexes.
    """
    # Project trees hold no reference cycles; pausing the cyclic collector keeps a
    # thousand-project run linear. Each project is released before the next is read.
    paused = gc.isenabled()
    gc.disable()
    try:
        ctx = rules.Context(config=config, as_of=as_of or dt.date.today())
        index = _stream(config, list(paths), ctx, shard)
        if portfolio:
            index.findings += run_portfolio(index, ctx)
        return Result(_sorted(index.findings), index.checked, index)
    finally:
        if paused:
            gc.enable()


def join(config: Config, indexes: Sequence[Index], as_of: dt.date | None = None) -> Result:
    """The findings of one run over everything, from the indexes of all its shards."""
    index = Index.merge(indexes)
    ctx = rules.Context(config=config, as_of=as_of or dt.date.today())
    return Result(_sorted([*index.findings, *run_portfolio(index, ctx)]), index.checked, index)


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


def _stream(config: Config, paths: list[Path], ctx: rules.Context, shard: Shard | None) -> Index:
    # Folders as strings, each made a Path only while it is read: a province's worth of
    # Path objects would outweigh the index.
    folders = loader.discover_names(config, paths)
    # Uniqueness is judged against the whole repository, not only the projects asked for.
    others = _other_folders(config, folders) if paths else []
    # Every shard scans its drafts for the names of all projects, its own and the other shards'.
    ctx.extras[NAMES_KEY] = name_candidates(_sources([*folders, *others]))
    if shard is not None:
        folders = [f for f in folders if shard.holds(f)]
        others = [f for f in others if shard.holds(f)]
    index = Index(checked=len(folders))
    for folders_, asked in ((folders, True), (others, False)):
        for folder in folders_:
            _one(config, Path(folder), ctx, index, asked)
    return index


def _one(config: Config, folder: Path, ctx: rules.Context, index: Index, asked: bool) -> None:
    loaded = loader.load_project(config, folder)
    if asked:
        index.findings += loaded.findings
    if loaded.project is not None:
        if asked:
            index.findings += run_rules(loaded.project, ctx)
        index.add(summarize(loaded.project, ctx, asked))


def _sources(folders: list[str]) -> Iterator[str]:
    """Each folder's project.yaml as text, for the first pass over names (unreadable ones are the loader's to report)."""
    for folder in folders:
        try:
            yield (Path(folder) / loader.PROJECT_FILE).read_text("utf-8", errors="replace")
        except OSError:
            continue


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if len(n) >= 8))


def run_rules(project: Project, ctx: rules.Context) -> list[Finding]:
    out: list[Finding] = []
    for rule in rules.RULES:
        out += _findings(rule, rule.check(project, ctx), project.yaml_path)
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


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    # Every field takes part, so shards joined in any order print what one run prints.
    return tuple(sorted(set(findings)))
