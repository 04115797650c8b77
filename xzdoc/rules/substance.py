"""Substance over presence: a field that is filled in must also say something (第六、八、十、十二、十三、十五、十六、二十五至二十七条).

Placeholders, minimum lengths, method lists and dimension names come from
caps.yaml, so a bureau tunes them in xzdoc.yaml without touching code.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator, Sequence

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, bare, day_places, home, items, mapping, text
from xzdoc.rules.integrity import dated, entry_of, records
from xzdoc.source.yamlio import DATE_YEARS, Pos, YMap, as_date

_PLACEHOLDERS = "substance.placeholders"
_REPEATED = re.compile(r"(.{1,6}?)\1{2,}")   # 合理合理合理, 业务需要业务需要业务需要


def empty_words(ctx: Context, value: object, least: int) -> str | None:
    """Why ``value`` says nothing: a placeholder, or fewer than ``least`` characters; None when it says something."""
    body = bare(text(value))
    if not body:
        return "为空"
    words = ctx.extras.get(_PLACEHOLDERS)
    if words is None:  # built once per run: every rule of every project asks
        words = ctx.extras[_PLACEHOLDERS] = frozenset(bare(str(p)).casefold() for p in ctx.std.caps.get("placeholders", ()))
    if body.casefold() in words:
        return f"只写了“{text(value)}”"
    repeated = _REPEATED.fullmatch(body)
    if repeated:
        return f"只是把“{repeated.group(1)}”重复了 {len(body) // len(repeated.group(1))} 遍"
    if len(body) < least:
        return f"只有 {len(body)} 个字（“{text(value)}”），至少应写明 {least} 个字的具体理由"
    return None


def _least(ctx: Context, key: str, default: int) -> int:
    return int(ctx.std.caps.get(key, default))


def check_review_substance(project: Project, ctx: Context) -> Iterator[Hit]:
    review = mapping(entry_of(project, "review"))
    opinion = mapping(review.get("opinion")) if review else None
    if opinion is None:
        return
    least = _least(ctx, "min_opinion_chars", 10)
    for dimension, words in opinion.items():
        why = empty_words(ctx, words, least)
        if why:
            yield Hit(opinion.at(dimension), f"“{dimension}”的审核意见{why}：审核意见须写明审核的具体依据和结论")


def check_placeholders(project: Project, ctx: Context) -> Iterator[Hit]:
    least = _least(ctx, "min_justification_chars", 12)
    for _, system in items(project.data.get("systems")):
        name = text(system.get("name")) or "信息系统"
        shares = system.get("shares_with")
        if isinstance(shares, list) and shares and all(empty_words(ctx, s, 1) for s in shares):
            yield Hit(system.at("shares_with"), f"“{name}”的互联互通对象只写了占位内容（{'、'.join(map(text, shares))}）："
                                                "须写明与之共享的系统或平台名称")
        if "justification" in system and system.get("action") == "新建":
            why = empty_words(ctx, system.get("justification"), least)
            if why:
                yield Hit(system.at("justification"), f"“{name}”不能改造整合已有系统的理由{why}")


def check_procurement(project: Project, ctx: Context) -> Iterator[Hit]:
    procurement = mapping(entry_of(project, "procurement"))
    if procurement is None or procurement.get("method") is None:
        return
    method = text(procurement.get("method"))
    competitive: Sequence[str] = ctx.std.caps.get("procurement_methods", ())
    single: Sequence[str] = ctx.std.caps.get("single_source_methods", ())
    if method in competitive:
        return
    if method in single:
        why = empty_words(ctx, procurement.get("basis"), _least(ctx, "min_justification_chars", 12))
        if why:
            yield Hit(procurement.at("method"), f"采用单一来源采购，但法定依据（records.procurement.basis）{why}："
                                                "须写明适用单一来源的法律条款和情形")
        return
    yield Hit(procurement.at("method"), f"采购方式“{method}”不是市场化竞争方式（可选：{'、'.join(competitive)}；"
                                        f"单一来源须写明法定依据）")


def check_open_condition(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, resource in items(project.data.get("resources")):
        if text(resource.get("open_type")) != "有条件开放":
            continue
        name = text(resource.get("name")) or "信息资源"
        condition = resource.get("open_condition")
        why = empty_words(ctx, condition, 4)
        if why:
            yield Hit(resource.at("open_type"), f"“{name}”为有条件开放，但开放条件（open_condition）{why}")
        elif bare(text(condition)) == bare(text(resource.get("share_condition"))):
            yield Hit(resource.at("open_condition"), f"“{name}”的开放条件照抄了共享条件：向社会开放的条件须单独写明")


def check_platforms(project: Project, ctx: Context) -> Iterator[Hit]:
    least = _least(ctx, "min_justification_chars", 12)
    for _, system in items(project.data.get("systems")):
        if text(system.get("action")) == "下线":
            continue
        platforms = [p for p in system.get("platforms") or () if not empty_words(ctx, p, 1)]
        if platforms:
            continue
        why = empty_words(ctx, system.get("platforms_reason"), least)
        if why:
            yield Hit(system.pos, f"“{text(system.get('name'))}”未写明复用的市级共性平台（platforms，“大平台、小前端”），"
                                  f"不复用的理由（platforms_reason）{why}")


def _gaps(start: dt.date, days: Sequence[dt.date], until: dt.date, interval: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Stretches longer than ``interval`` days between ``start``, each day, and ``until``."""
    points = [start, *sorted(d for d in days if start <= d <= until), until]
    for a, b in itertools.pairwise(points):
        if (b - a).days > interval:
            yield a, b


