"""What the ledger reads from each version of a project.yaml, through the strict loader that validate uses.

There is one reader: every version is parsed by ``xzdoc.source.yamlio``
(libyaml underneath, duplicate keys refused, the same line breaks), so a
file cannot say one stage to the ledger and another to ``validate``. A
version the loader refuses has no stage: whatever it claims counts for
nothing, and the drift check still sees its folder change.

Facts of a blob never change, so they are kept between runs in the git
directory (``.git/xzdoc/facts.bin``), keyed by blob id. The cache is
checked, not trusted: its first line carries the version of this reader and
the SHA-256 of the entries, and a file that does not match is dropped whole,
as is one whose entries are not of the shape written. The entries are a
``marshal`` dump of plain tuples: it loads several times faster than JSON,
and only bytes whose digest matches are ever handed to ``marshal``.

Field digests (what names the fields that drifted) are needed only for the
few versions a drift finding or an adjustment request compares, so they are
computed on first use, by the same strict loader over the same blob, and
kept with the entry.
"""

from __future__ import annotations

import datetime as dt
import json
import marshal
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError
from xzdoc.source.yamlio import as_date

# hashlib is imported in the functions that hash: loading it (OpenSSL) is a noticeable part of the
# start-up of `xzdoc validate`, which imports this module for EVENT_DATES and FILINGS even outside git.

PROJECT_FILE = "project.yaml"
_CACHE_VERSION = f"xzdoc-facts-11-marshal{marshal.version}"
# Fields of a filing that say when something happened (planned_end and the like look ahead on purpose).
EVENT_DATES = frozenset({"date", "signed", "filed", "consent", "approved", "catalog_registered", "applied", "start", "end"})
# The records that are filings, opinions and approvals (progress reports and evaluations are not dated claims
# that something was approved or filed).
FILINGS = frozenset({"pre_review", "review", "finance_review", "approval", "private_network_approval", "procurement",
                     "contract", "supervision", "acceptance", "acceptance_filing", "termination", "changes"})


@dataclass(frozen=True)
class Facts:
    """What the ledger needs from one project.yaml version."""

    id: str | None
    stage: str | None
    records: frozenset[str]                          # filed records: keys of ``records`` with a value
    dates: tuple[tuple[str, str], ...] = ()          # record key -> its latest date, ISO
    changes: tuple[str, ...] = ()                    # adjustment requests, each as canonical JSON
    error: str = ""                                  # why the strict loader refused the version
    # "path=digest" per field (two levels deep), tab-separated; None until asked for (FactsCache.full)
    fields: str | None = None

    @property
    def digests(self) -> dict[str, str] | None:
        """Field path -> a short digest of its value; None when not computed for this version."""
        if self.fields is None:
            return None
        return dict(item.split("=", 1) for item in self.fields.split("\t") if item)

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(c) for c in self.changes]


def strict(blob: bytes, digests: bool = False) -> Facts:
    """Facts of a project.yaml version; a version the loader refuses has none.

    ``digests`` adds the field digests, which only drift naming needs.
    """
    from xzdoc.config import plain
    from xzdoc.source.yamlio import YMap, decode, loads

    try:
        data = loads(decode(blob, PROJECT_FILE), PROJECT_FILE)
    except XzdocError as exc:
        return Facts(None, None, frozenset(), error=exc.message)
    if not isinstance(data, YMap):
        return Facts(None, None, frozenset(), error="顶层不是映射")
    stage = data.get("stage")
    pid = data.get("id")
    records = data.get("records")
    filed: set[str] = set()
    dates: list[tuple[str, str]] = []
    changes: list[str] = []
    if isinstance(records, dict):
        for key, value in records.items():
            if value in (None, "", {}, []):
                continue
            filed.add(str(key))
            latest = max(_dates(value, True), default=None) if key in FILINGS else None
            if latest is not None:
                dates.append((str(key), latest))
        if isinstance(records.get("changes"), list):
            changes = [_canonical(plain(c)) for c in records["changes"]]
    return Facts(pid if isinstance(pid, str) else None, stage if isinstance(stage, str) else None,
                 frozenset(filed), tuple(sorted(dates)), tuple(changes), fields=_digests(data) if digests else None)


def _digests(data: dict[str, Any]) -> str:
    """Short digests of each field's value, so that later runs can name what changed without parsing again."""
    import hashlib

    out = []
    for key, value in data.items():
        items = value.items() if isinstance(value, dict) and value else [("", value)]
        for sub, item in items:
            text = _canonical(item)
            path = (f"{key}.{sub}" if sub else str(key)).replace("\t", " ").replace("=", "＝")
            out.append(f"{path}={hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}")
    return "\t".join(out)


