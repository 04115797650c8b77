"""Near-duplicate chapters across the portfolio (第一条 只合不分, 第八条 不得变相包装).

Two parts, so that a validator holding one project at a time keeps only the
compact one: ``summarise`` turns a project's drafts into per-chapter sketches
(the smallest hashes of its sentences: bottom-k MinHash over sentence
shingles, never the text), and ``compare`` judges the sketches of the whole
portfolio at the end. Sentences are cut with str.split and hashed as
written (CRC-32 of the UTF-8 bytes: the same in every process, so shards
agree), so a chapter copied with a few figures changed still shares all its
other sentences. The rule's two halves (``summarize``, ``portfolio``) keep a
project's sketches in the portfolio index, base64-packed; at the end only
chapters sharing enough sentences with some other chapter are unpacked and
compared, through an inverted index of sentence hashes. Chapters whose titles the repository lists under ``reuse.exclude``
in xzdoc.yaml (legal basis, the bureau's own profile) are not compared.
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

from xzdoc.model import ERROR, Project
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
    """The compact per-project part: one sketch per chapter of every draft."""
    words = tuple(exclude)
    skip = {normalise(t) for t in words}
    where = f"{project.yaml_path} 第{project.data.at('id')[0]}行"
    out = []
    for draft in project.drafts.values():
        body = draft.text
        if not body:
            continue
        parts = ("\n" + body).split("\n# ")   # text before the first chapter, then one part per chapter
        line = parts[0].count("\n")
        for part in parts[1:]:
            line += 1
            title, _, chapter = part.partition("\n")
            here, line = line, line + part.count("\n")
            if words and any(w in title for w in words) and normalise(title) in skip:
                continue
            sketched = _sketch(chapter)
            if sketched is not None:
                out.append(Chapter(project.id, project.name, where, draft.path, draft.kind, title.strip(), here,
                                   *sketched))
    return tuple(out)


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
    """The index part: the id line and each chapter's sketch, packed."""
    chapters = summarise(project, ctx.config.reuse_exclude)
    return {"id": project.data.at("id")[0],
            "chapters": [[c.path, c.kind, c.title, c.line, c.size, _pack(c.sketch)] for c in chapters]}


def _pack(sketch: frozenset[int]) -> str:
    return base64.b64encode(array("I", sorted(sketch)).tobytes()).decode("ascii")


def _unpack(text: str) -> array[int]:
    out = array("I")
    out.frombytes(base64.b64decode(text))
    return out


def portfolio(index: Index, ctx: Context) -> Iterator[Hit]:
    """Near-duplicate chapters across the index, without comparing every pair.

    Pass 1 marks, in fixed bit tables, sentence hashes possibly in two
    chapters and sketches possibly held twice; pass 2 counts the distinct
    sketches holding each marked hash (past MAX_BUCKET it is boilerplate);
    pass 3 unpacks only chapters that are possibly an exact copy or share
    MIN_SHARED marked hashes that are not boilerplate. Any other chapter is
    neither a copy nor a near copy of anything, so ``compare`` over the few
    kept gives what it gives over all.
    """
    hashes, sketches = _Twice(), _Twice()
    for _, part in summaries(index, RULE):
        for chapter in part["chapters"]:
            sketches.add(hash(chapter[5]))
            for h in _unpack(chapter[5]):
                hashes.add(h)
    # A marked hash -> the (hash of the) one sketch holding it, or the set of them once there are two.
    holders: dict[int, Any] = {}
    for _, part in summaries(index, RULE):
        for chapter in part["chapters"]:
            key = hash(chapter[5])
            for h in filter(hashes.hit, _unpack(chapter[5])):
                seen = holders.get(h)
                if seen is None:
                    holders[h] = key
                elif isinstance(seen, set):
                    if len(seen) <= MAX_BUCKET:
                        seen.add(key)
                elif seen != key:
                    holders[h] = {seen, key}
    boilerplate = frozenset(h for h, seen in holders.items() if isinstance(seen, set) and len(seen) > MAX_BUCKET)
    evidence = frozenset(holders) - boilerplate
    del holders
    kept: list[Chapter] = []
    for entry, part in summaries(index, RULE):
        where = f"{entry.yaml_path} 第{part['id']}行"
        for path, kind, title, line, size, packed in part["chapters"]:
            sketch = frozenset(_unpack(packed))
            if len(sketch & evidence) >= MIN_SHARED or sketches.hit(hash(packed)):
                kept.append(Chapter(entry.id, entry.name, where, path, kind, title, line, size, sketch))
    by_document: dict[tuple[str, str, str, str], list[Overlap]] = defaultdict(list)
    for o in compare(kept, ctx.config.reuse_threshold, boilerplate):
        by_document[(o.chapter.project, o.chapter.path, o.other.project, o.other.path)].append(o)
    for group in by_document.values():
        yield _hit(group)


class _Twice:
    """Hashes seen more than once, in a fixed two-probe bit table: false alarms rare, misses none."""

    BITS = 1 << 27

    def __init__(self) -> None:
        self.once = bytearray(self.BITS // 8)
        self.twice = bytearray(self.BITS // 8)

    def add(self, h: int) -> None:
        once, twice, mask = self.once, self.twice, self.BITS - 1
        for probe in (h & mask, (h * 0x9E3779B1 >> 7) & mask):
            byte, bit = probe >> 3, 1 << (probe & 7)
            if once[byte] & bit:
                twice[byte] |= bit
            else:
                once[byte] |= bit

    def hit(self, h: int) -> bool:
        mask = self.BITS - 1
        a, b = h & mask, (h * 0x9E3779B1 >> 7) & mask
        return bool(self.twice[a >> 3] & (1 << (a & 7)) and self.twice[b >> 3] & (1 << (b & 7)))


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
