"""The only pypandoc user: find the pandoc binary once, then run it sandboxed.

pypandoc-binary ships pandoc; we call the binary directly so each run gets its
own environment (SOURCE_DATE_EPOCH) and bytes on stdin/stdout, with nothing
set process-wide.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError

# Raw blocks would let a draft inject Typst/HTML/OpenXML; `smart` breaks Chinese quotes.
FORMAT = "markdown+east_asian_line_breaks-smart-raw_attribute-raw_html-raw_tex"
FIX = "pip install --force-reinstall pypandoc-binary"
TIMEOUT = 300
MEMORY_MB = 3072


@functools.cache
def binary() -> str:
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        raise XzdocError("找不到 pandoc", hint=f"pandoc 随 pypandoc-binary 安装：{FIX}") from None


@functools.cache
def version() -> str:
    out = run(["--version"], b"").decode("utf-8", "replace")
    return out.split("\n", 1)[0].removeprefix("pandoc").strip()


def run(args: list[str], stdin: bytes, epoch: int | None = None) -> bytes:
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    # The heap cap is pandoc's own (its runtime's -M); a drafts' worth of Markdown needs a few hundred MB.
    command = [binary(), "+RTS", f"-M{MEMORY_MB}m", "-RTS", "--sandbox", *args]
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError:
        raise XzdocError("无法运行 pandoc", hint=FIX) from None
    with proc:
        _limit_cpu(proc.pid)
        try:
            out, err = proc.communicate(stdin, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise XzdocError(f"pandoc 运行超过 {TIMEOUT} 秒", hint="检查文稿是否过大或含有异常的嵌套结构") from None
        except BaseException:
            proc.kill()  # Ctrl-C or any failure here: pandoc must not go on without us
            raise
    if proc.returncode != 0:
        # pandoc's runtime runs on several cores, so its CPU time can reach the limit before the wall clock does.
        if proc.returncode == -getattr(signal, "SIGXCPU", 0):
            raise XzdocError(f"pandoc 运行超过 {TIMEOUT} 秒（CPU 时间上限）", hint="检查文稿是否过大或含有异常的嵌套结构")
        if proc.returncode < 0:
            raise XzdocError(f"pandoc 被信号 {-proc.returncode} 终止", hint="可能是系统内存不足或进程被外部终止；请重试")
        if b"Heap exhausted" in err:
            raise XzdocError(f"pandoc 用尽了 {MEMORY_MB} MB 的内存上限",
                             hint="文稿过大或结构异常（如成串的嵌套括号）；用 xzdoc validate 检查文稿，或把文稿拆小")
        detail = err.decode("utf-8", "replace").strip()
        raise XzdocError(f"pandoc 转换失败：{detail[:500]}", hint="用 xzdoc validate 检查文稿；若问题依旧，请报告缺陷")
    return out


def _limit_cpu(pid: int) -> None:
    """A CPU-time limit set on pandoc itself, so that one left running by a killed xzdoc still stops."""
    try:
        import resource

        resource.prlimit(pid, resource.RLIMIT_CPU, (TIMEOUT, TIMEOUT + 5))
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # not Linux, or pandoc already gone: the timeout above still holds while we live


def to_ast(markdown: str) -> dict[str, Any]:
    return _tree(run(["-f", FORMAT, "-t", "json"], markdown.encode("utf-8")))


def _tree(output: bytes) -> dict[str, Any]:
    """pandoc's JSON document; its nesting follows the text's, and Python's decoder stops near 1000 levels."""
    try:
        data: dict[str, Any] = json.loads(output)
    except RecursionError:
        raise XzdocError("文稿的嵌套层次过深（成百上千层引用“>”或列表缩进）", hint="删去多余的“>”和缩进；正文只需几层嵌套") from None
    return data


def to_docx(ast_json: bytes, reference: Path, epoch: int) -> bytes:
    return run(["-f", "json", "-t", "docx", f"--reference-doc={reference}", "-o", "-"], ast_json, epoch)


def to_typst(ast_json: bytes) -> str:
    return run(["-f", "json", "-t", "typst", "--wrap=none"], ast_json).decode("utf-8")


def default_reference_docx() -> bytes:
    return run(["--print-default-data-file", "reference.docx"], b"")


# What `xzdoc import` writes: Markdown that FORMAT reads back, without raw blocks or attribute syntax.
WRITE_FORMAT = ("markdown-smart-raw_html-raw_attribute-raw_tex-header_attributes-link_attributes-fenced_divs"
                "-bracketed_spans-native_divs-native_spans-simple_tables-multiline_tables")


def from_docx(data: bytes) -> dict[str, Any]:
    """A Word/WPS document as pandoc's AST; images stay referenced as media/… inside the file."""
    ast = _tree(run(["-f", "docx", "-t", "json"], data))
    return ast


def to_markdown(ast: dict[str, Any]) -> str:
    return run(["-f", "json", "-t", WRITE_FORMAT, "--wrap=none"], json.dumps(ast).encode("utf-8")).decode("utf-8")
