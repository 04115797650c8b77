"""The rule registry: one row per check, its id, article, level and purpose.

Public surface: ``RULES`` (the table), ``Rule``, ``Context`` and ``Hit``; ``engine.validate`` runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from xzdoc.model import ERROR, INFO, WARNING, Project
from xzdoc.rules import (
    agreement,
    amounts,
    art01,
    art03,
    art06,
    art07,
    art08,
    art10,
    art24,
    art28,
    art31,
    estimate,
    finance,
    integrity,
    lifecycle,
    nesting,
    placeholders,
    prose,
    reuse,
    sequence,
    substance,
    tables,
    typeset,
)
from xzdoc.rules.base import Context, Hit
from xzdoc.rules.index import Index

Check = Callable[[Project, Context], Iterator[Hit]]
# Cross-project rules in two halves (see rules/index.py): a compact summary of each project
# taken while it is in memory, and a check run once over the index of all summaries.
Summarize = Callable[[Project, Context], Any]
PortfolioCheck = Callable[[Index, Context], Iterator[Hit]]


def _none(project: Project, ctx: Context) -> Iterator[Hit]:
    return iter(())


@dataclass(frozen=True)
class Rule:
    id: str
    article: str
    level: str
    description: str
    check: Check
    summarize: Summarize | None = None
    portfolio: PortfolioCheck | None = None


RULES: tuple[Rule, ...] = (
    Rule("art07.readable", "第七条", ERROR, "元数据和文稿是可读取的 UTF-8 文本，YAML 语法正确、无重复键", lambda p, c: iter(())),
    Rule("art07.schema", "第七条", ERROR, "project.yaml 的字段、类型和金额格式符合规范（xzdoc schema）", lambda p, c: iter(())),
    Rule("art07.stage", "第七条", ERROR, "阶段是规定的生命周期阶段之一", art07.check_stage),
    Rule("art07.stage-requirements", "第七条", ERROR, "当前阶段要求的记录和内容齐全（各项依据相应条款）",
         art07.check_stage_requirements),
    Rule("art03.type", "第三条", ERROR, "项目类型为新建、扩建、改造升级或运行维护", art03.check_type),
    Rule("art03.categories", "第三条", ERROR, "项目类别在规定范围内", art03.check_categories),
    Rule("art03.classified", "第三条", ERROR, "文稿和元数据中没有涉密标识（只适用于非涉密项目）", art03.check_classified),
    Rule("art06.plan-year", "第六条", WARNING, "所属年度计划与分年度预算的年份一致", art06.check_plan_year),
    Rule("art10.unplanned-prereview", "第十条", ERROR, "未纳入规划的项目有前置审查记录", art06.check_unplanned),
    Rule("art07.documents", "第七条", ERROR, "当前阶段要求的申请材料均已登记且文稿存在", art07.check_documents),
    Rule("art07.placeholders", "第七条", ERROR, "提交起不再有 xzdoc new 留下的占位内容（提出单位、0.00 预算、编写提示）",
         placeholders.check_placeholders),
    Rule("art07.draft-nesting", "第七条", ERROR,
         "文稿的引用（至多 8 层）、列表（至多 12 层）和方括号（至多 4 层）嵌套在排版能承受的范围内，有序列表的序号至多 9 位数",
         nesting.check_nesting),
    Rule("art07.draft-images", "第七条", ERROR, "文稿引用的图片在项目目录内、格式受支持且内容与扩展名相符，SVG 不引用外部文件",
         typeset.check_images),
    Rule("art07.draft-links", "第七条", ERROR, "文稿中的链接只指向网址（http、https、mailto）或项目目录内的文件",
         typeset.check_links),
    Rule("art07.draft-characters", "第七条", ERROR, "文稿和元数据不含公文无法显示的字符（控制字符、表情符号、私用区造字、非字符）",
         typeset.check_characters),
    Rule("art07.draft-size", "第七条", ERROR, "文稿的段落、行和格式片段至多 30,000 个，排版在几秒内完成", typeset.check_size),
    Rule("art07.outline", "第七条", ERROR, "每份文稿包含提纲要求的全部章节且章节不为空", art07.check_outline),
    Rule("art07.draft-references", "第七条", ERROR, "文稿中的 {{ … }} 引用的元数据存在，且在渲染所用的沙箱中可以计算",
         prose.check_references),
    Rule("art07.prose-amounts", "第七条", ERROR, "正文写明的总投资、年度预算、资金来源、概算项和费用小计与元数据一致",
         amounts.check_amounts),
    Rule("art07.multi-year-budget", "第七条", ERROR, "分年度预算之和等于总预算", art07.check_multi_year),
    Rule("art07.budget-sources", "第七条", ERROR, "资金来源之和等于总预算", art07.check_sources),
    Rule("art07.cross-department", "第七条", ERROR, "跨部门项目有牵头部门、共建部门和整体方案", art07.check_cross_department),
    Rule("art07.estimate-amount", "第七条", ERROR, "概算项金额等于数量乘以单价，类别有效", estimate.check_amounts),
    Rule("art07.estimate-total", "第七条", ERROR, "投资概算合计等于总预算", estimate.check_total),
    Rule("art07.estimate-caps", "第七条", WARNING, "系统集成费、建设单位管理费、预备费不超过费率上限", estimate.check_caps),
    Rule("art08.resource-attributes", "第八条", ERROR, "信息资源写明来源、格式、更新周期、共享和开放属性等", art08.check_attributes),
    Rule("art08.resource-enums", "第八条", ERROR, "信息资源的格式、更新周期、共享和开放属性取值有效", art08.check_enums),
    Rule("art08.share-conditions", "第八条", ERROR, "有条件共享写明条件，不予共享写明依据，可共享的写明方式",
         art08.check_share_rules),
    Rule("art08.database-catalog", "第八条", ERROR, "有数据库类资源时提供数据库目录", art08.check_database_catalog),
    Rule("art08.prose-tables", "第八条", ERROR, "正文中的数据库、信息资源、绩效指标表格与元数据（附表）一致",
         tables.check_tables),
    Rule("art08.system-catalog", "第八条", ERROR, "每个信息系统有目录编号，建设方式、部署、网络取值有效",
         art08.check_system_catalog),
    Rule("art08.system-register", "第八条", ERROR, "升级、整合、下线的系统已列入 systems.yaml 目录，新建系统使用新编号",
         art01.check_register),
    Rule("art01.system-total", "第一条", ERROR, "全部项目实施后在用系统不多于 systems.yaml 登记的在用系统（总量只减不增）",
         _none, summarize=art01.summarize_uses, portfolio=art01.portfolio_total),
    Rule("art08.unique-ids", "第八条", ERROR, "项目编号、系统编号、资源代码全库唯一", art08.check_unique_ids,
         summarize=art08.summarize_ids, portfolio=art08.portfolio_unique_ids),
    Rule("art08.prose-systems", "第八条", ERROR, "文稿提到的系统编号都列在本项目的 systems 中", _none,
         summarize=prose.summarize_systems, portfolio=prose.portfolio_systems),
    Rule("art08.foreign-project", "第八条", ERROR, "文稿中没有其他项目的编号或名称（不得照搬、变相包装）",
         _none, summarize=prose.summarize_foreign, portfolio=prose.portfolio_foreign),
    Rule("art08.chapter-reuse", "第八条", WARNING, "文稿章节不与其他项目的章节大段相同（第一条只合不分、第八条不得变相包装）",
         _none, summarize=reuse.summarize, portfolio=reuse.portfolio),
    Rule("art10.system-sharing", "第十条", ERROR, "每个信息系统实现互联互通或数据共享", art10.check_sharing),
    Rule("art10.new-system-justification", "第十条", ERROR, "新建信息系统说明不能改造整合已有系统的理由",
         art10.check_new_system),
    Rule("art10.private-network", "第十条", ERROR, "新建业务专网有市政府同意的记录", art10.check_private_network),
    Rule("art10.review-dimensions", "第十条", ERROR, "审核意见覆盖需求、集约、可行、预算、绩效五个方面", art10.check_review),
    Rule("art28.cloud", "第二十八条", ERROR, "信息系统部署在市级政务云，或写明不上云的依据", art28.check_cloud),
    Rule("art31.mlps-level", "第三十一条", ERROR, "等保级别为 1–5，项目级别不低于所含系统", art31.check_mlps),
    Rule("art31.prose-mlps", "第三十一条", ERROR, "文稿写明的等保级别与项目及所述系统的等保级别一致", prose.check_mlps),
    Rule("art31.crypto-plan", "第三十一条", ERROR, "商用密码应用方案同步规划、同步建设、同步运行", art31.check_crypto),
    Rule("art31.risk-assessment", "第三十一条", ERROR, "开展网络与信息安全风险评估", art31.check_risk),
    Rule("art31.personal-info", "第三十一条", WARNING, "文稿和元数据中没有身份证号、手机号码等个人信息",
         art31.check_personal_info),
    Rule("art31.pi-assessment", "第三十一条", ERROR,
         "信息项含敏感个人信息（人脸、身份证号、行踪轨迹、手机号）时登记个人信息保护影响评估（申报起警告，建设起错误）",
         art31.check_pi_assessment),
    Rule("art32.emergency-plan", "第三十二条", ERROR, "建设阶段起有网络安全事件应急预案", art31.check_emergency),
    # Lifecycle: filings and deadlines on --as-of (working days from xzdoc/calendar.py).
    Rule("art12.contract-deliverables", "第十二条", ERROR, "建设合同明确系统所有权和提交成果（设计文件、源代码、测试文档）",
         lifecycle.check_contract_deliverables),
    Rule("art14.contract-filing-deadline", "第十四条", ERROR, "合同签订后 5 个工作日内报市政务信息管理局备案",
         lifecycle.check_contract_filing),
    Rule("art17.supervision-filing", "第十七条", ERROR, "监理单位经市场化方式确定、局党组同意后备案",
         lifecycle.check_supervision),
    Rule("art19.catalog-registration", "第十九条", ERROR, "竣工验收时信息资源目录已纳入共享平台目录管理系统",
         lifecycle.check_catalog_registration),
    Rule("art20.key-products", "第二十条", ERROR, "关键软硬件产品安全可控，并作为验收内容核查", lifecycle.check_key_products),
    Rule("art21.acceptance-filing-deadline", "第二十一条", ERROR, "竣工验收后 30 个工作日内经局党组同意将验收报告备案",
         lifecycle.check_acceptance_filing),
    Rule("art22.self-evaluation", "第二十二条", ERROR, "每个预算年度结束后按期报送自评价报告", lifecycle.check_self_evaluation),
    Rule("art24.acceptance-overdue", "第二十四条", ERROR, "不无故长期拖延竣工验收（以批复的计划完工日期为准）",
         lifecycle.check_acceptance_overdue),
    Rule("art32.emergency-drill", "第三十二条", ERROR, "运维阶段定期组织应急演练", lifecycle.check_drill),
    Rule("art32.plan-before-drills", "第三十二条", ERROR, "应急演练在应急预案制定之后", sequence.check_plan_before_drills),
    Rule("art16.record-substance", "第十六条", ERROR, "进度和资金对照分析写明具体情况，批复和备案登记实际文号",
         substance.check_record_substance),
    # Records that must agree with each other.
    Rule("art12.contract-vendor", "第十二条", ERROR, "建设合同的乙方是采购确定的供应商", agreement.check_contract_vendor),
    Rule("art17.supervision", "第十七条", ERROR, "监理单位通过市场化方式确定，且不是项目建设单位", agreement.check_supervision),
    Rule("art16.change-dates", "第十六条", ERROR, "调整申请先申请、后批准", agreement.check_change_dates),
    Rule("art16.stage-behind-records", "第十六条", WARNING, "阶段与已登记的记录相符（已登记合同即至少为已签约）",
         agreement.check_stage_behind_records),
    Rule("art16.termination", "第十六条", ERROR, "终止在立项批复之后，终止后没有建设、拨付和验收", agreement.check_termination),
    Rule("art18.progress-after-acceptance", "第十八条", WARNING, "竣工验收之后不再登记建设进度",
         agreement.check_progress_after_acceptance),
    Rule("art31.mlps-timeline", "第三十一条", ERROR, "等保定级备案在验收之前；三级及以上验收前和每年开展等级保护测评",
         agreement.check_mlps_timeline),
    Rule("art22.om-self-evaluation-dates", "第二十二条", WARNING, "运行维护年度的自评价按期报送",
         agreement.check_om_self_evaluation_dates),
    Rule("art18.acceptance-checklist", "第十八条", ERROR,
         "已验收的项目验收结论为通过，并记录试运行、第三方测评、监理意见和归档资料，验收所依据的测评结论符合要求",
         substance.check_acceptance_checklist),
    Rule("art18.acceptance-dates", "第十八条", ERROR, "试运行、第三方测试和验收申请在合同签订之后、竣工验收之前",
         sequence.check_acceptance_dates),
    Rule("art10.planned-end", "第十条", ERROR, "批复的计划完工日期在批复日期之后", sequence.check_planned_end),
    Rule("art16.progress-after-contract", "第十六条", ERROR, "建设进度记录在合同签订之后", sequence.check_progress_after_contract),
    Rule("art22.self-evaluation-dates", "第二十二条", ERROR, "自评价在其预算年度结束之后，支出不超过该年度预算",
         sequence.check_self_evaluation_dates),
    Rule("art21.funding-eligibility", "第二十一条", INFO,
         "资金可拨付：各项备案齐全、已上云并共享、有评估结果（第五、十、二十一、二十八条）", lifecycle.check_funding),
    # Record integrity: dates in lifecycle order, amounts within what was approved.
    Rule("art08.unapproved-construction", "第八条", ERROR, "不得未批先建：采购、签约、监理、开工均在立项批复之后",
         integrity.check_unapproved_construction),
    Rule("art16.record-order", "第十六条", ERROR, "审核、批复、采购、签约、备案、监理、验收、目录登记、验收备案依次进行",
         integrity.check_record_order),
    Rule("art11.finance-review-date", "第十一条", ERROR, "财务科预算审定在立项批复之后", integrity.check_finance_review_date),
    Rule("art16.future-record", "第十六条", ERROR, "记录的日期不晚于检查日期（--as-of）", integrity.check_future_records),
    Rule("art12.contract-amount", "第十二条", ERROR, "合同金额不超过其覆盖的概算项之和，且不超过批复总预算",
         integrity.check_contract_amount),
    Rule("art11.finance-review-amount", "第十一条", ERROR, "预算审定金额等于总预算，或有经批准的预算调整说明差额",
         integrity.check_finance_review_amount),
    Rule("art21.payments", "第二十一条", ERROR, "拨付不超过合同金额，且每笔拨付前已完成所需备案（第五、二十一条）",
         integrity.check_payments),
    # Substance over presence.
    Rule("art10.review-substance", "第十条", ERROR, "审核意见写明具体依据，不是几个字或占位词", substance.check_review_substance),
    Rule("art10.placeholders", "第十条", ERROR, "互联互通对象和新建理由不是“无”“需要”之类的占位内容",
         substance.check_placeholders),
    Rule("art12.procurement-method", "第十二条", ERROR, "以市场化竞争方式采购；单一来源写明法定依据",
         substance.check_procurement),
    Rule("art08.open-condition", "第八条", ERROR, "有条件开放的资源写明其开放条件（不同于共享条件）",
         substance.check_open_condition),
    Rule("art13.shared-platforms", "第十三条", ERROR, "每个信息系统写明复用的市级共性平台（大平台、小前端），或不复用的理由",
         substance.check_platforms),
    Rule("art15.fund-analysis", "第十五条", ERROR, "建设期定期开展资金使用对照分析（默认每季度）", substance.check_fund_analysis),
    Rule("art25.annual-assessment", "第二十五条", ERROR, "验收后每年开展项目使用情况的年度工作绩效考核",
         substance.check_annual_assessment),
    Rule("art26.efficiency-evaluation", "第二十六条", ERROR, "运维阶段开展应用效能评估，覆盖五个方面",
         substance.check_efficiency_evaluation),
    Rule("art27.ownership", "第二十七条", ERROR, "合同写明信息资源产权和源代码归政府一方，文稿不与之矛盾",
         substance.check_ownership),
    Rule("art06.stale-submitted", "第六条", WARNING, "首个预算年度开始后仍停留在已申报的项目按滚动规划调整",
         substance.check_stale_submitted),
    Rule("art16.stale-building", "第十六条", WARNING, "建设中的项目定期填报进展", substance.check_stale_building),
    # Money and security rules finance and security reviewers apply.
    Rule("art28.cloud-purchases", "第二十八条", ERROR, "购置服务器、存储或通用软件（操作系统、数据库、中间件）有书面例外依据",
         finance.check_cloud_purchases),
    Rule("art31.security-test-lines", "第三十一条", ERROR, "等保三级及以上的项目在概算中列支等保测评和密码测评",
         finance.check_security_test_lines),
    Rule("art31.mlps-filing", "第三十一条", ERROR, "等保二级及以上的系统自建设阶段起完成定级备案", finance.check_mlps_filing),
    Rule("art31.crypto-assessment", "第三十一条", ERROR, "密码应用安全性评估在验收前完成，验收后每年开展",
         finance.check_crypto_assessment),
    Rule("art32.incident-report", "第三十二条", ERROR, "网络安全事件有报告记录", finance.check_incident_reports),
    Rule("art22.om-self-evaluation", "第二十二条", ERROR, "验收后的运行维护年度同样开展自评价",
         finance.check_om_self_evaluation),
    Rule("art23.indicator-table", "第二十三条", ERROR, "绩效目标为三级指标表：一级、二级、三级指标及计量单位，三类一级指标齐全",
         finance.check_indicator_table),
    Rule("art22.indicator-actuals", "第二十二条", ERROR, "自评价记录每项绩效指标的实际值和当年支出",
         finance.check_indicator_actuals),
    # Approvals from git history (one git log per run; nothing outside a repository).
    Rule("art24.approval-history", "第二十四条", ERROR, "审批台账所需的完整 git 历史可以读取（非浅克隆、基线在主分支上）",
         art24.check_history),
    Rule("art24.unapproved-stage-change", "第二十四条", ERROR, "阶段变更经所需角色的审批人合并进入主分支",
         art24.check_unapproved_stage),
    Rule("art24.unapproved-filing", "第二十四条", ERROR, "须经同意的备案（如监理备案）经所需角色的审批人合并进入主分支",
         art24.check_unapproved_filing),
    Rule("art24.pending-approval", "第二十四条", INFO, "工作区中尚未合并进入主分支、等待审批的阶段变更", art24.check_pending),
    Rule("art24.content-drift", "第二十四条", ERROR,
         "经审批的项目目录（project.yaml 各字段、正文、已审批的备案）只经审批人合并或经审批的调整申请改动（第十六条）",
         art24.check_drift),
    Rule("art24.unsigned-merge", "第二十四条", ERROR, "审批合并提交由审批人在 xzdoc.yaml 中登记的密钥签名（require_signed）",
         art24.check_unsigned),
    Rule("art24.signed-approval", "第二十四条", INFO, "要求签名时，列出现行审批记录的签名核验结果和密钥指纹",
         art24.check_signed_records),
    Rule("art24.unapproved-config", "第二十四条", ERROR, "xzdoc.yaml 的修改经局党组成员合并（gates.config），baseline 只设一次",
         art24.check_config),
    Rule("art24.unapproved-register", "第八条", ERROR,
         "全局政务信息系统目录 systems.yaml 的修改经数据中心成员合并（gates.systems）", art24.check_register),
    Rule("art24.deleted-project", "第二十四条", ERROR, "经审批的项目不从主分支删除（终止须经审批）", art24.check_deleted),
    Rule("art24.repository-layout", "第二十四条", ERROR,
         "项目目录下没有符号链接、子模块、.gitattributes 或嵌套的 xzdoc.yaml", art24.check_layout),
    Rule("art24.unreadable-project", "第二十四条", ERROR, "主分支上的 project.yaml 能按 YAML 严格读取（声称的阶段才算数）",
         art24.check_unreadable),
    Rule("art24.future-filing", "第二十四条", ERROR, "备案日期不晚于登记它的提交，也不晚于检查日", art24.check_future_filing),
)

BY_ID = {rule.id: rule for rule in RULES}
assert len(BY_ID) == len(RULES), "rule ids must be unique"


def register(*extra: Rule) -> None:
    """Later modules (lifecycle deadlines) add their rows here, once, at import."""
    global RULES
    for rule in extra:
        if rule.id not in BY_ID:
            BY_ID[rule.id] = rule
            RULES = (*RULES, rule)


__all__ = ["BY_ID", "RULES", "WARNING", "Context", "Hit", "Index", "Rule", "register"]
