"""The command line: parse options, call one core function, print, return an exit code.

Heavy modules (pandoc, typst, git) are imported inside the commands that need
them, so `xzdoc --help` and `xzdoc validate` start fast.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
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
    from xzdoc import report, rules
    from xzdoc.rules import engine as check

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
    from xzdoc.authoring import scaffold

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
    from xzdoc.authoring import scaffold
    from xzdoc.source import fsio

    text = scaffold.schema_text(_config().standard)
    if out:
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

    config = _config()
    book = ledger.build(config, require_signed)
    if book is None:
        click.echo("主分支还没有提交，审批台账为空。")
        return
    records = ledger.with_evidence(config, book, ledger.select(book, project))
    click.echo(ledger.as_json(book, records) if fmt == "json" else ledger.as_text(config, book, records))
    if any(r.current and not r.approved for r in records):
        raise click.exceptions.Exit(EXIT_FINDINGS)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help="按哪一天计算期限，默认今天（YYYY-MM-DD）。")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式。")
def status(paths: tuple[Path, ...], as_of: str | None, fmt: str) -> None:
    """项目一览：阶段、下一道审批关口及审批人、各项期限剩余工作日、资金能否拨付。"""
    from xzdoc.portfolio import status as portfolio
    from xzdoc.source import loader

    config = _config(paths[0] if paths else None)
    result = portfolio.rows(config, _date(as_of), loader.load_projects(config, paths))
    if fmt == "json":
        click.echo(portfolio.as_json(result))
    else:
        # click.echo drops the colours when stdout is not a terminal.
        click.echo(portfolio.table(result, click.style))


@cli.command()
@click.option("--check", is_flag=True, help="只检查 .github/CODEOWNERS 是否为最新，不写入；过期时退出码为 1。")
def codeowners(check: bool) -> None:
    """按 xzdoc.yaml 的审批人生成 .github/CODEOWNERS，让代码托管平台为每个项目请求对应的审核人。"""
    from xzdoc.portfolio import codeowners as owners
    from xzdoc.source import loader

    config = _config()
    projects = loader.load_projects(config) if (config.root / config.projects_dir).is_dir() else []
    path, changed, result = owners.write(config, projects, check)
    for who in result.skipped:
        click.echo(f"提示：{who} 没有填写 github 用户名，未列入 CODEOWNERS", err=True)
    shown = os.path.relpath(path)
    if check:
        click.echo(f"{shown} 需要更新：运行 xzdoc codeowners" if changed else f"{shown} 已是最新")
        if changed:
            raise click.exceptions.Exit(EXIT_FINDINGS)
    else:
        click.echo(f"已写入 {shown}" if changed else f"{shown} 已是最新，未改动")


def _shown(path: Path) -> str:
    shown = os.path.relpath(path)
    return str(path) if shown.startswith("..") else shown


def _formats(value: str) -> list[str]:
    return [f.strip().lower() for f in value.split(",") if f.strip()]


@cli.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--format", "formats", default="docx,pdf", show_default=True, metavar="FORMATS",
              help="输出格式，逗号分隔：docx、pdf、xlsx（投资概算表）。")
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/<项目编号>/。")
def render(project: Path, formats: str, out: Path | None) -> None:
    """生成一个项目当前阶段所需的全部文档（及已登记的其他文档）。"""
    from xzdoc.render import bundle
    from xzdoc.source import loader

    config = _config(project)
    folders = loader.discover(config, [project])
    if len(folders) != 1:
        raise click.UsageError(f"{project} 下有 {len(folders)} 个项目；render 一次只生成一个项目，请指定项目目录")
    for path in bundle.render(config, folders[0], _formats(formats), out):
        click.echo(f"已生成 {_shown(path)}")


@cli.command(name="bundle")
@click.argument("projects", nargs=-1, type=click.Path(path_type=Path))
@click.option("--all", "everything", is_flag=True, help="打包仓库中的全部项目。")
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/（已加入 .gitignore）。")
@click.option("--force", is_flag=True, help="忽略缓存，未变化的项目也重新生成。")
def bundle_command(projects: tuple[Path, ...], everything: bool, out: Path | None, force: bool) -> None:
    """生成申报材料包：每个项目一个 zip（DOCX、PDF、投资概算表、审批记录页、manifest.json）。"""
    from xzdoc.render import bundle
    from xzdoc.source import loader

    if not projects and not everything:
        raise click.UsageError("请指定项目目录，或用 --all 打包全部项目")
    config = _config(projects[0] if projects and not everything else None)
    folders = loader.discover(config, [] if everything else list(projects))
    results = bundle.bundle(config, folders, out or config.root / "dist", force)
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
        return f"{result.project}：{bundle.SKIPPED}（{_shown(result.path)}）", False
    return f"{result.project}：已生成 {_shown(result.path)}", False


@cli.command()
def doctor() -> None:
    """检查生成材料包所需的环境：pandoc、typst、中文字体、git 和仓库配置。"""
    from xzdoc import doctor as checks

    results = checks.run(Path.cwd())
    for check in results:
        for line in check.lines():
            click.echo(line)
    if checks.failed(results):
        click.echo("缺少必需的组件，按上面的“修复”逐项处理后重新运行 xzdoc doctor。", err=True)
        raise click.exceptions.Exit(EXIT_FINDINGS)
    click.echo("环境齐备，可以运行 xzdoc bundle。")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "xlsx", "json"]), default="md", show_default=True,
              help="输出格式。")
@click.option("--table", type=click.Choice(["systems", "resources"]), default="systems", show_default=True,
              help="csv 只能容纳一张表：选择系统目录或资源目录。")
@click.option("--out", type=click.Path(path_type=Path), help="写入文件（xlsx 必须指定）。")
def catalog(fmt: str, table: str, out: Path | None) -> None:
    """汇总全局政务信息系统目录和信息资源目录（第八条），并提示重复建设。"""
    from xzdoc.portfolio import catalog as portfolio
    from xzdoc.source import fsio, loader

    config = _config()
    result = portfolio.build(loader.load_projects(config))
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

    result = review.review(_config(), base, head)
    click.echo(review.as_markdown(result), nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        review.write_summary(result, Path(summary))
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

    folders = review.changed(_config(), base, head)
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
    from xzdoc.portfolio import site as dashboard

    config = _config()
    page = dashboard.write(config, out or config.root / "dist" / "site", _date(as_of))
    click.echo(f"已生成 {_shown(page)}")


@cli.command()
@click.option("--year", type=int, required=True, help="计划年度，如 2026。")
@click.option("--out", type=click.Path(path_type=Path), help="输出目录，默认 dist/plan/。")
@click.option("--format", "formats", default="docx,pdf", show_default=True, metavar="FORMATS", help="输出格式，逗号分隔：docx、pdf。")
def plan(year: int, out: Path | None, formats: str) -> None:
    """生成年度政务信息化项目计划（第六条）：计划年度为该年的项目及跨年度项目的当年预算，分年度、分来源汇总。"""
    from xzdoc.render import plan as annual

    config = _config()
    for path in annual.render(config, year, _formats(formats), out or config.root / "dist" / "plan"):
        click.echo(f"已生成 {_shown(path)}")


def _terminate(signum: int, frame: object) -> None:
    # A plain SIGTERM would end the process without running cleanup; turn it into Ctrl-C so
    # temp files are removed and the previous outputs stay as they were.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
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
