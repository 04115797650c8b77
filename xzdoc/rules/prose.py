"""What the drafts say against what project.yaml holds: amounts, 等保 levels, system and project ids.

Each check scans a draft's text once with a compiled regular expression and
looks only at the few places it finds; a sentence is compared with the
metadata only where it ties a number to a known label right before it
("总投资2040.00万元", "2026年安排1180万元", "市级财政资金1640万元"),
so prose that merely mentions numbers is never judged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from xzdoc.model import Draft, Project
from xzdoc.rules.base import Context, Hit, items, mapping, text
from xzdoc.rules.index import Entry, Index, summaries
from xzdoc.source import sandbox
from xzdoc.source.yamlio import Pos

# A figure of something else: an earlier phase, the old system, the whole city (within the label's own clause).
_NOT_THIS_PROJECT = re.compile(r"一期|二期|三期|上期|前期|原有|原系统|原项目|原平台|已建|既有|全市|全省|全国|累计|该项目|其他项目")
TOTAL_LABELS = ("项目总投资", "总投资额", "总投资", "总预算", "项目总预算", "概算总投资", "投资总额", "总概算", "项目投资",
                "项目预算", "预算总额", "概算总额", "估算总投资")
GROUP_ALIASES = {
    "建筑工程": ("建筑工程费", "建筑工程费用"),
    "硬件设备购置": ("硬件设备购置费", "硬件购置费", "设备购置费", "硬件设备费"),
    "软件购置开发与系统集成": ("软件购置、开发与系统集成费", "软件购置开发与系统集成费", "软件开发及购置费",
                        "软件购置及开发费", "软件开发与系统集成费", "软件开发及系统集成费", "软件购置开发及系统集成费",
                        "软件开发及集成费", "软件开发与集成费"),
    "工程建设其他费用": ("工程建设其他费用", "工程建设其他费"),
    "预备费": ("预备费",),
}
_YEAR_SUFFIXES = ("年", "年度", "年预算", "年度预算", "年安排", "年度安排", "年安排资金", "年度安排资金", "年投资", "年度投资",
                  "年计划投资", "年拟安排")
_CN_LEVEL = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_MLPS_ANCHORS = ("等级保护", "等保", "定级", "保护等级")
_MLPS_AFTER = re.compile(
    r"(?:等级保护|等保|保护等级|定级)(?:2\.0)?"
    r"(?P<gap>[^，。；;,\n\d]{0,8}?)第?(?P<level>[一二三四五1-5])级(?!以上|以下|及以上)")
_MLPS_BEFORE = re.compile(r"(?<![一二三四五六七八九十\d])第?(?P<level>[一二三四五])级$")
# Both start with a literal, so the scan skips ahead at C speed; the prefix letters are read back by _ids.
_SYSTEM_ID = re.compile(r"-SYS-\d{3}(?!\d)")
_PROJECT_ID = re.compile(r"-\d{4}-\d{3}(?!\d)")
_PREFIX = re.compile(r"(?<![A-Za-z0-9-])[A-Z][A-Z0-9]*$")
_SENTENCE_END = "。；;！？!?\n"


@dataclass(frozen=True)
class Figure:
    label: str
    amount: Decimal
    pos: Pos
    field: str


def where(project: Project, pos: Pos) -> str:
    return f"{project.yaml_path} 第{pos[0]}行"


def check_references(project: Project, ctx: Context) -> Iterator[Hit]:
    """Every draft's ``{{ … }}`` evaluated in render's own sandbox, with render's own variables.

    Only the top-level keys the references start from are copied for the
    quick check; a draft that fails it is judged by ``render`` itself with
    the full variables, so the verdict and the line are render's.
    """
    stage = ctx.std.stage(project.stage)
    label = stage.label if stage else project.stage
    for draft in project.drafts.values():
        if not draft.text or "{" not in draft.text:
            continue
        found = sandbox.expressions(draft.text)
        if found is not None:
            values = sandbox.variables(project.data, project.money, sandbox.roots(found))
            values["stage_label"] = label
            if sandbox.references_ok(found, values):
                continue
        values = sandbox.variables(project.data, project.money)
        values["stage_label"] = label
        exc = sandbox.problem(draft.text, draft.path, values)
        if exc is not None:
            line = exc.line or 1
            yield Hit((line, 1), f"{exc.message}{_missing_metadata(project, draft.text, line)}；"
                                 f"render 和 bundle 会因此失败（{exc.hint}）", path=draft.path)


def _missing_metadata(project: Project, body: str, line: int) -> str:
    """Where in project.yaml a reference on this line stops finding data: the metadata side of the error."""
    lines = body.split("\n")
    found = sandbox.expressions(lines[line - 1]) if 0 < line <= len(lines) else None
    for source in found or ():
        steps = sandbox.path(source)
        if steps is None:
            continue
        node: object = project.data
        trail: list[str] = []
        for step in (steps[0], *(key for _, key in steps[1:])):
            if isinstance(node, dict) and step in node:
                node = node[step]
                trail.append(str(step))
                continue
            if isinstance(node, dict) and trail and hasattr(node, "pos"):
                have = "、".join(str(k) for k in node) or "无"
                return f"（{where(project, node.pos)} 的 {'.'.join(trail)} 下没有 {step}，现有：{have}）"
            if not trail:
                return f"（{project.yaml_path} 中没有 {step}）"
            break
    return ""


def figures(project: Project) -> dict[str, Figure]:
    """Label -> the metadata figure prose ties to it."""
    out: dict[str, Figure] = {}
    budget = mapping(project.data.get("budget"))
    if budget is None:
        return out
    total = project.money.get(("budget", "total"))
    if total is not None:
        for label in TOTAL_LABELS:
            out[label] = Figure(label, total, budget.at("total"), "budget.total")
    years = mapping(budget.get("years"))
    for year in years or ():
        amount = project.money.get(("budget", "years", year))
        if amount is not None:
            # One frozen record serves every spelling of the year's label.
            figure = Figure(f"{year}年", amount, years.at(year), f"budget.years.{year}")  # type: ignore[union-attr]
            for suffix in _YEAR_SUFFIXES:
                out[f"{year}{suffix}"] = figure
    sources = mapping(budget.get("sources"))
    for name in sources or ():
        amount = project.money.get(("budget", "sources", name))
        if amount is not None and len(str(name)) >= 4:
            out[str(name)] = Figure(str(name), amount, sources.at(name), f"budget.sources.{name}")  # type: ignore[union-attr]
    _estimate_figures(project, out)
    return out


def _estimate_figures(project: Project, out: dict[str, Figure]) -> None:
    groups: dict[str, tuple[Decimal, Pos]] = {}
    seen: dict[str, int] = {}
    estimate = project.data.get("estimate")
    for i, item in items(estimate):
        amount = project.money.get(("estimate", i, "amount"))
        if amount is None:
            continue
        name, group = text(item.get("name")), text(item.get("group"))
        seen[name] = seen.get(name, 0) + 1
        if len(name) >= 3:
            out[name] = Figure(name, amount, item.at("amount"), f"estimate[{i}].amount")
        if group:
            sum_, pos = groups.get(group, (Decimal(0), item.pos))
            groups[group] = (sum_ + amount, pos)
    for name, count in seen.items():
        if count > 1:          # the same name twice is no single figure
            out.pop(name, None)
    for group, (amount, pos) in groups.items():
        for label in GROUP_ALIASES.get(group, (group,)):
            if label not in seen:
                out[label] = Figure(label, amount, pos, f"estimate（{group}小计）")


@functools.lru_cache(maxsize=256)
def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    """Amount, gap and label read backwards from the unit, so one anchored match judges each 元 found."""
    alternatives = "|".join(re.escape(label[::-1]) for label in sorted(labels, key=len, reverse=True))
    return re.compile(_AMOUNT_GAP_REVERSED + f"(?P<label>{alternatives})")


# The text before 万元/元, reversed: "2040.00" then a copula or colon, then a quantity ("12台"), then the label.
_AMOUNT_GAP_REVERSED = (r"[ \t]*(?P<frac>\d+\.)?(?P<int>(?:\d{3},)+\d{1,3}|\d+)(?![\d.,])"
                        r"[ \t]*[：:]?(?:为约|为|是|约|共|计|达)?(?:算估|算概|算预|资投|额总|额金|计合|计总|计共|排安)?"
                        r"(?:[，,、]?(?:套|台|项|个|块|处|组|批|路)\d+)?")


def check_amounts(project: Project, ctx: Context) -> Iterator[Hit]:
    known = figures(project)
    if not known:
        return
    pattern = _label_pattern(tuple(known))
    for draft in project.drafts.values():
        if draft.text and "元" in draft.text:
            yield from _amounts(project, draft, draft.text, known, pattern)


def _amounts(project: Project, draft: Draft, body: str, known: dict[str, Figure],
             pattern: re.Pattern[str]) -> Iterator[Hit]:
    for label_start, start, end, label, said in _tied_amounts(body, pattern):
        figure = known[label]
        places = -said.as_tuple().exponent  # type: ignore[operator]
        if figure.amount.quantize(Decimal(1).scaleb(-places)) == said:
            continue
        before = body[max(0, label_start - 16): label_start]
        if _inside_compound(before) or (_NOT_THIS_PROJECT.search(before) and _NOT_THIS_PROJECT.search(
                before[max(before.rfind(c) for c in "，。；、,;\n") + 1:])):
            continue
        line = body.count("\n", 0, start) + 1
        yield Hit((line, start - body.rfind("\n", 0, start)),
                  f"《{draft.kind}》第{line}行写“{body[label_start:end].strip()}”，与 "
                  f"{where(project, figure.pos)} 的 {figure.field}（{figure.amount:.2f}万元）不一致；"
                  "请改正文或元数据，或在正文中引用元数据", path=draft.path)


def _tied_amounts(body: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int, int, str, Decimal]]:
    """(label start, amount start, end, label, 万元) of each amount written right after a known label.

    Found from each 元 with str.find and judged by one anchored match of the
    reversed text before it, not by a regular-expression scan of the draft.
    """
    at = body.find("元")
    while at >= 0:
        here, at = at, body.find("元", at + 1)
        unit_at = here - 1 if here and body[here - 1] == "万" else here
        if unit_at == 0 or (not body[unit_at - 1].isdigit() and body[unit_at - 1] not in " \t"):
            continue
        if body[here + 1: here + 2] in ("/", "每"):
            continue          # 4.50万元/台 is a unit price
        window = body[max(0, unit_at - 48): unit_at][::-1]
        m = pattern.match(window)
        if m is None:
            continue
        frac = m.group("frac")
        said = _said(m.group("int")[::-1], frac[::-1] if frac else None, unit_at == here)
        if said is not None:
            yield unit_at - m.end(), unit_at - m.end("int"), here + 1, m.group("label")[::-1], said


def _inside_compound(before: str) -> bool:
    """“软件开发及系统集成费”: a conjunction that joins nouns, not list entries, makes the label part of a longer name."""
    return before.endswith(("及", "与", "和", "、")) and not re.search(r"元\s*[及与和、]$", before)


# Decimals are immutable and the default context is never changed, so each spelling is read once.
@functools.lru_cache(maxsize=4096)
def _said(whole: str, fraction: str | None, in_yuan: bool) -> Decimal | None:
    try:
        value = Decimal(whole.replace(",", "") + (fraction or ""))
    except InvalidOperation:
        return None
    if in_yuan:
        if value < 10000:
            return None      # small sums in 元 are unit prices, not the figures above
        value = value / 10000
        places = max(0, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-min(places, 6)))
    return value


def _mlps_mentions(body: str) -> list[tuple[int, str, int]]:
    """(offset, words, level) of each 等保 level the text states, found from a few anchors with str.find."""
    found: dict[int, tuple[int, str, int]] = {}
    for anchor in _MLPS_ANCHORS:
        at = body.find(anchor)
        while at >= 0:
            m = _MLPS_AFTER.match(body, at)
            if m and "密" not in m.group("gap"):    # 商用密码应用第三级 is the crypto level
                found.setdefault(m.start("level"), (at, m.group(0), _CN_LEVEL[m.group("level")]))
            if anchor in ("等保", "等级保护") and (b := _MLPS_BEFORE.search(body, max(0, at - 3), at)):
                found.setdefault(b.start("level"), (b.start(), body[b.start(): at + len(anchor)],
                                                    _CN_LEVEL[b.group("level")]))
            at = body.find(anchor, at + len(anchor))
    return sorted(found.values())


_CLAUSE_REVERSED = re.compile(f"[^{_SENTENCE_END}]*")


def _clause_start(body: str, at: int) -> int:
    """Just after the last sentence end in the 160 characters before ``at``; 0 when there is none."""
    window = body[max(0, at - 160): at]
    run = _CLAUSE_REVERSED.match(window[::-1]).end()  # type: ignore[union-attr]
    return 0 if run == len(window) else at - run


def check_mlps(project: Project, ctx: Context) -> Iterator[Hit]:
    security = mapping(project.data.get("security"))
    level = security.get("mlps_level") if security else None
    if not isinstance(level, int) or security is None:
        return
    systems = [(text(s.get("name")), text(s.get("id")), s) for _, s in items(project.data.get("systems"))]
    for draft in project.drafts.values():
        body = draft.text
        if not body or "级" not in body:
            continue
        for at, written, said in _mlps_mentions(body):
            start = _clause_start(body, at)
            clause = body[start: at]
            named = [(name, s) for name, sid, s in systems if (name and name in clause) or (sid and sid in clause)]
            want, pos, what = level, security.at("mlps_level"), "security.mlps_level（项目等保级别）"
            if named:
                name, system = named[-1]
                sys_level = system.get("mlps_level")
                if not isinstance(sys_level, int):
                    continue
                want, pos, what = sys_level, system.at("mlps_level"), f"“{name}”的 mlps_level"
            if said != want:
                line = body.count("\n", 0, at) + 1
                yield Hit((line, at - body.rfind("\n", 0, at)),
                          f"《{draft.kind}》第{line}行写“{written}”（第{said}级），与 {where(project, pos)} "
                          f"的 {what}（第{want}级）不一致", path=draft.path)


NAMES_KEY = "prose.names"   # ctx.extras: every project name of the run, known before any draft is scanned
_NAME_LINE = re.compile(r"^name:[ \t]*(.+?)[ \t]*$", re.M)
SYSTEMS_RULE, FOREIGN_RULE = "art08.prose-systems", "art08.foreign-project"


def name_candidates(sources: Iterable[str]) -> tuple[str, ...]:
    """The project names in ``sources`` (project.yaml texts), read from their top-level name line.

    A cheap first pass, so that each project's drafts can be scanned for the others' names while
    only that project is in memory; the portfolio half keeps only hits on names a loaded project
    really has.
    """
    out: dict[str, None] = {}
    for source in sources:
        m = _NAME_LINE.search(source)
        if m:
            name = m.group(1)
            if name[0] in "|>&!*{[#" or "\\" in name or "#" in name:
                name = _parsed_name(source)   # a block scalar, tag, anchor or escape: let YAML say what it is
            elif len(name) > 1 and name[0] == name[-1] and name[0] in "'\"":
                name = name[1:-1]
            if len(name) >= 8:
                out.setdefault(name)
    return tuple(out)


def _parsed_name(source: str) -> str:
    """The top-level name as YAML reads it, for the few spellings the line pattern cannot take apart."""
    import yaml

    try:
        data = yaml.load(source, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return ""   # the loader reports the file; a name it cannot read is no candidate
    name = data.get("name") if isinstance(data, dict) else None
    return name.strip() if isinstance(name, str) else ""


def _ids(pattern: re.Pattern[str], body: str) -> Iterator[tuple[int, str]]:
    for m in pattern.finditer(body):
        prefix = _PREFIX.search(body, max(0, m.start() - 12), m.start())
        if prefix:
            yield prefix.start(), body[prefix.start(): m.end()]


def summarize_systems(project: Project, ctx: Context) -> dict[str, Any]:
    """The system ids this project lists, and those its drafts mention without listing them."""
    listed_ids = [[sid, i, *s.at("id")] for i, s in items(project.data.get("systems")) if (sid := text(s.get("id")))]
    own = {text(s.get("id")) for _, s in items(project.data.get("systems"))}
    systems = project.data.get("systems")
    listed = where(project, systems.pos if hasattr(systems, "pos") else project.data.at("systems"))  # type: ignore[union-attr]
    hits = []
    for draft in project.drafts.values():
        if not draft.text or "-SYS-" not in draft.text:
            continue
        for at, sid in _ids(_SYSTEM_ID, draft.text):
            if sid not in own and sid not in project.source:
                hits.append([draft.path, draft.kind, draft.text.count("\n", 0, at) + 1, sid])
    return {"systems": listed_ids, "listed": listed, "hits": hits}


def _owners(index: Index, wanted: set[str], names: bool = False) -> dict[str, tuple[Entry, str, int]]:
    """(entry, field, line) of the first project holding each wanted id (or name), in index order."""
    out: dict[str, tuple[Entry, str, int]] = {}
    if not wanted:
        return out
    for entry in index:
        systems = entry.parts.get(SYSTEMS_RULE)
        foreign = entry.parts.get(FOREIGN_RULE)
        if names:
            if foreign and foreign["name"] and entry.name in wanted:
                out.setdefault(entry.name, (entry, "name", foreign["name"]))
            continue
        if foreign and entry.id in wanted:
            out.setdefault(entry.id, (entry, "id", foreign["id"]))
        for sid, i, line, _ in systems["systems"] if systems else ():
            if sid in wanted:
                out.setdefault(sid, (entry, f"systems[{i}].id", line))
    return out


def portfolio_systems(index: Index, ctx: Context) -> Iterator[Hit]:
    """A system id the drafts mention but the project does not list, naming the project that owns it."""
    wanted = {hit[3] for _, part in summaries(index, SYSTEMS_RULE) for hit in part["hits"]}
    owners = _owners(index, wanted)
    for entry, part in summaries(index, SYSTEMS_RULE):
        for path, kind, line, sid in part["hits"]:
            owner = owners.get(sid)
            whose = (f"它是项目 {owner[0].id}（{owner[0].name}）的系统（{owner[0].yaml_path} 第{owner[2]}行）"
                     if owner and owner[0].id != entry.id else "全库没有登记这个系统编号")
            yield Hit((line, 1), f"《{kind}》第{line}行提到系统 {sid}，但本项目的 systems（{part['listed']}）没有列出它，"
                                 f"{whose}；请改正编号，或把该系统列入 systems", path=path)


@functools.lru_cache(maxsize=8)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """All project names in one pattern: the engine factors out their common prefix (忻州市…), so a draft is
    scanned once however many projects the portfolio holds."""
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


def summarize_foreign(project: Project, ctx: Context) -> dict[str, Any]:
    """Where this project's id and name are written, and the project ids and names of others its drafts hold."""
    pattern = _names_pattern(tuple(ctx.extras.get(NAMES_KEY, ())))
    drafts = []
    for draft in project.drafts.values():
        body = draft.text
        if not body:
            continue
        found: list[tuple[int, bool, str]] = [(at, False, pid) for at, pid in _ids(_PROJECT_ID, body)
                                              if pid != project.id and pid not in project.source]
        seen: set[str] = set()
        for m in pattern.finditer(body) if pattern else ():
            name = m.group(0)
            # Whether the name is another project's is decided at the end; the first place of each suffices.
            if name not in seen and name not in project.name and name not in project.source:
                seen.add(name)
                found.append((m.start(), True, name))
        if found:
            found.sort(key=lambda f: f[0])   # stable: an id and a name never start at one place
            drafts.append([draft.path, draft.kind, [[body.count("\n", 0, at) + 1, is_name, what]
                                                    for at, is_name, what in found]])
    name_line = project.data.at("name")[0] if len(project.name) >= 8 else None
    return {"id": project.data.at("id")[0], "name": name_line, "drafts": drafts}


