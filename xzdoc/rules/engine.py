"""Run every rule over every project and collect the findings.

Rules yield findings; they never raise for bad input and never print. Only this module calls them.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xzdoc import rules
from xzdoc.config import Config
from xzdoc.model import ERROR, WARNING, Finding, Project
from xzdoc.rules.art24 import LEDGER_KEY
from xzdoc.source import loader

# Context data built from git history, which unsaved editor text cannot change.
_DURABLE = frozenset({LEDGER_KEY})


@dataclass(frozen=True)
class Result:
    projects: tuple[Project, ...]
    findings: tuple[Finding, ...]
    checked: int = 0    # folders looked at, including those too broken to load

    def count(self, level: str) -> int:
        return sum(1 for f in self.findings if f.level == level)

    def failed(self, strict: bool = False) -> bool:
        return any(f.level == ERROR or (strict and f.level == WARNING) for f in self.findings)


def validate(config: Config, paths: Iterable[Path] = (), as_of: dt.date | None = None) -> Result:
    # Project trees hold no reference cycles; pausing the cyclic collector keeps a
    # thousand-project run linear instead of rescanning an ever-growing heap.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _validate(config, paths, as_of)
    finally:
        if paused:
            gc.enable()


def _validate(config: Config, paths: Iterable[Path], as_of: dt.date | None) -> Result:
    folders = loader.discover(config, paths)
    loaded = list(loader.load_all(config, folders))
    projects = tuple(item.project for item in loaded if item.project is not None)
    findings = [f for item in loaded for f in item.findings]
    # Uniqueness is judged against the whole repository, not only the projects asked for.
    everyone = projects if not paths else _all_projects(config, projects)
    ctx = rules.Context(config=config, projects=everyone, as_of=as_of or dt.date.today())
    for project in projects:
        findings += run_rules(project, ctx)
    findings += run_portfolio(ctx, projects)
    return Result(projects, tuple(sorted(set(findings), key=_order)), len(folders))


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
    ctx = rules.Context(config=config, projects=(loaded.project, *peers), as_of=as_of or dt.date.today(), extras=extras)
    findings = [*loaded.findings, *run_rules(loaded.project, ctx), *run_portfolio(ctx, [loaded.project])]
    if durable is not None:
        durable.update((k, v) for k, v in ctx.extras.items() if k in _DURABLE)
    return loader.Loaded(loaded.project, tuple(sorted(set(findings), key=_order)))


def run_rules(project: Project, ctx: rules.Context) -> list[Finding]:
    out = []
    for rule in rules.RULES:
        for hit in rule.check(project, ctx):
            level = hit.level or rule.level
            message = f"{hit.message}（依据{rule.article}）" if rule.article not in hit.message else hit.message
            out.append(Finding(hit.path or project.yaml_path, hit.pos[0], hit.pos[1], rule.id, level, message,
                               rule.article))
    return out


def run_portfolio(ctx: rules.Context, asked: Iterable[Project]) -> list[Finding]:
    """Cross-project rules over compact summaries of every project, reported on the projects asked for."""
    from xzdoc.source import register

    uses = [u for p in ctx.projects for u in register.uses(p.id, p.yaml_path, p.stage, p.data.get("systems"))]
    paths = {p.yaml_path for p in asked}
    out = []
    for rule in rules.RULES:
        if rule.portfolio is None:
            continue
        for use, message in rule.portfolio(ctx, uses, paths):
            out.append(Finding(use.yaml_path, use.line, use.column, rule.id, rule.level, message, rule.article))
    return out


def _all_projects(config: Config, asked: tuple[Project, ...]) -> tuple[Project, ...]:
    root = (config.root / config.projects_dir).resolve()
    # Projects kept elsewhere (fixtures, a scratch copy) are not part of the bureau's portfolio.
    if not root.is_dir() or any(p.folder.parent != root for p in asked):
        return asked
    have = {p.folder for p in asked}
    more = [loader.load_project(config, f.parent).project for f in sorted(root.glob(f"*/{loader.PROJECT_FILE}"))
            if f.parent not in have]
    return asked + tuple(p for p in more if p is not None)


def _order(f: Finding) -> tuple[str, int, int, str]:
    return (f.path, f.line, f.column, f.rule)
