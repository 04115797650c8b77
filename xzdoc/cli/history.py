"""Commands over git history: the approval ledger."""

from __future__ import annotations

from pathlib import Path

import click

from xzdoc.cli.base import EXIT_FINDINGS, cli, load_config


@cli.command(name="ledger")
@click.argument("project", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式。")
@click.option("--require-signed", is_flag=True, help="即使 xzdoc.yaml 没有 require_signed，也要求审批合并由审批人登记的密钥签名。")
def ledger_command(project: str | None, fmt: str, require_signed: bool) -> None:
    """审批台账：主分支上每次阶段变更和须经同意的备案由谁合并、是否有效（第二十四条）。

    PROJECT 为项目编号或项目目录，默认列出全部项目。有现行变更未经审批时退出码为 1。
    """
    from xzdoc.history import ledger

    config = load_config()
    book = ledger.build(config, require_signed)
    if book is None:
        if fmt == "json":   # a script reading the JSON gets JSON: an empty ledger
            click.echo('{"branch": null, "head": null, "baseline": null, "records": [], "issues": [], "approved": {}}')
        else:
            click.echo("主分支还没有提交，审批台账为空。")
        return
    records = ledger.with_evidence(config, book, ledger.select(book, project))
    click.echo(ledger.as_json(book, records) if fmt == "json" else ledger.as_text(config, book, records))
    if any(r.current and not r.approved for r in records) or ledger.errors(ledger.issues_of(book, records)):
        raise click.exceptions.Exit(EXIT_FINDINGS)


@cli.command(name="guard")
@click.option("--install", "bare", type=click.Path(file_okay=False, path_type=Path),
              help="把钩子写入服务器上的裸仓库（hooks/pre-receive），并设置 receive.fsckObjects 等。")
def guard_command(bare: Path | None) -> None:
    """服务器端把关（pre-receive 钩子）：拒绝台账会判为问题的推送。

    从标准输入读取 git 给出的“旧提交 新提交 引用”行。主分支只接受快进，每个新的第一父提交须是以原主分支为
    第一父提交的合并；推送中每项须经审批的变更须经审批（与 xzdoc ledger 同一套判断，按原主分支上的配置），
    签名按配置要求核验；不接受替换引用、项目目录下的符号链接和子模块。拒绝时退出码为 1。
    """
    from xzdoc.history import guard

    if bare is not None:
        for line in guard.install(bare):
            click.echo(f"已设置：{line}")
        return
    # Ref names are bytes to git; one that is not UTF-8 stays visible (as U+FFFD) and refuses its line.
    lines = click.get_binary_stream("stdin").read().decode("utf-8", "replace").splitlines()
    refusals = guard.check(Path.cwd(), lines)
    for text in refusals:
        click.echo(f"xzdoc guard：{text}", err=True)
    if refusals:
        raise click.exceptions.Exit(EXIT_FINDINGS)
