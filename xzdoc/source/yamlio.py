"""Strict YAML: UTF-8 only, no duplicate keys, bounded aliases, every node located.

PyYAML's loaders silently keep the last of two duplicate keys and lose line
numbers; a budget lost that way is exactly the bug this module exists to
prevent. We let libyaml compose the node graph (fast, in C) and build plain
Python values ourselves, recording where each key and value came from.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from xzdoc.errors import XzdocError

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is in every wheel we support
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000

Pos = tuple[int, int]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BOOL_VALUES = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it, each key and each value start."""

    __slots__ = ("keypos", "path", "pos", "valpos")

    def __init__(self, path: str, pos: Pos) -> None:
        super().__init__()
        self.path = path
        self.pos = pos
        self.keypos: dict[Any, Pos] = {}
        self.valpos: dict[Any, Pos] = {}

    def at(self, key: Any = None) -> Pos:
        """Position of the value of ``key``, else of the key, else of the map."""
        if key is None:
            return self.pos
        return self.valpos.get(key) or self.keypos.get(key) or self.pos


class YList(list):  # type: ignore[type-arg]
    __slots__ = ("itempos", "path", "pos")

    def __init__(self, path: str, pos: Pos) -> None:
        super().__init__()
        self.path = path
        self.pos = pos
        self.itempos: list[Pos] = []

    def at(self, index: int | None = None) -> Pos:
        if index is None or index >= len(self.itempos):
            return self.pos
        return self.itempos[index]


