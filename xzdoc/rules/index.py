"""The portfolio index: what cross-project rules know about each project once it is released.

Validation streams: each project is loaded, checked by the per-project rules
and dropped before the next is read, so memory does not grow with the number
of projects. Rules that compare projects with each other (unique ids, the
system register's total, near-duplicate drafts) cannot see the other projects
then; they work in two halves instead, both declared on their row in
``rules.RULES``:

``summarize(project, ctx) -> value``
    Runs while the project is in memory and returns the compact part of it
    the rule needs later (ids with their positions, system actions, chapter
    signatures...). The value must be JSON-able (dicts with text keys, lists,
    text, numbers, booleans, None) because sharded runs write the index to a
    file; tuples come back as lists. Keep it small: it is held for every
    project in the portfolio.

``portfolio(index, ctx) -> Iterator[Hit]``
    Runs once, after the last project, over the :class:`Index`. Each hit must
    name its ``path`` (a ``yaml_path`` or a draft path of an entry). The
    engine adds rule id, article and level, and keeps only hits on projects
    that were asked for (an index also holds the repository's other projects,
    so that uniqueness is judged against all of them).

Porting a rule written against ``ctx.projects``: move what it reads from the
other projects into ``summarize`` and the comparison into ``portfolio``,
reading ``entry.parts[rule_id]`` for each entry. ``engine.check_projects``
still fills ``ctx.projects`` for callers that hold their projects in memory.

Sharded runs (``validate --shard i/n --index-out FILE`` on each machine, then
``validate --join FILE...``) write :meth:`Index.dump` and merge with
:meth:`Index.merge`; the findings of the per-project rules travel with the
index, so the join reports exactly what one run over everything would.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError
from xzdoc.model import Finding

FORMAT = "xzdoc-index/1"


@dataclass(frozen=True)
class Entry:
    """One project as the portfolio rules see it."""

    display: str                # folder relative to the repository
    yaml_path: str
    id: str
    name: str
    asked: bool                 # its findings are reported (asked for, not only there for comparison)
    parts: dict[str, Any] = field(default_factory=dict)   # rule id -> that rule's summary

    def owns(self, path: str) -> bool:
        return path == self.display or path.startswith(self.display + "/")


@dataclass
class Index:
    """Entries of every project seen, plus the per-project findings a shard carries to the join."""

    entries: list[Entry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def asked(self) -> set[str]:
        return {e.display for e in self.entries if e.asked}

    def dump(self, path: Path) -> None:
        from xzdoc.source import fsio

        doc = {"format": FORMAT, "checked": self.checked,
               "entries": [[e.display, e.yaml_path, e.id, e.name, e.asked, e.parts] for e in self.entries],
               "findings": [[f.path, f.line, f.column, f.rule, f.level, f.message, f.article] for f in self.findings]}
        fsio.write_atomic(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))

    @classmethod
    def load(cls, path: Path) -> Index:
        try:
            doc = json.loads(path.read_text("utf-8"))
            if doc.get("format") != FORMAT:
                raise ValueError(doc.get("format"))
            return cls([Entry(*row) for row in doc["entries"]], [Finding(*row) for row in doc["findings"]],
                       int(doc["checked"]))
        except OSError as exc:
            raise XzdocError(f"无法读取索引文件：{exc.strerror}", str(path)) from None
        except (ValueError, KeyError, TypeError):
            raise XzdocError("不是 xzdoc validate --index-out 写出的索引文件（或版本不符）", str(path),
                             hint="用同一版本的 xzdoc 重新运行各分片：xzdoc validate --shard i/n --index-out FILE") from None

    @classmethod
    def merge(cls, parts: Iterable[Index]) -> Index:
        out = cls()
        seen: set[str] = set()
        for part in parts:
            out.checked += part.checked
            out.findings += part.findings
            for entry in part.entries:
                if entry.display in seen:
                    raise XzdocError(f"项目 {entry.display} 出现在多个分片的索引中",
                                     hint="各分片须使用同一个 n（--shard i/n），且每个 i 只运行一次")
                seen.add(entry.display)
                out.entries.append(entry)
        out.entries.sort(key=lambda e: e.display)
        return out


def owner(asked: set[str], path: str) -> bool:
    """True when ``path`` lies in one of the ``asked`` project folders."""
    probe = path
    while probe:
        if probe in asked:
            return True
        cut = probe.rfind("/")
        probe = probe[:cut] if cut > 0 else ""
    return False


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` of ``count`` (1-based): a stable split of project folders by name."""

    number: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            number, count = (int(part) for part in text.split("/"))
        except ValueError:
            number = count = 0
        if not 1 <= number <= count:
            raise XzdocError(f"分片“{text}”格式不对", hint="写作 i/n，1 ≤ i ≤ n，例如 --shard 2/4")
        return cls(number, count)

    def holds(self, folder: Path) -> bool:
        # By name, not position: adding a project moves no other project to another shard.
        return zlib.crc32(folder.name.encode("utf-8")) % self.count == self.number - 1


def summaries(index: Index, rule: str) -> Iterator[tuple[Entry, Any]]:
    """Each entry with its summary for ``rule``, skipping entries that have none."""
    for entry in index.entries:
        part = entry.parts.get(rule)
        if part is not None:
            yield entry, part
