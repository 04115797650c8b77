"""Amounts the drafts state against the budget and estimate in project.yaml.

A sentence is compared with the metadata only where it ties an amount to a
known label right before it ("总投资2040.00万元", "2026年安排1180万元",
"市级财政资金1640万元"), so prose that merely mentions numbers is never
judged. Amounts may be written in 元, 万元 or 亿元, with full-width digits,
thousands separators or Chinese numerals (三百六十五万元, 叁佰陆拾万元).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from xzdoc.model import Draft, Project
from xzdoc.rules.base import Context, Hit, items, mapping, text
from xzdoc.rules.prose import other_subject, subjects, where
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


@dataclass(frozen=True)
class Figure:
    label: str
    amount: Decimal
    pos: Pos
    field: str

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
# Also a table cell ("| 项目总投资 | 400.00万元 |"), 人民币, and a remark in brackets ("总投资（含预备费）为").
_AMOUNT_GAP_REVERSED = (r"[ \t]*(?P<frac>\d+\.)?(?P<int>(?:\d{3},)+\d{1,3}|\d+)(?![\d.,])"
                        r"[ \t]*(?:\|[ \t]*)?(?:币民人)?[ \t]*[：:]?(?:为约|为|是|约|共|计|达)?(?:[)）][^()（）\n]{1,12}[(（])?"
                        r"(?:算估|算概|算预|资投|额总|额金|计合|计总|计共|排安)?(?:划计)?"
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
    names = subjects(project)
    digits = body.translate(_FULL_WIDTH) if _HAS_FULL_WIDTH.search(body) else body
    for label_start, start, end, label, said in _tied_amounts(digits, pattern):
        figure = known[label]
        places = -said.as_tuple().exponent  # type: ignore[operator]
        if figure.amount.quantize(Decimal(1).scaleb(-places)) == said:
            continue
        before = body[max(0, label_start - 16): label_start]
        if _inside_compound(before) or (_NOT_THIS_PROJECT.search(before) and _NOT_THIS_PROJECT.search(
                before[max(before.rfind(c) for c in "，。；、,;\n") + 1:])):
            continue
        if other_subject(body[max(0, label_start - 40): label_start], names):
            continue      # 省平台总投资2000万元: a figure of a system the project only connects to
        line = body.count("\n", 0, start) + 1
        yield Hit((line, start - body.rfind("\n", 0, start)),
                  f"《{draft.kind}》第{line}行写“{body[label_start:end].strip()}”，与 "
                  f"{where(project, figure.pos)} 的 {figure.field}（{figure.amount:.2f}万元）不一致；"
                  "请改正文或元数据，或在正文中引用元数据", path=draft.path)


def _tied_amounts(body: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int, int, str, Decimal]]:
    """(label start, amount start, end, label, 万元) of each amount written right after a known label.

    Found from each 元 with str.find and judged by one anchored match of the
    reversed text before it, not by a regular-expression scan of the draft.
    An amount in Chinese numerals is read as digits first and matched the same way.
    """
    at = body.find("元")
    while at >= 0:
        here, at = at, body.find("元", at + 1)
        unit = body[here - 1] if here and body[here - 1] in "万亿" else ""
        unit_at = here - len(unit)
        if unit_at == 0 or body[here + 1: here + 2] in ("/", "每") or body.startswith(_THRESHOLDS, here + 1):
            continue          # 4.50万元/台 is a unit price, 400万元以上 a threshold
        if body[unit_at - 1].isdigit() or body[unit_at - 1] in " \t":
            number_at, digits = unit_at, ""
        elif body[unit_at - 1] in _CN_NUMERALS:
            number_at = unit_at - len(_CN_RUN.match(body[max(0, unit_at - 24): unit_at][::-1]).group(0))  # type: ignore[union-attr]
            value = _chinese(body[number_at: unit_at])
            if value is None or body[number_at - 1: number_at] in ("数", "几", "第"):
                continue
            digits = str(value)
        else:
            continue
        window = (body[max(0, number_at - 48): number_at] + digits)[::-1]
        m = pattern.match(window)
        if m is None:
            continue
        frac = m.group("frac")
        said = _said(m.group("int")[::-1], frac[::-1] if frac else None, unit)
        if said is not None:
            # The window ends with the digits read from a Chinese numeral, which stand for body[number_at:unit_at].
            amount_at = number_at if digits else number_at - m.end("int")
            yield number_at - (m.end() - len(digits)), amount_at, here + 1, m.group("label")[::-1], said


_THRESHOLDS = ("以上", "以下", "以内", "及以上", "及以下", "（含）以上", "(含)以上", "（含）以下", "(含)以下")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")   # one character for one: offsets stay
_HAS_FULL_WIDTH = re.compile("[０-９]")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {c: i for i, c in enumerate("〇壹贰叁肆伍陆柒捌玖")} | {"两": 2}
_CN_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_LARGE = {"万": 10_000, "亿": 100_000_000}
_CN_NUMERALS = "".join([*_CN_DIGITS, *_CN_SMALL])
_CN_RUN = re.compile(f"[{_CN_NUMERALS}万亿]*[{_CN_NUMERALS}]")


def _chinese(numeral: str) -> int | None:
    """三百六十五 -> 365, 一千二百万 -> 12000000, 十五 -> 15; None for what is no number (万 alone, 三三)."""
    total = section = digit = 0
    pending = False
    for ch in numeral:
        if ch in "零〇":
            continue             # 三百零五: a place left empty
        if ch in _CN_DIGITS:
            if pending:
                return None          # two digits in a row are no amount
            digit, pending = _CN_DIGITS[ch], True
        elif ch in _CN_SMALL:
            section += (digit if pending else 1) * _CN_SMALL[ch]
            digit, pending = 0, False
        else:
            section += digit
            if section == 0:
                return None
            total = (total + section) * _CN_LARGE[ch] if ch == "亿" else total + section * _CN_LARGE[ch]
            section = digit = 0
            pending = False
    value = total + section + digit
    return value or None


def _inside_compound(before: str) -> bool:
    """“软件开发及系统集成费”: a conjunction that joins nouns, not list entries, makes the label part of a longer name."""
    return before.endswith(("及", "与", "和", "、")) and not re.search(r"元\s*[及与和、]$", before)


# Decimals are immutable and the default context is never changed, so each spelling is read once.
@functools.lru_cache(maxsize=4096)
def _said(whole: str, fraction: str | None, unit: str) -> Decimal | None:
    """The amount in 万元, to the precision it was written with (元 are exact: to the fen of 万元 at least)."""
    try:
        value = Decimal(whole.replace(",", "") + (fraction or ""))
    except InvalidOperation:
        return None
    if unit == "亿":
        places = max(0, len(fraction or ".") - 1 - 4)
        return (value * 10000).quantize(Decimal(1).scaleb(-places))
    if unit == "":
        if value < 10000:
            return None      # small sums in 元 are unit prices, not the figures above
        value = value / 10000
        places = max(2, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-min(places, 6)))
    return value
