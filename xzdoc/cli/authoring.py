"""Commands that write sources for people: new, init, lsp, import."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from xzdoc.cli.base import cli, load_config, shown_path
from xzdoc.errors import UsageError, XzdocError


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
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--org", "organisation", required=True, help="单位名称，如 忻州市交通运输局。")
@click.option("--install", metavar="SPEC", help="CI 安装 xzdoc 的来源，须固定为当前版本：默认 xzdoc==<当前版本>（内网镜像），"
              "也可写仓库中的 wheel 文件路径或 xzdoc@git+<地址>@v<版本>。")
@click.option("--adopt", is_flag=True, help="在已有提交历史的仓库中采用 xzdoc：把当前提交（HEAD）写作 baseline，保留仓库原有文件。")
@click.option("--force", is_flag=True, help="覆盖内容不同的已有文件（已设定的 baseline 保持不变：基线只能设定一次）。")
def init(path: Path, organisation: str, install: str | None, adopt: bool, force: bool) -> None:
    """建立局里的项目仓库（PATH 默认为当前目录）。

    写出 xzdoc.yaml、系统目录 systems.yaml、CI 工作流（GitHub 和 Gitea，安装与本机相同的固定版本）、
    VS Code 设置、pre-commit 配置、.gitignore 和给工作人员的 README。

    已有内容不同的文件时不做任何改动并退出 1（加 --force 覆盖）；重复运行不改动任何文件。
    """
    from xzdoc.authoring import init as layout
    from xzdoc.history import gitlog

    target = path.resolve()
    top = gitlog.repository_root(target) if target.is_dir() else None
    if top is not None and top.resolve() != target:
        # xzdoc.yaml belongs at the repository's top level: the ledger and validate refuse it anywhere else.
        raise UsageError(f"{shown_path(target)} 是 git 仓库 {shown_path(top)} 的子目录", "命令行参数 PATH",
                         hint=f"在仓库根目录运行：xzdoc init {shown_path(top)}；或为项目材料另建一个仓库")
    spec = install or layout.default_install()
    branch = gitlog.main_line(target, layout.configured_branch(target)) if target.is_dir() else "main"
    if adopt:
        head = gitlog.head(target) if target.is_dir() else None
        if head is None:
            raise XzdocError(f"{shown_path(target)} 不是有提交的 git 仓库，--adopt 无从取得基线", shown_path(target),
                             hint="新仓库不需要基线：去掉 --adopt 运行 xzdoc init")
        outcome = layout.adopt(target, organisation, spec, head.commit, force, branch)
    else:
        outcome = layout.run(target, organisation, spec, force, branch)
    for file in outcome.written:
        click.echo(f"已写入 {shown_path(file)}")
    for file in outcome.kept:
        click.echo(f"保留原有 {shown_path(file)}（未改动；需要时参照 xzdoc init 的版本手工合并，或加 --force）")
    if not outcome.written:
        click.echo("所有文件均已是最新，未改动。")
    if outcome.baseline:
        click.echo(f"基线（baseline）：{outcome.baseline}")
    click.echo(_next_steps(target, adopt), nl=False)


def _next_steps(target: Path, adopt: bool) -> str:
    from xzdoc.history import gitlog

    steps = ["下一步："]
    if gitlog.repository_root(target) is None:
        steps.append(f"  git init -b main {shown_path(target)}")
    steps += ["  1. 在 xzdoc.yaml 的 approvers 下填写三个角色的审批人（邮箱、签名公钥 keys）；",
              "  2. 在 systems.yaml 中登记本局已有的政务信息系统（升级、整合、下线的系统必须已登记）；",
              "  3. git add -A && git commit -m \"采用 xzdoc\"，然后 xzdoc doctor 检查配置；",
              "  4. 在分支上用 xzdoc new projects/<编号> --id <编号> --name <名称> 建立第一个项目。"]
    if adopt:
        steps[-1] = "  4. 基线之前已达到的阶段按项目记录采纳；之后的阶段变更须经审批人合并。"
    return "\n".join(steps) + "\n"


@cli.command()
def lsp() -> None:
    """启动语言服务器（stdio），供编辑器检查 project.yaml、xzdoc.yaml 和文稿，并补全、悬停提示、快速修复。"""
    from xzdoc.authoring import lsp as server

    # LSP's own rule for the exit code: 0 only for an exit after a shutdown request.
    click.get_current_context().exit(server.serve())


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
    registered = "，已在 project.yaml 的 documents 中登记" if report.registered else ""
    click.echo(f"已导入 {shown_path(report.draft)}（{report.kind}）{registered}")
    click.echo(f"识别出的章节：{len(report.chapters_found)} 个；表格 {report.tables} 个；图片 {len(report.images)} 张"
               + (f"（已复制到 {shown_path(report.images[0].parent)}/）" if report.images else ""))
    if report.chapters_missing:
        click.echo("未找到的章节（已按提纲补上标题和编写提示，请补写正文）：" + "、".join(report.chapters_missing))
    if report.extra:
        click.echo("提纲之外的一级标题（已保留）：" + "、".join(report.extra))
    if report.comments:
        click.echo(f"Word 批注 {report.comments} 条未导入（批注不属于正文；需要保留的意见请写进正文或评审记录）")
    if report.hidden:
        click.echo(f"Word 隐藏文字 {report.hidden} 处未导入（打印和阅读时看不到的内容不属于交付的正文）")
    if report.allow_marks:
        click.echo(f"文中的“xzdoc: allow”标记 {report.allow_marks} 处已删除（涉密检查的放行只能由项目人员在文稿中逐行注明）")
    if report.templates:
        click.echo(f"文中的模板符号（{{{{、{{%、{{#）{report.templates} 处已按原文保留，不作为元数据引用")
    if report.unplaced:
        click.echo(f"未归入任何章节的段落（在第一个章节之前，未写入文稿）：{len(report.unplaced)} 段")
        for text in report.unplaced:
            click.echo(f"  · {text}")
    click.echo(f"下一步：xzdoc validate {shown_path(folder)}")