def check_fund_analysis(project: Project, ctx: Context) -> Iterator[Hit]:
    if project.stage != "building":
        return
    recs = records(project)
    start = dated(project, "contract", "signed") or dated(project, "approval", "date")
    if recs is None or start is None:
        return
    interval = int(ctx.std.caps.get("fund_analysis_interval_days", 92))
    places = day_places(recs.get("fund_analysis"))
    where = home(project, "records", "fund_analysis")
    for a, b in _gaps(start[0], list(places), ctx.as_of, interval):
        late = b == ctx.as_of
        what = "至今" if late else f"至 {b}"
        # The analysis that came late, or for a stretch running to today the last one there is.
        at = places.get(b) or places.get(a) or where
        yield Hit(at, f"建设期应定期开展资金使用对照分析（records.fund_analysis，每 {interval} 天至少一次）：自 {a} "
                         f"{what}已 {(b - a).days} 天没有对照分析", level=None if late else "warning")


def _evaluations(project: Project, kind: str) -> list[tuple[Pos, YMap]]:
    entries = entry_of(project, "evaluations")
    return [(entries.at(i), e) for i, e in items(entries) if text(e.get("kind")) == kind] if entries else []


def check_annual_assessment(project: Project, ctx: Context) -> Iterator[Hit]:
    accepted = dated(project, "acceptance", "date")
    if accepted is None or not ctx.std.reached(project.stage, "accepted"):
        return
    kind = ctx.std.caps.get("evaluation_kinds", {}).get("annual", "年度考核")
    # Each assessment covers one year: held in its fourth quarter or in the first quarter after it ends.
    held = {d.year - 1 if d.month <= 3 else d.year for _, e in _evaluations(project, kind) if (d := as_date(e.get("date")))}
    where = home(project, "records", "evaluations")
    for year in range(accepted[0].year, ctx.as_of.year):
        if year not in held and ctx.as_of > dt.date(year + 1, 3, 31):
            yield Hit(where, f"{year} 年度未记录项目使用情况的年度工作绩效考核（records.evaluations，kind: {kind}），"
                                "考核结果是下一年度项目审核的依据")


def check_efficiency_evaluation(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "operating"):
        return
    kind = ctx.std.caps.get("evaluation_kinds", {}).get("efficiency", "应用效能评估")
    wanted: Sequence[str] = ctx.std.caps.get("efficiency_dimensions", ())
    found = _evaluations(project, kind)
    began = dated(project, "acceptance_filing", "date")
    if not found and began and (ctx.as_of - began[0]).days > int(ctx.std.caps.get("evaluation_valid_days", 366)):
        yield Hit(home(project, "records", "evaluations"), f"投入运行已超过一年，未开展应用效能评估（records.evaluations，"
                                                          f"kind: {kind}，覆盖{'、'.join(wanted)}五个方面）")
    for pos, entry in found:
        dims = mapping(entry.get("dimensions"))
        missing = [d for d in wanted if not dims or empty_words(ctx, dims.get(d), 4)]
        if missing:
            yield Hit(pos, f"{as_date(entry.get('date')) or ''} 应用效能评估缺少以下方面的评价结论："
                           f"{'、'.join(missing)}（dimensions）")


