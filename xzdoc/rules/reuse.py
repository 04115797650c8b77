"""Near-duplicate chapters across the portfolio (第一条 只合不分, 第八条 不得变相包装).

Two parts, so that a validator holding one project at a time keeps only the
compact one: ``summarise`` turns a project's drafts into per-chapter sketches
(the smallest hashes of its sentences: bottom-k MinHash over sentence
shingles, never the text), and ``compare`` judges the sketches of the whole
portfolio at the end. Sentences are cut with str.split and hashed as
written (CRC-32 of the UTF-8 bytes: the same in every process, so shards
agree), so a chapter copied with a few figures changed still shares all its
other sentences. The rule's two halves (``summarize``, ``portfolio``) keep a
project's sketches in the portfolio index, all of a project's in one
base64 run; at the end only chapters sharing enough sentences with some
other chapter are turned into sets and compared, through an inverted index
of sentence hashes. Chapters whose titles the repository lists under
``reuse.exclude`` in xzdoc.yaml (legal basis, the bureau's own profile) are
not compared.
"""

from __future__ import annotations

import base64
import heapq
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from xzdoc.model import ERROR, Draft, Project
from xzdoc.rules.base import Context, Hit
from xzdoc.rules.index import Index, summaries
from xzdoc.source.drafts import normalise

SKETCH = 64           # hashes kept per chapter; chapters below this size are kept whole (exact Jaccard)
MIN_SENTENCES = 6     # shorter chapters are too small to call copied
MIN_SHARED = 4        # sentences two chapters must share before their overlap is reported
VERBATIM = 0.9       # at least this share is copying outright: an error, not a warning
MAX_BUCKET = 24       # a sentence in more chapters than this is boilerplate, not evidence of copying
_EMPTY = zlib.crc32(b"")
_STOP = "。".encode()
RULE = "art08.chapter-reuse"


@dataclass(frozen=True)
class Chapter:
    project: str        # project id
    name: str           # project name, for the message
    where: str          # the project's id line in its project.yaml
    path: str           # draft path as shown
    kind: str
    title: str
    line: int
    size: int           # distinct sentences
    sketch: frozenset[int]


def summarise(project: Project, exclude: Iterable[str] = ()) -> tuple[Chapter, ...]:
    """The per-project part as chapters: one sketch per chapter of every draft."""
    where = f"{project.yaml_path} 第{project.data.at('id')[0]}行"
    words = tuple(exclude)
    skip = {normalise(t) for t in words}
    return tuple(Chapter(project.id, project.name, where, draft.path, draft.kind, title, line, size, frozenset(kept))
                 for draft in project.drafts.values() if draft.text
                 for title, line, size, kept in _chapters(draft.text, words, skip, _as_read(draft)))


def _as_read(draft: Draft) -> bytes | None:
    """The draft's bytes when they are exactly its text in UTF-8 (no BOM, no CR to normalise), else None."""
    raw = draft.raw
    if raw and not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw:
        return raw
    return None


def _chapters(body: str, words: tuple[str, ...], skip: set[str], raw: bytes | None = None
              ) -> Iterator[tuple[str, int, int, list[int]]]:
    """(title, line, distinct sentences, sorted kept hashes) of each chapter of a draft worth comparing.

    The draft is cut into chapters as bytes: "\n# " and "\n" are ASCII, which UTF-8 never uses
    inside a multi-byte character, so the cuts and line counts are the text's. ``raw`` is the
    text's UTF-8 as read, when it is that exactly: encoding a long Chinese draft again costs more
    than the cutting.
    """
    if raw is not None:
        data = b"\n" + raw
    else:
        try:
            data = ("\n" + body).encode("utf-8")
        except UnicodeEncodeError:      # a lone surrogate: chapter by chapter, as only the chapters holding it fail
            yield from _chapters_of_text(body, words, skip)
            return
    parts = data.split(b"\n# ")   # text before the first chapter, then one part per chapter
    line = parts[0].count(b"\n")
    crc, stop, empty = zlib.crc32, _STOP, _EMPTY
    for part in parts[1:]:
        here = line + 1
        line = here + part.count(b"\n")
        cut = part.find(b"\n")
        if cut < 0:
            continue        # a title with no text under it
        title = part[:cut]
        if stop in title:
            sentences = part[cut + 1:].split(stop)
        else:               # split in place, then drop the title from the first sentence: no copy of the chapter
            sentences = part.split(stop)
            sentences[0] = sentences[0][cut + 1:]
        hashes = set(map(crc, sentences))
        hashes.discard(empty)
        if len(hashes) < MIN_SENTENCES:
            continue
        name = title.decode("utf-8")
        if words and any(w in name for w in words) and normalise(name) in skip:
            continue
        yield name.strip(), here, len(hashes), sorted(hashes)[:SKETCH]


