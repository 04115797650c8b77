"""The editor's view of a repository: unsaved text, the latest findings, where each one sits.

Every change is judged by ``engine.check_project`` for the edited project, against the
other projects as last seen (unsaved text included), so an edit costs one project's
load and rules. Projects that can see the change through a repository-wide rule (the
same project id, system id or resource code before or after the edit) and projects
with an open file are re-checked too, so a duplicate id shows in both.
Must not print or talk LSP: the server turns what this returns into messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xzdoc import config as cfg
from xzdoc.errors import XzdocError
from xzdoc.model import Finding, Project
from xzdoc.rules import engine
from xzdoc.source import loader

CONFIG_RULE = "config"
_SINGLE = frozenset("：，、\u3000")   # a finding on one of these points at that character alone


@dataclass(frozen=True)
class Diagnostic:
    line: int        # 0-based, as LSP counts
    start: int       # character offsets in the line
    end: int
    level: str
    rule: str
    article: str
    message: str


class Workspace:
    def __init__(self, root: Path, as_of: dt.date | None = None) -> None:
        self.root = cfg.find_root(root)
        self.as_of = as_of
        self.overlay: dict[Path, str] = {}
        self.config_error: XzdocError | None = None
        self.config = self._load_config()
        self.projects: dict[Path, Project] = {}
        self.durable: dict[str, Any] = {}
        self.latest: dict[Path, list[Diagnostic]] = {}
        self.keys: dict[Path, tuple[Project, set[str]]] = {}
        self.judged: dict[Path, str] = {}     # an open file's text as last judged
        self.reload()

    # -- editor events -------------------------------------------------------------------------

    def edit(self, path: Path, text: str | None) -> dict[Path, list[Diagnostic]]:
        """Record the editor's text for ``path`` and judge it at once."""
        return self.refresh(self.note(path, text))

    def note(self, path: Path, text: str | None) -> Path:
        """Record the editor's text for ``path`` (None: closed, the file on disk counts again)."""
        path = path.resolve()
        if text is None:
            self.overlay.pop(path, None)
            self.judged.pop(path, None)
        else:
            # Lines as the file on disk is read (textio.decode): \r\n and a lone \r both end a line.
            self.overlay[path] = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
        return path

    def stale(self, path: Path) -> bool:
        """Whether the open file's text changed since its findings were made."""
        path = path.resolve()
        return path in self.overlay and self.judged.get(path) != self.overlay[path]

    def reload(self) -> dict[Path, list[Diagnostic]]:
        """Re-read every project from disk (with unsaved text on top): at start and after a save.

        Returns empty findings for the files of projects that are gone (a branch switch, a folder
        deleted in a terminal), so the editor drops what it shows for them.
        """
        # The ledger is read from git once and kept while the user types; a save is the moment a
        # commit made meanwhile (in a terminal, by another tool) can be picked up.
        self.durable.clear()
        try:
            folders = loader.discover(self.config, [])
        except XzdocError:
            folders = []
        kept: dict[Path, Project] = {}
        for folder in folders:
            found = loader.load_project(self.config, folder, self.overlay).project
            if found is not None:
                kept[folder] = found
        # An open, unsaved project.yaml in the projects folder is a project too.
        for file in self.overlay:
            folder = file.parent
            if file.name == loader.PROJECT_FILE and folder not in kept and self._in_portfolio(folder):
                found = loader.load_project(self.config, folder, self.overlay).project
                if found is not None:
                    kept[folder] = found
        gone = {folder for folder in self.projects if folder not in kept}
        self.projects = kept
        cleared: dict[Path, list[Diagnostic]] = {
            path: [] for path in self.latest if path not in self.overlay and any(f in path.parents for f in gone)}
        for path in cleared:
            self.latest.pop(path, None)
        return cleared

    def refresh(self, path: Path) -> dict[Path, list[Diagnostic]]:
        if path == self.root / cfg.CONFIG_NAME:
            self.config = self._load_config()
            out = {path: self._config_diagnostics()}
            for folder in self._open_projects():
                out.update(self._check(folder))
            return self._remember(out)
        found = self.project_of(path)
        if found is None:
            return {}
        folder = found
        before = self._keys_of(folder)
        out = self._check(folder)
        touched = before | self._keys_of(folder)
        opened = self._open_projects()
        for other in list(self.projects):
            if other != folder and (other in opened or self._keys_of(other) & touched):
                out.update(self._check(other))
        return self._remember(out)

    # -- lookups -------------------------------------------------------------------------------

    def project_of(self, path: Path) -> Path | None:
        for folder in path.parents:
            if (folder / loader.PROJECT_FILE).is_file() or (folder / loader.PROJECT_FILE) in self.overlay:
                return folder
            if folder == self.root:
                break
        return None

    def text_of(self, path: Path) -> str:
        if path in self.overlay:
            return self.overlay[path]
        try:
            return path.read_text("utf-8", errors="replace").replace("\r\n", "\n")
        except OSError:
            return ""

    def diagnostics_at(self, path: Path, line: int) -> list[Diagnostic]:
        return [d for d in self.latest.get(path.resolve(), []) if d.line == line]

    # -- internals -----------------------------------------------------------------------------

    def _keys_of(self, folder: Path) -> set[str]:
        project = self.projects.get(folder)
        if project is None:
            return set()
        cached = self.keys.get(folder)
        if cached is None or cached[0] is not project:
            cached = self.keys[folder] = (project, _keys(project))
        return cached[1]

    def _load_config(self) -> cfg.Config:
        try:
            loaded = cfg.load(self.root, self.overlay.get(self.root / cfg.CONFIG_NAME))
        except XzdocError as exc:
            self.config_error = exc
            return getattr(self, "config", None) or cfg.Config(root=self.root)
        self.config_error = None
        return loaded

    def _config_diagnostics(self) -> list[Diagnostic]:
        exc = self.config_error
        if exc is None:
            return []
        text = self.text_of(self.root / cfg.CONFIG_NAME)
        message = exc.message + (f"。修改方法：{exc.hint}" if exc.hint else "")
        finding = Finding(cfg.CONFIG_NAME, exc.line or 1, exc.column or 1, CONFIG_RULE, "error", message)
        return [place(finding, text)]

    def _open_projects(self) -> set[Path]:
        return {f for f in (self.project_of(p) for p in self.overlay) if f is not None}

    def _in_portfolio(self, folder: Path) -> bool:
        """Whether ``folder`` is one of the repository's projects (under projects_dir), as validate counts them."""
        return (self.root / self.config.projects_dir).resolve() in folder.resolve().parents

    def _check(self, folder: Path) -> dict[Path, list[Diagnostic]]:
        result = engine.check_project(self.config, folder, self.overlay, list(self.projects.values()), self.as_of,
                                      self.durable)
        # A project.yaml opened from elsewhere (an archive/ folder, a copy) is judged, but joins
        # no portfolio rule: it must not make the real project a duplicate of itself.
        if result.project is not None and self._in_portfolio(folder):
            self.projects[folder] = result.project
        out: dict[Path, list[Diagnostic]] = {folder / loader.PROJECT_FILE: []}
        project = result.project or self.projects.get(folder)
        for draft in project.drafts.values() if project else ():
            out[draft.file] = []
        texts: dict[Path, str] = {}
        shown = project.display if project else None
        for finding in result.findings:
            file = self._absolute(finding.path, shown, folder)
            if file not in texts:
                texts[file] = self.text_of(file)
            out.setdefault(file, []).append(place(finding, texts[file]))
        return out

    def _absolute(self, path: str, display: str | None, folder: Path) -> Path:
        """A finding's file: under the project when the path starts with the project as shown (which, for a
        project outside any repository, is relative to the server's working directory), else under the root."""
        if display and path.startswith(display.rstrip("/") + "/"):
            return (folder / path[len(display.rstrip("/")) + 1:]).resolve()
        return (Path(path) if Path(path).is_absolute() else self.root / path).resolve()

    def _remember(self, out: dict[Path, list[Diagnostic]]) -> dict[Path, list[Diagnostic]]:
        self.latest.update(out)
        for path in out:
            if path in self.overlay:
                self.judged[path] = self.overlay[path]
        return out


