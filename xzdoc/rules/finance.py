"""What finance and security reviewers check: purchases the 政务云 provides, testing lines, the security
timeline, self-evaluation years and the three-level performance indicator table
(第十、二十二、二十三、二十八、三十一、三十二条).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

from xzdoc.history import deadlines
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, day_places, home, items, mapping, text
from xzdoc.rules.integrity import dated, records
from xzdoc.rules.substance import empty_words
from xzdoc.source.yamlio import YMap, as_date

_BUYS = ("硬件设备购置", "软件购置开发与系统集成")


def check_cloud_purchases(project: Project, ctx: Context) -> Iterator[Hit]:
    caps = ctx.std.caps
    words: Sequence[str] = caps.get("cloud_provided", ())
    unless: Sequence[str] = caps.get("cloud_provided_except", ())
    for _, item in items(project.data.get("estimate")):
        name = text(item.get("name"))
        if text(item.get("group")) not in _BUYS and text(item.get("kind")) != "系统软件":
            continue
        hit = next((w for w in words if w in name), None)
        if hit is None or any(u in name for u in unless):
            continue
        why = empty_words(ctx, item.get("exemption"), int(caps.get("min_justification_chars", 12)))
        if why:
            yield Hit(item.at("name"), f"概算项“{name}”购置{hit}：政务云统一提供硬件设施和通用软件（操作系统、数据库、"
                                       f"中间件），局财务科不再单独安排，须写明书面例外依据（exemption），当前{why}")


def line_of(item: YMap, kind: str, names: Sequence[str]) -> bool:
    """An estimate line is a fee by its kind or, when no kind is set, by its name."""
    if text(item.get("kind")) == kind:
        return True
    name = text(item.get("name"))
    return not text(item.get("kind")) and any(n in name for n in names)


def mlps_level(project: Project) -> int:
    security = mapping(project.data.get("security"))
    levels = [security.get("mlps_level")] if security else []
    levels += [s.get("mlps_level") for _, s in items(project.data.get("systems"))]
    return max((v for v in levels if isinstance(v, int) and not isinstance(v, bool)), default=0)


def check_security_test_lines(project: Project, ctx: Context) -> Iterator[Hit]:
    level = mlps_level(project)
    estimate = project.data.get("estimate")
    if level < 3 or not estimate:
        return
    lines: Mapping[str, Sequence[str]] = ctx.std.caps.get("security_test_lines", {})
    for kind, names in lines.items():
        if not any(line_of(item, kind, names) for _, item in items(estimate)):
            at = project.data.keypos.get("estimate", estimate.pos)
            yield Hit(at, f"项目等保第{level}级，投资概算中没有{kind}（等保三级及以上须列支等级保护测评和"
                                    f"商用密码应用安全性评估费用；以 kind: {kind} 或名称含“{names[0]}”的概算项列示）")


def check_mlps_filing(project: Project, ctx: Context) -> Iterator[Hit]:
    if mlps_level(project) < 2 or not ctx.std.reached(project.stage, "building"):
        return
    security = mapping(project.data.get("security"))
    filing = mapping(security.get("mlps_filing")) if security else None
    if filing is None or not as_date(filing.get("date")):
        yield Hit(security.pos if security else project.data.pos,
                  f"等保第{mlps_level(project)}级系统自建设阶段起须完成定级备案，请记录备案日期（security.mlps_filing.date）")


def check_crypto_assessment(project: Project, ctx: Context) -> Iterator[Hit]:
    accepted = dated(project, "acceptance", "date")
    security = mapping(project.data.get("security"))
    crypto = mapping(security.get("crypto")) if security else None
    if accepted is None or crypto is None or not ctx.std.reached(project.stage, "accepted"):
        return
    places = day_places(crypto.get("assessments"))
    days = sorted(places)
    where = home(project, "security", "crypto", "assessments")
    before = [d for d in days if d <= accepted[0]]
    if not before:
        yield Hit(where, f"竣工验收（{accepted[0]}）前未记录商用密码应用安全性评估（security.crypto.assessments）")
        return
    interval = int(ctx.std.caps.get("crypto_assessment_interval_days", 366))
    points = [before[-1], *[d for d in days if d > accepted[0]], ctx.as_of]
    for a, b in itertools.pairwise(points):
        if (b - a).days > interval:
            yield Hit(places.get(b) or places.get(a) or where,
                      f"密码应用安全性评估应每年开展：{a} 之后至{'今' if b == ctx.as_of else f' {b}'}已 {(b - a).days} 天"
                      "没有评估记录")


def check_incident_reports(project: Project, ctx: Context) -> Iterator[Hit]:
    security = mapping(project.data.get("security"))
    for _, incident in items(security.get("incidents") if security else None):
        report = mapping(incident.get("report"))
        day = as_date(incident.get("date"))
        summary = text(incident.get("summary"))[:20]
        if report is None:
            yield Hit(incident.pos, f"网络安全事件（{day}，{summary}）没有报告记录（report: 报告日期和报告对象），"
                                    "处置情况和相关记录须保存并按规定报告")
        elif day and (reported := as_date(report.get("date"))) and reported < day:
            yield Hit(report.at("date"), f"事件报告日期 {reported} 早于事件发生日期 {day}")


def check_om_self_evaluation(project: Project, ctx: Context) -> Iterator[Hit]:
    """第二十二条 in operation: every year after acceptance is a budget year of O&M funds."""
    accepted = dated(project, "acceptance", "date")
    if accepted is None or not ctx.std.reached(project.stage, "accepted"):
        return
    recs = records(project)
    done = {e.get("year") for _, e in items(recs.get("self_evaluations") if recs else None)}
    where = home(project, "records", "self_evaluations")
    # Budget years are the construction rule's (art22.self-evaluation); these are the O&M years.
    for year in deadlines.om_years(project, accepted[0], ctx.as_of):
        if year in done or ctx.as_of <= deadlines.self_evaluation_due(ctx.std.caps, year):
            continue
        yield Hit(where, f"{year} 年为运行维护年度，年度预算结束后同样须开展项目自评价并报送（records.self_evaluations 中 "
                         f"year: {year}），至今未记录")


_NO_TARGET = frozenset({"", "待定", "暂无", "无", "略", "-", "—", "/", "tbd", "todo", "n/a", "na", "none", "null", "同上",
                        "详见附件", "见附件", "另定", "待测算"})


def check_indicator_table(project: Project, ctx: Context) -> Iterator[Hit]:
    goals = project.data.get("performance_goals")
    if not goals:
        return
    levels: Mapping[str, Sequence[str]] = ctx.std.caps.get("indicator_levels", {})
    seen: set[str] = set()
    for _, goal in items(goals):
        first, second = text(goal.get("category")), text(goal.get("subcategory"))
        name = text(goal.get("indicator"))
        seen.add(first)
        if first not in levels:
            yield Hit(goal.pos, f"绩效指标“{name}”缺少一级指标（category：{'、'.join(levels)}）")
        elif second not in levels[first]:
            yield Hit(goal.at("subcategory") if second else goal.pos,
                      f"绩效指标“{name}”的二级指标应为{'、'.join(levels[first])}之一（subcategory），当前“{second or '未填'}”")
        if not text(goal.get("unit")):
            yield Hit(goal.pos, f"绩效指标“{name}”未写明计量单位（unit）")
        target = str(goal.get("target") if goal.get("target") is not None else "").strip()
        # 通过 and 合格 are targets of a qualitative indicator; these say no target was set.
        if target.casefold() in _NO_TARGET:
            yield Hit(goal.at("target") if "target" in goal else goal.pos,
                      f"绩效指标“{name}”的目标值（target）{'为空' if not target else f'只写了“{target}”'}："
                      "须写明可衡量的目标值，如 ≥95、6、通过")
    missing = [f for f in levels if f not in seen]
    if missing:
        yield Hit(goals.pos, f"绩效目标须包含产出、效益、满意度三类一级指标，缺少：{'、'.join(missing)}")


def check_indicator_actuals(project: Project, ctx: Context) -> Iterator[Hit]:
    recs = records(project)
    names = [text(g.get("indicator")) for _, g in items(project.data.get("performance_goals"))]
    for _, entry in items(recs.get("self_evaluations") if recs else None):
        year = entry.get("year")
        actuals = mapping(entry.get("actuals"))
        if actuals is None:
            yield Hit(entry.pos, f"{year} 年度自评价未记录各项绩效指标的实际完成值（actuals）")
            continue
        missing = [n for n in names if n not in actuals or str(actuals.get(n) or "").strip() == ""]
        unknown = [str(k) for k in actuals if str(k) not in names]
        if missing:
            yield Hit(entry.at("actuals"), f"{year} 年度自评价缺少指标实际值：{'、'.join(missing)}")
        for key in unknown:
            yield Hit(actuals.keypos.get(key, actuals.pos), f"{year} 年度自评价的指标“{key}”不在绩效目标（performance_goals）中")
        if entry.get("spent") is None:
            yield Hit(entry.pos, f"{year} 年度自评价未记录当年实际支出（spent），无法计算预算执行率")
