"""Commands that check projects against the standard: validate, rules, schema, doctor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from xzdoc.cli.base import EXIT_FINDINGS, checked_out, cli, load_config, parse_date


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    """A bad --shard is a usage error (exit 2, naming the option), like any other bad option value."""
    if value is None:
        return None
    from xzdoc.errors import XzdocError
    from xzdoc.rules.index import Shard

    try:
        return Shard.parse(value)
    except XzdocError as exc:
        raise click.BadParameter(f"{exc.message}：{exc.hint}" if exc.hint else exc.message) from None


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
              show_default=True, help="输出格式；github 输出 CI 注解并写入作业摘要。")
@click.option("--strict", is_flag=True, help="警告也视为失败。")
@click.option("--as-of", "as_of", metavar="DATE", help="按哪一天判断期限，默认今天（YYYY-MM-DD）。")
@click.option("--shard", metavar="I/N", callback=_shard, help="只检查第 I 个分片（共 N 个，按项目目录名稳定划分），用于 CI 矩阵。")
@click.option("--index-out", "index_out", type=click.Path(path_type=Path), metavar="FILE",
              help="写出本次的索引（逐项目结论和跨项目规则所需的摘要），跨项目规则留给 --join。")
@click.option("--join", "joins", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              metavar="FILE", help="合并各分片的索引，运行跨项目规则，输出与一次完整检查相同的结论（可重复）。")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="不使用检查结果缓存（默认对未改动的项目复用上次的结论，缓存在 .git/xzdoc/validate/ 或 XZDOC_CACHE_DIR）。")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, as_of: str | None, shard: Any,
             index_out: Path | None, joins: tuple[Path, ...], no_cache: bool) -> None:
    """按编制规范检查项目。PATH 可以是仓库、projects/ 或某个项目目录，默认检查全部项目。"""
    from xzdoc import report, rules
    from xzdoc.rules import engine as check
    from xzdoc.rules.index import Index

    if joins and (paths or shard or index_out):
        raise click.UsageError("--join 只合并索引，不能同时给出 PATH、--shard 或 --index-out")
    config = load_config(paths[0] if paths else None)
    if joins:
        result = check.join(config, [Index.load(p) for p in joins], parse_date(as_of))
    else:
        result = check.validate(config, paths, parse_date(as_of), shard,
                                portfolio=index_out is None, cache=not no_cache)
        if index_out is not None and result.index is not None:
            result.index.dump(index_out)
    findings, count = result.findings, result.checked
    if fmt == "json":
        click.echo(report.as_json(findings))
    elif fmt == "sarif":
        click.echo(report.sarif(findings, [(r.id, r.article, r.description) for r in rules.RULES]))
    elif fmt == "github":
        if findings:
            click.echo(report.github(findings))
        click.echo(report.summary_line(findings, count), err=True)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(report.step_summary(findings, count))
    else:
        click.echo(report.text(findings, count))
    if result.failed(strict):
        raise click.exceptions.Exit(EXIT_FINDINGS)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="写入文件而不是打印。")
def schema(out: Path | None) -> None:
    """打印 project.yaml 的 JSON Schema（含本仓库的取值范围）。"""
    from xzdoc.authoring import scaffold
    from xzdoc.source import fsio

    config = load_config()
    text = scaffold.schema_text(config.standard)
    if out:
        checked_out(config, out)
        fsio.write_atomic(out, text)
        click.echo(f"已写入 {out}")
    else:
        click.echo(text, nl=False)


@cli.command(name="rules")
def list_rules() -> None:
    """列出全部检查规则：编号、依据条款、级别和说明。"""
    from xzdoc import rules

    width = max(len(r.id) for r in rules.RULES)
    for rule in rules.RULES:
        # Articles are CJK, two columns per character on a terminal.
        article = rule.article + " " * (12 - 2 * len(rule.article))
        click.echo(f"{rule.id:<{width}}  {article}  {rule.level:<7}  {rule.description}")


@cli.command()
def doctor() -> None:
    """检查环境和仓库配置，每个问题给出修复方法。

    环境：pandoc、typst、中文字体、git。仓库：xzdoc.yaml、审批人、签名公钥、系统目录 systems.yaml、
    审批台账和基线。✗ 必须处理（退出码 1），！ 建议处理。
    """
    from xzdoc import doctor as checks

    results = checks.run(Path.cwd())
    for check in results:
        for line in check.lines():
            click.echo(line)
    if checks.failed(results):
        click.echo("缺少必需的组件，按上面的“修复”逐项处理后重新运行 xzdoc doctor。", err=True)
        raise click.exceptions.Exit(EXIT_FINDINGS)
    pending = checks.advisories(results)
    if pending:
        click.echo(f"可以运行 xzdoc bundle；另有 {pending} 项（标“！”）需要处理，按上面的“修复”逐项处理。")
    else:
        click.echo("环境齐备，可以运行 xzdoc bundle。")
