"""Records that must agree with each other: dates in lifecycle order, amounts within what was approved.

Dates (第八、十、十一、十二、十四、十七至二十一条) and money (第五、十一、十二、二十一条).
Each check reads the few record fields it compares; nothing here walks the
whole tree, so the rules stay cheap on a large portfolio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from xzdoc.history.facts import EVENT_DATES
from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, items, mapping, money, text, yuan
from xzdoc.source.yamlio import Pos, YList, YMap, as_date

# (record, field, label, article): one lifecycle chain, each event no earlier than the one before it.
CHAIN: tuple[tuple[str, str, str, str], ...] = (
    ("pre_review", "date", "前置审查", "第六条"),
    ("review", "date", "审核意见", "第十条"),
    ("approval", "date", "立项批复", "第十条"),
    ("procurement", "date", "采购", "第十二条"),
    ("contract", "signed", "合同签订", "第十二条"),
    ("contract", "filed", "合同备案", "第十四条"),
    ("supervision", "consent", "监理单位经局党组同意", "第十七条"),
    ("supervision", "filed", "监理备案", "第十七条"),
    ("acceptance", "date", "竣工验收", "第十八条"),
    ("acceptance", "catalog_registered", "资源目录纳入共享平台目录管理系统", "第十九条"),
    ("acceptance_filing", "date", "验收报告备案", "第二十一条"),
)
# What each step of CHAIN must follow (indexes into CHAIN); by default the step before it. The
# supervision unit is chosen after the contract is signed, but nothing orders it after the
# contract's filing (第十四、十七条 run side by side); acceptance waits for both filings.
_AFTER: dict[int, tuple[int, ...]] = {6: (4,), 8: (5, 7)}
# Records that mean construction has started: before the approval they are 未批先建.
BUILT = (("procurement", "date", "采购"), ("contract", "signed", "建设合同签订"),
         ("supervision", "consent", "监理单位确定"))


PLANNED = frozenset({"planned_end"})


def records(project: Project) -> YMap | None:
    return mapping(project.data.get("records"))


def entry_of(project: Project, key: str) -> Any:
    recs = records(project)
    return recs.get(key) if recs is not None else None


def dated(project: Project, record: str, key: str) -> tuple[dt.date, Pos] | None:
    return dated_in(entry_of(project, record), key)


def dated_in(node: object, key: str) -> tuple[dt.date, Pos] | None:
    """The date at ``key`` of a mapping, with its place; None when there is none."""
    entry = mapping(node)
    day = as_date(entry.get(key)) if entry is not None else None
    return (day, entry.at(key)) if entry is not None and day else None


def check_unapproved_construction(project: Project, ctx: Context) -> Iterator[Hit]:
    approval = dated(project, "approval", "date")
    recs = records(project)
    for record, key, label in BUILT:
        found = dated(project, record, key)
        if found is None:
            continue
        if approval is None:
            yield Hit(found[1], f"已有{label}记录（{found[0]}），但没有立项批复（records.approval）：属未批先建")
        elif found[0] < approval[0]:
            yield Hit(found[1], f"{label}日期 {found[0]} 早于立项批复日期 {approval[0]}：属未批先建，"
                                f"须先取得批复再采购、签约和建设")
    if approval is None or recs is None:
        return
    for _, entry in items(recs.get("progress")):
        day = as_date(entry.get("date"))
        if day and day < approval[0]:
            yield Hit(entry.at("date"), f"进度记录 {day} 早于立项批复日期 {approval[0]}：批复前开工属未批先建")


def check_record_order(project: Project, ctx: Context) -> Iterator[Hit]:
    # floors[i]: the latest recorded step that step i must follow, looking past steps not recorded.
    floors: list[tuple[dt.date, str, str] | None] = []
    for i, (record, key, label, article) in enumerate(CHAIN):
        before = [floors[j] for j in _AFTER.get(i, (i - 1,) if i else ())]
        previous = max((f for f in before if f), default=None)
        found = dated(project, record, key)
        if found and previous and found[0] < previous[0] and not _reported_elsewhere(previous[1], label):
            yield Hit(found[1], f"{label}日期 {found[0]} 早于{previous[1]}日期 {previous[0]}：各环节应依次进行"
                                f"（{previous[1]}依据{previous[2]}，{label}依据{article}），请核对记录日期")
        floors.append((found[0], label, article) if found and (not previous or found[0] >= previous[0]) else previous)


def _reported_elsewhere(before: str, after: str) -> bool:
    # 未批先建 has its own error; the contract-filing and supervision rules already compare their own pairs.
    return (before == "立项批复" and after in ("采购", "合同签订", "监理单位经局党组同意")) or \
        (before, after) in (("合同签订", "合同备案"), ("监理单位经局党组同意", "监理备案"))


def check_finance_review_date(project: Project, ctx: Context) -> Iterator[Hit]:
    review, approval = dated(project, "finance_review", "date"), dated(project, "approval", "date")
    if review and approval and review[0] < approval[0]:
        yield Hit(review[1], f"财务科预算审定日期 {review[0]} 早于立项批复日期 {approval[0]}：预算审定针对已通过"
                             "市政务信息管理局审批备案的项目，应在批复之后")


def check_future_records(project: Project, ctx: Context) -> Iterator[Hit]:
    # Security holds records too (filings, assessments, drills, incident reports): a drill dated
    # next month would otherwise stop the drill clock today.
    for part in ("records", "security"):
        recs = mapping(project.data.get(part))
        if recs is None:
            continue
        for key, value in recs.items():
            for pos, day in _dates(value, recs.at(key)):  # planned dates (planned_end) are skipped by _dates
                if day > ctx.as_of:
                    yield Hit(pos, f"{part}.{key} 中的日期 {day} 晚于检查日期 {ctx.as_of}：记录只能登记已经发生的事项")


def _dates(value: object, pos: Pos) -> Iterator[tuple[Pos, dt.date]]:
    if isinstance(value, YMap):
        for k, v in value.items():
            # A date as YAML typed it, or a quoted one in a field that says when something happened
            # (the schema's date format takes both spellings).
            day = v if isinstance(v, dt.date) else as_date(v) if isinstance(v, str) and k in EVENT_DATES else None
            if day is not None:
                if k not in PLANNED:
                    yield value.at(k), day
            elif isinstance(v, (YMap, YList)):
                yield from _dates(v, value.at(k))
    elif isinstance(value, YList):
        for i, v in enumerate(value):
            yield from _dates(v, value.at(i))


# -- amounts -----------------------------------------------------------------------------------------

def approved_total(project: Project) -> tuple[Decimal | None, bool]:
    """The budget the approval fixed, and whether an approved adjustment changed it."""
    total = money(project, "budget", "total")
    adjusted = False
    for i, change in items(entry_of(project, "changes")):
        fields = {text(f) for f in change.get("fields") or ()}
        if change.get("approved") and fields & {"budget", "budget.total", "预算"}:
            adjusted = True
            amount = money(project, "records", "changes", i, "amount")
            if amount is not None:
                total = amount
    return total, adjusted


def check_contract_amount(project: Project, ctx: Context) -> Iterator[Hit]:
    contract = mapping(entry_of(project, "contract"))
    amount = money(project, "records", "contract", "amount")
    if contract is None or amount is None:
        return
    if amount <= 0:
        yield Hit(contract.at("amount"), f"合同金额为 {yuan(amount)}：建设合同须写明实际金额")
        return
    covered = {text(c) for c in contract.get("covers") or ()}
    lines = {text(item.get("name")): money(project, "estimate", i, "amount")
             for i, item in items(project.data.get("estimate"))} if covered else {}
    unknown = sorted(c for c in covered if c not in lines)
    if unknown:
        yield Hit(contract.at("covers"), f"合同覆盖的概算项“{'、'.join(unknown)}”不在投资概算明细中")
    if covered and not unknown:
        limit = sum((lines[c] or Decimal(0) for c in covered), Decimal(0))
        if amount > limit:
            yield Hit(contract.at("amount"), f"合同金额 {yuan(amount)} 超过其覆盖的概算项之和 {yuan(limit)}"
                                             f"（{'、'.join(sorted(covered))}）：合同不得突破批复概算")
            return
    total, _ = approved_total(project)
    if total is not None and amount > total:
        yield Hit(contract.at("amount"), f"合同金额 {yuan(amount)} 超过批复总预算 {yuan(total)}：合同不得突破批复概算，"
                                         "确需增加的须先提交调整申请（第十六条）")


def check_finance_review_amount(project: Project, ctx: Context) -> Iterator[Hit]:
    review = mapping(entry_of(project, "finance_review"))
    amount = money(project, "records", "finance_review", "amount")
    total = money(project, "budget", "total")
    if review is None or amount is None or total is None or amount == total:
        return
    # An approved adjustment explains the difference only if it fixed this very amount: one that
    # names the budget but keeps the total ("总额不变") explains nothing.
    adjusted = [money(project, "records", "changes", i, "amount") for i, change in items(entry_of(project, "changes"))
                if change.get("approved") and {text(f) for f in change.get("fields") or ()} & {"budget", "budget.total", "预算"}]
    if amount in adjusted:
        return
    after = [a for a in adjusted if a is not None]
    why = (f"，与经批准调整后的总额 {yuan(after[-1])} 也不一致" if after else
           "，经批准的预算调整（records.changes）未写明调整后的金额（amount）" if adjusted else
           "，且没有经批准的预算调整（records.changes）说明差额")
    yield Hit(review.at("amount"), f"财务科预算审定金额 {yuan(amount)} 与总预算 budget.total {yuan(total)} 不一致"
                                   f"（相差 {yuan(amount - total)}）{why}")


def check_payments(project: Project, ctx: Context) -> Iterator[Hit]:
    recs = records(project)
    payments = recs.get("payments") if recs else None
    if not payments:
        return
    contract = money(project, "records", "contract", "amount")
    filed = dated(project, "contract", "filed")
    supervision = dated(project, "supervision", "filed")
    accepted = dated(project, "acceptance_filing", "date")
    acceptance = dated(project, "acceptance", "date")
    paid = Decimal(0)
    # The schema's list: its walker leaves enums to the rules, and an unknown stage escapes every check below.
    stages = ctx.std.raw_schema["properties"]["records"]["properties"]["payments"]["items"]["properties"]["stage"]["enum"]
    for i, pay in items(payments):
        amount = money(project, "records", "payments", i, "amount") or Decimal(0)
        day, kind = as_date(pay.get("date")), text(pay.get("stage"))
        if kind and kind not in stages:
            yield Hit(pay.at("stage"), f"拨付阶段“{kind}”不是规定的拨付节点（可选：{'、'.join(stages)}；质保金记为尾款，"
                                       "分期进度款均记为进度款）")
        if kind != "运维费":  # O&M funds are the yearly budget's (第二十一条), not the construction contract's
            paid += amount
            if contract is not None and paid > contract:
                yield Hit(pay.at("amount"), f"累计拨付 {yuan(paid)} 超过合同金额 {yuan(contract)}（运维费不计入）")
        if not day:
            continue
        if kind == "验收款" and (not acceptance or day < acceptance[0]):
            yield Hit(pay.at("date"), f"验收款 {day} 拨付时项目尚未竣工验收"
                                      f"{f'（验收日期 {acceptance[0]}）' if acceptance else ''}：验收款在竣工验收通过后拨付")
        if not filed or day < filed[0]:
            yield Hit(pay.at("date"), f"{kind} {day} 拨付时合同尚未备案：未备案的项目不得拨付建设资金（第五条、第十四条）")
        elif kind in ("进度款", "验收款", "尾款") and (not supervision or day < supervision[0]):
            yield Hit(pay.at("date"), f"{kind} {day} 拨付时监理单位尚未备案：不得拨付后续建设资金")
        if kind in ("尾款", "运维费") and (not accepted or day < accepted[0]):
            yield Hit(pay.at("date"), f"{kind} {day} 拨付时验收报告尚未备案：不得拨付后续建设资金和运行维护经费")
