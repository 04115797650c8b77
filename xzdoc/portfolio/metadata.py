"""The portfolio views' projects: project.yaml only, drafts not read.

``status``, ``catalog`` and ``site`` show metadata (stage, money, records,
systems); none of them looks at a draft's text. The loader reads every draft
(validate and render need them), so here each draft stands in as empty
through the loader's overlay: the metadata, its schema check and money
are exactly the loader's, and a portfolio of a thousand projects costs a
thousand small files instead of several thousand large ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from xzdoc.config import Config
from xzdoc.model import Project
from xzdoc.source import loader


class _NoDrafts(Mapping[Path, str]):
    """An overlay holding every file of the folder as empty text, except project.yaml itself."""

    def __init__(self, folder: Path) -> None:
        self.metadata = folder / loader.PROJECT_FILE

    def __getitem__(self, path: Path) -> str:
        if path == self.metadata:
            raise KeyError(path)
        return ""

    def __iter__(self) -> Iterator[Path]:
        return iter(())

    def __len__(self) -> int:
        return 1  # never empty: the loader treats an empty overlay as none


def load(config: Config, folder: Path) -> Project | None:
    """The project of ``folder`` with empty drafts; None when its metadata does not load (validate says why)."""
    return loader.load_project(config, folder, _NoDrafts(folder)).project


def load_projects(config: Config, paths: Iterable[Path] = ()) -> loader.Readable:
    """The projects whose metadata loads, read without a draft, and why each of the others is left out."""
    return loader.readable(loader.load_project(config, f, _NoDrafts(f)) for f in loader.discover(config, paths))
