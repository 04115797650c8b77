"""The click group and its one error boundary, plus helpers the command modules share.

Heavy modules (pandoc, typst, git) are imported inside the commands that need
them, so `xzdoc --help` and `xzdoc validate` start fast. For the same reason the
group imports a command module only when one of its commands is run (or asked
for help or completion); `xzdoc --help` lists the commands from ``COMMANDS``.
"""

from __future__ import annotations

import datetime as dt
import errno
import importlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from xzdoc import __version__
from xzdoc.errors import UsageError, XzdocError, os_reason

EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPT = 1, 2, 3, 130

# Every command: the module under xzdoc.cli that defines it, and the first paragraph of its help
# (all that click's one-line summary in `xzdoc --help` is made from). tests/test_cli_lazy.py
# checks this table against the commands themselves, so it cannot drift from them.
COMMANDS: dict[str, tuple[str, str]] = {
    "brief": ("render", "生成一页的党组决策简报（PDF、DOCX）：提请事项、资金、自上次批准以来的变化、系统增减、问题、期限和拨付状态。"),
    "bundle": ("render", "生成申报材料包：每个项目一个 zip（DOCX、PDF、投资概算表、审批记录页、manifest.json）。"),
    "catalog": ("portfolio", "汇总全局政务信息系统目录和信息资源目录（第八条），并提示重复建设。"),
    "changed": ("portfolio", "列出一次变更涉及的项目目录（有任何文件改动的 projects/<编号>），供 CI 按项目分片。"),
    "codeowners": ("portfolio", "按 xzdoc.yaml 的审批人生成 .github/CODEOWNERS，让代码托管平台为每个项目请求对应的审核人。"),
    "diff": ("portfolio", "拉取请求的变更审查摘要（Markdown）：项目增删改、阶段变更及须由谁合并、预算增减、系统和资源的字段变化、"
                          "系统总量。"),
    "doctor": ("check", "检查环境和仓库配置，每个问题给出修复方法。"),
    "guard": ("history", "服务器端把关（pre-receive 钩子）：拒绝台账会判为问题的推送。"),
    "import": ("authoring", "把 Word/WPS 文档（.docx）导入为项目文稿：识别章节、保留表格、提取图片，并在 documents 中登记。"),
    "init": ("authoring", "建立局里的项目仓库（PATH 默认为当前目录）。"),
    "ledger": ("history", "审批台账：主分支上每次阶段变更和须经同意的备案由谁合并、是否有效（第二十四条）。"),
    "lsp": ("authoring", "启动语言服务器（stdio），供编辑器检查 project.yaml、xzdoc.yaml 和文稿，并补全、悬停提示、快速修复。"),
    "new": ("authoring", "从模板创建项目目录（元数据和各文稿的全部章节）。"),
    "plan": ("render", "生成年度政务信息化项目计划（第六条）：计划年度为该年的项目及跨年度项目的当年预算，分年度、分来源汇总。"),
    "render": ("render", "生成一个项目当前阶段所需的全部文档（及已登记的其他文档）。PROJECT 是项目目录或项目编号。"),
    "rules": ("check", "列出全部检查规则：编号、依据条款、级别和说明。"),
    "schema": ("check", "打印 project.yaml 的 JSON Schema（含本仓库的取值范围）。"),
    "site": ("portfolio", "生成静态项目看板（单个 HTML 文件，不需要网络）：项目一览、进度与期限、分年度预算、系统目录。"),
    "status": ("portfolio", "项目一览：阶段、下一道审批关口及审批人、各项期限剩余工作日、资金能否拨付。"),
    "validate": ("check", "按编制规范检查项目。PATH 可以是仓库、projects/ 或某个项目目录，默认检查全部项目。"),
}


class CommandLineError(click.UsageError):
    """A usage error of click's told as every xzdoc error is told: 错误, 位置 and 提示, in Chinese (exit 2)."""

    def __init__(self, original: click.UsageError, command: str | None = None) -> None:
        super().__init__(original.format_message(), original.ctx)
        self.original = original
        self.command = command      # the sub-command, when click's error carries no context of its own

    def show(self, file: Any = None) -> None:
        message, where = _said(self.original)
        # The program is xzdoc however it was started (python -m xzdoc, a test runner).
        rest = self.ctx.command_path.split(" ", 1)[1:] if self.ctx is not None else []
        command = " ".join(["xzdoc", *(rest or ([self.command] if self.command else []))])
        click.echo(f"错误：{message}\n位置：{where}\n提示：运行 {command} --help 查看用法", err=file is None, file=file)