def portfolio_foreign(index: Index, ctx: Context) -> Iterator[Hit]:
    """Another project's id or name in this project's drafts: copied text, or one project packaged as two."""
    ids: set[str] = set()
    names: set[str] = set()
    for _, part in summaries(index, FOREIGN_RULE):
        for _, _, found in part["drafts"]:
            for _, is_name, what in found:
                (names if is_name else ids).add(what)
    owners, holders = _owners(index, ids), _owners(index, names, names=True)
    for entry, part in summaries(index, FOREIGN_RULE):
        own = f"本项目是 {entry.id}（{entry.yaml_path} 第{part['id']}行 id）"
        for path, kind, found in part["drafts"]:
            for line, is_name, what in found:
                owner = (holders if is_name else owners).get(what)
                if is_name and (owner is None or owner[0].id == entry.id):
                    continue    # not a project's name after all, or this project's own
                other = (f"另一个项目 {owner[0].id}（{owner[0].name}，{owner[0].yaml_path} 第{owner[2]}行 "
                         f"{owner[1]}）" if owner and owner[0].id != entry.id else "全库没有的项目编号")
                yield Hit((line, 1), f"《{kind}》第{line}行出现“{what}”，是{other}；{own}。"
                                     "文稿不得照搬其他项目的内容（不得变相包装），请改为本项目的内容", path=path)
