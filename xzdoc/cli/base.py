"""The click group and its one error boundary, plus helpers the command modules share.

Heavy modules (pandoc, typst, git) are imported inside the commands that need
them, so `xzdoc --help` and `xzdoc validate` start fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import click

from xzdoc import __version__
from xzdoc.errors import UsageError, XzdocError

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
            ctx.exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FINDINGS)
        except KeyboardInterrupt:
            click.echo("已中断。", err=True)
            ctx.exit(EXIT_INTERRUPT)
        except BrokenPipeError:
            # The reader (head, less) went away; say nothing more on a closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception:
            if ctx.obj and ctx.obj.get("debug"):
                import traceback  # only on the rare path: start-up is measured

                traceback.print_exc()
            else:
                kind = sys.exc_info()[0]
                click.echo(f"内部错误（{kind.__name__ if kind else '未知'}）：这是 xzdoc 的缺陷，不是你的输入有误。"
                           "请加 --debug 重新运行（xzdoc --debug …），并把输出附在问题报告中。", err=True)
            ctx.exit(EXIT_BUG)


def load_config(path: Path | None = None) -> Any:
    from xzdoc import config

    return config.load(config.find_root(path or Path.cwd()))


def parse_date(value: str | None) -> dt.date:
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


def shown_path(path: Path) -> str:
    shown = os.path.relpath(path)
    return str(path) if shown.startswith("..") else shown


def parse_formats(value: str, allowed: tuple[str, ...], option: str = "--format") -> list[str]:
    """A comma-separated format list; an unknown or empty one is a usage error (exit 2)."""
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in allowed]
    if unknown or not formats:
        raise UsageError(f"不支持的格式：{'、'.join(unknown) or '（空）'}", f"命令行选项 {option}",
                         hint="可选格式：" + ",".join(allowed))
    return formats