def _said(exc: click.UsageError) -> tuple[str, str]:
    """What went wrong and where on the command line, in Chinese; click's own English kept only as a last resort."""
    from click import exceptions as e

    if isinstance(exc, e.NoSuchCommand):
        close = list(exc.possibilities or ())   # closest first, as difflib gave them
        maybe = f"，你是不是想写“{'”或“'.join(close)}”？" if close else ""
        return f"没有命令“{exc.command_name}”{maybe}", "命令行的命令名"
    if isinstance(exc, e.NoSuchOption):
        close = sorted(exc.possibilities or ())
        maybe = f"，你是不是想写 {' 或 '.join(close)}？" if close else ""
        return f"没有选项 {exc.option_name}{maybe}", f"命令行选项 {exc.option_name}"
    if isinstance(exc, e.BadOptionUsage):
        said = exc.message
        what = ("后面要写一个值" if "requires" in said and "argument" in said else
                "不接受值（它是开关，写上即生效）" if "does not take a value" in said else f"的用法不对（{said}）")
        return f"选项 {exc.option_name} {what}", f"命令行选项 {exc.option_name}"
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    name = _param_name(param) if param is not None else hint if isinstance(hint, str) else "/".join(hint or ())
    option = isinstance(param, click.Option) or name.startswith("-")
    where = (f"命令行选项 {name}" if option else f"命令行参数 {name}") if name else "命令行"
    if isinstance(exc, e.MissingParameter):
        return f"缺少{'选项' if option else '参数'} {name}", where
    if isinstance(exc, e.BadParameter):
        kind = param.type if param is not None else None
        if isinstance(kind, click.Choice):
            return f"{name} 的值不在可选范围内（可选：{'、'.join(map(str, kind.choices))}）", where
        if isinstance(kind, (click.IntRange, click.FloatRange)):
            return f"{name} 的值不在允许的范围内（{_range(kind)}）", where
        if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
            whole = isinstance(kind, click.types.IntParamType)
            given = re.search(r"'(.*)'", exc.message)
            return f"{name} 的值{f'“{given.group(1)}”' if given else ''}不是{'整数' if whole else '数字'}", where
        if isinstance(kind, click.Path):
            quoted = re.search(r"'(.*)'", exc.message)
            shown = f"“{quoted.group(1)}”" if quoted else ""
            what = ("不存在" if "does not exist" in exc.message else "是目录，这里要一个文件" if "is a directory" in exc.message
                    else "是文件，这里要一个目录" if "is a file" in exc.message else "无法读取")
            return f"{name} 给出的路径{shown}{what}", where
        return f"{name or '参数'} 的值不对：{exc.message}", where
    if exc.message == "Missing command.":
        return "缺少命令（如 validate、bundle、status）", "命令行"
    return exc.format_message(), where


def _range(kind: click.IntRange | click.FloatRange) -> str:
    low = None if kind.min is None else f"{'大于' if kind.min_open else '不小于'} {kind.min}"
    high = None if kind.max is None else f"{'小于' if kind.max_open else '不大于'} {kind.max}"
    return "且".join(part for part in (low, high) if part) or "任意值"


def _param_name(param: click.Parameter) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.human_readable_name or param.name or "").upper()


def load_commands() -> None:
    """Import every command module (tests, and anything that wants ``cli.commands`` complete)."""
    for module in sorted({module for module, _ in COMMANDS.values()}):
        importlib.import_module(f"xzdoc.cli.{module}")


# click's help is English (gettext with no Chinese catalogue); these are the words its help pages show.
_HELP_WORDS = (("[default: ", "[默认："), ("[required]", "[必填]"), ("; required]", "；必填]"), ("[env var: ", "[环境变量："))


