"""Commands that write sources for people: new, lsp, import."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from xzdoc.cli.base import cli, load_config


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--id", "project_id", required=True, help="项目编号，如 XZJT-2027-001。")
@click.option("--name", required=True, help="项目名称。")
@click.option("--force", is_flag=True, help="允许目录名与项目编号不同。")
def new(path: Path, project_id: str, name: str, force: bool) -> None:
    """从模板创建项目目录（元数据和各文稿的全部章节）。"""
    from xzdoc.authoring import scaffold

    anchor = next(p for p in (path.absolute(), *path.absolute().parents) if p.exists())
    config = load_config(anchor)
    written = scaffold.new_project(config, path, project_id, name, dt.date.today(), force)
    for file in written:
        shown = os.path.relpath(file)
        click.echo(f"已创建 {file if shown.startswith('..') else shown}")
    click.echo("下一步：填写 project.yaml 和 drafts/ 中的各章节，然后运行 xzdoc validate " + str(path))


@cli.command()
def lsp() -> None:
    """启动语言服务器（stdio），供编辑器检查 project.yaml、xzdoc.yaml 和文稿，并补全、悬停提示、快速修复。"""
    from xzdoc.authoring import lsp as server

    server.serve()
