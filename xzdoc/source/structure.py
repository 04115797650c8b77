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
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xzdoc.source.yamlio import Pos, YList, YMap, colon_slip

Path = tuple[object, ...]
Problem = tuple[Pos, str]

_MONEY = re.compile(r"^\d+(\.\d{1,2})?$")
_FULLWIDTH = re.compile("[０-９．，]")
_TYPE_ZH = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "true/false",
            "array": "列表", "object": "映射（键: 值）"}


class Walker:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = _prepared(schema)
        self.money: dict[Path, Decimal] = {}
        self.problems: list[Problem] = []

    def run(self, data: Any, pos: Pos) -> None:
        self.walk(self.root, data, (), pos)

    def walk(self, schema: Mapping[str, Any], value: Any, path: Path, pos: Pos) -> bool:
        """Check ``value``; False when it has the wrong type and so must not reach the rules."""
        kind = schema["_kind"]
        if kind == "money":
            self.check_money(value, path, pos)
            return True
        if kind == "date":
            self.check_date(value, path, pos)
            return True
        types = schema["_types"]
        if types is not None and (not isinstance(value, types) or ((value is True or value is False)
                                  and bool not in types)):
            self.type_problem(schema, value, path, pos)
            return False
        if isinstance(value, YMap):
            self.walk_map(schema, value, path)
        elif isinstance(value, YList):
            self.walk_list(schema, value, path)
        elif isinstance(value, str):
            self.check_string(schema, value, path, pos)
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            self.check_number(schema, value, path, pos)
        return True

    def type_problem(self, schema: Mapping[str, Any], value: Any, path: Path, pos: Pos) -> None:
        slip = colon_slip(value) if isinstance(value, str) and "object" in str(schema["type"]) else None
        if slip:
            # "key：value" under a mapping is one string to YAML; point at the colon, not at the type.
            self.problems.append(((pos[0], pos[1] + slip[0]), slip[1]))
            return
        want = schema["type"]
        wants = want if isinstance(want, list) else [want]
        names = "或".join(_TYPE_ZH.get(str(w), str(w)) for w in wants)
        self.problems.append((pos, f"“{dotted(path)}”应为{names}，实际是{_describe(value)}"))

    def walk_map(self, schema: Mapping[str, Any], value: YMap, path: Path) -> None:
        props = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value or value[key] is None:
                self.problems.append((value.pos, f"“{dotted(path) or '顶层'}”缺少必填字段“{key}”"))
        extra = schema.get("additionalProperties", True)
        patterns = schema.get("patternProperties", {})
        names = schema.get("propertyNames")
        for key, item in value.items():
            where = value.at(key)
            sub = props.get(key)
            if sub is None:
                sub = next((s for p, s in patterns.items() if re.match(p, str(key))), None)
            if sub is None:
                if extra is False:
                    self.problems.append(self.unknown_key(value, key, path, props))
                    continue
                sub = extra if isinstance(extra, Mapping) else {}
            if names and "$ref" not in names and not isinstance(key, str):
                self.problems.append((where, f"“{dotted(path)}”的键应为文本"))
            if item is None:
                continue
            if not self.walk(sub, item, (*path, key), where):
                # Reported once here; the article rules then see the field as absent, not as a trap.
                value[key] = None

    def unknown_key(self, value: YMap, key: object, path: Path, props: Mapping[str, Any]) -> Problem:
        pos = value.keypos.get(key) or value.at(key)
        slip = colon_slip(key) if isinstance(key, str) else None
        if slip:
            return (pos[0], pos[1] + slip[0]), slip[1]
        name = f"“{dotted((*path, key))}”不是已知字段"
        close = difflib.get_close_matches(str(key), list(props), n=1, cutoff=0.6)
        if close:
            return pos, f"{name}，你是不是想写“{close[0]}”？"
        known = "、".join(props) if props else "见 xzdoc schema"
        return pos, f"{name}（可用字段：{known}）"

    def walk_list(self, schema: Mapping[str, Any], value: YList, path: Path) -> None:
        least = schema.get("minItems")
        if least and len(value) < least:
            self.problems.append((value.pos, f"“{dotted(path)}”至少需要 {least} 项"))
        items = schema.get("items")
        if items:
            for i, item in enumerate(value):
                if not self.walk(items, item, (*path, i), value.at(i)):
                    value[i] = None

    def check_string(self, schema: Mapping[str, Any], value: str, path: Path, pos: Pos) -> None:
        if schema.get("minLength") and not value.strip():
            self.problems.append((pos, f"“{dotted(path)}”不能为空"))
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, value):
            self.problems.append((pos, f"“{dotted(path)}”的值“{value}”格式不对（应匹配 {pattern}）"))

    def check_number(self, schema: Mapping[str, Any], value: int | Decimal, path: Path, pos: Pos) -> None:
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            self.problems.append((pos, f"“{dotted(path)}”的值 {value} 超出范围 {low}–{high}"))
        above = schema.get("exclusiveMinimum")
        if above is not None and value <= above:
            self.problems.append((pos, f"“{dotted(path)}”应大于 {above}"))

    def check_money(self, value: Any, path: Path, pos: Pos) -> None:
        amount, problem = parse_money(value)
        if problem:
            self.problems.append((pos, f"金额“{dotted(path)}”{problem}"))
        elif amount is not None:
            self.money[path] = amount

    def check_date(self, value: Any, path: Path, pos: Pos) -> None:
        if isinstance(value, dt.date):
            return
        if isinstance(value, str):
            try:
                dt.date.fromisoformat(value)
                return
            except ValueError:
                pass
        self.problems.append((pos, f"“{dotted(path)}”应为日期 YYYY-MM-DD，实际是“{value}”"))


def parse_money(value: Any) -> tuple[Decimal | None, str | None]:
    """Exact amount in 万元 with two places, or the reason it is not one."""
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
    if text.startswith("-"):
        return None, f"“{text}”不能为负数"
    if "e" in text.lower():
        return None, f"“{text}”不要使用科学计数法"
    if not _MONEY.match(text):
        return None, f"“{text}”不是金额（万元，最多两位小数，例如 120.50）"
    return Decimal(text).quantize(Decimal("0.01")), None


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, Decimal), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}
_CACHE: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = {}


def _prepared(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with $refs inlined and Python types precomputed, once per schema object."""
    hit = _CACHE.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (schema, _prepare(schema, schema.get("$defs", {})))
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