def _keys(project: Project | None) -> set[str]:
    """What repository-wide uniqueness rules compare: project id, system ids, resource codes."""
    if project is None:
        return set()
    out = {f"project:{project.id}"}
    for key, field, prefix in (("systems", "id", "system"), ("resources", "code", "resource")):
        items = project.data.get(key)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and item.get(field):
                out.add(f"{prefix}:{item[field]}")
    return out


def place(finding: Finding, text: str) -> Diagnostic:
    """The finding's range: from its column to the end of the value, key or heading it points at."""
    lines = text.split("\n")
    row = min(max(finding.line, 1), max(len(lines), 1)) - 1
    line = lines[row] if lines else ""
    start = min(max(finding.column - 1, 0), len(line))
    if start < len(line) and line[start] in _SINGLE:
        end = start + 1
    else:
        end = token_end(line, start)
        if end <= start:
            start, end = len(line) - len(line.lstrip()), len(line)
    return Diagnostic(row, start, end, finding.level, finding.rule, finding.article, finding.message)


def token_end(line: str, start: int) -> int:
    """End of the YAML scalar or Markdown line that starts at ``start``: before a comment or a flow separator."""
    if line.lstrip().startswith("#") and not line.lstrip().startswith("# yaml"):
        return len(line.rstrip())
    flow = "[" in line[:start] or "{" in line[:start]
    end = len(line)
    comment = line.find(" #", start)
    if comment >= 0:
        end = comment
    if flow:
        stops = [i for i in (line.find(c, start) for c in ",]}") if 0 <= i < end]
        if stops:
            end = min(stops)
    return len(line[:end].rstrip())


def files(diagnostics: dict[Path, list[Diagnostic]]) -> Iterable[tuple[Path, list[Diagnostic]]]:
    return sorted(diagnostics.items())
