"""Shape check of the ``standard:`` overrides in xzdoc.yaml, before they are merged into the defaults.

The rules read the merged standard without checking it (a cap is a number, an outline a list of
chapters), so an override of the wrong shape must stop here, named by its line, rather than as a
TypeError deep inside a rule. The expected shape of a cap is taken from its default in caps.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xzdoc.errors import XzdocError

_TEXT, _NUMBER, _COUNT = "text", "number", "count"
_CHAPTER = {"title": _TEXT, "aliases": [_TEXT]}
_STAGE = {"label": _TEXT, "documents": [_TEXT], "records": [{"key": _TEXT, "article": _TEXT, "what": _TEXT}],
          "sections": [_TEXT]}
_REQUIRED = {id(_CHAPTER): ("title",), id(_STAGE["records"][0]): ("key", "article", "what")}  # type: ignore[index]
# Maps whose keys are the bureau's to choose (a new document kind, stage or fee); the rest are fixed.
_OPEN = {"outlines", "enums", "stages", "caps.drift_fields", "caps.drift_groups", "caps.security_test_lines",
         "caps.fee_names", "caps.indicator_levels"}
_WHAT = {_TEXT: "文字", _NUMBER: "非负数", _COUNT: "非负整数"}
_EXAMPLE = {_TEXT: None, _NUMBER: "费率写小数，如 reserve: 0.08", _COUNT: "天数、字数写整数，如 drill_interval_days: 366"}


def check(node: Any, caps: Mapping[str, Any], where: str) -> None:
    """Raise XzdocError at the first override of the wrong shape; ``node`` is the standard: mapping."""
    shape = {"outlines": {"": [_CHAPTER]}, "enums": {"": [_TEXT]}, "stages": {"": _STAGE},
             "caps": {k: _of(v) for k, v in caps.items()}}
    _walk(node, shape, "", where, _line(node, None))


def _of(default: Any) -> Any:
    """The shape of a default value from caps.yaml."""
    if isinstance(default, bool):
        return default
    if isinstance(default, int):
        return _COUNT
    if isinstance(default, (float, Decimal)):
        return _NUMBER
    if isinstance(default, list):
        return [_of(default[0]) if default else _TEXT]
    if isinstance(default, dict):
        values = [_of(v) for v in default.values()]
        return {**{str(k): s for k, s in zip(default, values, strict=True)}, "": values[0] if values else _TEXT}
    return _TEXT


def _line(node: Any, key: Any) -> int | None:
    at = getattr(node, "at", None)
    return at(key)[0] if at is not None else None


def _walk(value: Any, shape: Any, path: str, where: str, line: int | None) -> None:
    name = f"standard.{path}" if path else "standard"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise XzdocError(f"xzdoc.yaml 的“{name}”应为映射（键: 值）", where, line)
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key) in shape and str(key) != "":
                inner = shape[str(key)]
            elif path in _OPEN:
                inner = shape[""]
            else:
                known = "、".join(k for k in shape if k)
                raise XzdocError(f"xzdoc.yaml 的“{name}”中没有“{key}”这一项", where, _line(value, key),
                                 hint=f"可覆盖的项：{known}" if known else None)
            _walk(item, inner, sub, where, _line(value, key))
        for key in _REQUIRED.get(id(shape), ()):
            if not value.get(key):
                raise XzdocError(f"xzdoc.yaml 的“{name}”缺少“{key}”", where, line)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise XzdocError(f"xzdoc.yaml 的“{name}”应为列表", where, line, hint="例如 [甲, 乙]，或逐行写作“- 甲”")
        for i, item in enumerate(value):
            _walk(item, shape[0], f"{path}[{i}]", where, _line(value, i) or line)
    elif isinstance(shape, bool):
        if not isinstance(value, bool):
            raise XzdocError(f"xzdoc.yaml 的“{name}”应为 true 或 false", where, line)
    elif not _fits(value, shape):
        raise XzdocError(f"xzdoc.yaml 的“{name}”应为{_WHAT[shape]}，而不是“{str(value)[:40]}”", where, line,
                         hint=_EXAMPLE[shape])
    if path == "caps.self_evaluation_due" and not _month_day(value):
        raise XzdocError(f"xzdoc.yaml 的“{name}”应为“月-日”，如 '03-31'，而不是“{value}”", where, line)


def _fits(value: Any, shape: str) -> bool:
    if shape == _TEXT:
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    if shape == _COUNT:
        return isinstance(value, int) and 0 <= value < 100_000
    return bool(value == value) and 0 <= value < 100_000  # NaN and inf are not rates


def _month_day(value: str) -> bool:
    try:
        month, day = (int(x) for x in value.split("-"))
        dt.date(2001, month, day)  # not a leap year: the day must exist every year
    except ValueError:
        return False
    return True
