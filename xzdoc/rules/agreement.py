"""Records that must agree with each other after 申报 (第十二、十六、十七、二十二、三十一条).

Each later record names parties, dates and results that another record already holds: the
contract's vendor is the one procurement chose, the supervisor is not the builder, a change is
approved after it is asked for, nothing is built after a termination, and the stage says what
the records say has happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from xzdoc.history import deadlines
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, bare, day_places, home, items, mapping, text
from xzdoc.rules.finance import mlps_level
from xzdoc.rules.integrity import dated, entry_of, records
from xzdoc.source.yamlio import DATE_YEARS, as_date


def _same_party(a: str, b: str) -> bool:
    return bool(a and b) and bare(a) == bare(b)


def check_contract_vendor(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十二条: the contract is signed with the unit the competitive procurement chose."""
    contract, procurement = mapping(entry_of(project, "contract")), mapping(entry_of(project, "procurement"))
    if contract is None or procurement is None:
        return
    signed, chosen = text(contract.get("vendor")), text(procurement.get("vendor"))
    if signed and chosen and not _same_party(signed, chosen):
        yield Hit(contract.at("vendor"), f"建设合同的乙方“{signed}”与采购确定的供应商“{chosen}”不一致："
                                         "合同应与通过市场化竞争方式确定的建设单位签订，请核对")


def check_supervision(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十七条: the supervisor is chosen by a market mechanism, and is not the unit it supervises."""
    supervision = mapping(entry_of(project, "supervision"))
    if supervision is None:
        return
    unit = text(supervision.get("unit"))
    builders = [text(entry.get("vendor")) for entry in (mapping(entry_of(project, "contract")),
                                                        mapping(entry_of(project, "procurement"))) if entry]
    if any(_same_party(unit, builder) for builder in builders):
        yield Hit(supervision.at("unit"), f"监理单位“{unit}”就是项目建设单位：监理须由独立于建设单位的第三方承担，"
                                          "请另行确定监理单位")
    method = text(supervision.get("selected_by"))
    competitive: Sequence[str] = ctx.std.caps.get("procurement_methods", ())
    if method and method not in competitive:
        yield Hit(supervision.at("selected_by"), f"监理单位的确定方式“{method}”不是市场化方式"
                                                 f"（可选：{'、'.join(competitive)}）")


def check_change_dates(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十六条: an adjustment is approved after it is requested."""
    for _, change in items(entry_of(project, "changes")):
        asked, approved = as_date(change.get("date")), as_date(change.get("approved"))
        if asked and approved and approved < asked:
            yield Hit(change.at("approved"), f"调整申请的批准日期 {approved} 早于申请日期 {asked}：先申请，后批准，请核对")


# What each later record means has happened, and the stage it belongs to.
_IMPLIED = (("contract", "signed", "建设合同", "contracted"), ("supervision", "consent", "监理单位", "building"),
            ("progress", "date", "建设进度", "building"), ("acceptance", "date", "竣工验收", "accepted"))


def _first_day(project: Project, record: str, key: str) -> tuple[dt.date, object] | None:
    entry = entry_of(project, record)
    if mapping(entry) is not None:
        return dated(project, record, key)
    places = day_places(entry, key)
    return min(places.items()) if places else None


def check_stage_behind_records(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十六条: the stage says what the records say has happened (a contract means at least 已签约)."""
    stage = project.stage
    if ctx.std.stage_order(stage) < 0:   # terminated, or a stage the standard does not know
        return
    for record, key, label, needs in _IMPLIED:
        found = _first_day(project, record, key)
        if found and not ctx.std.reached(stage, needs):
            yield Hit(project.data.at("stage"), f"已登记{label}（{found[0]}），但阶段仍为“{stage}”：记录表明项目已到"
                                               f"“{needs}”，请提请推进阶段，或核对记录", level="warning")
            return


def check_termination(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十六条: a project is terminated after its approval, and nothing is built or paid for after that."""
    ended = dated(project, "termination", "date")
    if ended is None:
        return
    approval = dated(project, "approval", "date")
    if approval and ended[0] < approval[0]:
        yield Hit(ended[1], f"终止日期 {ended[0]} 早于立项批复日期 {approval[0]}：尚未批复的项目无需终止，请核对")
    work = [(day, where, label) for record, label in (("progress", "建设进度"), ("payments", "资金拨付"))
            for day, where in day_places(entry_of(project, record)).items()]
    accepted = dated(project, "acceptance", "date")
    work += [(accepted[0], accepted[1], "竣工验收")] if accepted else []
    for day, where, label in sorted(work, key=lambda w: w[0]):
        if day > ended[0]:
            yield Hit(where, f"{label} {day} 晚于项目终止日期 {ended[0]}：终止后不应再有建设、拨付或验收，请核对")


def check_progress_after_acceptance(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十六、十八条: construction progress is reported until the acceptance, not after it."""
    accepted = dated(project, "acceptance", "date")
    if accepted is None:
        return
    for day, where in sorted(day_places(entry_of(project, "progress")).items()):
        if day > accepted[0]:
            yield Hit(where, f"建设进度 {day} 晚于竣工验收日期 {accepted[0]}：验收之后的工作属运行维护，"
                             "请记入运维或自评价记录", level="warning")


def check_mlps_timeline(project: Project, ctx: Context) -> Iterator[Hit]:
    """第三十一条: 等保 filed before acceptance; from level 3, a 等保测评 before acceptance and every year after."""
    security = mapping(project.data.get("security"))
    accepted = dated(project, "acceptance", "date")
    if security is None or accepted is None or not ctx.std.reached(project.stage, "accepted"):
        return
    level = mlps_level(project)
    filed = mapping(security.get("mlps_filing"))
    day = as_date(filed.get("date")) if filed else None
    if filed is not None and day and day > accepted[0]:
        yield Hit(filed.at("date"), f"等保定级备案 {day} 晚于竣工验收 {accepted[0]}：等级保护须与系统同步建设，验收前完成定级备案")
    if level < 3:
        return
    places = day_places(security.get("mlps_assessments"))
    before = [d for d in places if d <= accepted[0]]
    if not before:
        yield Hit(home(project, "security", "mlps_assessments"), f"等保第{level}级系统竣工验收（{accepted[0]}）前未记录"
                                                                 "等级保护测评（security.mlps_assessments）")
        return
    # Yearly means in every calendar year after the acceptance's, once that year is over (April one year,
    # May the next is still yearly).
    held = {d.year for d in places}
    for year in range(accepted[0].year + 1, ctx.as_of.year):
        if year not in held:
            yield Hit(home(project, "security", "mlps_assessments"), f"等保第{level}级系统应每年开展等级保护测评："
                                                                     f"{year} 年没有测评记录")


def check_om_self_evaluation_dates(project: Project, ctx: Context) -> Iterator[Hit]:
    """第二十二条 in operation: an O&M year's self-evaluation is due by the same date as a budget year's."""
    recs = records(project)
    budget = mapping(project.data.get("budget"))
    planned = {str(y) for y in (mapping(budget.get("years")) if budget else None) or ()}
    for _, entry in items(recs.get("self_evaluations") if recs else None):
        year, done = entry.get("year"), as_date(entry.get("date"))
        if type(year) is not int or str(year) in planned or done is None or year not in DATE_YEARS:
            continue   # budget years are art22.self-evaluation's
        due = deadlines.self_evaluation_due(ctx.std.caps, year)
        if done > due:
            yield Hit(entry.at("date"), f"{year} 年度（运行维护年度）自评价报告 {done} 报送，晚于 {due}", level="warning")
