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
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from xzdoc.model import Draft, Project
from xzdoc.rules.base import Context, Hit, items, mapping, text
from xzdoc.source import sandbox
from xzdoc.source.yamlio import Pos

_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(万元|元)(?![/每])")
# Between a label and its amount only a copula or a colon may stand: "总投资为", "合计：".
_GAP = (r"(?:\d+(?:套|台|项|个|块|处|组|批|路)[，,、]?)?(?:估算|概算|预算|投资|总额|金额|合计|总计|共计|安排)?"
        r"(?:约为|为|是|约|共|计|达)?[：:]?[ \t]*")
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
_CN_LEVEL = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_MLPS = re.compile(
    r"(?:等级保护|等保|安全保护等级|定级|GB/T\s*22239(?:-2019)?|GB/T\s*25070(?:-2019)?)(?:2\.0)?"
    r"(?P<gap>[^，。；;,\n\d]{0,8}?)第?(?P<a>[一二三四五1-5])级(?!以上|以下|及以上)"
    r"|(?<![一二三四五六七八九十\d])第?(?P<b>[一二三四五])级(?:等保|等级保护)")
_SYSTEM_ID = re.compile(r"(?<![A-Za-z0-9-])[A-Z][A-Z0-9]*-SYS-\d{3}(?![\d])")
_PROJECT_ID = re.compile(r"(?<![A-Za-z0-9-])[A-Z][A-Z0-9]*-\d{4}-\d{3}(?![\d])")
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
    """Every draft's ``{{ … }}`` evaluated in render's own sandbox, with render's own variables."""
    values = None
    for draft in project.drafts.values():
        if not draft.text or "{" not in draft.text:
            continue
        if values is None:
            stage = ctx.std.stage(project.stage)
            values = sandbox.variables(project.data, project.money)
            values["stage_label"] = stage.label if stage else project.stage
        exc = sandbox.problem(draft.text, draft.path, values)
        if exc is not None:
            yield Hit((exc.line or 1, 1), f"{exc.message}；render 和 bundle 会因此失败（{exc.hint}）",
                      path=draft.path)


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
            for suffix in ("年", "年度", "年预算", "年度预算", "年安排", "年度安排", "年安排资金", "年度安排资金",
                           "年投资", "年度投资", "年计划投资", "年拟安排"):
                out[f"{year}{suffix}"] = Figure(f"{year}年", amount, years.at(year), f"budget.years.{year}")  # type: ignore[union-attr]
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
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(f"(?P<label>{alternatives}){_GAP}$")


def check_amounts(project: Project, ctx: Context) -> Iterator[Hit]:
    known = figures(project)
    if not known:
        return
    pattern = _label_pattern(tuple(known))
    for draft in project.drafts.values():
        if draft.text and ("万元" in draft.text or "元" in draft.text):
            yield from _amounts(project, draft, draft.text, known, pattern)


def _amounts(project: Project, draft: Draft, body: str, known: dict[str, Figure],
             pattern: re.Pattern[str]) -> Iterator[Hit]:
    for m in _AMOUNT.finditer(body):
        window = body[max(0, m.start() - 24): m.start()]
        label_match = pattern.search(window)
        if label_match is None:
            continue
        said = _said(m)
        label = label_match.group("label")
        figure = known.get(label)
        before = window[: label_match.start()]
        clause = before[max(before.rfind(c) for c in "，。；、,;\n") + 1:]
        if said is None or figure is None or _NOT_THIS_PROJECT.search(clause) or _inside_compound(before):
            continue
        places = -said.as_tuple().exponent  # type: ignore[operator]
        if figure.amount.quantize(Decimal(1).scaleb(-places)) == said:
            continue
        line = body.count("\n", 0, m.start()) + 1
        yield Hit((line, m.start() - body.rfind("\n", 0, m.start())),
                  f"《{draft.kind}》第{line}行写“{label_match.group(0).strip()}{m.group(0)}”，与 {where(project, figure.pos)} "
                  f"的 {figure.field}（{figure.amount:.2f}万元）不一致；请改正文或元数据，或在正文中引用元数据",
                  path=draft.path)


def _inside_compound(before: str) -> bool:
    """“软件开发及系统集成费”: a conjunction that joins nouns, not list entries, makes the label part of a longer name."""
    return before.endswith(("及", "与", "和", "、")) and not re.search(r"元\s*[及与和、]$", before)


def _said(m: re.Match[str]) -> Decimal | None:
    try:
        value = Decimal(m.group(1).replace(",", "") + (m.group(2) or ""))
    except InvalidOperation:
        return None
    if m.group(3) == "元":
        if value < 10000:
            return None      # small sums in 元 are unit prices, not the figures above
        value = value / 10000
        places = max(0, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-min(places, 6)))
    return value


