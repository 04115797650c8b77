"""Prose tables against the metadata tables the bundle appends: databases, information resources, performance goals.

A draft's Markdown table is compared only when its header says plainly what
it lists (数据库 / 信息资源名称 / 指标名称 + 目标值); then its rows must be the
metadata's rows, since the appended table is generated from project.yaml and
the same document would otherwise say two things. Tables are found with one
regular expression over the text; drafts without a ``|`` line cost nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from xzdoc.model import Draft, Project
from xzdoc.rules.base import Context, Hit, items, text
from xzdoc.rules.prose import where
from xzdoc.source.yamlio import YMap

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"[\s*`_]+")
DATABASE_HEADERS = ("数据库", "数据库名称", "数据库名", "库名")
RESOURCE_HEADERS = ("信息资源名称", "资源名称", "信息资源")
ITEM_HEADERS = ("信息项", "主要信息项", "数据项", "信息项名称")
INDICATOR_HEADERS = ("指标名称", "指标", "三级指标", "绩效指标", "具体指标")
TARGET_HEADERS = ("目标值", "指标值", "目标", "预期目标", "年度目标", "绩效目标值")
_HEADERS = frozenset((*DATABASE_HEADERS, *RESOURCE_HEADERS, *INDICATOR_HEADERS))


@dataclass(frozen=True)
class Table:
    line: int
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def column(self, names: Sequence[str]) -> int | None:
        return next((i for i, h in enumerate(self.header) if h in names), None)


def tables(body: str, headers: frozenset[str] | None = None) -> Iterator[Table]:
    """Markdown tables, found from each ``\n|`` with str.find; with ``headers``, only tables with one of those
    column names are read past their first line (the others are skipped to the next blank line)."""
    at = 0 if body.startswith("|") else body.find("\n|") + 1
    while at > 0 or body.startswith("|", at):
        end = body.find("\n", at)
        first = body[at: end if end >= 0 else len(body)]
        # A cell equal to a wanted name leaves that name in the line once spacing is removed: most
        # tables are told apart by one substitution, without cutting their first line into cells.
        header = _cells(first) if headers is None or _mentions(_SPACE.sub("", first), headers) else None
        if header is not None and (headers is None or not headers.isdisjoint(header)):
            lines, end = _block(body, at)
            if len(lines) > 2 and set(lines[1].strip()) <= set("|:- \t"):
                rows = tuple(r for r in (_cells(line) for line in lines[2:]) if any(r))
                yield Table(body.count("\n", 0, at) + 1, header, rows)
        else:
            end = body.find("\n\n", at)
        found = body.find("\n|", end) if end >= 0 else -1
        if found < 0:
            return
        at = found + 1


def _mentions(line: str, names: frozenset[str]) -> bool:
    return any(name in line for name in names)


def _block(body: str, at: int) -> tuple[list[str], int]:
    """The consecutive lines starting with ``|`` from ``at``, and where the last one ends (-1 at end of text)."""
    lines = []
    while True:
        end = body.find("\n", at)
        lines.append(body[at: end if end >= 0 else len(body)])
        if end < 0 or not body.startswith("|", end + 1):
            return lines, end
        at = end + 1


def _cells(line: str) -> tuple[str, ...]:
    return tuple(_SPACE.sub("", c) for c in line.strip().strip("|").split("|"))


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a == b or a in b or b in a)


def check_tables(project: Project, ctx: Context) -> Iterator[Hit]:
    databases = [(text(d.get("name")), d) for _, d in items(project.data.get("databases"))]
    resources = [(text(r.get("name")), r) for _, r in items(project.data.get("resources"))]
    goals = [(text(g.get("indicator")), g) for _, g in items(project.data.get("performance_goals"))]
    wanted = _goal_targets(goals)
    for draft in project.drafts.values():
        if draft.text and resources and ("信息项" in draft.text or "数据项" in draft.text):
            yield from _item_lists(project, draft, draft.text, resources)
        if draft.text and wanted:
            yield from _goal_sentences(project, draft, draft.text, wanted)
        if not draft.text or "\n|" not in draft.text:
            continue
        for table in tables(draft.text, _HEADERS):
            if (col := table.column(DATABASE_HEADERS)) is not None and table.column(RESOURCE_HEADERS) is None:
                yield from _compare(project, draft, table, col, databases, "databases", "数据库")
            elif (col := table.column(RESOURCE_HEADERS)) is not None:
                yield from _compare(project, draft, table, col, resources, "resources", "信息资源")
                yield from _items(project, draft, table, col, resources)
            elif (col := table.column(INDICATOR_HEADERS)) is not None and table.column(TARGET_HEADERS) is not None:
                yield from _compare(project, draft, table, col, goals, "performance_goals", "绩效指标")
                yield from _targets(project, draft, table, col, goals)


_ITEM_LIST = re.compile(r"(?:信息项|数据项)(?:主要)?(?:包括|包含|为|有)[：:]?([^。；;\n]+)")
_ITEM_ANCHORS = ("信息项", "数据项")
_LAST_JOIN = re.compile(r"以及|和|及")
_ETC = re.compile(r"等(?:内容|信息|字段|数据|信息项)?$")


def _anchored(pattern: re.Pattern[str], body: str, anchors: tuple[str, ...]) -> Iterator[re.Match[str]]:
    for anchor in anchors:
        at = body.find(anchor)
        while at >= 0:
            if m := pattern.match(body, at):
                yield m
            at = body.find(anchor, at + 1)


def _item_lists(project: Project, draft: Draft, body: str, known: list[tuple[str, YMap]]) -> Iterator[Hit]:
    """“X：主要信息项包括A、B和C” in prose, against the 信息项 registered for resource X."""
    for m in _anchored(_ITEM_LIST, body, _ITEM_ANCHORS):
        start = body.rfind("\n", 0, m.start()) + 1
        lead = body[start: m.start()]
        named = [(lead.rfind(n), n, r) for n, r in known if n and n in lead]
        if not named:
            continue
        _, name, resource = max(named, key=lambda x: x[0])
        listed = [i for _, i in items(resource.get("items"))]
        phrase = m.group(1).strip()
        open_ended = bool(_ETC.search(phrase))
        parts = [p for p in re.split(r"[、，,]", _ETC.sub("", phrase)) if p]
        if parts:
            parts[-1:] = [p for p in _LAST_JOIN.split(parts[-1]) if p]
        wrong = len(parts) > len(listed) if open_ended else len(parts) != len(listed)
        if listed and wrong:
            line = body.count("\n", 0, m.start()) + 1
            yield Hit((line, 1), f"《{draft.kind}》第{line}行写“{name}”的信息项有{len(parts)}个，"
                                 f"{where(project, resource.at('items'))} 登记{len(listed)}个"
                                 f"（{'、'.join(text(i.get('name')) for i in listed)}），附表按元数据生成，两处矛盾",
                      path=draft.path)


_GOAL_VALUE = re.compile(r"[ \t]*(?:达到|为|要)?[ \t]*(?:不少于|不低于|不超过|不高于|不大于|不小于|大于|小于|≥|≤|>=|<=)[ \t]*"
                         r"(\d+(?:\.\d+)?)")


def _goal_targets(goals: list[tuple[str, YMap]]) -> list[tuple[str, YMap, list[str]]]:
    """The goals prose can be held to (a name of four characters or more, one number as target), read once a project."""
    out = []
    for name, goal in goals:
        wanted = _NUMBER.findall(str(goal.get("target")))
        if len(name) >= 4 and len(wanted) == 1:
            out.append((name, goal, wanted))
    return out


def _goal_sentences(project: Project, draft: Draft, body: str,
                    goals: list[tuple[str, YMap, list[str]]]) -> Iterator[Hit]:
    """“接入数据源不少于30类” in prose, where the metadata's 绩效目标 says another number for the same indicator."""
    for name, goal, wanted in goals:
        at = body.find(name)
        while at >= 0:
            m = _GOAL_VALUE.match(body, at + len(name))
            if m and m.group(1) != wanted[0] and float(m.group(1)) != float(wanted[0]):
                line = body.count("\n", 0, at) + 1
                yield Hit((line, at - body.rfind("\n", 0, at)),
                          f"《{draft.kind}》第{line}行写“{name}{m.group(0).strip()}”，{where(project, goal.at('target'))} "
                          f"的绩效目标为“{goal.get('target')}”，附表按元数据生成，两处矛盾", path=draft.path)
            at = body.find(name, at + len(name))


