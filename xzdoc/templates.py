"""Jinja environments: trusted templates from the loader chain, sandboxed drafts."""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from xzdoc.config import Config

PACKAGED = Path(__file__).parent / "_templates"
SOURCE = Path(__file__).parent.parent / "templates"


def search_path(config: Config) -> list[Path]:
    """The repository's own templates first, so one file can override one template."""
    chain = [config.root / "templates", PACKAGED, SOURCE]
    seen: list[Path] = []
    for folder in chain:
        if folder.is_dir() and folder.resolve() not in [s.resolve() for s in seen]:
            seen.append(folder)
    return seen


def environment(config: Config) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path(config)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def template_file(config: Config, name: str) -> Path:
    for folder in search_path(config):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)


def sandbox() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