def decode(data: bytes, path: str) -> str:
    """UTF-8 text with BOM and CRLF tolerated; anything else is refused with the fix."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        raise XzdocError(
            "文件是 UTF-16 编码，xzdoc 只接受 UTF-8",
            path,
            1,
            hint=f"在编辑器中另存为 UTF-8，或执行：iconv -f UTF-16 -t UTF-8 {path} -o {path}.utf8 && mv {path}.utf8 {path}",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = _guess_encoding(data)
        raise XzdocError(
            f"文件不是 UTF-8 编码（{guess}），xzdoc 只接受 UTF-8",
            path,
            line,
            hint=(
                "在 VS Code 中点击右下角编码→“通过编码保存”→UTF-8，或执行："
                f"iconv -f GB18030 -t UTF-8 {path} -o {path}.utf8 && mv {path}.utf8 {path}"
            ),
        ) from None
    if "\x00" in text:
        raise XzdocError("文件含有空字符（NUL），不是文本文件", path, text[: text.index("\x00")].count("\n") + 1,
                         hint="确认文件未损坏，且不是二进制文件")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _guess_encoding(data: bytes) -> str:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return "编码无法识别"
    return "看起来是 GBK/GB18030 编码"


def read_text(path: Path, display: str, limit: int = MAX_BYTES) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise XzdocError(f"无法读取文件：{exc.strerror}", display) from None
    if size > limit:
        raise XzdocError(
            f"文件过大（{size / 1048576:.1f} MB），超过 {limit / 1048576:.0f} MB 的上限",
            display,
            hint="项目元数据和文稿应当是几十 KB 的文本；请检查是否误放了数据文件或附件",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise XzdocError(f"无法读取文件：{exc.strerror}", display) from None
    return decode(data, display)


def load_file(path: Path, display: str) -> Any:
    return loads(read_text(path, display), display)


def loads(text: str, display: str, notes: list[tuple[Pos, str]] | None = None) -> Any:
    """Parse one YAML document. Strings containing 密 are appended to ``notes`` for the 第三条 scan."""
    builder = _Builder(display, notes)
    parser = _Loader(text)
    try:
        # Pull events straight from libyaml: yaml.parse() wraps each one in a Python generator step.
        return builder.run(parser.get_event)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, display) from None
    except yaml.YAMLError as exc:
        raise XzdocError(f"YAML 语法错误：{exc}", display) from None
    finally:
        parser.dispose()


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


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, display: str) -> XzdocError:
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


class _Builder:
    """Builds YMap/YList/scalars straight from parser events, enforcing our limits.

    Working on events rather than composed nodes skips PyYAML's node objects and
    most of its Python-level tag resolution: validation speed is a design target.
    """

    def __init__(self, path: str, notes: list[tuple[Pos, str]] | None) -> None:
        self.path = path
        self.notes = notes
        self.count = 0
        self.anchors: dict[str, tuple[Any, int]] = {}

    def run(self, get: Any) -> Any:
        self.get = get
        root: Any = None
        documents = 0
        while True:
            event: Any = get()
            if type(event) is yaml.StreamEndEvent:
                return root
            if type(event) is yaml.DocumentStartEvent:
                documents += 1
                mark: Any = event.start_mark
                if documents > 1:
                    raise XzdocError("一个文件中只能有一个 YAML 文档", self.path, mark.line + 1,
                                     hint="删除多余的“---”分隔行")
                root = self.value(get())

    def value(self, event: Any) -> Any:
        """Any node; plain strings inside containers are taken inline by mapping() and sequence()."""
        kind = type(event)
        if kind is _SCALAR:
            out = self.scalar(event)
            if event.anchor is None:
                return out
            size = 1
        elif kind is _MAP_START:
            before = self.count
            out = self.mapping(event)
            size = self.count - before + 1
        elif kind is _SEQ_START:
            before = self.count
            out = self.sequence(event)
            size = self.count - before + 1
        elif kind is yaml.AliasEvent:
            # Counted here, as a node of its own, and again for all it stands for.
            self.count += 1
            return self.alias(event)
        else:  # pragma: no cover - the parser guarantees node events here
            raise XzdocError("无法解析的 YAML 结构", self.path, event.start_mark.line + 1)
        if event.anchor is not None:
            self.anchors[event.anchor] = (out, size)
        return out

    def alias(self, event: Any) -> Any:
        line = event.start_mark.line + 1
        if event.anchor not in self.anchors:
            raise XzdocError(f"引用了未定义的锚点“{event.anchor}”", self.path, line)
        value, size = self.anchors[event.anchor]
        # An alias costs as much as what it stands for, so nested aliases cannot explode.
        self.count += size
        if self.count > MAX_NODES:
            self.too_many(line)
        return value

    def too_many(self, line: int) -> None:
        raise XzdocError(
            f"YAML 节点超过 {MAX_NODES} 个（可能是别名展开炸弹）",
            self.path,
            line,
            hint="不要用锚点和别名（&、*）反复引用大段内容；直接写出需要的值",
        )

    # mapping() and sequence() take the commonest value, an untagged plain string, inline:
    # building the tree is the largest cost of validation after libyaml itself.

    def mapping(self, start: Any) -> YMap:
        m = start.start_mark
        out = YMap(self.path, (m.line + 1, m.column + 1))
        keypos, valpos, get, notes = out.keypos, out.valpos, self.get, self.notes
        while True:
            event = get()
            kind = type(event)
            if kind is _MAP_END:
                self.count += len(out)
                if self.count > MAX_NODES:
                    self.too_many(m.line + 1)
                return out
            km = event.start_mark
            if kind is not _SCALAR:
                raise XzdocError("映射的键必须是简单值", self.path, km.line + 1, column=km.column + 1)
            key = event.value
            if event.tag is not None or not event.implicit[0] or (key and key[0] in _MAYBE_TYPED
                                                                  and _resolve_cached(key) != _STR):
                if key == "<<" and event.implicit[0]:
                    raise XzdocError("不支持 YAML 合并键“<<”", self.path, km.line + 1, column=km.column + 1,
                                     hint="直接写出各个键，避免合并键带来的隐式覆盖")
                key = self.scalar(event, as_key=True)
            if key in keypos:
                raise XzdocError(
                    f"重复的键“{key}”（第 {keypos[key][0]} 行已出现）",
                    self.path,
                    km.line + 1,
                    column=km.column + 1,
                    hint="同一层级的键只能出现一次；合并两处内容，删除其中一个",
                )
            keypos[key] = (km.line + 1, km.column + 1)
            event = get()
            vm = event.start_mark
            valpos[key] = (vm.line + 1, vm.column + 1)
            if type(event) is _SCALAR and event.anchor is None and event.tag is None and event.implicit[0]:
                value = event.value
                if value and value[0] not in _MAYBE_TYPED:
                    if notes is not None and "密" in value:
                        self.note(event)
                    out[key] = value
                    continue
            out[key] = self.value(event)

    def sequence(self, start: Any) -> YList:
        m = start.start_mark
        out = YList(self.path, (m.line + 1, m.column + 1))
        positions, get, notes, append = out.itempos, self.get, self.notes, out.append
        while True:
            event = get()
            if type(event) is _SEQ_END:
                self.count += len(out)
                if self.count > MAX_NODES:
                    self.too_many(m.line + 1)
                return out
            em = event.start_mark
            positions.append((em.line + 1, em.column + 1))
            if type(event) is _SCALAR and event.anchor is None and event.tag is None and event.implicit[0]:
                value = event.value
                if value and value[0] not in _MAYBE_TYPED:
                    if notes is not None and "密" in value:
                        self.note(event)
                    append(value)
                    continue
            append(self.value(event))

    def scalar(self, event: Any, as_key: bool = False) -> Any:
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolve(value) if event.implicit[0] else _STR
        if tag == _STR:
            if self.notes is not None and "密" in value:
                self.note(event)
            return value
        if as_key and tag in (_FLOAT, _TIMESTAMP):
            return value  # a key is a name; keep "2026-01-01" or "1.5" as written
        if tag == _INT:
            try:
                return int(value.replace("_", ""), 10)
            except ValueError:
                node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
                return yaml.constructor.SafeConstructor.construct_yaml_int(_CONSTRUCTOR, node)
        if tag == _FLOAT:
            # Kept exact: money must never pass through a binary float.
            try:
                return Decimal(value.replace("_", ""))
            except InvalidOperation:
                return Decimal("NaN")
        if tag == _BOOL:
            return _BOOL_VALUES[value.lower()]
        if tag == _NULL:
            return None
        if tag == _TIMESTAMP:
            return self.date(event)
        m = event.start_mark
        raise XzdocError(f"不支持的 YAML 标签 {tag}", self.path, m.line + 1, column=m.column + 1,
                         hint="去掉以 ! 开头的自定义标签")

    def note(self, event: Any) -> None:
        m = event.start_mark
        self.notes.append(((m.line + 1, m.column + 1), event.value))  # type: ignore[union-attr]

    def date(self, event: Any) -> dt.date:
        text = event.value
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text.replace("t", "T").replace(" ", "T", 1)).date()
        except ValueError:
            m = event.start_mark
            raise XzdocError(f"“{text}”不是有效日期", self.path, m.line + 1, column=m.column + 1,
                             hint="日期写作 YYYY-MM-DD，例如 2026-09-28，且须是日历上存在的日期") from None


_SCALAR = yaml.ScalarEvent
_MAP_START, _MAP_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQ_START, _SEQ_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_RESOLVER = yaml.resolver.Resolver()
# Only plain scalars starting with one of these can resolve to anything but a string.
_MAYBE_TYPED = frozenset(k for k in yaml.resolver.Resolver.yaml_implicit_resolvers if k is not None)


def _resolve(value: str) -> str:
    if value and value[0] not in _MAYBE_TYPED:
        return _STR
    return _resolve_cached(value)


@functools.lru_cache(maxsize=4096)
def _resolve_cached(value: str) -> str:
    # Keys such as "name" and "total" recur in every project; resolve each spelling once.
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def as_date(value: Any) -> dt.date | None:
    """A date as YAML gave it (already a date) or as an ISO string; None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def plain(value: Any) -> Any:
    """Strip position bookkeeping so data can be merged and hashed."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