def _chapters_of_text(body: str, words: tuple[str, ...], skip: set[str]
                      ) -> Iterator[tuple[str, int, int, list[int]]]:
    parts = ("\n" + body).split("\n# ")
    line = parts[0].count("\n")
    for part in parts[1:]:
        line += 1
        title, _, chapter = part.partition("\n")
        here, line = line, line + part.count("\n")
        if words and any(w in title for w in words) and normalise(title) in skip:
            continue
        sketched = _sketch(chapter)
        if sketched is not None:
            yield title.strip(), here, sketched[0], sorted(sketched[1])


def _sketch(text: str) -> tuple[int, frozenset[int]] | None:
    # Hashing every 。-ended sentence in C (map/set) keeps this near the cost of reading the text.
    hashes = set(map(zlib.crc32, text.encode("utf-8").split(_STOP)))
    hashes.discard(_EMPTY)
    if len(hashes) < MIN_SENTENCES:
        return None
    kept = hashes if len(hashes) <= SKETCH else set(heapq.nsmallest(SKETCH, hashes))
    return len(hashes), frozenset(kept)


@dataclass(frozen=True)
class Overlap:
    chapter: Chapter
    other: Chapter
    share: float        # estimated fraction of the smaller chapter's sentences found in the other
    copies: int         # how many chapters elsewhere hold this very text


def compare(chapters: Sequence[Chapter], threshold: float, boilerplate: frozenset[int] = frozenset()
            ) -> Iterator[Overlap]:
    """Every chapter that (nearly) repeats a chapter of another project, with the closest such chapter.

    Identical sketches are grouped first; the near-duplicate search then runs
    over one representative per group, so a chapter copied into many projects
    costs one comparison, not one per pair. Hashes in ``boilerplate`` are
    known to be in more than MAX_BUCKET chapters of the whole portfolio
    (of which ``chapters`` may be a part) and count for nothing.
    """
    exact: dict[frozenset[int], list[int]] = defaultdict(list)
    for i, c in enumerate(chapters):
        exact[c.sketch].append(i)
    groups = list(exact.values())
    owner = [c.project for c in chapters]
    firsts = [chapters[g[0]] for g in groups]
    buckets: dict[int, list[int]] = defaultdict(list)
    for k, c in enumerate(firsts):
        for h in c.sketch:
            buckets[h].append(k)
    for k, group in enumerate(groups):
        projects = Counter(map(owner.__getitem__, group))
        best = None if len(projects) > 1 else _closest(k, firsts, groups, chapters, buckets, boilerplate)
        first = group[0]
        second = next((i for i in group if owner[i] != owner[first]), first)
        for j in group:
            c = chapters[j]
            others = len(group) - projects[c.project]
            if others:
                yield Overlap(c, chapters[first if owner[first] != c.project else second], 1.0, others)
            elif best and best[1] >= threshold:
                yield Overlap(c, chapters[best[0]], best[1], 1)


def _closest(k: int, firsts: Sequence[Chapter], groups: Sequence[list[int]], chapters: Sequence[Chapter],
             buckets: dict[int, list[int]], boilerplate: frozenset[int]) -> tuple[int, float] | None:
    """(chapter index, share) of the closest chapter of another project to group ``k``'s chapter."""
    c = firsts[k]
    counts: dict[int, int] = defaultdict(int)
    for h in c.sketch:
        members = buckets[h]
        if len(members) <= MAX_BUCKET and h not in boilerplate:
            for other in members:
                if other != k:
                    counts[other] += 1
    best: tuple[int, float] | None = None
    for other, shared in counts.items():
        if shared < MIN_SHARED:
            continue
        target = next((j for j in groups[other] if chapters[j].project != c.project), None)
        if target is None:
            continue
        share = _containment(c, firsts[other])
        if best is None or share > best[1]:
            best = (target, share)
    return best


