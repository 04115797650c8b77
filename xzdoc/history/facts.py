"""What the ledger reads from each version of a project.yaml: its id, stage and filed records.

A history holds thousands of versions, so the strict loader (which keeps
every line and refuses duplicates) is too slow to run on each. A scan reads
block-style YAML the way the loader would and says "not sure" - falling back
to the strict loader - whenever the two could disagree: a second ``stage:``
line, a top-level line that is not a plain key (quoted, flow-style, explicit,
anchored or merged keys, directives, continuation lines), a value YAML would
type (``yes``, ``~``, ``0x1F``) or continue on the next line, a byte-order
mark, and so on.

One pattern, run once over git's output for many versions at a time, finds
their top-level ``id``, ``stage`` and ``records`` lines. A records block is
taken apart once per distinct text, because versions mostly differ
elsewhere: line by line when it is plainly block-style, otherwise by the
strict loader on the block alone.

What the scan cannot see: a version the strict loader rejects as a whole (a
syntax error or a duplicate key elsewhere in the file) still yields what its
lines say; and a quoted or flow scalar continued onto lines that start in
column 0 can hold a line that looks like a top-level key.

Facts of a blob never change, so they are kept between runs in the git
directory (``.git/xzdoc/facts``); a warm run reads only blobs it has not seen.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from xzdoc.errors import XzdocError

PROJECT_FILE = "project.yaml"
_CACHE_VERSION = "xzdoc-facts 2"
# At a line start: a top-level key the ledger reads (with the rest of its line), or a top-level line the
# scan cannot vouch for (anything but a plain key, a comment or indentation). The lookahead for a space
# comes first because most lines are indented, and the pattern then gives up on them soonest.
_LINES = re.compile(rb"\n(?=[^ ])(?:(id|stage|records)(?=[ \t:])([^\r\n]*)|[^\t\r\n#A-Za-z_])")
_DOCUMENT_START = re.compile(rb"---[ \t]*(?:#[^\r\n]*)?\r?\n")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# After a one-line scalar: no more indented line that would continue it.
_NEXT = re.compile(rb"\r?(?:\n(?:[ \t]*\r?\n)*(?:[ \t]*#|(?![ \t\r\n]))|\Z)")
_COMMENT = rb"(?:[ \t]+(?:#.*)?)?"
# Characters YAML reads as line breaks besides \n (\r is checked apart), and the byte-order mark.
_ODD = rb"\r(?!\n)|\xc2\x85|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf"
_BREAKS = re.compile(rb"\r(?!\n)|\xc2\x85|\xe2\x80[\xa8\xa9]")
# The rest of a stage, id or records line after its key.
_STAGE = re.compile(rb"[ \t]*:[ \t]+(?:(?P<p>[A-Za-z_]+)|'(?P<s>[A-Za-z_]+)'|\"(?P<d>[A-Za-z_]+)\")" + _COMMENT)
_ID = re.compile(rb"[ \t]*:[ \t]+(?:(?P<p>(?=[A-Za-z_\x80-\xff])(?:(?!" + _ODD + rb")[^\s'\"#\\])+(?<!:))"
                 rb"|'(?P<s>(?:(?!" + _ODD + rb")[^'\r\n])+)'|\"(?P<d>(?:(?!" + _ODD + rb")[^\"\\\r\n])+)\")" + _COMMENT)
_RECORDS = re.compile(rb"[ \t]*:" + _COMMENT)
_TOP_LEVEL = re.compile(rb"\n[^ \t\r\n#]")
# Plain words YAML 1.1 reads as booleans or null; any other plain word starting with a letter is a string.
_TYPED_WORDS = frozenset(b"yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF null Null NULL"
                         .split())
_KEY = re.compile(r"[A-Za-z0-9_]+")

# The records block, line by line. A line is self-contained when it opens no
# quoted or flow scalar that could go on to the next line.
_PLAIN = rb"(?![-?:](?:[ \t]|$))[^\"'\[\]{}&*!|>%@`#,\s](?:[^:#\n]|:(?![ \t]|$)|(?<![ \t])#)*"
_SELF_CONTAINED = re.compile(
    rb"(?:-(?:[ \t]+|$))*"
    rb"(?:(?:" + _PLAIN + rb")[ \t]*:(?:[ \t]+|$))?"
    rb"(?:" + _PLAIN + rb"|\{[^{}\[\]\"'#\n]*\}|\[[^{}\[\]\"'#\n]*\]|\"[^\"\\\n]*\"|'[^'\n]*')?"
    rb"(?:[ \t]+#.*)?[ \t]*")
_ENTRY = re.compile(
    rb"(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]*$|[ \t]+(?:"
    rb"(?P<empty>\{[ \t]*\}|\[[ \t]*\]|\"\"|''|#.*)"
    rb"|(?P<full>\{[ \t]*[^\s}]|\[[ \t]*[^\s\]]|\"[^\"]|'[^'])"
    rb"|(?P<word>[A-Za-z_\x80-\xff][^\s#]*)"
    rb").*)?")
_NESTED = re.compile(rb"-(?:[ \t]|$)|(?:" + _PLAIN + rb")[ \t]*:(?:[ \t]|$)")
_BLOCK_ODD = re.compile(rb"\t|\x00|" + _ODD)


@dataclass(frozen=True)
class Facts:
    """What the ledger needs from one project.yaml version."""

    id: str | None
    stage: str | None
    records: frozenset[str]


class Scanner:
    """Facts of many versions at once, remembering what versions share: line values, records blocks, facts."""

    def __init__(self, stages: frozenset[str]) -> None:
        self.stages = stages
        self.stage_values: dict[bytes, str | None] = {}   # the rest of a stage line after the key -> its value
        self.id_values: dict[bytes, str | None] = {}
        self.records_lines: dict[bytes, bool] = {}        # the rest of a records line -> whether it is plain
        self.blocks: dict[bytes, list[tuple[bytes, frozenset[str] | None]]] = {}  # first bytes -> whole blocks
        self.interned: dict[tuple[str | None, str, frozenset[str]], Facts] = {}

    def scan_many(self, buf: bytes, spans: list[tuple[int, int]]) -> list[Facts]:
        """Facts of the versions at ``buf[start:end]`` for each span, in order, each preceded by a newline.

        One pass of one pattern finds the key lines of all of them; what lies
        between the spans (git's object headers) is never a version's line.
        """
        if not spans:
            return []
        hits = list(_LINES.finditer(buf, spans[0][0] - 1, spans[-1][1]))
        starts = [hit.start() for hit in hits]
        out = []
        for start, end in spans:
            first = bisect_left(starts, start - 1)
            out.append(self._facts(buf, start, end, hits[first:bisect_left(starts, end, first)]))
        return out

    def scan(self, buf: bytes, start: int, end: int) -> Facts:
        """Facts of the version at ``buf[start:end]``; the byte before ``start`` must be a newline."""
        return self.scan_many(buf, [(start, end)])[0]

    def _facts(self, buf: bytes, start: int, end: int, hits: list[re.Match[bytes]]) -> Facts:
        if buf.startswith(_BOMS, start):
            return strict(buf[start:end])
        if hits and hits[0].start() == start - 1 and _DOCUMENT_START.match(buf, start, end):
            hits = hits[1:]   # "---" before the first key
        stage_at = id_at = records_at = None
        for hit in hits:
            key = hit[1]
            if key == b"stage" and stage_at is None:
                stage_at = hit
            elif key == b"id" and id_at is None:
                id_at = hit
            elif key == b"records" and records_at is None:
                records_at = hit
            else:   # a line the scan cannot vouch for, or a key written twice
                return strict(buf[start:end])
        if stage_at is None or not _NEXT.match(buf, stage_at.end(), end):
            return strict(buf[start:end])
        stage = self.stage_values.get(stage_at[2], "")
        if stage == "":
            stage = self.stage_values[stage_at[2]] = _value(_STAGE.fullmatch(stage_at[2]))
        if stage is None or stage not in self.stages:
            return strict(buf[start:end])
        # YAML also breaks lines at a lone \r, NEL, LS and PS; a key after one is hidden from the line scan.
        if (id_at is None or records_at is None) and _BREAKS.search(buf, start, end):
            return strict(buf[start:end])
        ident = None
        if id_at is not None:
            if not _NEXT.match(buf, id_at.end(), end):
                return strict(buf[start:end])
            ident = self.id_values.get(id_at[2], "")
            if ident == "":
                ident = self.id_values[id_at[2]] = _value(_ID.fullmatch(id_at[2]))
            if ident is None:
                return strict(buf[start:end])
        records: frozenset[str] | None = frozenset()
        if records_at is not None:
            line_end = records_at.end()
            if line_end < end and buf[line_end] == 13:   # \r
                line_end += 1
            rest = records_at[2]
            plain = self.records_lines.get(rest)
            if plain is None:
                plain = self.records_lines[rest] = _RECORDS.fullmatch(rest) is not None
            whole_line = line_end == end or buf[line_end] == 10
            records = self._records(buf, end, line_end + 1) if plain and whole_line else None
        if records is None:
            return strict(buf[start:end])
        found = self.interned.get((ident, stage, records))
        if found is None:
            found = self.interned[(ident, stage, records)] = Facts(ident, stage, records)
        return found

    def _records(self, buf: bytes, end: int, start: int) -> frozenset[str] | None:
        """The filed records in the block from ``start`` (after a ``records:`` line), once per distinct block."""
        start = min(start, end)
        key = buf[start:start + 64]
        known = self.blocks.get(key)
        if known is None:
            known = self.blocks[key] = []
        for block, records in known:
            after = start + len(block)
            # The same lines, and then the end of the version or a new top-level key.
            if buf.startswith(block, start) and (after == end or (block.endswith(b"\n") and after < end
                                                                  and buf[after] not in b" \t\r\n#")):
                return records
        stop = _TOP_LEVEL.search(buf, start - 1, end)
        block = buf[start:stop.start() + 1 if stop else end]
        records = _entries(block)
        if records is None:
            records = _strict_entries(block)
        known.insert(0, (block, records))
        del known[8:]
        return records


def scan(blob: bytes, stages: frozenset[str]) -> Facts:
    """Stage, id and filed record keys of a project.yaml version."""
    return Scanner(stages).scan(b"\n" + blob, 1, len(blob) + 1)


def _value(found: re.Match[bytes] | None) -> str | None:
    """The scalar a stage or id line holds; None when YAML could read it otherwise."""
    if found is None:
        return None
    plain = found["p"]
    if plain is not None and plain in _TYPED_WORDS:
        return None
    raw = plain if plain is not None else found["s"] if found["s"] is not None else found["d"]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _entries(block: bytes) -> frozenset[str] | None:
    """Keys of the records mapping whose values are not empty, from the block's lines; None when not sure.

    Sure means: every line is self-contained, the entries sit at one
    indentation under plain keys, and each value is plainly empty (``{}``,
    nothing below it) or plainly not (a non-empty flow collection or quoted
    string, a word, a nested mapping or list).
    """
    if _BLOCK_ODD.search(block):
        return None
    seen: set[bytes] = set()
    filed: list[bytes] = []
    indent = -1
    open_key: bytes | None = None     # an entry with nothing after its colon: its value is what follows
    under = b""                       # what the last entry holds: b"node" below it, b"word", or b"closed"
    nested = -1                       # the indentation of the node below the last entry
    for raw in block.split(b"\n"):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        text = line.lstrip(b" ")
        if not text or text.startswith(b"#"):
            continue
        if not _SELF_CONTAINED.fullmatch(text):
            return None
        depth = len(line) - len(text)
        if indent < 0:
            indent = depth
        if depth > indent:
            # Below an entry: its nested node, or more words of its plain value; nothing else is sure.
            if under == b"closed" or (under == b"word" and _NESTED.match(text)) or depth < nested:
                return None
            if open_key is not None:
                if not _NESTED.match(text):
                    return None
                filed.append(open_key)     # a nested mapping or list, not empty
                open_key, under, nested = None, b"node", depth
            continue
        if depth < indent:
            return None
        open_key, under, nested = None, b"closed", -1    # an entry still open here was null
        entry = _ENTRY.fullmatch(text)
        if entry is None or entry["key"] in seen or entry["key"] in _TYPED_WORDS:
            return None
        seen.add(entry["key"])
        if entry["full"] is not None:
            filed.append(entry["key"])
        elif entry["word"] is not None:
            if entry["word"] in _TYPED_WORDS:
                return None
            filed.append(entry["key"])
            under = b"word"
        elif entry["empty"] is None or entry["empty"].startswith(b"#"):
            open_key, under = entry["key"], b"node"
    return frozenset(k.decode() for k in filed)


def _strict_entries(block: bytes) -> frozenset[str] | None:
    """The records block on its own through the strict loader; None when it does not load alone."""
    from xzdoc.source.yamlio import YMap, decode, loads

    try:
        data = loads(decode(b"records:\n" + block, PROJECT_FILE), PROJECT_FILE)
    except XzdocError:
        return None
    records = data.get("records") if isinstance(data, YMap) else None
    return frozenset(str(k) for k, v in records.items() if v) if isinstance(records, dict) else frozenset()


def strict(blob: bytes) -> Facts:
    """Facts by the strict loader; all None when the version does not load."""
    from xzdoc.source.yamlio import YMap, decode, loads

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

    def __init__(self, path: Path | None, stages: frozenset[str], load: bool = True) -> None:
        self.path = path
        self.stages = stages
        self.scanner = Scanner(stages)
        self.stamp = f"{_CACHE_VERSION} {hashlib.sha1(' '.join(sorted(stages)).encode()).hexdigest()}"
        self.known: dict[str, Facts] = {}
        self.lines: dict[str, Facts] = {}     # a cache line after its blob id -> its facts, shared between blobs
        self.text: dict[int, tuple[Facts, str]] = {}   # and back, by identity (holding the facts, so ids stay theirs)
        self.added = 0
        if load:
            self.load()

    def load(self) -> None:
        """Read the facts kept by earlier runs (the constructor does, unless told not to)."""
        if self.path is None:
            return
        try:
            lines = self.path.read_text("utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            return
        if not lines or lines[0] != self.stamp:
            return
        known, parsed = self.known, self.lines
        for line in lines[1:]:
            blob, _, rest = line.partition("\t")
            found = parsed.get(rest)
            if found is None:
                parts = rest.split("\t")
                if len(parts) != 3:
                    continue
                ident, stage, records = parts
                found = parsed[rest] = Facts(ident or None, stage or None, frozenset(filter(None, records.split(","))))
                self.text[id(found)] = (found, rest)
            known[blob] = found

    def get(self, blob_id: str, content: bytes | None) -> Facts:
        """Facts of a blob; ``content`` None when git could not read it (not kept: it may be readable later)."""
        found = self.known.get(blob_id)
        if found is None:
            if content is None:
                return strict(b"")
            found = self.known[blob_id] = scan(content, self.stages)
            self.added += 1
        return found

    def digest(self, buf: bytes, objects: list[tuple[str, int, int]]) -> None:
        """Facts of blobs straight from ``git cat-file --batch`` output: (id, start, end) in ``buf``, in order."""
        new = [item for item in objects if item[0] not in self.known]
        if not new:
            return
        for (blob_id, _, _), found in zip(new, self.scanner.scan_many(buf, [(s, e) for _, s, e in new]), strict=True):
            self.known[blob_id] = found
        self.added += len(new)

    def save(self) -> None:
        """Write atomically; a cache that cannot be written only costs speed next time."""
        if self.path is None or not self.added:
            return
        lines = [self.stamp]
        # By identity (the facts are shared between blobs): hashing a dataclass runs Python code.
        text = self.text
        listed: dict[frozenset[str], str] = {}
        for blob, fa in self.known.items():
            known = text.get(id(fa))
            if known is None:
                records = listed.get(fa.records)
                if records is None:
                    records = listed[fa.records] = ",".join(sorted(k for k in fa.records if _KEY.fullmatch(k)))
                known = text[id(fa)] = (fa, f"{_clean(fa.id)}\t{_clean(fa.stage)}\t{records}")
            lines.append(f"{blob}\t{known[1]}")
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