def _canonical(value: Any) -> str:
    """Sorted JSON of a value; a mapping whose keys YAML typed differently (1 and date) sorts by their text."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except TypeError:
        return json.dumps(_text_keys(value), ensure_ascii=False, sort_keys=True, default=str)


def _text_keys(value: Any) -> Any:
    # A key keeps its type in its text: 2025 and '2025' are two keys, and must not collapse into one.
    if isinstance(value, dict):
        return {k if isinstance(k, str) else f"\0{type(k).__name__}\0{k}": _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def _dates(value: Any, event: bool) -> Iterable[str]:
    """The event dates in a filing: values of its date fields, in entries of lists too."""
    if isinstance(value, dt.datetime):
        if event:
            yield value.date().isoformat()
    elif isinstance(value, dt.date):
        if event:
            yield value.isoformat()
    elif isinstance(value, str):
        # Quoted, a date is still one: the schema's date format takes "2027-06-01" as well.
        day = as_date(value) if event else None
        if day is not None:
            yield day.isoformat()
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _dates(v, str(k) in EVENT_DATES)
    elif isinstance(value, list):
        for v in value:
            yield from _dates(v, event)


def _entry(f: Facts) -> tuple[Any, ...]:
    return (f.id, f.stage, tuple(sorted(f.records)), f.dates, f.changes, f.error, f.fields)


_MAYBE_STR, _STR_ONLY = frozenset({str, type(None)}), frozenset({str})


def _facts(blob: Any, e: Any) -> tuple[str, Facts]:
    """One cache entry back as facts; anything not of the shape ``_entry`` writes raises TypeError or ValueError."""
    pid, stage, records, dates, changes, error, fields = e
    # Types compared as sets: a check per value of a few thousand entries would cost what the cache saves.
    if (type(blob) is not str or type(error) is not str or {type(pid), type(stage), type(fields)} - _MAYBE_STR
            or {type(records), type(dates), type(changes), *map(type, dates)} != {tuple}
            or {*map(type, records), *map(type, changes), *map(type, chain.from_iterable(dates))} - _STR_ONLY
            or any(len(d) != 2 for d in dates)):
        raise TypeError("not a facts entry")
    return blob, Facts(pid, stage, frozenset(records), dates, changes, error, fields)


class FactsCache:
    """Facts by blob id, parsed once per blob and kept in the git directory between runs."""

    def __init__(self, folder: Path | None, workdir: Path | None = None) -> None:
        self.file = folder / "facts.bin" if folder else None
        self.workdir = workdir
        self.known: dict[str, Facts] = {}
        self._loaded = 0
        self._dirty = False
        self._load()

    def _load(self) -> None:
        if self.file is None or not self.file.is_file():
            return
        import hashlib

        try:
            header, _, body = self.file.read_bytes().partition(b"\n")
            # The digest covers the entries as written: a changed byte drops the whole cache.
            if header.decode() != f"{_CACHE_VERSION} {hashlib.sha256(body).hexdigest()}":
                return
            self.known = dict(_facts(blob, e) for blob, e in marshal.loads(body))
        except (OSError, ValueError, EOFError, TypeError, IndexError):
            self.known = {}
        self._loaded = len(self.known)

    def missing(self, blobs: Iterable[str]) -> list[str]:
        return [b for b in dict.fromkeys(blobs) if b not in self.known]

    def add(self, contents: Mapping[str, bytes]) -> None:
        for blob, data in contents.items():
            self.known[blob] = strict(data)
    def get(self, blob: str) -> Facts:
        return self.known.get(blob) or Facts(None, None, frozenset(), error="读不到该版本")

    def full(self, blob: str | None) -> Facts | None:
        """The facts of ``blob`` with field digests, parsing it again (strictly) the first time they are asked."""
        if not blob:
            return None
        self.complete([blob])
        return self.get(blob)

    def complete(self, blobs: Iterable[str | None]) -> None:
        """Add field digests to the facts of ``blobs`` that lack them, reading them with one ``git cat-file``."""
        wanted = [b for b in dict.fromkeys(blobs) if b and b in self.known and self.known[b].fields is None
                  and not self.known[b].error]
        if not wanted or self.workdir is None:
            return
        from xzdoc.history import gitlog

        for blob, data in gitlog.read_objects(self.workdir, wanted).items():
            self.known[blob] = strict(data, digests=True)
            self._dirty = True

    def save(self) -> None:
        if self.file is None or (len(self.known) == self._loaded and not self._dirty):
            return
        import hashlib

        body = marshal.dumps(tuple((blob, _entry(f)) for blob, f in self.known.items()))
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".facts-")
            with os.fdopen(fd, "wb") as out:
                out.write(f"{_CACHE_VERSION} {hashlib.sha256(body).hexdigest()}\n".encode() + body)
            os.replace(tmp, self.file)
        except OSError:
            pass   # a cache that cannot be written costs time, never a wrong answer