def _containment(a: Chapter, b: Chapter) -> float:
    """Shared sentences over the smaller chapter, estimated from the bottom-k sketches."""
    union = heapq.nsmallest(SKETCH, a.sketch | b.sketch)
    both = sum(1 for h in union if h in a.sketch and h in b.sketch)
    jaccard = both / len(union)
    return min(1.0, jaccard * (a.size + b.size) / (1 + jaccard) / min(a.size, b.size))


def summarize(project: Project, ctx: Context) -> dict[str, Any]:
    """The index part: the id line, each draft's chapters, and all their sketches in one packed run.

    A chapter keeps min(size, SKETCH) hashes, so the run needs no lengths; one base64 text per
    project, and path and kind once per draft, keep the part about two thirds of one list per chapter.
    """
    words = tuple(ctx.config.reuse_exclude)
    skip = {normalise(t) for t in words}
    drafts = []
    run = array("I")
    for draft in project.drafts.values():
        if draft.text:
            chapters = []
            for title, line, size, kept in _chapters(draft.text, words, skip, _as_read(draft)):
                chapters.append([title, line, size])
                run.extend(kept)
            if chapters:
                drafts.append([draft.path, draft.kind, chapters])
    return {"id": project.data.at("id")[0], "drafts": drafts, "hashes": base64.b64encode(run.tobytes()).decode("ascii")}


def _sketches(part: dict[str, Any]) -> Iterator[tuple[str, str, str, int, int, array[int], bytes]]:
    """(path, kind, title, line, size, sorted hashes, their bytes) of each chapter of a project's part."""
    raw = base64.b64decode(part["hashes"])
    run = array("I")
    run.frombytes(raw)
    at, width = 0, run.itemsize
    for path, kind, chapters in part["drafts"]:
        for title, line, size in chapters:
            end = at + min(size, SKETCH)
            yield path, kind, title, line, size, run[at:end], raw[at * width: end * width]
            at = end


def portfolio(index: Index, ctx: Context) -> Iterator[Hit]:
    """Near-duplicate chapters across the index, without comparing every pair.

    Pass 1 marks each hash in a fixed bit table (_Seen) and records, for the
    few already marked, the distinct sketches holding them; a sketch itself
    is marked the same way. Past MAX_BUCKET holders a hash is boilerplate. As
    a hash's first holder goes unrecorded, a hash with exactly MAX_BUCKET
    recorded holders may or may not be boilerplate; pass 2 counts those
    exactly, while it keeps the chapters that are possibly an exact copy or
    hold MIN_SHARED recorded hashes that are not surely boilerplate. Any other
    chapter is neither a copy nor a near copy of anything, so ``compare`` over
    the few kept gives what it gives over all.
    """
    # Zeroing the full 36 MiB would cost a one-project check more than its rules, so small portfolios
    # get small tables; from about a thousand projects on the size is fixed, and memory stays flat.
    projects = max(1, len(index))
    seen, copies = _Seen(_bits(projects * 32768, 16, 25)), _Seen(_bits(projects * 4096, 12, 22))
    holders: dict[int, Any] = {}     # a recorded hash -> the (hash of the) one sketch holding it, or a set of them
    full: set[int] = set()           # hashes recorded in more than MAX_BUCKET sketches: boilerplate
    twice: set[int] = set()          # sketch hashes possibly held by two chapters
    for _, part in summaries(index, RULE):
        for *_, sketch, raw in _sketches(part):
            key = hash(raw)
            if copies.mark_one(key):
                twice.add(key)
            again: Iterable[int] = seen.mark(sketch)
            if again and full:
                again = set(again).difference(full)
            for h in again:
                held = holders.get(h)
                if held is None:
                    holders[h] = key
                elif isinstance(held, set):
                    held.add(key)
                    if len(held) > MAX_BUCKET:
                        full.add(h)
                elif held != key:
                    holders[h] = {held, key}
    del seen, copies
    # MAX_BUCKET recorded holders plus the unrecorded first one would make MAX_BUCKET + 1.
    unsure = {h for h, held in holders.items() if isinstance(held, set) and len(held) == MAX_BUCKET}
    evidence = holders.keys() - full
    del holders
    exact: dict[int, set[int]] = {h: set() for h in unsure}
    kept: list[Chapter] = []
    for entry, part in summaries(index, RULE):
        where = f"{entry.yaml_path} 第{part['id']}行"
        for path, kind, title, line, size, sketch, raw in _sketches(part):
            key = hash(raw)
            if unsure and not unsure.isdisjoint(sketch):
                for h in unsure.intersection(sketch):
                    exact[h].add(key)
            if key in twice or len(evidence.intersection(sketch)) >= MIN_SHARED:
                kept.append(Chapter(entry.id, entry.name, where, path, kind, title, line, size, frozenset(sketch)))
    boilerplate = frozenset(full.union(h for h, keys in exact.items() if len(keys) > MAX_BUCKET))
    by_document: dict[tuple[str, str, str, str], list[Overlap]] = defaultdict(list)
    for o in compare(kept, ctx.config.reuse_threshold, boilerplate):
        by_document[(o.chapter.project, o.chapter.path, o.other.project, o.other.path)].append(o)
    for group in by_document.values():
        yield _hit(group)


