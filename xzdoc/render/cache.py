"""A cache of rendered documents: one document's DOCX/PDF bytes, keyed by a hash of what it depends on.

The key covers the document's final Markdown (its draft or the approved
tree's draft through the template, with every project.yaml value it shows),
its cover, the build stamp, the formats, the effective templates, config,
reference.docx, fonts, the toolkit and tool versions, and every non-Markdown
file an image could come from. An edit to one draft changes one document's
key, so a bundle re-renders only that document and reuses the rest byte for
byte. Entries are written atomically under the output folder; each document
keeps only its newest entry. The cache never decides what goes into a
bundle: it only saves recomputing bytes that equal inputs would give again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xzdoc.render.reproducible import read_zip, write_zip
from xzdoc.source.fsio import write_atomic

FOLDER = ".cache"
_TIME = (1980, 1, 1, 0, 0, 0)


def key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=_plain)
                          .encode("utf-8")).hexdigest()


def assets(folder: Path) -> list[tuple[str, str]]:
    """Every non-Markdown file under ``folder`` (where images resolve), by path relative to it and content hash."""
    out = []
    for base, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(base) / name
            if name.endswith(".md") or name == "project.yaml" or not path.is_file():
                continue
            out.append((path.relative_to(folder).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()))
    return out


class DocumentCache:
    """Entries ``<root>/<project>/<slot>-<key>.zip``; a new entry for a slot replaces the old one."""

    def __init__(self, root: Path, reuse: bool = True) -> None:
        self.root = root
        self.reuse = reuse  # off for --force: render everything again, then refresh the entries

    def get(self, project: str, slot: str, digest: str) -> list[tuple[str, bytes]] | None:
        if not self.reuse:
            return None
        path = self._path(project, slot, digest)
        try:
            return read_zip(path.read_bytes())
        except (OSError, zipfile.BadZipFile, EOFError):
            return None  # absent or damaged: render again

    def put(self, project: str, slot: str, digest: str, entries: Iterable[tuple[str, bytes]]) -> None:
        path = self._path(project, slot, digest)
        try:
            write_atomic(path, write_zip(list(entries), _TIME, sort=False))
        except Exception:
            return  # a cache that cannot be written only costs time next run
        for old in path.parent.glob(f"{_slot(slot)}-*.zip"):
            if old != path:
                old.unlink(missing_ok=True)

    def _path(self, project: str, slot: str, digest: str) -> Path:
        return self.root / _slot(project) / f"{_slot(slot)}-{digest}.zip"


def _slot(text: str) -> str:
    # Document kinds are Chinese words; keep them readable, but never let one name a path.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "_"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(f"cannot hash {type(value).__name__}")