_VENDOR_OWNS = re.compile(r"(源代码|源码|信息资源|政务数据|数据资源|知识产权|著作权|所有权)[^。；\n]{0,12}(归|属于|为)"
                          r"(乙方|承建单位|项目建设单位|中标单位|中标人|供应商|开发商|厂商)")
_VENDORS = ("乙方", "承建单位", "项目建设单位", "中标单位", "中标人", "供应商", "开发商", "厂商")


def _vendor_claims(body: str) -> Iterator[int]:
    """Where a vendor is named as owner: 归/属于 + vendor, or 为 + vendor + 所有.

    Found with str.find on the few 归、属于、所有 in a draft; a regex over the whole text costs ten times more
    and this rule runs on every draft of every project.
    """
    for verb in ("归", "属于"):
        i = body.find(verb)
        while i >= 0:
            if body.startswith(_VENDORS, i + len(verb)):
                yield i
            i = body.find(verb, i + 1)
    i = body.find("所有")
    while i >= 0:
        for vendor in _VENDORS:
            if body.endswith("为" + vendor, 0, i):
                yield i - len(vendor) - 1
        i = body.find("所有", i + 1)


def check_ownership(project: Project, ctx: Context) -> Iterator[Hit]:
    contract = mapping(entry_of(project, "contract"))
    if contract is not None:
        owners: Sequence[str] = ctx.std.caps.get("government_owners", ())
        for key, what in (("resource_ownership", "信息资源产权"), ("code_ownership", "源代码所有权")):
            value = text(contract.get(key))
            if not value:
                yield Hit(contract.pos, f"建设合同未写明{what}归属（records.contract.{key}）：政务信息资源产权归市政府所有，"
                                        "源代码等成果归采购方")
            elif not any(o in value for o in owners) or _VENDOR_OWNS.search(value):
                yield Hit(contract.at(key), f"建设合同的{what}归属“{value}”未归政府一方")
    for draft in project.drafts.values():
        body = draft.text or ""
        # One scan of the whole text; line numbers are counted only for the rare hit.
        for at in _vendor_claims(body):
            m = _VENDOR_OWNS.search(body, max(0, at - 20), at + 8)
            if m is None or "不" in body[max(0, m.start() - 2):m.end()]:
                continue
            start = body.rfind("\n", 0, m.start()) + 1
            yield Hit((body.count("\n", 0, m.start()) + 1, m.start() - start + 1),
                      f"《{draft.kind}》写明“{m.group(0)}”，与政务信息资源和源代码归政府一方的规定相矛盾", path=draft.path)


def check_stale_submitted(project: Project, ctx: Context) -> Iterator[Hit]:
    if project.stage != "submitted":
        return
    budget = mapping(project.data.get("budget"))
    years = mapping(budget.get("years")) if budget else None
    first = min((int(str(y)) for y in years or () if str(y).isdigit()), default=None)
    if first is not None and first in DATE_YEARS and ctx.as_of >= dt.date(first, 1, 1):
        yield Hit(project.data.at("stage"), f"首个预算年度 {first} 年已开始，项目仍停留在“已申报”：请推进审核，"
                                            "或按滚动规划调整到以后年度的计划")


def check_stale_building(project: Project, ctx: Context) -> Iterator[Hit]:
    if project.stage != "building":
        return
    recs = records(project)
    days = int(ctx.std.caps.get("stale_building_days", 180))
    progress = [d for _, e in items(recs.get("progress") if recs else None) if (d := as_date(e.get("date")))]
    if recs is None or not progress:
        return  # no progress at all is art07.stage-requirements' finding
    last = max(progress)
    if (ctx.as_of - last).days > days:
        yield Hit(recs.at("progress"),
                  f"建设中的项目自 {last} 起 {(ctx.as_of - last).days} 天没有进度填报（超过 {days} 天）：请在项目管理平台"
                  "填报进展，建设内容有重大变化的及时提交调整申请")


# A result that failed, unless the same words say the failure was put right.
_FAILED = re.compile(r"未通过|不予通过|不通过|不合格|不符合|不同意")
_RECTIFIED = re.compile(r"已整改|整改后|整改完成|复测通过|复评通过")
# What the 竣工验收报告 lists for an acceptance (第十八条): a field and its name there.
_CHECKLIST = (("trial_run", "试运行"), ("third_party_test", "第三方测评"), ("supervision_opinion", "监理意见"),
              ("archives", "归档资料"))