def _bits(size: int, low: int, high: int) -> int:
    return max(low, min(high, (size - 1).bit_length()))


class _Seen:
    """Values possibly seen before, in a fixed table of 2**bits bytes: two bits of one byte per value.

    The byte comes from the top bits of a 32-bit hash and the two bits from
    its low six, so a false alarm needs both bits set by other hashes; with
    ten million sentence hashes in the default 32 MiB that stays under one in
    a hundred, and a false alarm only costs a closer look.
    """

    MASKS = bytes((1 << (i & 7)) | (1 << (i >> 3)) for i in range(64))

    def __init__(self, bits: int = 25) -> None:
        self.table = bytearray(1 << bits)
        self.shift, self.size = 32 - bits, (1 << bits) - 1

    def mark(self, hashes: Sequence[int]) -> list[int]:
        """Mark ``hashes`` (distinct 32-bit values); return those possibly marked before."""
        table, masks, shift = self.table, self.MASKS, self.shift
        again = []
        for h in hashes:
            byte, mask = h >> shift, masks[h & 63]
            old = table[byte]
            if old & mask == mask:
                again.append(h)
            else:
                table[byte] = old | mask
        return again

    def mark_one(self, value: int) -> bool:
        """Mark any int (a hash() value); True when possibly marked before."""
        byte, mask = (value >> self.shift) & self.size, self.MASKS[value & 63]
        before = self.table[byte] & mask == mask
        self.table[byte] |= mask
        return before


GROUPED = 3   # more copied chapters than this from one document of one project make one finding


def _hit(group: list[Overlap]) -> Hit:
    o = group[0]
    level = ERROR if all(g.share >= VERBATIM for g in group) else None
    tail = ("：不得照搬其他项目或把一个项目拆分包装（第一条、第八条）；"
            "确属通用内容的章节可在 xzdoc.yaml 的 reuse.exclude 中列出")
    other = f"项目 {o.other.project}（{o.other.name}，{o.other.where} id）《{o.other.kind}》"
    if len(group) > GROUPED:
        titles = "、".join(f"“{g.chapter.title}”（第{g.chapter.line}行）" for g in group)
        share = round(min(g.share for g in group) * 100)
        return Hit((o.chapter.line, 1), f"《{o.chapter.kind}》有{len(group)}个章节与{other}（{o.other.path}）的章节"
                                        f"大段相同（每章相同语句不少于{share}%）：{titles}{tail}",
                   path=o.chapter.path, level=level)
    more = f"（共有{o.copies}个其他项目的章节与之相同）" if o.copies > 1 else ""
    return Hit((o.chapter.line, 1),
               f"《{o.chapter.kind}》第{o.chapter.line}行章节“{o.chapter.title}”与{other}的章节“{o.other.title}”"
               f"（{o.other.path} 第{o.other.line}行）约{round(o.share * 100)}%的语句相同{more}{tail}",
               path=o.chapter.path, level=level)
