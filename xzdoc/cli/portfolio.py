"""Commands with views over many projects: status, codeowners, catalog, diff, changed, site."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from xzdoc.cli.base import EXIT_FINDINGS, checked_out, cli, fail_if_left_out, load_config, parse_date, shown_path


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help="按哪一天计算期限，默认今天（YYYY-MM-DD）。")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式。")
def status(paths: tuple[Path, ...], as_of: str | None, fmt: str) -> None:
    """项目一览：阶段、下一道审批关口及审批人、各项期限剩余工作日、资金能否拨付。"""
    from xzdoc.portfolio import metadata
    from xzdoc.portfolio import status as portfolio

    config = load_config(paths[0] if paths else None)
    found = metadata.load_projects(config, paths)
    result = portfolio.rows(config, parse_date(as_of), found.projects)
    if fmt == "json":
        click.echo(portfolio.as_json(result))
    else:
        # click.echo drops the colours when stdout is not a terminal.
        # Fitted on a terminal (or when COLUMNS says how wide); a file or pipe gets whole lines to grep.
        fit = sys.stdout.isatty() or "COLUMNS" in os.environ
        click.echo(portfolio.table(result, click.style, shutil.get_terminal_size().columns if fit else None))
    fail_if_left_out(found.left_out, "项目一览")
    if result.note:
        # Unchecked approvals are a failure, not a view: a script reading the exit code must not release funds.
        raise click.exceptions.Exit(EXIT_FINDINGS)


@cli.command()
@click.option("--check", is_flag=True, help="只检查 .github/CODEOWNERS 是否为最新，不写入；过期时退出码为 1。")
def codeowners(check: bool) -> None:
    """按 xzdoc.yaml 的审批人生成 .github/CODEOWNERS，让代码托管平台为每个项目请求对应的审核人。"""
    from xzdoc.portfolio import codeowners as owners
    from xzdoc.source import loader

    config = load_config()
    # A project left out of CODEOWNERS would be merged without its reviewers being asked.
    found = loader.readable(loader.load_all(config, loader.discover(config, ()))) \
        if (config.root / config.projects_dir).is_dir() else loader.Readable((), ())
    fail_if_left_out(found.left_out, " CODEOWNERS（文件未改动）")
    projects = list(found.projects)
    path, changed, result = owners.write(config, projects, check)
    for who in result.skipped:
        click.echo(f"提示：{who} 没有填写 github 用户名，未列入 CODEOWNERS（在 xzdoc.yaml 中该成员加上 github: <用户名>）",
                   err=True)
    shown = os.path.relpath(path)
    if check:
        click.echo(f"{shown} 需要更新：运行 xzdoc codeowners" if changed else f"{shown} 已是最新")
        if changed:
            raise click.exceptions.Exit(EXIT_FINDINGS)
    else:
        click.echo(f"已写入 {shown}" if changed else f"{shown} 已是最新，未改动")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "xlsx", "json"]), default="md", show_default=True,
              help="输出格式。")
@click.option("--table", type=click.Choice(["systems", "resources"]), default="systems", show_default=True,
              help="csv 只能容纳一张表：选择系统目录或资源目录。")
@click.option("--out", type=click.Path(path_type=Path), help="写入文件（xlsx 必须指定）。")
def catalog(fmt: str, table: str, out: Path | None) -> None:
    """汇总全局政务信息系统目录和信息资源目录（第八条），并提示重复建设。"""
    from xzdoc.portfolio import catalog as portfolio
    from xzdoc.portfolio import metadata
    from xzdoc.source import fsio, register

    config = load_config()
    out = checked_out(config, out) if out else None
    found = metadata.load_projects(config)
    result = portfolio.build(found.projects, register.load(config.root))
    if fmt == "xlsx" and out is None:
        raise click.UsageError("xlsx 是二进制格式，请用 --out 指定文件，例如 --out 目录.xlsx")
    body: str | bytes
    if fmt == "md":
        body = portfolio.as_markdown(result, config.organisation)
    elif fmt == "csv":
        body = portfolio.as_csv(result, table)
    elif fmt == "json":
        body = portfolio.as_json(result)
    else:
        body = portfolio.as_xlsx(result)
    if out:
        fsio.write_atomic(out, body)
        click.echo(f"已写入 {out}（系统 {len(result.systems)} 个，资源 {len(result.resources)} 项）", err=True)
    else:
        click.echo(body, nl=False)
    for finding in result.findings:
        click.echo(f"{finding.path}:{finding.line}: warning [{finding.rule}] {finding.message}", err=True)
    for system in result.unfunded:
        click.echo(f"提示：{system.id} {system.name}：{system.consequence}", err=True)
    fail_if_left_out(found.left_out, "目录")


@cli.command(name="diff")
@click.argument("base")
@click.argument("head", required=False)
def diff_command(base: str, head: str | None) -> None:
    """拉取请求的变更审查摘要（Markdown）：项目增删改、阶段变更及须由谁合并、预算增减、系统和资源的字段变化、系统总量。

    BASE 为比较的起点（如 origin/main 或提交哈希）；HEAD 省略时与工作区比较（含未提交的改动，
    CI 检出的就是待合并的版本）。在用系统数增加（第一条 总量只减不增）时退出码为 1。
    设置了 GITHUB_STEP_SUMMARY 时摘要同时追加到作业摘要。
    """
    from xzdoc.portfolio import diff as review
    from xzdoc.portfolio import summary

    result = review.review(load_config(), base, head)
    click.echo(summary.as_markdown(result), nl=False)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        summary.write_summary(result, Path(summary_path))
    for error in result.errors:
        click.echo(f"错误：{error}", err=True)
    if result.failed:
        raise click.exceptions.Exit(EXIT_FINDINGS)


@cli.command()
@click.argument("base")
@click.argument("head", required=False)
@click.option("--json", "as_json", is_flag=True, help='输出 {"project": [...]}，可直接作为 GitHub Actions 的 matrix。')
def changed(base: str, head: str | None, as_json: bool) -> None:
    """列出一次变更涉及的项目目录（有任何文件改动的 projects/<编号>），供 CI 按项目分片。

    HEAD 省略时与工作区比较；已删除的项目不列出（xzdoc diff 会报告）。每行一个目录，相对于仓库根目录。
    """
    from xzdoc.portfolio import diff as review

    folders = review.changed(load_config(), base, head)
    if as_json:
        click.echo(review.changed_json(folders))
    else:
        for folder in folders:
            click.echo(folder)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/site/。")
@click.option("--as-of", "as_of", metavar="DATE", help="按哪一天计算期限，默认今天（YYYY-MM-DD）。")
def site(out: Path | None, as_of: str | None) -> None:
    """生成静态项目看板（单个 HTML 文件，不需要网络）：项目一览、进度与期限、分年度预算、系统目录。"""
    from xzdoc.portfolio import sitecache as dashboard

    config = load_config()
    page, written, left_out = dashboard.write(config, checked_out(config, out or config.root / "dist" / "site", folder=True),
                                              parse_date(as_of))
    click.echo(f"已生成 {shown_path(page)}" if written else f"{shown_path(page)} 未变化，未改写")
    fail_if_left_out(left_out, "看板（页面上已列出）")
