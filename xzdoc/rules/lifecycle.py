"""Filings, deadlines and funding once a project is under way (第十二、十四、十七、十九至二十二、二十四、三十二条).

Deadlines are judged on ``ctx.as_of``. The working-day calendar is built
once per run and kept in ``ctx.extras``; a deadline that only an uncovered
year could decide becomes an error naming the remedy rather than a guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from xzdoc.errors import XzdocError
from xzdoc.history import deadlines as lifecycle
from xzdoc.history.calendar import WorkCalendar
from xzdoc.history.deadlines import Deadline
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, day_places, items, mapping, text
from xzdoc.source.yamlio import as_date

_CALENDAR = "lifecycle.calendar"
_DEADLINES = "lifecycle.deadlines"


def _calendar(ctx: Context) -> WorkCalendar:
    cal = ctx.extras.get(_CALENDAR)
    if cal is None:
        cal = ctx.extras[_CALENDAR] = lifecycle.calendar(ctx.config)
    return cal  # type: ignore[no-any-return]


def _deadlines(project: Project, ctx: Context) -> dict[str, Deadline]:
    # Several rules read the same deadlines; compute them once per project. Only the project
    # being checked is kept: validation streams, and a cache of every project would hold them all.
    cached = ctx.extras.get(_DEADLINES)
    if cached is None or cached[0] is not project:
        cached = ctx.extras[_DEADLINES] = (
            project, {d.key: d for d in lifecycle.deadlines(project, ctx.config, _calendar(ctx), ctx.as_of)})
    return cached[1]  # type: ignore[no-any-return]


def _late_by(ctx: Context, deadline: Deadline, end: object) -> str:
    if deadline.due is None or not hasattr(end, "toordinal"):
        return ""
    try:
        return f"，逾期 {_calendar(ctx).workdays_between(deadline.due, end)} 个工作日"  # type: ignore[arg-type]
    except XzdocError:
        return ""


def _workday_filing(ctx: Context, deadline: Deadline | None, event: str, filing: str, where: str) -> Iterator[Hit]:
    """A filing due N 工作日 after an event: late, missing after the due date, or undecidable."""
    if deadline is None or deadline.event is None:
        return
    if deadline.done and deadline.done < deadline.event:
        yield Hit(deadline.pos, f"{filing}日期 {deadline.done} 早于{event}日期 {deadline.event}，请核对")
        return
    if deadline.decided_without_calendar(ctx.as_of):
        return
    if deadline.due is None:
        yield Hit(deadline.pos, f"无法判断{filing}是否在{event}后 {deadline.period} 个工作日内：{deadline.error}")
        return
    if deadline.done and deadline.done > deadline.due:
        yield Hit(deadline.pos, f"{event}于 {deadline.event}，{filing}应在 {deadline.period} 个工作日内（{deadline.due} 前）"
                                f"完成，实际 {deadline.done}{_late_by(ctx, deadline, deadline.done)}")
    elif not deadline.done and ctx.as_of > deadline.due:
        yield Hit(deadline.pos, f"{event}于 {deadline.event}，{filing}应在 {deadline.due} 前完成（{deadline.period} 个工作日），"
                                f"截至 {ctx.as_of} 仍未记录（{where}）{_late_by(ctx, deadline, ctx.as_of)}")


def check_contract_deliverables(project: Project, ctx: Context) -> Iterator[Hit]:
    records = mapping(project.data.get("records"))
    contract = mapping(records.get("contract")) if records else None
    if contract is None:
        return
    named = {text(x) for x in contract.get("deliverables") or () if isinstance(x, str)}
    missing = [d for d in ctx.std.caps.get("contract_deliverables", ()) if d not in named]
    if missing:
        yield Hit(contract.at("deliverables") if "deliverables" in contract else contract.pos,
                  f"建设合同未明确提交成果：{'、'.join(missing)}（records.contract.deliverables），不便于项目后期升级完善")
    if not text(contract.get("ownership")):
        yield Hit(contract.pos, "建设合同未明确系统所有权（records.contract.ownership）")


def check_contract_filing(project: Project, ctx: Context) -> Iterator[Hit]:
    yield from _workday_filing(ctx, _deadlines(project, ctx).get("contract_filing"), "合同签订",
                               "向市政务信息管理局备案合同", "records.contract.filed")


def check_supervision(project: Project, ctx: Context) -> Iterator[Hit]:
    records = mapping(project.data.get("records"))
    supervision = mapping(records.get("supervision")) if records else None
    if supervision is None:
        return  # art07.stage-requirements reports a missing record at building
    building = ctx.std.reached(project.stage, "building")
    consent, filed = as_date(supervision.get("consent")), as_date(supervision.get("filed"))
    unit = text(supervision.get("unit")) or "监理单位"
    if building and not consent:
        yield Hit(supervision.pos, f"{unit}未记录局党组同意日期（records.supervision.consent），备案前须经局党组同意")
    if building and not filed:
        yield Hit(supervision.pos, f"{unit}未向市政务信息管理局备案（records.supervision.filed）")
    if consent and filed and filed < consent:
        yield Hit(supervision.at("filed"), f"监理备案日期 {filed} 早于局党组同意日期 {consent}：须先经局党组同意再备案")
    if building and not text(supervision.get("selected_by")):
        yield Hit(supervision.pos, "未写明通过何种市场化方式确定监理单位（records.supervision.selected_by）", level="warning")


def check_acceptance_filing(project: Project, ctx: Context) -> Iterator[Hit]:
    deadline = _deadlines(project, ctx).get("acceptance_filing")
    yield from _workday_filing(ctx, deadline, "竣工验收", "验收报告备案", "records.acceptance_filing.date")
    records = mapping(project.data.get("records"))
    filing = mapping(records.get("acceptance_filing")) if records else None
    if filing is None:
        return
    consent, filed = as_date(filing.get("consent")), as_date(filing.get("date"))
    if not consent:
        yield Hit(filing.pos, "验收报告须经局党组同意后备案，请记录同意日期（records.acceptance_filing.consent）")
    elif filed and filed < consent:
        yield Hit(filing.at("consent"), f"验收报告备案日期 {filed} 早于局党组同意日期 {consent}")


def check_self_evaluation(project: Project, ctx: Context) -> Iterator[Hit]:
    for key, deadline in _deadlines(project, ctx).items():
        if not key.startswith("self_evaluation.") or deadline.due is None:
            continue
        year = key.rsplit(".", 1)[1]
        if deadline.done is None and ctx.as_of > deadline.due:
            yield Hit(deadline.pos, f"{year} 年度预算已结束，自评价报告应于 {deadline.due} 前报送市政务信息管理局，"
                                    f"至今未记录（records.self_evaluations 中 year: {year}）")
        elif deadline.done and deadline.done > deadline.due:
            yield Hit(deadline.pos, f"{year} 年度自评价报告 {deadline.done} 报送，晚于 {deadline.due}", level="warning")


def check_acceptance_overdue(project: Project, ctx: Context) -> Iterator[Hit]:
    deadline = _deadlines(project, ctx).get("acceptance")
    if deadline is None or deadline.done or deadline.event is None or ctx.std.reached(project.stage, "accepted"):
        return
    if deadline.due and ctx.as_of > deadline.due:
        yield Hit(deadline.pos, f"批复的计划完工日期为 {deadline.event}，已超过 {(ctx.as_of - deadline.event).days} 天仍未竣工验收，"
                                "属无合理原因长期拖延不验收，将被责令限期整改")
    elif ctx.as_of > deadline.event:
        yield Hit(deadline.pos, f"已超过批复的计划完工日期 {deadline.event}，尚未竣工验收；超过 {deadline.period} 天视为长期拖延",
                  level="warning")


def check_drill(project: Project, ctx: Context) -> Iterator[Hit]:
    deadline = _deadlines(project, ctx).get("drill")
    if deadline is None or deadline.due is None:
        return
    security = mapping(project.data.get("security"))
    places = day_places(security.get("drills") if security else None)
    for a, b in itertools.pairwise(sorted(places)):
        if (b - a).days > deadline.period:  # a lapse now past: the clock restarted, the gap stays on record
            yield Hit(places[b], f"应急演练 {b} 距上一次演练 {a} 已 {(b - a).days} 天，超过 {deadline.period} 天：运维阶段须定期"
                                 "组织演练（security.drills）", level="warning")
    if ctx.as_of <= deadline.due:
        return
    yield Hit(deadline.pos, f"自 {deadline.event} 起超过 {deadline.period} 天没有应急演练记录：运维阶段须定期组织演练"
                            "（security.drills）")


def check_catalog_registration(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "accepted") or not project.data.get("resources"):
        return
    records = mapping(project.data.get("records"))
    acceptance = mapping(records.get("acceptance")) if records else None
    if acceptance is not None and not acceptance.get("catalog_registered"):
        yield Hit(acceptance.pos, "竣工验收须将项目信息资源目录纳入共享平台目录管理系统，请记录登记日期"
                                  "（records.acceptance.catalog_registered）")


def check_key_products(project: Project, ctx: Context) -> Iterator[Hit]:
    accepted = ctx.std.reached(project.stage, "accepted")
    security = mapping(project.data.get("security"))
    products = security.get("key_products") if security else None
    for _, product in items(products):
        if product.get("controllable") is False:
            yield Hit(product.at("controllable"), f"关键产品“{text(product.get('name'))}”不是安全可控产品",
                      level=None if accepted else "warning")
    if not accepted:
        return
    if not products:
        yield Hit(security.pos if security else project.data.pos,
                  "验收须核查关键软硬件产品的安全可控情况：请在 security.key_products 中列出关键产品及其安全可控情况")
    records = mapping(project.data.get("records"))
    acceptance = mapping(records.get("acceptance")) if records else None
    if acceptance is not None and acceptance.get("products_checked") is not True:
        yield Hit(acceptance.pos, "竣工验收未记录对软硬件产品安全可控情况的核查（records.acceptance.products_checked: true）")


def check_funding(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "approved"):
        return
    from xzdoc.rules import art24

    status = lifecycle.funding(project, ctx.config, ctx.as_of, art24.funding_holds(project, ctx))
    # Said once, with every reason, unless each reason is already an error of its own rule.
    if any(not r.rule for r in status.reasons):
        yield Hit(project.data.at("stage"), status.text())