def _failed(value: object) -> bool:
    said = text(value)
    return bool(_FAILED.search(said)) and not _RECTIFIED.search(said)


def check_acceptance_checklist(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十八条: an accepted project passed its acceptance, on a trial run, a test, the supervisor's word and archives."""
    if not ctx.std.reached(project.stage, "accepted"):
        return
    acceptance = mapping(entry_of(project, "acceptance"))
    if acceptance is None:
        return      # art07.stage-requirements names the missing record
    if _failed(acceptance.get("conclusion")):
        yield Hit(acceptance.at("conclusion"), f"竣工验收结论为“{text(acceptance.get('conclusion'))}”：未通过验收的项目不能进入"
                                               "“已验收”及以后阶段，整改后重新组织验收并记录通过的结论")
    test = mapping(acceptance.get("third_party_test"))
    if test is not None and _failed(test.get("conclusion")):
        yield Hit(test.at("conclusion"), f"第三方测评结论为“{text(test.get('conclusion'))}”：测评未通过不能通过竣工验收，"
                                         "整改复测后记录通过的结论")
    for key, label in _CHECKLIST:
        value = acceptance.get(key)
        if value in (None, "", [], {}) or (isinstance(value, str) and empty_words(ctx, value, 4)):
            yield Hit(acceptance.keypos.get(key) or home(project, "records", "acceptance"),
                      f"竣工验收记录缺少{label}（records.acceptance.{key}）：竣工验收报告须列明{label}情况")
    yield from _security_results(project, acceptance)


def _security_results(project: Project, acceptance: YMap) -> Iterator[Hit]:
    # The latest 等保测评 and 密评 before acceptance are what the acceptance relied on.
    held = as_date(acceptance.get("date"))
    security = mapping(project.data.get("security"))
    crypto = mapping(security.get("crypto")) if security else None
    for entries, label in ((security.get("mlps_assessments") if security else None, "等级保护测评"),
                           (crypto.get("assessments") if crypto else None, "商用密码应用安全性评估")):
        before = [(d, e) for _, e in items(entries) if (d := as_date(e.get("date"))) and (held is None or d <= held)]
        if before:
            day, entry = max(before, key=lambda pair: pair[0])
            if _failed(entry.get("conclusion")):
                yield Hit(entry.at("conclusion"), f"竣工验收前最近一次{label}（{day}）结论为“{text(entry.get('conclusion'))}”："
                                                  "测评不符合要求不能通过竣工验收，整改复测后记录结论")


# Record fields that are document numbers: a real one carries its year and serial (忻政数函〔2025〕37号).
_DOC_NUMBERS = (("approval", "立项批复"), ("pre_review", "前置审查"), ("acceptance_filing", "验收报告备案"),
                ("termination", "终止"))
_DIGIT = re.compile(r"[0-9０-９]")


def check_record_substance(project: Project, ctx: Context) -> Iterator[Hit]:
    """第十六条: what is reported says what happened: progress and fund analyses in words, filings by number."""
    recs = records(project)
    if recs is None:
        return
    least = _least(ctx, "min_summary_chars", 6)
    for key, label in (("progress", "建设进度"), ("fund_analysis", "资金使用对照分析")):
        for _, entry in items(recs.get(key)):
            why = empty_words(ctx, entry.get("summary"), least) if "summary" in entry else None
            if why:
                yield Hit(entry.at("summary"), f"{label}（{text(entry.get('date'))}）的内容（summary）{why}：须写明当期的具体情况")
    numbered: list[tuple[YMap | None, str]] = [(mapping(recs.get(key)), label) for key, label in _DOC_NUMBERS]
    numbered += [(entry, "调整申请批复") for _, entry in items(recs.get("changes"))]
    security = mapping(project.data.get("security"))
    if security is not None:
        numbered.append((mapping(security.get("mlps_filing")), "等保定级备案"))
    for filing, label in numbered:
        if filing is None or "doc_no" not in filing:
            continue
        number = text(filing.get("doc_no"))
        if not _DIGIT.search(number):
            yield Hit(filing.at("doc_no"), f"{label}的文号“{number}”不是实际文号：应写发文机关代字、年份和序号，"
                                          "如 忻政数函〔2025〕37号；尚未取得文号的，不要登记该记录")
