"""What every rule module shares: the context, hits, and small lookups."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.model import Project
from xzdoc.source.yamlio import Pos, YList, YMap, as_date


@dataclass(frozen=True)
class Hit:
    """A rule's raw observation; the engine adds rule id, article and level."""

    pos: Pos
    message: str
    path: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class Context:
    config: Config
    projects: Sequence[Project] = ()
    as_of: dt.date = field(default_factory=dt.date.today)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def std(self):  # type: ignore[no-untyped-def]
        return self.config.standard

    def enum(self, name: str) -> tuple[str, ...]:
        return self.config.standard.enums.get(name, ())


def hit_of(exc: XzdocError, line: int | None = None) -> Hit:
    """A check shared with render, which raises: its error as a finding at the error's own place."""
    message = f"{exc.message}：{exc.hint}" if exc.hint else exc.message
    return Hit((line or exc.line or 1, exc.column or 1), message, path=exc.path)


def mapping(value: Any) -> YMap | None:
    return value if isinstance(value, YMap) else None


def home(project: Project, *path: str) -> Pos:
    """Where a missing record belongs: the line of the deepest key of ``path`` that is written."""
    node: Any = project.data
    pos = project.data.pos
    for key in path:
        if not isinstance(node, YMap) or key not in node:
            break
        pos, node = node.keypos.get(key) or node.at(key), node[key]
    return pos


def day_places(entries: Any, key: str = "date") -> dict[dt.date, Pos]:
    """Each entry's date, with the place of that date; the first entry wins a date written twice."""
    out: dict[dt.date, Pos] = {}
    for _, entry in items(entries):
        day = as_date(entry.get(key))
        if day is not None:
            out.setdefault(day, entry.at(key))
    return out


def items(value: Any) -> Iterator[tuple[int, YMap]]:
    """The mapping entries of a list, with their index; other entries are the schema's concern."""
    if isinstance(value, YList):
        for i, item in enumerate(value):
            if isinstance(item, YMap):
                yield i, item


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """"，你是不是想写“x”？" for the closest choice, or nothing when none is close."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"，你是不是想写“{close[0]}”？" if close else ""


_NOISE = re.compile(r"[\s，。、；：,.;:!！?？“”\"'（）()·]+")


def bare(value: str) -> str:
    """The text without spaces, punctuation and brackets: what two spellings of one thing share."""
    return _NOISE.sub("", value)


def bad_enum(node: YMap, key: str, allowed: tuple[str, ...], label: str) -> Hit | None:
    value = node.get(key)
    if value is None or str(value) in allowed:
        return None
    return Hit(node.at(key), f"{label}“{value}”不在规定范围内{did_you_mean(str(value), allowed)}（可选：{'、'.join(allowed)}）")


def comma_slip(value: Any) -> int | None:
    """Index of a Chinese comma or 顿号 in a flow-list item: ``[应用系统，信息资源]`` is one item to YAML."""
    if not isinstance(value, str):
        return None
    found = [i for i in (value.find("，"), value.find("、")) if i >= 0]
    return min(found) if found else None


def money(project: Project, *path: object) -> Decimal | None:
    return project.money.get(tuple(path))


def money_sum(project: Project, prefix: tuple[object, ...], keys: Iterable[object]) -> Decimal | None:
    """Sum of the amounts under ``prefix``; None when any of them is not a valid amount."""
    total = Decimal(0)
    for key in keys:
        amount = project.money.get((*prefix, key))
        if amount is None:
            return None
        total += amount
    return total


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}万元"
