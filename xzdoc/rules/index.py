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

import itertools
import json
import os
import tempfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError, os_reason
from xzdoc.model import Finding

# Bumped whenever a rule's summary changes shape: shards written by another version must not be joined.
FORMAT = "xzdoc-index/3"


@dataclass(frozen=True)
class Entry:
    """One project as the portfolio rules see it (unpacked from the index on each pass)."""

    display: str                # folder relative to the repository
    id: str
    name: str
    asked: bool                 # its findings are reported (asked for, not only there for comparison)
    parts: dict[str, Any] = field(default_factory=dict)   # rule id -> that rule's summary

    @property
    def yaml_path(self) -> str:
        return f"{self.display}/project.yaml"

    def owns(self, path: str) -> bool:
        return path == self.display or path.startswith(self.display + "/")


class Rows:
    """Packed rows in insertion order: in memory while small, then appended to an unnamed temporary file.

    Only offsets stay in memory, so a province's index costs a few bytes a project.
    The file has no name from the start (it is unlinked at creation), so an
    interrupted run, even one killed outright, leaves nothing behind.
    """

    SPILL = 1 << 21   # bytes held in memory before the rows move to disk

    def __init__(self) -> None:
        self._ends = array("Q")       # end offset of each row
        self._buffer = bytearray()    # rows not yet written to the file
        self._flushed = 0             # bytes already in the file
        self._file: Any = None

    def append(self, row: bytes) -> None:
        self._buffer += row
        self._ends.append(self._flushed + len(self._buffer))
        if len(self._buffer) >= self.SPILL:
            self._flush()

    def extend(self, rows: Iterable[bytes]) -> None:
        for row in rows:
            self.append(row)

    def _flush(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="xzdoc-index-", buffering=0)  # noqa: SIM115 (lives as long as the index)
        os.pwrite(self._file.fileno(), self._buffer, self._flushed)
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def _read(self, start: int, size: int) -> bytes:
        return os.pread(self._file.fileno(), size, start)

    def get(self, i: int) -> bytes:
        start, end = self._ends[i - 1] if i else 0, self._ends[i]
        if end > self._flushed:
            return bytes(self._buffer[start - self._flushed:end - self._flushed])
        return self._read(start, end - start)

    def __len__(self) -> int:
        return len(self._ends)

    def __iter__(self) -> Iterator[bytes]:
        start, chunk, base = 0, b"", 0
        for i in range(len(self._ends)):
            end = self._ends[i]
            if end > self._flushed:      # the in-memory tail
                yield bytes(self._buffer[start - self._flushed:end - self._flushed])
            else:
                if end > base + len(chunk):   # read ahead in large pieces
                    chunk, base = self._read(start, max(self.SPILL, end - start)), start
                yield chunk[start - base:end - base]
            start = end

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()


