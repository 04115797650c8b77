"""Jinja environments for trusted templates from the loader chain (drafts run in xzdoc.source.sandbox)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.source.sandbox import syntax_message, template_line

_PACKAGE = Path(__file__).resolve().parents[1]
PACKAGED = _PACKAGE / "_templates"   # where the wheel puts templates/
SOURCE = _PACKAGE.parent / "templates"


def search_path(config: Config) -> list[Path]:
    """The repository's own templates first, so one file can override one template."""
    chain = [config.root / "templates", PACKAGED, SOURCE]
    seen: list[Path] = []
    for folder in chain:
        if folder.is_dir() and folder.resolve() not in [s.resolve() for s in seen]:
            seen.append(folder)
    return seen


def environment(config: Config, html: bool = False) -> jinja2.Environment:
    """Templates from the loader chain; ``html`` turns on autoescaping, since project data comes from pull requests.

    Sandboxed: the repository's own templates/ come from pull requests too, and run in CI with its
    tokens; a template may lay out what it is given, never reach Python's internals or change its input.
    """
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path(config)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=html,
    )


def render(env: jinja2.Environment, names: Sequence[str], variables: Mapping[str, Any]) -> str:
    """The first of ``names`` found, rendered; every failure is an XzdocError naming the template file and line."""
    try:
        template = env.select_template(list(names))
    except jinja2.TemplateNotFound:
        raise XzdocError(f"找不到模板 {names[0]}", f"templates/{names[0]}",
                         hint="检查仓库 templates/ 目录，或重新安装 xzdoc") from None
    except jinja2.TemplateSyntaxError as exc:
        raise XzdocError(f"模板语法有误：{syntax_message(exc.message or '')}", exc.filename, exc.lineno) from None
    try:
        return template.render(variables)
    except jinja2.TemplateError as exc:
        path = template.filename or names[0]
        raise XzdocError(f"模板 {template.name} 出错：{exc}", path, template_line(exc, path)) from None


def template_file(config: Config, name: str) -> Path:
    for folder in search_path(config):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)
