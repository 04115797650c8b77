"""Check a project.yaml tree against the JSON Schema, keeping exact money.

A small walker over the subset of JSON Schema that project.schema.json uses
is several times faster than a general validator, and it can point at the
line of every offending value. Enumerations are left to the article rules,
which know which article each value set comes from.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from xzdoc.source.yamlio import Pos, YList, YMap, colon_slip, iso_day

Path = tuple[object, ...]
Problem = tuple[Pos, str]

_MONEY = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
# More integer digits than any budget has (10^15 万元); also keeps every sum and quantize within
# decimal's 28-digit precision, past which quantize raises instead of rounding.
_MONEY_DIGITS = 15
_CENT = Decimal("0.01")
_FULLWIDTH = re.compile("[０-９．，]")
_TYPE_ZH = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "true/false",
            "array": "列表", "object": "映射（键: 值）"}


# The schema is compiled once into one closure per schema node: a plain-string field then
# costs one type test, and a path tuple is only built for containers, amounts and problems.
# Each checker is ``check(walker, value, parent_path, key, container) -> bool``; the value's
# position is ``container.at(key)``, asked for only when there is something to report.
Checker = Callable[["Walker", Any, Path, Any, Any], bool]


class Walker:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = _compiled(schema)
        self.money: dict[Path, Decimal] = {}
        self.problems: list[Problem] = []

    def run(self, data: Any, pos: Pos) -> None:
        self.root(self, data, (), None, _Root(pos))


class _Root:
    """Stands in for the container of the top-level value."""

    __slots__ = ("pos",)

    def __init__(self, pos: Pos) -> None:
        self.pos = pos

    def at(self, key: Any = None) -> Pos:
        return self.pos


def _full(parent: Path, key: Any) -> Path:
    return parent if key is None else (*parent, key)


def _compile(schema: Mapping[str, Any]) -> Checker:
    kind = schema["_kind"]
    if kind == "money":
        return _check_money
    if kind == "date":
        return _check_date
    types = schema["_types"]
    body = _body(schema)

    def check(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
        if types is not None and (not isinstance(value, types) or ((value is True or value is False)
                                  and bool not in types)):
            w.problems.append(_type_problem(schema, value, _full(parent, key), where.at(key)))
            return False
        if body is not None:
            body(w, value, parent, key, where)
        return True

    if types == (str,) and body is None:
        def plain(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
            return type(value) is str or check(w, value, parent, key, where)
        return plain
    return check


def _body(schema: Mapping[str, Any]) -> Checker | None:
    """What to check once the type is right; None when nothing is."""
    parts: list[Checker] = []
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        parts.append(_map_checker(schema))
    if "items" in schema or "minItems" in schema:
        parts.append(_list_checker(schema))
    if schema.get("minLength") or schema.get("pattern"):
        parts.append(_string_checker(schema))
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum")):
        parts.append(_number_checker(schema))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]

    def every(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
        for part in parts:
            part(w, value, parent, key, where)
        return True
    return every


def _leaf(schema: Mapping[str, Any]) -> int | None:
    """How a map or list checks a value of this schema inline, without a call; None: call its checker.

    0: any text passes; 1: text must not be blank; 2: a date passes. Other values still go to the
    checker, so every problem is found and worded exactly as the checker would.
    """
    if schema["_kind"] == "date":
        return 2
    if schema["_kind"] is not None or schema["_types"] != (str,) or schema.get("pattern"):
        return None
    if any(k in schema for k in ("properties", "additionalProperties", "required", "items", "minItems",
                                 "minimum", "maximum", "exclusiveMinimum")):
        return None
    return 1 if schema.get("minLength") else 0


def _map_checker(schema: Mapping[str, Any]) -> Checker:
    props = {k: _compile(v) for k, v in schema.get("properties", {}).items()}
    leaves = {k: leaf for k, v in schema.get("properties", {}).items() if (leaf := _leaf(v)) is not None}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = _compile(extra) if isinstance(extra, Mapping) else _compile(_prepare({}, {}))
    patterns = [(re.compile(p), _compile(sub)) for p, sub in schema.get("patternProperties", {}).items()]
    key_hint = schema.get("x-key-hint")
    names = schema.get("propertyNames") or {}
    keys_are_text = bool(names) and "$ref" not in names
    props_get, leaves_get = props.get, leaves.get

    def check(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
        if not isinstance(value, YMap):
            return True
        path = parent if key is None else (*parent, key)
        for name in required:
            if value.get(name) is None:
                w.problems.append((value.pos, f"“{dotted(path) or '顶层'}”缺少必填字段“{name}”"))
        for k, item in value.items():
            sub = props_get(k)
            if sub is not None:
                # A known field's key is text (the schema's names are), so the key check cannot fire.
                if item is None:
                    continue
                leaf = leaves_get(k)
                if leaf is not None:
                    if leaf == 2:
                        if type(item) is dt.date:
                            continue
                    elif type(item) is str:
                        if leaf and not item.strip():
                            w.problems.append((value.at(k), f"“{dotted((*path, k))}”不能为空"))
                        continue
                if not sub(w, item, path, k, value):
                    value[k] = None
                continue
            sub = next((c for p, c in patterns if p.match(str(k))), None)
            if sub is None:
                if extra is False:
                    w.problems.append(_unknown_key(value, k, path, props, key_hint))
                    continue
                sub = extra_check
            if keys_are_text and not isinstance(k, str):
                w.problems.append((value.at(k), f"“{dotted(path)}”的键应为文本"))
            if item is not None and not sub(w, item, path, k, value):
                # Reported once here; the article rules then see the field as absent, not as a trap.
                value[k] = None
        return True
    return check


def _type_problem(schema: Mapping[str, Any], value: Any, path: Path, pos: Pos) -> Problem:
    slip = colon_slip(value) if isinstance(value, str) and "object" in str(schema["type"]) else None
    if slip:
        # "key：value" under a mapping is one string to YAML; point at the colon, not at the type.
        return (pos[0], pos[1] + slip[0]), slip[1]
    want = schema["type"]
    names = "或".join(_TYPE_ZH.get(str(t), str(t)) for t in (want if isinstance(want, list) else [want]))
    return pos, f"“{dotted(path)}”应为{names}，实际是{_describe(value)}"


def _unknown_key(value: YMap, key: object, path: Path, props: Mapping[str, Any], key_hint: str | None = None
                 ) -> Problem:
    pos = value.keypos.get(key) or value.at(key)
    slip = colon_slip(key) if isinstance(key, str) else None
    if slip:
        return (pos[0], pos[1] + slip[0]), slip[1]
    if key_hint and not props:
        return pos, f"“{dotted(path)}”下的键“{key}”不对：键应为{key_hint}"
    name = f"“{dotted((*path, key))}”不是已知字段"
    close = difflib.get_close_matches(str(key), list(props), n=1, cutoff=0.6)
    if close:
        return pos, f"{name}，你是不是想写“{close[0]}”？"
    known = "、".join(props) if props else "见 xzdoc schema"
    return pos, f"{name}（可用字段：{known}）"


def _list_checker(schema: Mapping[str, Any]) -> Checker:
    least = schema.get("minItems")
    item_check = _compile(schema["items"]) if schema.get("items") else None
    leaf = _leaf(schema["items"]) if schema.get("items") else None

    def check(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
        if not isinstance(value, YList):
            return True
        path = parent if key is None else (*parent, key)
        if least and len(value) < least:
            w.problems.append((value.pos, f"“{dotted(path)}”至少需要 {least} 项"))
        if item_check is not None:
            for i, item in enumerate(value):
                if leaf is not None and leaf != 2 and type(item) is str:
                    if leaf and not item.strip():
                        w.problems.append((value.at(i), f"“{dotted((*path, i))}”不能为空"))
                    continue
                if not item_check(w, item, path, i, value):
                    value[i] = None
        return True
    return check


def _string_checker(schema: Mapping[str, Any]) -> Checker:
    least, pattern = schema.get("minLength"), schema.get("pattern")
    anchored = pattern
    if pattern and pattern.endswith("$") and not pattern.endswith("\\$"):
        anchored = pattern[:-1] + r"\Z"   # Python's "$" also matches before a final line break: "XZJT-2026-001\n"
    # \d as 0-9 only (Python's also takes "٢٠٢٧"), unless the pattern needs Unicode \w, \s or \b for names.
    ascii_only = re.ASCII if anchored and not re.search(r"\\[wWsSbB]", anchored) else 0
    compiled = re.compile(anchored, ascii_only) if anchored else None

    def check(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
        if not isinstance(value, str):
            return True
        if least and not value.strip():
            w.problems.append((where.at(key), f"“{dotted(_full(parent, key))}”不能为空"))
        if compiled is not None and not compiled.search(value):
            shown = value.replace("\r", "\\r").replace("\n", "\\n")
            w.problems.append((where.at(key), f"“{dotted(_full(parent, key))}”的值“{shown}”格式不对（应匹配 {pattern}）"))
        return True
    return check


def _number_checker(schema: Mapping[str, Any]) -> Checker:
    low, high, above = schema.get("minimum"), schema.get("maximum"), schema.get("exclusiveMinimum")

    def check(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
        if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
            return True
        if isinstance(value, Decimal) and not value.is_finite():  # NaN does not compare: it raises
            shown = "无穷大（.inf）" if value.is_infinite() else "非数（.nan）"
            w.problems.append((where.at(key), f"“{dotted(_full(parent, key))}”的值为{shown}，不是有限数值"))
            return True
        if (low is not None and value < low) or (high is not None and value > high):
            w.problems.append((where.at(key), f"“{dotted(_full(parent, key))}”的值 {value} 超出范围 {low}–{high}"))
        if above is not None and value <= above:
            w.problems.append((where.at(key), f"“{dotted(_full(parent, key))}”应大于 {above}"))
        return True
    return check


def _check_money(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
    amount, problem = parse_money(value)
    if problem:
        w.problems.append((where.at(key), f"金额“{dotted(_full(parent, key))}”{problem}"))
    elif amount is not None:
        w.money[_full(parent, key)] = amount
    return True


def _check_date(w: Walker, value: Any, parent: Path, key: Any, where: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    if isinstance(value, str) and iso_day(value) is not None:
        return True
    w.problems.append((where.at(key), f"“{dotted(_full(parent, key))}”应为日期 YYYY-MM-DD，实际是“{value}”"))
    return True


def parse_money(value: Any) -> tuple[Decimal | None, str | None]:
    """Exact amount in 万元 with two places, or the reason it is not one."""
    if type(value) is Decimal and value.is_finite():
        # The common case, decided at once: a finite amount written as plain digits (no sign, no
        # exponent) is exactly its own text, so quantizing it equals quantizing the re-read text.
        if _MONEY.match(text := str(value)):
            return value.quantize(_CENT), None
        return _money_problem(text)
    if isinstance(value, bool) or value is None:
        return None, "应为数字，例如 120.50"
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None, "不是有限数值"
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
        if _FULLWIDTH.search(text):
            return None, f"“{text}”含全角数字或符号，请改用半角数字，例如 120.50"
        if "万" in text or "元" in text:
            return None, f"“{text}”不要带单位，金额单位统一为万元，只写数字，例如 120.50"
        if "," in text:
            return None, f"“{text}”不要使用千分位逗号，例如写作 1200.00"
    else:
        return None, f"应为数字，实际是{_describe(value)}"
    return _money_problem(text)


def _money_problem(text: str) -> tuple[Decimal | None, str | None]:
    if text.startswith("-"):
        return None, f"“{text}”不能为负数"
    if "e" in text.lower():
        return None, f"“{text}”不要使用科学计数法"
    if not _MONEY.match(text):
        if len(text.split(".", 1)[0]) > _MONEY_DIGITS and text.replace(".", "", 1).isdigit():
            return None, f"“{text[:20]}…”有 {len(text.split('.', 1)[0])} 位整数，超出金额的合理范围（单位为万元）"
        return None, f"“{text}”不是金额（万元，最多两位小数，例如 120.50）"
    return Decimal(text).quantize(_CENT), None


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, Decimal), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}
_CACHE: dict[int, tuple[Mapping[str, Any], Checker]] = {}


def _compiled(schema: Mapping[str, Any]) -> Checker:
    """The schema with $refs inlined, compiled to checkers, once per schema object."""
    hit = _CACHE.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (schema, _compile(_prepare(schema, schema.get("$defs", {}))))
        _CACHE[id(schema)] = hit
    return hit[1]


def _prepare(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k != "$ref"}
    kind = None
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        if name in ("money", "date"):
            kind = name
        else:
            out = {**defs[name], **out}
    out["_kind"] = kind
    want = out.get("type")
    wants = want if isinstance(want, list) else [want] if want else []
    out["_types"] = tuple(t for w in wants for t in _PY_TYPES.get(w, (object,))) or None
    if "properties" in out:
        out["properties"] = {k: _prepare(v, defs) for k, v in out["properties"].items()}
    if "patternProperties" in out:
        out["patternProperties"] = {k: _prepare(v, defs) for k, v in out["patternProperties"].items()}
    if isinstance(out.get("additionalProperties"), Mapping):
        out["additionalProperties"] = _prepare(out["additionalProperties"], defs)
    if "items" in out:
        out["items"] = _prepare(out["items"], defs)
    return out


def _describe(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, Decimal)):
        return f"数字 {value}"
    if isinstance(value, dt.date):
        return f"日期 {value}"
    if isinstance(value, str):
        return f"文本“{value[:20]}”"
    if isinstance(value, list):
        return "列表"
    return "映射"


def dotted(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def check(schema: Mapping[str, Any], data: Any, pos: Pos) -> tuple[list[Problem], dict[Path, Decimal]]:
    walker = Walker(schema)
    walker.run(data, pos)
    return walker.problems, walker.money
