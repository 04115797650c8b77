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


@cli.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--project", "project", required=True, type=click.Path(path_type=Path), help="项目目录或项目编号。")
@click.option("--as", "kind", required=True, help="文档类型，如 项目建议书、可行性研究报告、初步设计、投资概算、整体方案。")
@click.option("--force", is_flag=True, help="覆盖已有的文稿。")
def import_command(file: Path, project: Path, kind: str, force: bool) -> None:
    """把 Word/WPS 文档（.docx）导入为项目文稿：识别章节、保留表格、提取图片，并在 documents 中登记。"""
    from xzdoc.authoring import docx_import
    from xzdoc.source import loader

    config = load_config(project if project.exists() else None)
    folder = loader.resolve(config, project).resolve()
    report = docx_import.import_docx(config, file, folder, kind, force)
    click.echo(f"已导入 {_shown(report.draft)}（{kind}）" + ("，已在 project.yaml 的 documents 中登记" if report.registered else ""))
    click.echo(f"识别出的章节：{len(report.chapters_found)} 个；表格 {report.tables} 个；图片 {len(report.images)} 张"
               + (f"（已复制到 {_shown(report.images[0].parent)}/）" if report.images else ""))
    if report.chapters_missing:
        click.echo("未找到的章节（已按提纲补上标题和编写提示，请补写正文）：" + "、".join(report.chapters_missing))
    if report.extra:
        click.echo("提纲之外的一级标题（已保留）：" + "、".join(report.extra))
    if report.unplaced:
        click.echo(f"未归入任何章节的段落（在第一个章节之前，未写入文稿）：{len(report.unplaced)} 段")
        for text in report.unplaced:
            click.echo(f"  · {text}")
    click.echo(f"下一步：xzdoc validate {_shown(folder)}")


def _shown(path: Path) -> str:
    shown = os.path.relpath(path)
    return str(path) if shown.startswith("..") else shown