class _Help:
    """Help pages in Chinese: the headings, the -h/--help line and the [default: …] notes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        if isinstance(self, click.Group):
            kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = "显示本帮助并退出。"
        return option

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), "用法：")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is not None:
                text = record[1]
                for english, chinese in _HELP_WORDS:
                    text = text.replace(english, chinese)
                rows.append((record[0], text))
        if rows:
            with formatter.section("选项"):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class Command(_Help, click.Command):
    pass


class Group(_Help, click.Group):
    """Handles XzdocError and surprises once, the same under CliRunner and the console script.

    Commands are registered by their modules on import; the group imports a module
    the first time one of its commands is looked up, so a run pays only for its own.
    """

    command_class = Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS.keys() | self.commands.keys())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"xzdoc.cli.{COMMANDS[cmd_name][0]}")
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            # click suggests close names from the commands loaded so far; suggest from all of them.
            import difflib

            close = difflib.get_close_matches(exc.command_name, self.list_commands(ctx), n=3, cutoff=0.6)
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=close, ctx=ctx) from None

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise exc if isinstance(exc, CommandLineError) else CommandLineError(exc) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, except that a command not imported yet is summarised from COMMANDS by a
        # stand-in, whose get_short_help_str is click's, so the line is the one the real command gives.
        rows = [(name, self.commands.get(name) or click.Command(name, help=COMMANDS[name][1]))
                for name in self.list_commands(ctx)]
        shown = [(name, cmd) for name, cmd in rows if not cmd.hidden]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("命令"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])

    def invoke(self, ctx: click.Context) -> Any:
        given = [*ctx._protected_args, *ctx.args]   # click consumes them while it invokes
        named = given[0] if given and given[0] in COMMANDS else None
        # click.Path calls os.stat on its value, which raises ValueError on a NUL: refuse such an argument first.
        # Bytes that are not UTF-8 reach Python as lone surrogates, which nothing can write out again.
        for arg in given:
            if "\x00" in arg:
                raise CommandLineError(click.UsageError(
                    f"参数“{arg.replace(chr(0), '␀')[:60]}”中含有空字符（NUL），不是有效的路径或值", ctx=ctx), named)
            if _SURROGATE.search(arg):
                raise CommandLineError(click.UsageError(
                    f"参数“{_SURROGATE.sub(chr(0xfffd), arg)[:60]}”中有不是 UTF-8 编码的字节，不是有效的路径或值", ctx=ctx), named)
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # Options of a command are parsed here, inside the group's invoke.
            raise exc if isinstance(exc, CommandLineError) else CommandLineError(exc, named) from None
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
        except OSError as exc:
            # A path the system refuses (too long, a file where a folder is needed, a FIFO): the input's fault.
            click.echo(_os_error(exc), err=True)
            ctx.exit(EXIT_FINDINGS)
        except Exception:
            if ctx.obj and ctx.obj.get("debug"):
                import traceback  # only on the rare path: start-up is measured

                traceback.print_exc()
            else:
                kind = sys.exc_info()[0]
                click.echo(f"内部错误（{kind.__name__ if kind else '未知'}）：这是 xzdoc 的缺陷，不是你的输入有误。"
                           "请加 --debug 重新运行（xzdoc --debug …），并把输出附在问题报告中。", err=True)
            ctx.exit(EXIT_BUG)


_SURROGATE = re.compile("[\ud800-\udfff]")
_OS_HINTS = {errno.ENAMETOOLONG: "路径或其中一段名称过长，换一个较短的路径",
             errno.ENOTDIR: "路径中的某一段是文件而不是目录，检查路径",
             errno.EISDIR: "这里需要文件，给出的是目录",
             errno.ENOENT: "路径不存在，检查拼写",
             errno.EACCES: "没有权限，检查文件和目录的权限",
             errno.ENOSPC: "磁盘已满，清理空间后重试"}


def _os_error(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "（未知路径）"
    shown = _SURROGATE.sub("\ufffd", str(where))[:200]
    hint = _OS_HINTS.get(exc.errno or 0, "检查该路径是否存在、类型是否正确、是否有读写权限")
    return f"错误：无法读写 {shown}：{os_reason(exc)}\n提示：{hint}"


def fail_if_left_out(where: Any, view: str) -> None:
    """Projects a view could not show fail the command after it, each named with its error: none goes missing unseen.

    ``where`` holds findings, or (file, line, why) triples as a cached dashboard keeps them.
    """
    if where:
        from xzdoc import report

        triples = [w if isinstance(w, tuple) else (w.path, w.line, w.message) for w in where]
        click.echo(report.left_out(triples, view), err=True)
        raise click.exceptions.Exit(EXIT_FINDINGS)


def load_config(path: Path | None = None) -> Any:
    from xzdoc import config

    return config.load(config.find_root(path or Path.cwd()))


def checked_out(config: Any, out: Path, folder: bool = False) -> Path:
    """``--out`` unless it would write over the repository's own sources: xzdoc.yaml, systems.yaml, what is
    under the projects folder or .git. A catalog written over systems.yaml would leave every later command
    failing on it; a bundle written into a project folder would be read back as part of the project."""
    from xzdoc.config import CONFIG_NAME
    from xzdoc.source.register import REGISTER_NAME

    try:
        where, root = out.resolve(), Path(config.root).resolve()
    except (OSError, RuntimeError):
        return out   # unresolvable: the write itself will say why
    projects = (root / config.projects_dir).resolve()
    own = [root / ".git", projects] if folder else [root / ".git", projects, root / CONFIG_NAME, root / REGISTER_NAME]
    hit = next((o for o in own if where == o or where.is_relative_to(o)), None)
    if hit is not None:
        raise UsageError(f"--out 指向仓库自己的源文件（{shown_path(hit)}），不会用输出覆盖或混入其中",
                         "命令行选项 --out", hint="换一个输出位置，例如 dist/ 下的文件或目录")
    return out


def parse_date(value: str | None, option: str = "--as-of") -> dt.date:
    if not value:
        return dt.date.today()
    from xzdoc.source.yamlio import DATE_YEARS, iso_day

    day = iso_day(value)
    if day is not None:
        return day
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise click.BadParameter(f"“{value}”不是日期，应写作 YYYY-MM-DD", param_hint=option)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”不是日历上存在的日期", param_hint=option) from None
    # deadlines add months and years to it: 9999-12-31 would overflow
    raise click.BadParameter(f"“{value}”的年份不在 {DATE_YEARS.start}–{DATE_YEARS.stop - 1} 之间", param_hint=option)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xzdoc", message="%(prog)s %(version)s", help="显示版本号并退出。")
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
