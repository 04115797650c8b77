"""Commands over git history: the approval ledger."""

from __future__ import annotations

import click

from xzdoc.cli.base import EXIT_FINDINGS, cli, load_config


@cli.command(name="ledger")
@click.argument("project", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式。")
@click.option("--require-signed", is_flag=True, help="另外用 git verify-commit 验证每个审批合并提交的签名。")
def ledger_command(project: str | None, fmt: str, require_signed: bool) -> None:
    """审批台账：主分支上每次阶段变更和须经同意的备案由谁合并、是否有效（第二十四条）。

    PROJECT 为项目编号或项目目录，默认列出全部项目。有现行变更未经审批时退出码为 1。
    """
    from xzdoc.history import ledger

    config = load_config()
    book = ledger.build(config, require_signed)
    if book is None:
        click.echo("主分支还没有提交，审批台账为空。")
        return
    records = ledger.with_evidence(config, book, ledger.select(book, project))
    click.echo(ledger.as_json(book, records) if fmt == "json" else ledger.as_text(config, book, records))
    if any(r.current and not r.approved for r in records):
        raise click.exceptions.Exit(EXIT_FINDINGS)
