"""The command line: parse options, call one core function, print, return an exit code.

Heavy modules (pandoc, typst, git) are imported inside the commands that need
them, so `xzdoc --help` and `xzdoc validate` start fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from xzdoc import __version__
from xzdoc.errors import XzdocError

EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPT = 1, 2, 3, 130


class Group(click.Group):
    """Handles XzdocError and surprises once, the same under CliRunner and the console script."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except XzdocError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(EXIT_FINDINGS)
        except KeyboardInterrupt:
            click.echo("已中断。", err=True)
            ctx.exit(EXIT_INTERRUPT)
        except BrokenPipeError:
            # The reader (head, less) went away; say nothing more on a closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            else:
                kind = sys.exc_info()[0]
                click.echo(f"内部错误（{kind.__name__ if kind else '未知'}）：这是 xzdoc 的缺陷，不是你的输入有误。"
                           "请加 --debug 重新运行（xzdoc --debug …），并把输出附在问题报告中。", err=True)
            ctx.exit(EXIT_BUG)


def _config(path: Path | None = None) -> Any:
    from xzdoc import config

    return config.load(config.find_root(path or Path.cwd()))


def _date(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”不是日期，应写作 YYYY-MM-DD") from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xzdoc")
@click.option("--debug", is_flag=True, help="出现内部错误时打印完整的调用栈。")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """xzdoc：政务信息化项目文档即代码工具（忻交发〔2022〕81号）。

    在 git 仓库中用 YAML 元数据和 Markdown 文稿编写项目申请材料，
    按编制规范检查，生成 DOCX/PDF 申报材料包。
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
              show_default=True, help="输出格式；github 输出 CI 注解并写入作业摘要。")
@click.option("--strict", is_flag=True, help="警告也视为失败。")
@click.option("--as-of", "as_of", metavar="DATE", help="按哪一天判断期限，默认今天（YYYY-MM-DD）。")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, as_of: str | None) -> None:
    """按编制规范检查项目。PATH 可以是仓库、projects/ 或某个项目目录，默认检查全部项目。"""
    from xzdoc import check, report, rules

    config = _config(paths[0] if paths else None)
    result = check.validate(config, paths, _date(as_of))
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
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--id", "project_id", required=True, help="项目编号，如 XZJT-2027-001。")
@click.option("--name", required=True, help="项目名称。")
def new(path: Path, project_id: str, name: str) -> None:
    """从模板创建项目目录（元数据和各文稿的全部章节）。"""
    from xzdoc import scaffold

    anchor = next(p for p in (path.absolute(), *path.absolute().parents) if p.exists())
    config = _config(anchor)
    written = scaffold.new_project(config, path, project_id, name, dt.date.today())
    for file in written:
        shown = os.path.relpath(file)
        click.echo(f"已创建 {file if shown.startswith('..') else shown}")
    click.echo("下一步：填写 project.yaml 和 drafts/ 中的各章节，然后运行 xzdoc validate " + str(path))


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="写入文件而不是打印。")
def schema(out: Path | None) -> None:
    """打印 project.yaml 的 JSON Schema（含本仓库的取值范围）。"""
    from xzdoc import scaffold

    text = scaffold.schema_text(_config().standard)
    if out:
        scaffold.write_atomic(out, text)
        click.echo(f"已写入 {out}")
    else:
        click.echo(text, nl=False)


@cli.command(name="rules")
def list_rules() -> None:
    """列出全部检查规则：编号、依据条款、级别和说明。"""
    from xzdoc import rules

    width = max(len(r.id) for r in rules.RULES)
    for rule in rules.RULES:
        click.echo(f"{rule.id:<{width}}  {rule.article:<6}\t{rule.level:<7}  {rule.description}")


def main(argv: list[str] | None = None) -> int:
    try:
        # Without standalone mode click returns the exit code of ctx.exit instead of raising.
        code = cli.main(args=argv, prog_name="xzdoc", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中断。", err=True)
        return EXIT_INTERRUPT
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return code if isinstance(code, int) else 0
