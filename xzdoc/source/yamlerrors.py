"""What a libyaml syntax error means, in the words of the person who wrote the file.

libyaml reports where it gave up, in English; the usual causes (a full-width
colon, a tab, a missing space) are found here and explained with the fix.
"""

from __future__ import annotations

import re

import yaml

from xzdoc.errors import XzdocError

# A key written with a full-width colon, or with a full-width space after the colon: YAML sees one
# plain string and complains a line later. Group 3 is the offending character.
_COLON_SLIP = re.compile(r"^([ \t]*(?:-[ \t]+)*[{,]?[ \t]*)([^\s#'\"\[\]{}:：,，][^#:：\n]*?)[ \t]*(：|:(?=\u3000))")
COLON_FIX = "把全角冒号“：”改为半角“:”，冒号后加一个空格"
SPACE_FIX = "把冒号后的全角空格“　”改为半角空格"


def colon_slip(line: str) -> tuple[int, str] | None:
    """(0-based column, message) of a full-width colon after a key, or of a full-width space after ``:``."""
    found = _COLON_SLIP.match(line)
    if found is None:
        return None
    key = found.group(2)
    if found.group(3) == "：":
        return found.start(3), f"键“{key}”后用了全角冒号“：”：{COLON_FIX}"
    return found.end(3), f"键“{key}”的冒号后是全角空格：{SPACE_FIX}"


def _slip_near(text: str, line: int) -> XzdocError | None:
    """libyaml reports a colon slip at the line after it (or at the end of the file); look back for it."""
    lines = text.split("\n")
    for number in range(min(line, len(lines)), max(0, line - 5), -1):
        slip = colon_slip(lines[number - 1])
        if slip:
            return XzdocError(slip[1], None, number, column=slip[0] + 1, hint=COLON_FIX if "冒号“：”" in slip[1] else SPACE_FIX)
    return None


def syntax_error(exc: yaml.MarkedYAMLError, text: str, display: str) -> XzdocError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    problem = exc.problem or ""
    slip = _slip_near(text, line) if line else None
    if slip:
        slip.path = display
        slip.hint = None  # the message already says how to fix it
        return slip
    if "\t" in problem or "'\\t'" in problem or (line and "\t" in _line(text, line)[: (col or 1)]):
        return XzdocError("YAML 缩进中使用了制表符（Tab）", display, line, column=col,
                          hint="YAML 只能用空格缩进：把 Tab 替换为两个空格（VS Code：“将缩进转换为空格”）")
    return XzdocError(f"YAML 语法错误：{_translate(problem)}", display, line, column=col,
                      hint="检查该行及上一行的缩进、冒号后的空格、引号和括号是否成对")


def _line(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line - 1] if 0 < line <= len(lines) else ""


_PROBLEMS = {
    "mapping values are not allowed here": "此处不能出现“键: 值”（常见原因：冒号后缺空格、缩进不一致或值中含未加引号的冒号）",
    "could not find expected ':'": "找不到预期的冒号“:”",
    "did not find expected key": "缩进不一致，找不到预期的键",
    "did not find expected '-' indicator": "列表项缩进不一致",
    "found undefined alias": "引用了未定义的锚点（别名）",
    "found unexpected end of stream": "文件意外结束（引号或括号未闭合）",
    "found unknown escape character": "双引号字符串中有未知的转义字符",
}


def _translate(problem: str) -> str:
    for en, zh in _PROBLEMS.items():
        if problem.startswith(en):
            return zh
    return problem