def check_mlps(project: Project, ctx: Context) -> Iterator[Hit]:
    security = mapping(project.data.get("security"))
    level = security.get("mlps_level") if security else None
    if not isinstance(level, int) or security is None:
        return
    systems = [(text(s.get("name")), text(s.get("id")), s) for _, s in items(project.data.get("systems"))]
    for draft in project.drafts.values():
        body = draft.text
        if not body or not ("级" in body and ("等" in body or "定级" in body or "22239" in body)):
            continue
        for m in _MLPS.finditer(body):
            if m.group("gap") and "密" in m.group("gap"):
                continue      # 商用密码应用第三级 is the crypto level
            said = _CN_LEVEL[m.group("a") or m.group("b")]
            start = max(body.rfind(c, 0, m.start()) for c in _SENTENCE_END) + 1
            clause = body[start: m.start()]
            named = [(name, s) for name, sid, s in systems if (name and name in clause) or (sid and sid in clause)]
            want, pos, what = level, security.at("mlps_level"), "security.mlps_level（项目等保级别）"
            if named:
                name, system = named[-1]
                sys_level = system.get("mlps_level")
                if not isinstance(sys_level, int):
                    continue
                want, pos, what = sys_level, system.at("mlps_level"), f"“{name}”的 mlps_level"
            if said != want:
                line = body.count("\n", 0, m.start()) + 1
                yield Hit((line, m.start() - start + 1),
                          f"《{draft.kind}》第{line}行写“{m.group(0)}”（第{said}级），与 {where(project, pos)} "
                          f"的 {what}（第{want}级）不一致", path=draft.path)


@dataclass(frozen=True)
class Owner:
    project: Project
    field: str
    pos: Pos


def portfolio_index(ctx: Context) -> dict[str, Owner]:
    """Every project id, system id and project name in the portfolio -> who holds it; built once per run."""
    index = ctx.extras.get("prose.index")
    if index is None:
        index = {}
        for p in ctx.projects:
            index.setdefault(p.id, Owner(p, "id", p.data.at("id")))
            if len(p.name) >= 8:
                index.setdefault(p.name, Owner(p, "name", p.data.at("name")))
            for i, s in items(p.data.get("systems")):
                if sid := text(s.get("id")):
                    index.setdefault(sid, Owner(p, f"systems[{i}].id", s.at("id")))
        ctx.extras["prose.index"] = index
    return index


def check_system_ids(project: Project, ctx: Context) -> Iterator[Hit]:
    own = {text(s.get("id")) for _, s in items(project.data.get("systems"))}
    index = portfolio_index(ctx)
    systems = project.data.get("systems")
    listed = where(project, systems.pos if hasattr(systems, "pos") else project.data.at("systems"))  # type: ignore[union-attr]
    for draft in project.drafts.values():
        if not draft.text or "-SYS-" not in draft.text:
            continue
        for m in _SYSTEM_ID.finditer(draft.text):
            sid = m.group(0)
            if sid in own or sid in project.source:
                continue
            owner = index.get(sid)
            whose = (f"它是项目 {owner.project.id}（{owner.project.name}）的系统（{where(owner.project, owner.pos)}）"
                     if owner and owner.project.id != project.id else "全库没有登记这个系统编号")
            line = draft.text.count("\n", 0, m.start()) + 1
            yield Hit((line, 1), f"《{draft.kind}》第{line}行提到系统 {sid}，但本项目的 systems（{listed}）没有列出它，"
                                 f"{whose}；请改正编号，或把该系统列入 systems", path=draft.path)


def check_foreign(project: Project, ctx: Context) -> Iterator[Hit]:
    """Another project's id or name in this project's drafts: copied text, or one project packaged as two."""
    index = portfolio_index(ctx)
    names = [(k, o) for k, o in index.items() if o.field == "name" and o.project.id != project.id
             and k != project.name and k not in project.name and k not in project.source]
    own = f"本项目是 {project.id}（{where(project, project.data.at('id'))} id）"
    for draft in project.drafts.values():
        body = draft.text
        if not body:
            continue
        found: list[tuple[int, str, Owner | None]] = []
        if "-" in body:
            for m in _PROJECT_ID.finditer(body):
                pid = m.group(0)
                if pid != project.id and pid not in project.source:
                    found.append((m.start(), pid, index.get(pid)))
        for name, holder in names:
            at = body.find(name)
            if at >= 0:
                found.append((at, name, holder))
        for at, what, owner in sorted(found, key=lambda f: f[0]):
            line = body.count("\n", 0, at) + 1
            other = (f"另一个项目 {owner.project.id}（{owner.project.name}，{where(owner.project, owner.pos)} "
                     f"{owner.field}）" if owner and owner.project.id != project.id else "全库没有的项目编号")
            yield Hit((line, 1), f"《{draft.kind}》第{line}行出现“{what}”，是{other}；{own}。"
                                 "文稿不得照搬其他项目的内容（不得变相包装），请改为本项目的内容", path=draft.path)
