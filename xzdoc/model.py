"""Frozen records passed between load, check, render and report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xzdoc.source.yamlio import YMap

ERROR, WARNING, INFO = "error", "warning", "info"
LEVEL_ZH = {ERROR: "错误", WARNING: "警告", INFO: "提示"}


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    rule: str
    level: str
    message: str
    article: str = ""


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int
    has_body: bool


@dataclass(frozen=True)
class Draft:
    kind: str
    path: str          # as shown to users, relative to the repository
    file: Path
    text: str | None   # None when missing or unreadable (a finding says why)
    headings: tuple[Heading, ...] = ()
    raw: bytes = b""   # the file as read; byte-level scans skip re-encoding the text


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    stage: str
    folder: Path
    display: str       # folder relative to the repository root
    yaml_path: str     # project.yaml relative to the repository root
    data: YMap
    drafts: Mapping[str, Draft] = field(default_factory=dict)
    money: Mapping[tuple[object, ...], Decimal] = field(default_factory=dict)
    # Metadata strings containing 密, noted while parsing so the 第三条 scan needs no second walk.
    marked: tuple[tuple[tuple[int, int], str], ...] = ()
    source: str = ""   # project.yaml as read, for scans that must see comments too

    def get(self, *keys: object) -> object:
        node: object = self.data
        for k in keys:
            if isinstance(node, dict):
                node = node.get(k)
            elif isinstance(node, list) and isinstance(k, int) and k < len(node):
                node = node[k]
            else:
                return None
        return node
