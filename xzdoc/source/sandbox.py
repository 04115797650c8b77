"""The one sandbox drafts' ``{{ … }}`` run in: used by render to produce text and by validate to check references.

Drafts are untrusted prose from pull requests. Their expressions see plain
project data (every amount as its exact two-place Decimal) inside Jinja's
immutable sandbox; any failure becomes an XzdocError at the draft's file and
line. This module must not import render/ or rules/: both import it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xzdoc.errors import XzdocError
from xzdoc.source.yamlio import plain

if TYPE_CHECKING:
    from xzdoc.source.bounds import GuardedEnvironment

# jinja2 is imported where a template is compiled or a value looked up through the sandbox, not
# here: the plain dictionary references most drafts hold are resolved without it (see
# ``_plain_lookup``), and importing Jinja would be a large part of `xzdoc validate`'s start-up.

CENT = Decimal("0.01")
REFERENCE_HINT = "文稿中只能引用项目元数据，例如 {{ name }}、{{ id }}、{{ budget.total }}、{{ budget.years[2026] }}"
OUTPUT_ROOM = 100_000
UNPRINTABLE_HINT = ("引用其中的一项（如 {{ budget.years[2026] }}、{{ estimate[0].amount }}），或用过滤器写成文字（如 "
                    "{{ categories | join('、') }}）；是/否用 {% if … %}…{% endif %} 写出相应的文字")
BOUND_HINT = "文稿中的模板只用于引用项目元数据；请删去循环、大数运算或超长的重复，直接写出文字"
_UNSAFE_ATTR = re.compile(r"attribute '([^']+)'")
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_BRACES = 512


@functools.lru_cache(maxsize=1)
def environment() -> GuardedEnvironment:
    from xzdoc.source import bounds

    return bounds.environment()


def variables(data: Mapping[str, Any], money: Mapping[tuple[object, ...], Decimal],
              roots: Collection[str] | None = None) -> dict[str, Any]:
    """Plain project data (fresh containers), with every amount replaced by its exact two-place Decimal.

    ``roots`` limits the copy to those top-level keys (what a draft's references start from).
    """
    out: dict[str, Any] = plain(data) if roots is None else {k: plain(data[k]) for k in roots if k in data}
    for path, amount in money.items():
        if roots is not None and path[0] not in out:
            continue
        parent: Any = out
        for key in path[:-1]:
            parent = _child(parent, key)
        last: Any = path[-1]
        if isinstance(parent, dict) or (isinstance(parent, list) and isinstance(last, int) and last < len(parent)):
            parent[last] = amount.quantize(CENT)
    return out


def _child(node: Any, key: Any) -> Any:
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


def render(text: str, path: str, values: Mapping[str, Any]) -> str:
    """The draft with its expressions evaluated; an XzdocError at ``path`` and the failing line otherwise."""
    if "{" not in text:
        return text
    import jinja2
    from jinja2.sandbox import SecurityError

    from xzdoc.source import bounds

    try:
        # Compiling is linear in the text and runs no filter (see bounds); only rendering is bounded.
        template = environment().from_string(text)
        with bounds.bounded():
            out: str = template.render(values)
    except Unprintable as exc:
        raise XzdocError(str(exc), path, template_line(exc), hint=UNPRINTABLE_HINT) from None
    except bounds.Exhausted as exc:
        line, ran = template_line(exc), bounds.last_line()
        if line is None and ran is not None:
            line = template.get_corresponding_lineno(ran)
        raise XzdocError(str(exc), path, line, hint=BOUND_HINT) from None
    except jinja2.TemplateSyntaxError as exc:
        opened = unclosed(text)
        if opened is not None and (exc.lineno is None or opened <= exc.lineno):
            # Jinja notices a missing "}}" where the text after it stops parsing, often paragraphs later.
            raise XzdocError("文稿中的“{{”没有闭合（缺少“}}”）", path, opened,
                             hint=REFERENCE_HINT + "；要原样显示花括号，写作 {{ '{{' }}") from None
        raise XzdocError(f"文稿中的模板语法有误：{syntax_message(exc.message or '')}", path, exc.lineno,
                         hint=REFERENCE_HINT + "；要原样显示花括号，写作 {{ '{{' }}") from None
    except SecurityError as exc:
        match = _UNSAFE_ATTR.search(_short(exc))
        what = f"“{match.group(1)}”" if match else ""
        raise XzdocError(f"文稿中的模板表达式试图访问 Python 内部属性{what}，已拒绝（不安全）", path,
                         template_line(exc), hint=REFERENCE_HINT) from None
    except jinja2.UndefinedError as exc:
        raise XzdocError(f"文稿引用了不存在的元数据（{_short(exc)}）", path, template_line(exc),
                         hint=REFERENCE_HINT) from None
    except Exception as exc:  # any failure of an author's expression is the author's to fix
        if isinstance(exc, ValueError) and "integer string conversion" in _short(exc):
            long = _LONG_NUMBER.search(text)
            raise XzdocError("文稿中的模板表达式里的数字位数过多，已拒绝",
                             path, text.count("\n", 0, long.start()) + 1 if long else template_line(exc),
                             hint=BOUND_HINT) from None
        raise XzdocError(f"文稿中的模板表达式无法计算：{_short(exc)}", path, template_line(exc),
                         hint=REFERENCE_HINT) from None
    if len(out) > 2 * len(text) + OUTPUT_ROOM:
        # References add a name or an amount each; pandoc and Typst take minutes and gigabytes on a
        # template that multiplies its text into megabytes of markup.
        raise XzdocError(f"文稿中的模板生成了 {len(out):,} 个字符，远多于文稿本身（{len(text):,} 个字符）", path,
                         _grown_line(text, out), hint=BOUND_HINT)
    return out


_TOKENS = {"end of print statement": "“}}”", "end of statement block": "“%}”", "end of template": "文稿末尾",
           "name": "名称", "end of comment": "“#}”"}
_SYNTAX = [
    (re.compile(r"Unexpected end of template\. Jinja was looking for the following tags: (.+?)\. "
                r"The innermost block that needs to be closed is '(\w+)'\."),
     lambda m: f"“{{% {m[2]} %}}”没有结束：文稿到末尾也没有{_tags(m[1])}"),
    (re.compile(r"Encountered unknown tag '(\w+)'\. Jinja was looking for the following tags: (.+?)\. "
                r"The innermost block that needs to be closed is '(\w+)'\."),
     lambda m: f"这里的“{{% {m[1]} %}}”与前面的“{{% {m[3]} %}}”不配对，应先写{_tags(m[2])}"),
    (re.compile(r"Encountered unknown tag '(\w+)'\.?"),
     lambda m: f"“{{% {m[1]} %}}”前面没有与之配对的开始语句" if m[1].startswith("end") or m[1] in ("else", "elif")
     else f"没有名为“{m[1]}”的模板语句"),
    (re.compile(r"unexpected end of template, expected '(.+?)'\.?"),
     lambda m: f"模板语句没有写完，文稿就结束了（缺少{_token(m[1])}）"),
    (re.compile(r"expected token '(.+?)', got '(.+?)'"), lambda m: f"此处应是{_token(m[1])}，却是{_token(m[2])}"),
    (re.compile(r"Expected an expression, got '(.+?)'"), lambda m: f"此处缺少表达式（紧接着就是{_token(m[1])}）"),
    (re.compile(r"tag name expected"), lambda m: "“{%”之后缺少语句名称（如 if、for）"),
    (re.compile(r"unexpected char (['\"])(.+?)\1 at \d+"),
     lambda m: f"无法识别的字符“{m[2]}”" + ("（引号没有成对）" if m[2] in "'\"" else "")),
    (re.compile(r"Missing end of raw directive"), lambda m: "“{% raw %}”没有对应的“{% endraw %}”"),
    (re.compile(r"Missing end of comment tag"), lambda m: "注释“{#”没有闭合（缺少“#}”）"),
    (re.compile(r"unexpected '(.+?)', expected '(.+?)'"), lambda m: f"此处应是{_token(m[2])}，却是{_token(m[1])}"),
    (re.compile(r"unexpected '(.+?)'"), lambda m: f"此处不应有{_token(m[1])}"),
]


def _token(name: str) -> str:
    return _TOKENS.get(name, f"“{name}”")


def _tags(listed: str) -> str:
    return "或".join(f"“{{% {t} %}}”" for t in re.findall(r"'(\w+)'", listed))


def syntax_message(message: str) -> str:
    """Jinja's English syntax error in Chinese; one it does not know is kept, marked as Jinja's."""
    for pattern, say in _SYNTAX:
        found = pattern.fullmatch(message.strip())
        if found is not None:
            return say(found)
    return f"{message}（Jinja 的原文）"


class Unprintable(Exception):
    """A draft's ``{{ … }}`` came to a value that has no wording of its own; the message is the user's."""


def printable(value: Any) -> Any:
    """``value`` if it reads as text in a document; Python would write a list or a mapping as its repr."""
    if isinstance(value, bool) or value is None:
        raise Unprintable(f"文稿中的模板表达式的值是{'是/否' if value is not None else '空值'}（{value}），"
                          "不能直接写进文稿")
    if callable(value) and not isinstance(value, str):
        from jinja2 import Undefined

        if isinstance(value, Undefined):
            return value            # Jinja names the missing reference itself when it is written out
        # a method looked up by mistake: ``{{ name.upper }}`` would print "<built-in method upper of str…>"
        raise Unprintable("文稿中的模板表达式的值是一个方法，不是数据，不能直接写进文稿")
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        raise Unprintable(f"文稿中的模板表达式的值是一组数据（{'映射' if isinstance(value, dict) else '列表'}，"
                          f"{len(value)} 项），不能直接写进文稿")
    if isinstance(value, str) and _MARKUP.search(value):
        # Metadata is text, never markup: a name holding "![图](/etc/passwd)" or "**粗**" must read as written,
        # and what validate passed must be what the document holds.
        return value.translate(_ESCAPED)   # one C call: a template's long result costs no traced steps
    return value


# What can start a link, image, emphasis, code, raw HTML or entity, quote, heading, table cell or math inline.
_MARKUP = re.compile(r"[\\`*_\[\]!<>&|$~^#{}]")
_ESCAPED = str.maketrans({c: "\\" + c for c in "\\`*_[]!<>&|$~^#{}"})


_LONG_NUMBER = re.compile(r"[0-9a-fA-FxXoObB_]{1000,}")


def _grown_line(text: str, out: str) -> int:
    """The line whose expansion grew most out of bounds: source and output keep their lines where the
    expressions emit none; otherwise the first template statement."""
    for number, (before, after) in enumerate(zip(text.split("\n"), out.split("\n"), strict=False), 1):
        if len(after) > 2 * len(before) + OUTPUT_ROOM // 10:
            return number
    at = min((i for i in (text.find("{{"), text.find("{%")) if i >= 0), default=0)
    return text.count("\n", 0, at) + 1


def _short(exc: BaseException) -> str:
    # A failing lookup quotes its key, which a template can make hundreds of megabytes long.
    message = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
    return message if len(message) <= 300 else message[:300] + "…"


def unclosed(text: str) -> int | None:
    """The line of the first ``{{`` not closed before the next ``{{`` or a blank line, if any."""
    at = text.find("{{")
    while at >= 0:
        close, after = text.find("}}", at + 2), text.find("{{", at + 2)
        if close < 0 or 0 <= after < close or "\n\n" in text[at:close]:
            return text.count("\n", 0, at) + 1
        at = after
    return None


def expressions(text: str) -> list[str] | None:
    """The sources of a draft's ``{{ … }}``; None when it has other template syntax (``{% %}``, ``{# #}``) or an
    unclosed ``{{``, which only ``render`` can judge."""
    at = text.find("{")
    if at < 0:
        return []
    # Drafts hold a few braces in tens of kilobytes of Chinese text: walking from brace to brace with
    # one-character searches reads the text once, where each two-character search (``"{%" in``,
    # ``count("{{")``) and the regex would read all of it again. Brace-heavy text goes the plain way.
    found: list[str] = []
    doubled = 0
    end = 0  # where the next expression may start: matches do not overlap
    for _ in range(_BRACES):
        after = text[at + 1:at + 2]
        if after == "%" or after == "#":
            return None
        if after == "{":
            if at >= end:
                close = text.find("}}", at + 2)
                if close < 0:
                    end = len(text) + 1  # no expression can close from here on
                else:
                    found.append(text[at + 2:close])
                    end = close + 2
            doubled += 1  # as count("{{"): non-overlapping, so "{{{" holds one
            if text[at + 2:at + 3] in ("%", "#"):
                return None  # the second brace opens "{%" or "{#"
            at = text.find("{", at + 2)
        else:
            at = text.find("{", at + 1)
        if at < 0:
            return found if len(found) == doubled else None
    if "{%" in text or "{#" in text:
        return None
    found = _EXPRESSION.findall(text)
    return found if len(found) == text.count("{{") else None


def roots(found: list[str]) -> set[str]:
    """The top-level names the expressions start from."""
    return {m.group(1) for m in map(_NAME.match, found) if m}


def problem(text: str, path: str, values: Mapping[str, Any]) -> XzdocError | None:
    """What ``render`` would raise for this draft, or None.

    Most drafts hold only ``{{ name }}``-style references; each is compiled
    once per process and evaluated alone, which costs far less than compiling
    a 40 KB template. Anything else, and any reference that fails, goes
    through ``render`` itself, so the verdict and the line are render's own.
    """
    if "{" not in text:
        return None
    found = expressions(text)
    if found is not None and references_ok(found, values):
        return None
    try:
        render(text, path, values)
    except XzdocError as exc:
        return exc
    return None


def references_ok(found: list[str], values: Mapping[str, Any]) -> bool:
    """True when each expression evaluates; False means: ask ``render``, whose verdict and line count."""
    for source in found:
        try:
            steps = path(source)
            if steps is None:
                from xzdoc.source import bounds

                with bounds.bounded():
                    value: Any = _compiled(source)(values)
            else:
                value = _plain_lookup(steps, values)
                if value is _UNDECIDED:
                    # A plain a.b[2026] path resolves through the sandbox's own getattr/getitem, as Jinja's
                    # generated code does, without building a template context per reference.
                    env = environment()
                    value = values[steps[0]] if steps[0] in values else env.undefined(name=steps[0])
                    for is_attr, key in steps[1:]:  # type: ignore[misc]
                        value = env.getattr(value, key) if is_attr else env.getitem(value, key)
            str(printable(value))
        except Exception:
            return False
    return True


_UNDECIDED = object()


def _plain_lookup(steps: tuple[Any, ...], values: Mapping[str, Any]) -> Any:
    """What the sandbox's getattr/getitem give for a path through present dict keys and list items; else _UNDECIDED.

    For a key present in a plain dict (``.total`` only when ``total`` is no dict attribute, which
    Jinja would look up first) and an index inside a plain list, the sandbox returns exactly
    ``container[key]``; every other step (a missing key, an attribute, another type) is left to it.
    """
    if steps[0] not in values:
        return _UNDECIDED
    value = values[steps[0]]
    for is_attr, key in steps[1:]:
        if type(value) is dict:
            if key not in value or (is_attr and hasattr(dict, key)):
                return _UNDECIDED
        elif type(value) is list:
            if is_attr or not isinstance(key, int) or not 0 <= key < len(value):
                return _UNDECIDED
        else:
            return _UNDECIDED
        value = value[key]
    return value


_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[\s*(\d+)\s*\]|\[\s*'([^'\\]*)'\s*\]")
_NAME = re.compile(r"\s*([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=4096)
def path(source: str) -> tuple[Any, ...] | None:
    """``name.attr[3]['k']`` as (name, (True, 'attr'), (False, 3), (False, 'k')); None for anything else."""
    m = _NAME.match(source)
    if m is None or m.group(1) in ("true", "false", "none", "True", "False", "None"):
        return None
    steps: list[Any] = [m.group(1)]
    at = m.end()
    rest = source.rstrip()
    while at < len(rest):
        step = _STEP.match(rest, at)
        if step is None:
            return None
        attr, index, key = step.groups()
        steps.append((True, attr) if attr else (False, int(index)) if index else (False, key))
        at = step.end()
    return tuple(steps)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    return environment().compile_expression(source, undefined_to_none=False)


def template_line(exc: BaseException, filename: str = "<template>") -> int | None:
    """Jinja rewrites tracebacks so template frames carry the template's own line numbers."""
    import traceback  # only on a failing draft

    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return lines[-1] if lines else None
