"""Commands that produce documents: render, bundle, plan."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from xzdoc.cli.base import EXIT_FINDINGS, checked_out, cli, load_config, parse_formats, shown_path
from xzdoc.errors import XzdocError


@cli.command()
@click.argument("project", type=click.Path(path_type=Path), metavar="PROJECT")
@click.option("--format", "formats", default="docx,pdf", show_default=True, metavar="FORMATS",
              help="输出格式，逗号分隔：docx、pdf、xlsx（投资概算表）。")
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/<项目编号>/。")
def render(project: Path, formats: str, out: Path | None) -> None:
    """生成一个项目当前阶段所需的全部文档（及已登记的其他文档）。PROJECT 是项目目录或项目编号。"""
    from xzdoc.render import bundle
    from xzdoc.source import loader

    config = load_config(project)
    wanted = parse_formats(formats, bundle.FORMATS)
    folders = loader.discover(config, [loader.resolve(config, project)])
    if len(folders) != 1:
        raise click.UsageError(f"{project} 下有 {len(folders)} 个项目；render 一次只生成一个项目，请指定项目目录")
    for path in bundle.render(config, folders[0], wanted, out and checked_out(config, out, folder=True)):
        click.echo(f"已生成 {shown_path(path)}")


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/<项目编号>/。")
def brief(project: Path, out: Path | None) -> None:
    """生成一页的党组决策简报（PDF、DOCX）：提请事项、资金、自上次批准以来的变化、系统增减、问题、期限和拨付状态。"""
    from xzdoc.render import bundle
    from xzdoc.source import loader

    config = load_config(project)
    folders = loader.discover(config, [project])
    if len(folders) != 1:
        raise click.UsageError(f"{project} 下有 {len(folders)} 个项目；brief 一次只生成一个项目，请指定项目目录")
    for path in bundle.brief(config, folders[0], out and checked_out(config, out, folder=True)):
        click.echo(f"已生成 {shown_path(path)}")


@cli.command(name="bundle")
@click.argument("projects", nargs=-1, type=click.Path(path_type=Path), metavar="[PROJECT]...")
@click.option("--all", "everything", is_flag=True, help="打包仓库中的全部项目。")
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/（已加入 .gitignore）。")
@click.option("--force", is_flag=True, help="忽略缓存，未变化的项目也重新生成。")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="并行打包的进程数，默认等于处理器核数。")
def bundle_command(projects: tuple[Path, ...], everything: bool, out: Path | None, force: bool,
                   jobs: int | None) -> None:
    """生成申报材料包：每个项目一个 zip（DOCX、PDF、投资概算表、审批记录页、manifest.json）。

    PROJECTS 是项目目录或项目编号。
    """
    from xzdoc.render import bundle, pool
    from xzdoc.source import loader

    if not projects and not everything:
        raise click.UsageError("请指定项目目录，或用 --all 打包全部项目")
    config = load_config(projects[0] if projects and not everything else None)
    folders = loader.discover(config, [] if everything else [loader.resolve(config, p) for p in projects])
    results = bundle.bundle(config, folders, checked_out(config, out or config.root / "dist", folder=True), force,
                            workers=jobs or pool.default_workers())
    if everything and sys.stdout.isatty():
        with click.progressbar(results, length=len(folders), label="打包") as bar:
            lines = iter([_bundle_line(r) for r in bar])  # printed after the bar, which owns the line meanwhile
    else:
        lines = (_bundle_line(r) for r in results)
    failures = 0
    for text, is_error in lines:
        click.echo(text, err=is_error)
        failures += is_error
    if failures:
        click.echo(f"{failures} 个项目未能生成材料包。", err=True)
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _bundle_line(result: Any) -> tuple[str, bool]:
    from xzdoc.render import bundle

    if isinstance(result, XzdocError):
        return str(result), True
    if result.skipped:
        return f"{result.project}：{bundle.SKIPPED}（{shown_path(result.path)}）", False
    return f"{result.project}：已生成 {shown_path(result.path)}", False


@cli.command()
@click.option("--year", type=int, required=True, help="计划年度，如 2026。")
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/plan/。")
@click.option("--format", "formats", default="docx,pdf", show_default=True, metavar="FORMATS", help="输出格式，逗号分隔：docx、pdf。")
def plan(year: int, out: Path | None, formats: str) -> None:
    """生成年度政务信息化项目计划（第六条）：计划年度为该年的项目及跨年度项目的当年预算，分年度、分来源汇总。"""
    from xzdoc.render import plan as annual

    wanted = parse_formats(formats, annual.FORMATS)
    config = load_config()
    for path in annual.render(config, year, wanted, checked_out(config, out or config.root / "dist" / "plan", folder=True)):
        click.echo(f"已生成 {shown_path(path)}")
