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
from xzdoc.source.textio import decode, read_text
from xzdoc.source.yamlerrors import COLON_FIX, SPACE_FIX, colon_slip, syntax_error

try:
    # The parser alone: the events are all we read, so a loader's constructor and resolver would be set up for nothing.
    from yaml._yaml import CParser as _Loader
except ImportError:  # pragma: no cover - libyaml is in every wheel we support
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_NODES = 200_000
# Far beyond any project file (they nest five or six levels), and well inside Python's recursion limit.
MAX_DEPTH = 100

Pos = tuple[int, int]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# What an explicitly tagged scalar may be spelled as: "!!bool maybe" must not reach the constructors.
_SPELLINGS = {_INT: {_INT}, _FLOAT: {_FLOAT, _INT}, _BOOL: {_BOOL}, _NULL: {_NULL}, _TIMESTAMP: {_TIMESTAMP}}
__all__ = ["COLON_FIX", "SPACE_FIX", "Pos", "YList", "YMap", "as_date", "colon_slip", "decode", "load_file", "loads",
           "plain", "read_text"]
_BOOL_VALUES = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it, each key and each value start."""

    __slots__ = ("keypos", "path", "pos", "valpos")

    # dict.__init__ is not called: an empty dict is already made by dict.__new__, and maps are built by the thousand.
    def __init__(self, path: str, pos: Pos) -> None:
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
        self.path = path
        self.pos = pos
        self.itempos: list[Pos] = []

    def at(self, index: int | None = None) -> Pos:
        if index is None or index >= len(self.itempos):
            return self.pos
        return self.itempos[index]


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
        raise syntax_error(exc, text, display) from None
    except yaml.YAMLError as exc:
        raise XzdocError(f"YAML 语法错误：{exc}", display) from None
    finally:
        parser.dispose()


class _Builder:
    """Builds YMap/YList/scalars straight from parser events, enforcing our limits.

    Working on events rather than composed nodes skips PyYAML's node objects and
    most of its Python-level tag resolution: validation speed is a design target.
    """

    def __init__(self, path: str, notes: list[tuple[Pos, str]] | None) -> None:
        self.path = path
        self.notes = notes
        self.count = 0
        self.depth = 0
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

    def enter(self, start: Any) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            m = start.start_mark
            raise XzdocError(f"YAML 嵌套超过 {MAX_DEPTH} 层", self.path, m.line + 1, column=m.column + 1,
                             hint="项目文件只需几层缩进；检查是否误写了成串的 [ 或 {")

    def too_many(self, line: int) -> None:
        raise XzdocError(
            f"YAML 节点超过 {MAX_NODES} 个（可能是别名展开炸弹）",
            self.path,
            line,
            hint="不要用锚点和别名（&、*）反复引用大段内容；直接写出需要的值",
        )

    # mapping() and sequence() build the common values inline (untagged scalars without an anchor,
    # containers without an anchor); value() handles the rest. Building the tree is the largest
    # cost of validation after libyaml itself, so each event costs as few Python calls as possible.

    def mapping(self, start: Any) -> YMap:
        # One loop with the common cases inlined, on purpose: building maps is validation's hottest code.
        self.enter(start)
        m = start.start_mark
        out = YMap(self.path, (m.line + 1, m.column + 1))
        keypos, valpos, get, notes = out.keypos, out.valpos, self.get, self.notes
        typed, keys = _TYPED.get, _KEYS.get
        texts: dict[str, Any] | None = None   # the text of each key YAML typed (a year as a number) -> the key
        while True:
            event = get()
            kind = type(event)
            if kind is _MAP_END:
                self.depth -= 1
                self.count += len(out)
                if self.count > MAX_NODES:
                    self.too_many(m.line + 1)
                return out
            km = event.start_mark
            if kind is not _SCALAR:
                raise XzdocError("映射的键必须是简单值", self.path, km.line + 1, column=km.column + 1)
            key = event.value
            if event.tag is None and event.implicit[0]:
                if key and key[0] in _MAYBE_TYPED:
                    key = keys(key, _MISS)
                    if key is _MISS:
                        key = self.typed_key(event)
            else:
                key = self.scalar(event, as_key=True)
            if type(key) is not str or texts is not None:
                texts = self.twin(key, keypos, texts, km)
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
            kind = type(event)
            if event.anchor is not None:
                out[key] = self.value(event)
            elif kind is _SCALAR:
                if event.tag is None:
                    value = event.value
                    if event.implicit[0] and (not value or value[0] in _MAYBE_TYPED):
                        value = typed(value, _MISS)
                        out[key] = self.typed(event) if value is _MISS else value
                        continue
                    if notes is not None and "密" in value:
                        self.note(event)
                    out[key] = value
                else:
                    out[key] = self.scalar(event)
            elif kind is _MAP_START:
                out[key] = self.mapping(event)
            elif kind is _SEQ_START:
                out[key] = self.sequence(event)
            else:
                out[key] = self.value(event)

    def twin(self, key: Any, keypos: dict[Any, Pos], texts: dict[str, Any] | None, km: Any) -> dict[str, Any] | None:
        """Refuse a key that reads as one already there: 2025 and '2025' are two keys to YAML and one to a
        reader (and to budget.years[2025]). ``texts`` maps the text of each key YAML typed to the key."""
        text = str(key)
        found = texts.get(text, _MISS) if texts is not None else _MISS
        if found is _MISS and type(key) is not str and text in keypos:
            found = text
        if found is not _MISS and found != key:
            raise XzdocError(f"重复的键“{text}”（第 {keypos[found][0]} 行已出现，一处写成数字或日期，一处写成文字）",
                             self.path, km.line + 1, column=km.column + 1,
                             hint="同一层级的键只能出现一次；年份等键统一不加引号")
        if type(key) is not str:
            texts = texts if texts is not None else {}
            texts[text] = key
        return texts

    def sequence(self, start: Any) -> YList:
        self.enter(start)
        m = start.start_mark
        out = YList(self.path, (m.line + 1, m.column + 1))
        positions, get, notes, append = out.itempos, self.get, self.notes, out.append
        typed = _TYPED.get
        while True:
            event = get()
            kind = type(event)
            if kind is _SEQ_END:
                self.depth -= 1
                self.count += len(out)
                if self.count > MAX_NODES:
                    self.too_many(m.line + 1)
                return out
            em = event.start_mark
            positions.append((em.line + 1, em.column + 1))
            if event.anchor is not None:
                append(self.value(event))
            elif kind is _SCALAR:
                if event.tag is None:
                    value = event.value
                    if event.implicit[0] and (not value or value[0] in _MAYBE_TYPED):
                        value = typed(value, _MISS)
                        append(self.typed(event) if value is _MISS else value)
                        continue
                    if notes is not None and "密" in value:
                        self.note(event)
                    append(value)
                else:
                    append(self.scalar(event))
            elif kind is _MAP_START:
                append(self.mapping(event))
            elif kind is _SEQ_START:
                append(self.sequence(event))
            else:
                append(self.value(event))

    def typed(self, event: Any) -> Any:
        """A plain scalar that may be a number, date, boolean or null; each such spelling is built once."""
        out = self.scalar(event)
        if type(out) is not str:  # strings are not kept: they may need a note
            if len(_TYPED) >= _CACHE_MAX:
                _TYPED.clear()
            _TYPED[event.value] = out
        return out

    def typed_key(self, event: Any) -> Any:
        """A plain key that may resolve to a number, boolean or null (a year, say); each spelling once."""
        key = event.value
        if _resolve_cached(key) != _STR:
            if key == "<<":
                m = event.start_mark
                raise XzdocError("不支持 YAML 合并键“<<”", self.path, m.line + 1, column=m.column + 1,
                                 hint="直接写出各个键，避免合并键带来的隐式覆盖")
            key = self.scalar(event, as_key=True)
        if len(_KEYS) >= _CACHE_MAX:
            _KEYS.clear()
        _KEYS[event.value] = key
        return key

    def scalar(self, event: Any, as_key: bool = False) -> Any:
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolve(value) if event.implicit[0] else _STR
        elif tag in _SPELLINGS and _resolve(value) not in _SPELLINGS[tag]:
            m = event.start_mark
            raise XzdocError(f"“{value}”不是标签 !!{tag.rsplit(':', 1)[1]} 所要求的值", self.path, m.line + 1,
                             column=m.column + 1, hint="去掉标签，按普通值书写（金额、年份直接写数字，文字不加标签）")
        if tag == _STR:
            if self.notes is not None and "密" in value:
                self.note(event)
            return value
        if as_key and tag in (_FLOAT, _TIMESTAMP):
            return value  # a key is a name; keep "2026-01-01" or "1.5" as written
        if tag == _INT:
            try:
                return int(value, 10)
            except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
                m = event.start_mark
                raise XzdocError(f"数字“{value[:20]}…”有 {len(value)} 位，不是有效的数值", self.path, m.line + 1,
                                 column=m.column + 1, hint="金额以万元为单位、保留两位小数，年份写四位数字") from None
        if tag == _FLOAT:
            # Kept exact: money must never pass through a binary float.
            try:
                return Decimal(value)
            except InvalidOperation:  # YAML's own spellings: .inf, -.Inf, .NAN…; never finite, so the schema refuses them
                special = value.lower()
                return Decimal("-Infinity" if special == "-.inf" else "Infinity" if special in (".inf", "+.inf") else "NaN")
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
                day = dt.date.fromisoformat(text)
            else:
                day = dt.datetime.fromisoformat(text.replace("t", "T").replace(" ", "T", 1)).date()
        except ValueError:
            m = event.start_mark
            raise XzdocError(f"“{text}”不是有效日期", self.path, m.line + 1, column=m.column + 1,
                             hint="日期写作 YYYY-MM-DD，例如 2026-09-28，且须是日历上存在的日期") from None
        if day.year not in DATE_YEARS:
            m = event.start_mark
            raise XzdocError(f"“{text}”的年份不在 {DATE_YEARS.start}–{DATE_YEARS.stop - 1} 之间", self.path, m.line + 1,
                             column=m.column + 1, hint="检查年份是否写错，例如 2026-09-28")
        return day


_SCALAR = yaml.ScalarEvent
_MAP_START, _MAP_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQ_START, _SEQ_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_RESOLVER = yaml.resolver.Resolver()
# Built values of plain scalars and keys by spelling: only immutable values (numbers, dates,
# booleans, None, key text) are kept, and only results that raised nothing.
_MISS = object()
_CACHE_MAX = 4096
_TYPED: dict[str, Any] = {}
_KEYS: dict[str, Any] = {}
# Only plain scalars starting with one of these can resolve to anything but a string.
_MAYBE_TYPED = frozenset(k for k in yaml.resolver.Resolver.yaml_implicit_resolvers if k is not None)


def _resolve(value: str) -> str:
    if value and value[0] not in _MAYBE_TYPED:
        return _STR
    return _resolve_cached(value)


# YAML 1.1 also reads 15:00 as 900 (base 60), 0x384 and 01604 as 900, and 9_00 as 900: a
# time of day or a code with a leading zero would silently become an amount. Only plain
# decimal spellings are numbers here, as in YAML 1.2's core schema; the rest stay text,
# which a numeric field then refuses by name.
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


@functools.lru_cache(maxsize=4096)
def _resolve_cached(value: str) -> str:
    # Keys such as "name" and "total" recur in every project; resolve each spelling once.
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if (tag == _INT and not _DECIMAL_INT.fullmatch(value)) or (tag == _FLOAT and not _DECIMAL_FLOAT.fullmatch(value)):
        return _STR
    return tag


# Years a record date can have. Deadlines and timelines add months and years to a date, so a
# date near 9999-12-31 would overflow there; nothing the measures govern lies outside these.
DATE_YEARS = range(1900, 2200)


def as_date(value: Any) -> dt.date | None:
    """A date as YAML gave it (already a date) or as an ISO string; None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return iso_day(value.strip())
    return None


# date.fromisoformat in 3.11 also takes 20250811 and 2025-W33-1; a record date is written one way.
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_day(text: str) -> dt.date | None:
    """The date a YYYY-MM-DD text names, within DATE_YEARS; None for any other text."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.year in DATE_YEARS else None


def plain(value: Any) -> Any:
    """Strip position bookkeeping so data can be merged and hashed."""
    # Leaves are taken as they are without a call: most of a tree is leaves.
    if isinstance(value, dict):
        return {k: plain(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


_CONTAINERS = (dict, list)