class Index:
    """Entries of every project seen, plus the per-project findings a shard carries to the join.

    Each entry is kept packed, one compact JSON row of UTF-8 bytes, and unpacked
    while iterating: ten thousand projects' dicts and lists would otherwise cost
    more memory than everything else validation keeps. Past a few megabytes
    the rows live in a temporary file (see :class:`Rows`).
    """

    def __init__(self, entries: Iterable[Entry] = (), findings: list[Finding] | None = None,
                 checked: int = 0) -> None:
        self.rows = Rows()
        self.findings: list[Finding] = findings if findings is not None else []
        self.checked = checked
        self.unasked = 0            # entries there only for comparison
        self.shard: tuple[int, int] | None = None   # (i, n) of the run that wrote it
        self.partial = False        # the run was limited to some paths: its index covers only those
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        self.unasked += not entry.asked
        self.rows.append(_pack([entry.display, entry.id, entry.name, entry.asked, entry.parts]))

    def add_packed(self, row: bytes, asked: bool) -> None:
        """An entry already packed by :meth:`add` (a cached project's), kept as it is."""
        self.unasked += not asked
        self.rows.append(row)

    def __iter__(self) -> Iterator[Entry]:
        for row in self.rows:
            yield Entry(*json.loads(row))

    def __len__(self) -> int:
        return len(self.rows)

    def asked(self) -> set[str] | None:
        """The folders whose findings are reported; None when that is every entry."""
        return {e.display for e in self if e.asked} if self.unasked else None

    def dump(self, path: Path) -> None:
        from xzdoc.source import fsio

        findings = [[f.path, f.line, f.column, f.rule, f.level, f.message, f.article] for f in self.findings]
        fsio.write_atomic(path, b"".join(self._document(findings)))

    def _document(self, findings: list[list[Any]]) -> Iterator[bytes]:
        shard = list(self.shard) if self.shard else None
        yield (f'{{"format":"{FORMAT}","checked":{self.checked},"shard":{json.dumps(shard)},'
               f'"partial":{json.dumps(self.partial)},"entries":[').encode()
        for i, row in enumerate(self.rows):
            yield b"," + row if i else row
        yield b'],"findings":' + _pack(findings) + b"}"

    @classmethod
    def load(cls, path: Path) -> Index:
        if path.exists() and not path.is_file():
            # A FIFO would block the run and /dev/zero fill the memory: an index is a file a shard wrote.
            raise XzdocError("索引文件不是普通文件", str(path), hint="给出 xzdoc validate --index-out 写出的文件")
        try:
            doc = json.loads(path.read_text("utf-8"))
            if doc.get("format") != FORMAT:
                raise ValueError(doc.get("format"))
            out = cls(findings=[Finding(*row) for row in doc["findings"]], checked=int(doc["checked"]))
            shard, out.partial = doc["shard"], doc["partial"] is True
            if shard is not None:
                number, count = (int(x) for x in shard)
                out.shard = (number, count)
            for row in doc["entries"]:
                entry = Entry(*row)
                if not (isinstance(entry.display, str) and isinstance(entry.parts, dict)):
                    raise TypeError(entry.display)
                out.add(entry)
            return out
        except OSError as exc:
            raise XzdocError(f"无法读取索引文件：{os_reason(exc)}", str(path)) from None
        except (ValueError, KeyError, TypeError, AttributeError):   # AttributeError: a top level not an object
            raise XzdocError("不是 xzdoc validate --index-out 写出的索引文件（或版本不符）", str(path),
                             hint="用同一版本的 xzdoc 重新运行各分片：xzdoc validate --shard i/n --index-out FILE") from None

    @classmethod
    def merge(cls, parts: Iterable[Index]) -> Index:
        out = cls()
        keyed: list[tuple[str, int, int]] = []     # display, part, row number: the rows stay where they are
        held = list(parts)
        _complete(held)
        for p, part in enumerate(held):
            out.checked += part.checked
            out.findings += part.findings
            out.unasked += part.unasked
            keyed += ((entry.display, p, i) for i, entry in enumerate(part))
        keyed.sort(key=lambda item: item[0])
        for (a, *_), (b, *_) in itertools.pairwise(keyed):
            if a == b:
                raise XzdocError(f"项目 {a} 出现在多个分片的索引中",
                                 hint="各分片须使用同一个 n（--shard i/n），且每个 i 只运行一次")
        for _, p, i in keyed:
            out.rows.append(held[p].rows.get(i))
        return out


def _complete(parts: list[Index]) -> None:
    """Refuse a join that would pass for a whole run without being one: a shard missing, shards of two
    splits, or an index of a run limited to some paths."""
    if any(p.partial for p in parts):
        raise XzdocError("有的索引来自只检查部分项目的运行（给出了 PATH），合并的结果不代表整个仓库",
                         hint="各分片运行 xzdoc validate --shard i/n --index-out FILE，不给 PATH")
    shards = [p.shard for p in parts]
    if len(parts) == 1 and shards[0] is None:
        return                      # one whole run's index
    if None in shards:
        raise XzdocError("有的索引不是分片运行写出的（没有 --shard），不能与分片的索引合并",
                         hint="各分片运行 xzdoc validate --shard i/n --index-out FILE")
    counts = {n for _, n in shards}  # type: ignore[misc]
    if len(counts) != 1:
        raise XzdocError(f"索引来自不同的分片划分（n = {'、'.join(str(n) for n in sorted(counts))}）",
                         hint="各分片须使用同一个 n（--shard i/n），且每个 i 只运行一次")
    count = counts.pop()
    twice = sorted({i for i, _ in shards if sum(1 for j, _ in shards if j == i) > 1})  # type: ignore[misc]
    if twice:
        raise XzdocError(f"分片 {'、'.join(f'{i}/{count}' for i in twice)} 的索引给了多次",
                         hint="每个分片的索引只 --join 一次")
    missing = sorted(set(range(1, count + 1)) - {i for i, _ in shards})  # type: ignore[misc]
    if missing:
        raise XzdocError(f"缺少分片 {'、'.join(f'{i}/{count}' for i in missing)} 的索引，合并的结果会漏掉这些项目",
                         hint="每个分片都运行一次 xzdoc validate --shard i/n --index-out FILE，再一起 --join")


def _pack(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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

    def holds(self, folder: str | Path) -> bool:
        # By name, not position: adding a project moves no other project to another shard.
        name = os.path.basename(str(folder).rstrip("/"))
        return zlib.crc32(name.encode("utf-8")) % self.count == self.number - 1


def summaries(index: Index, rule: str) -> Iterator[tuple[Entry, Any]]:
    """Each entry with its summary for ``rule`` (unpacked one at a time), skipping entries that have none."""
    for entry in index:
        part = entry.parts.get(rule)
        if part is not None:
            yield entry, part
