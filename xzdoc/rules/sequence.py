"""Dates inside one later-stage record, and between records the main chain does not link.

integrity.CHAIN orders the filings from review to acceptance filing. These
are the pairs it leaves out: the parts of an acceptance (application, trial
run, third-party test), the planned end of what was approved, the progress
reported against the contract, each year's self-evaluation against that year,
and the emergency plan its drills exercise. Each pair compares two dates the
project records itself, so a wrong date is named where it stands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, items, mapping, money, text, yuan
from xzdoc.rules.integrity import dated, dated_in, records
from xzdoc.source.yamlio import DATE_YEARS, as_date


def check_acceptance_dates(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十八条: construction, then trial run and third-party test, then the application, then acceptance."""
    recs = records(project)
    acceptance = mapping(recs.get("acceptance")) if recs else None
    if acceptance is None:
        return
    held = dated_in(acceptance, "date")
    applied = dated_in(acceptance, "applied")
    signed = dated(project, "contract", "signed")
    trial = acceptance.get("trial_run")
    start, end = dated_in(trial, "start"), dated_in(trial, "end")
    test = dated_in(acceptance.get("third_party_test"), "date")
    if applied and held and applied[0] > held[0]:
        yield Hit(applied[1], f"验收申请日期 {applied[0]} 晚于竣工验收日期 {held[0]}：应先申请，再组织验收")
    consent = dated(project, "acceptance_filing", "consent")
    if consent and held and consent[0] < held[0]:
        yield Hit(consent[1], f"局党组同意验收报告备案的日期 {consent[0]} 早于竣工验收日期 {held[0]}："
                              "先验收，再经局党组同意备案（第二十一条）")
    if start and end and end[0] < start[0]:
        yield Hit(end[1], f"试运行结束日期 {end[0]} 早于开始日期 {start[0]}")
    for found, label in ((end, "试运行结束"), (test, "第三方测试")):
        if found and held and found[0] > held[0]:
            yield Hit(found[1], f"{label}日期 {found[0]} 晚于竣工验收日期 {held[0]}：{label[:3]}是验收的前提，应在验收之前完成")
    if signed:
        for found, label in ((applied, "验收申请"), (start, "试运行开始"), (test, "第三方测试")):
            if found and found[0] < signed[0]:
                yield Hit(found[1], f"{label}日期 {found[0]} 早于建设合同签订日期 {signed[0]}：合同签订前不可能建成待验")


def check_planned_end(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十条: the planned completion the approval sets lies after the approval itself."""
    recs = records(project)
    approval = mapping(recs.get("approval")) if recs else None
    day, end = dated_in(approval, "date"), dated_in(approval, "planned_end")
    if day and end and end[0] < day[0]:
        yield Hit(end[1], f"批复的计划完工日期 {end[0]} 早于批复日期 {day[0]}：请核对 records.approval.planned_end")


def check_progress_after_contract(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十六条: progress is construction progress, which starts with the contract."""
    signed = dated(project, "contract", "signed")
    approval = dated(project, "approval", "date")
    recs = records(project)
    if signed is None or recs is None:
        return
    for _, entry in items(recs.get("progress")):
        day = as_date(entry.get("date"))
        if day and day < signed[0] and not (approval and day < approval[0]):  # that is 未批先建, reported as such
            yield Hit(entry.at("date"), f"进度记录 {day} 早于建设合同签订日期 {signed[0]}：建设进度应从合同签订后开始填报，"
                                        "请核对日期", level="warning")


def check_self_evaluation_dates(project: Project, ctx: Context) -> Iterator[Hit]:
    """第二十二条: a year's self-evaluation follows that year's end and reports no more than its budget."""
    recs = records(project)
    if recs is None:
        return
    for i, entry in items(recs.get("self_evaluations")):
        year, day = entry.get("year"), as_date(entry.get("date"))
        if type(year) is not int or year not in DATE_YEARS:  # the schema names a year out of range
            continue
        if day and day <= dt.date(year, 12, 31):
            yield Hit(entry.at("date"), f"{year} 年度自评价报告日期 {day} 不在该年度结束之后：自评价在预算年度结束后开展")
        spent = money(project, "records", "self_evaluations", i, "spent")
        planned = money(project, "budget", "years", year)
        if spent is not None and planned is not None and spent > planned:
            yield Hit(entry.at("spent"), f"{year} 年度自评价的支出 {yuan(spent)} 超过该年度预算 {yuan(planned)}："
                                         "超预算支出须先办理调整，请核对")


def check_plan_before_drills(project: Project, ctx: Context) -> Iterator[Hit]:
    """第三十二条: a drill exercises the emergency plan, so the plan comes first."""
    security = mapping(project.data.get("security"))
    if security is None:
        return
    plan = dated_in(security.get("emergency_plan"), "date")
    if plan is None:
        return
    for _, drill in items(security.get("drills")):
        day = as_date(drill.get("date"))
        if day and day < plan[0]:
            name = text(drill.get("name")) or text(drill.get("summary")) or "应急演练"
            yield Hit(drill.at("date"), f"“{name[:20]}”{day} 早于应急预案的日期 {plan[0]}：演练检验的是预案，应在预案制定之后")
            return
