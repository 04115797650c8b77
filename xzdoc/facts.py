"""What the ledger reads from each version of a project.yaml: its id, stage and filed records.

A history holds thousands of versions, so the strict loader (which keeps
every line and refuses duplicates) is too slow to run on each. A line scan
reads block-style YAML exactly and says "not sure" - falling back to the
strict loader - whenever a second ``stage:`` line, a quoted or flow-style key
or anything else could make it disagree with the loader.

Facts of a blob never change, so they are kept between runs in the git
directory (``.git/xzdoc/facts``); a warm run reads only blobs it has not seen.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from xzdoc.errors import XzdocError

PROJECT_FILE = "project.yaml"
_STAGE_VALUE = re.compile(rb"stage:[ \t]*(?P<q>['\"]?)(?P<v>[A-Za-z_]+)(?P=q)[ \t]*(?:#.*)?")
_ID_VALUE = re.compile(rb"id:[ \t]*(?P<q>['\"]?)(?P<v>[^\s'\"#]+)(?P=q)[ \t]*(?:#.*)?")
_TOP_LEVEL = re.compile(rb"\n[^ \t\r\n#]")
_FIRST_CHILD = re.compile(rb"\n([ \t]+)[^ \t\r\n#]")
_KEY = re.compile(r"[A-Za-z0-9_]+")
_CACHE_VERSION = "xzdoc-facts 1"


@dataclass(frozen=True)
class Facts:
    """What the ledger needs from one project.yaml version."""

    id: str | None
    stage: str | None
    records: frozenset[str]



def scan(blob: bytes, stages: frozenset[str]) -> Facts:
    """Stage, id and filed record keys of a project.yaml version."""
    stage = _top_scalar(blob, b"stage", _STAGE_VALUE)
    records = _record_keys(blob)
    if stage is not None and stage in stages and records is not None:
        return Facts(_top_scalar(blob, b"id", _ID_VALUE), stage, records)
    return strict(blob)


def _line_starts(blob: bytes, key: bytes) -> list[int]:
    """Offsets of the lines that begin with ``key`` followed by a colon or blank: top-level keys."""
    out = [0] if blob.startswith(key) else []
    needle = b"\n" + key
    i = blob.find(needle)
    while i >= 0:
        out.append(i + 1)
        i = blob.find(needle, i + 1)
    width = len(key)
    return [i for i in out if blob[i + width:i + width + 1] in (b":", b" ", b"\t")]


def _line_at(blob: bytes, start: int) -> tuple[bytes, int]:
    end = blob.find(b"\n", start)
    end = len(blob) if end < 0 else end
    return blob[start:end].rstrip(b"\r"), end


def _top_scalar(blob: bytes, key: bytes, pattern: re.Pattern[bytes]) -> str | None:
    """The plain value of a top-level key written once on its own line; None when not certain."""
    starts = _line_starts(blob, key)
    if len(starts) != 1:
        return None
    line, _ = _line_at(blob, starts[0])
    found = pattern.fullmatch(line)
    return found["v"].decode("utf-8", "replace") if found else None


def _record_keys(blob: bytes) -> frozenset[str] | None:
    """Direct children of a block-style top-level ``records:``; None when unsure."""
    starts = _line_starts(blob, b"records")
    if not starts:
        return frozenset()
    line, end = _line_at(blob, starts[0])
    if len(starts) > 1 or line[len(b"records"):].split(b"#", 1)[0].strip() != b":":
        return None
    stop = _TOP_LEVEL.search(blob, end)
    block = blob[end:stop.start() if stop else len(blob)]
    first = _FIRST_CHILD.search(block)
    if first is None:
        return frozenset()
    indent = first[1]
    if b"\t" in indent:
        return None
    lines, keys = _child_patterns(indent)
    found = keys.findall(block)
    # Every line at the children's indentation must be a plain key, or the scan is not certain.
    if len(found) != len(lines.findall(block)):
        return None
    return frozenset(k.decode() for k in found)


@functools.cache
def _child_patterns(indent: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    return (re.compile(rb"\n" + indent + rb"[^ \t\r\n#]"),
            re.compile(rb"\n" + indent + rb"([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?=[ \t\r\n]|$)"))


def strict(blob: bytes) -> Facts:
    """Facts by the strict loader; all None when the version does not load."""
    from xzdoc.yamlio import YMap, decode, loads

    try:
        data = loads(decode(blob, PROJECT_FILE), PROJECT_FILE)
    except XzdocError:
        return Facts(None, None, frozenset())
    if not isinstance(data, YMap):
        return Facts(None, None, frozenset())
    records = data.get("records")
    keys = frozenset(str(k) for k, v in records.items() if v) if isinstance(records, dict) else frozenset()
    stage, ident = data.get("stage"), data.get("id")
    return Facts(str(ident) if ident is not None else None, str(stage) if stage is not None else None, keys)


class FactsCache:
    """Facts by blob id, persisted in the git directory; a changed stage list invalidates it."""

    def __init__(self, path: Path | None, stages: frozenset[str]) -> None:
        self.path = path
        self.stages = stages
        self.stamp = f"{_CACHE_VERSION} {hashlib.sha1(' '.join(sorted(stages)).encode()).hexdigest()}"
        self.known: dict[str, Facts] = {}
        self.added = 0
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            lines = path.read_text("utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            return
        if not lines or lines[0] != self.stamp:
            return
        for line in lines[1:]:
            parts = line.split("\t")
            if len(parts) == 4:
                blob, ident, stage, records = parts
                self.known[blob] = Facts(ident or None, stage or None, frozenset(filter(None, records.split(","))))

    def get(self, blob_id: str, content: bytes) -> Facts:
        found = self.known.get(blob_id)
        if found is None:
            found = self.known[blob_id] = scan(content, self.stages)
            self.added += 1
        return found

    def save(self) -> None:
        """Write atomically; a cache that cannot be written only costs speed next time."""
        if self.path is None or not self.added:
            return
        lines = [self.stamp]
        for blob, fa in self.known.items():
            records = ",".join(sorted(k for k in fa.records if _KEY.fullmatch(k)))
            lines.append("\t".join((blob, _clean(fa.id), _clean(fa.stage), records)))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".facts.", suffix=".tmp")
        except OSError:
            return   # a read-only checkout: run without the cache
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)


def _clean(value: str | None) -> str:
    return "" if value is None else value.replace("\t", " ").replace("\n", " ")