def _section(project: Project, key: str) -> str:
    node = project.data.get(key)
    return where(project, getattr(node, "pos", project.data.at(key)))


def _compare(project: Project, draft: Draft, table: Table, col: int, known: list[tuple[str, YMap]], key: str,
             what: str) -> Iterator[Hit]:
    said = list(dict.fromkeys(row[col] for row in table.rows if col < len(row) and row[col]))
    names = [name for name, _ in known]
    unknown = [s for s in said if not any(_same(s, n) for n in names)]
    if len(said) == len(names) and not unknown:
        return
    listed = "、".join(names) or "无"
    extra = f"，其中{'、'.join(unknown)}不在元数据中" if unknown else ""
    yield Hit((table.line, 1), f"《{draft.kind}》第{table.line}行的表格列出{len(said)}个{what}{extra}；"
                               f"{_section(project, key)} 的 {key} 登记{len(names)}个（{listed}），"
                               f"文档附表按元数据生成，两表矛盾：请使正文表格与元数据一致", path=draft.path)


def _items(project: Project, draft: Draft, table: Table, col: int, known: list[tuple[str, YMap]]) -> Iterator[Hit]:
    icol = table.column(ITEM_HEADERS)
    if icol is None:
        return
    for offset, row in enumerate(table.rows):
        if max(col, icol) >= len(row):
            continue
        match = next((r for n, r in known if _same(row[col], n)), None)
        written = [x for x in re.split(r"[、，,；;/]", row[icol].rstrip("等")) if x]
        listed = [i for _, i in items(match.get("items"))] if match else []
        if match is not None and written and listed and len(written) != len(listed):
            line = table.line + 2 + offset
            yield Hit((line, 1), f"《{draft.kind}》第{line}行“{row[col]}”写了{len(written)}个信息项，"
                                 f"{where(project, match.at('items'))} 登记{len(listed)}个，附表与正文矛盾",
                      path=draft.path)


def _targets(project: Project, draft: Draft, table: Table, col: int, known: list[tuple[str, YMap]]) -> Iterator[Hit]:
    tcol = table.column(TARGET_HEADERS)
    assert tcol is not None
    for offset, row in enumerate(table.rows):
        if max(col, tcol) >= len(row):
            continue
        goal = next((g for n, g in known if n == row[col]), None)
        if goal is None:
            continue
        mine, theirs = _NUMBER.findall(row[tcol]), _NUMBER.findall(str(goal.get("target")))
        if mine and theirs and mine != theirs:
            line = table.line + 2 + offset
            yield Hit((line, 1), f"《{draft.kind}》第{line}行指标“{row[col]}”的目标值为“{row[tcol]}”，"
                                 f"{where(project, goal.at('target'))} 为“{goal.get('target')}”，附表与正文矛盾",
                      path=draft.path)
