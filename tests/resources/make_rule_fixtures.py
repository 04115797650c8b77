"""Regenerate tests/resources/rules/: one small project per rule, failing exactly that rule.

Run `python tests/resources/make_rule_fixtures.py` after changing the base
project or adding a rule; the output is committed so that each fixture can be
opened and read like any other project folder.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

HERE = Path(__file__).parent
OUT = HERE / "rules"
BASE = HERE / "base_project"

DIMENSIONS = ("计算存储网络支撑适配", "用户满意度", "政务效能提升", "应用可持续发展", "系统安全可靠")
Mutation = Callable[[dict, Path], None]


def load_base() -> dict:
    return yaml.safe_load((BASE / "project.yaml").read_text("utf-8"))


def write(folder: Path, data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    (folder / "project.yaml").write_text(text, "utf-8")


def edit_text(rel: str, old: str, new: str) -> Mutation:
    def apply(data: dict, folder: Path) -> None:
        file = folder / rel
        text = file.read_text("utf-8")
        assert old in text, (rel, old)
        file.write_text(text.replace(old, new, 1), "utf-8")
    return apply


def reencode(data: dict, folder: Path) -> None:
    file = folder / "project.yaml"
    file.write_bytes(file.read_text("utf-8").encode("gb18030"))


def data_edit(fn: Callable[[dict], None]) -> Mutation:
    def apply(data: dict, folder: Path) -> None:
        fn(data)
        write(folder, data)
    return apply


def _system(data: dict) -> dict:
    return data["systems"][0]


def _resource(data: dict) -> dict:
    return data["resources"][0]


DATABASE_TABLE = """| 数据库 | 存储内容 |
|---|---|
| 城乡客运动态监控库 | 车辆、驾驶员和报警数据 |
| 视频附件库 | 报警图片和视频 |
"""
NEEDS = """现有平台部署在自建机房，服务器已连续运行九年，故障率逐年上升。
早期安装的标清终端无法接入主动安全智能预警功能，视频清晰度不能满足取证要求。
县级监管部门只能通过电话和纸质台账跟踪报警处置，处置过程无法追溯。
运输企业反映平台操作复杂，统计报表不能按线路和车辆自动生成。
平台与道路运政管理系统之间没有数据接口，车辆和驾驶员基础信息需要人工维护。
平台未落实商用密码应用要求，身份鉴别和重要数据传输存在安全隐患。
机房供电和空调设备老化，不具备持续保障系统稳定运行的物理条件。
"""
NEEDS_EDITED = NEEDS.replace("运输企业反映平台操作复杂，统计报表不能按线路和车辆自动生成。",
                             "企业用户反映移动端功能不全，无法随时查看本企业车辆的报警信息。")


def twin_with(chapter: str) -> Mutation:
    """A second project in the fixture whose design repeats most of a chapter; nothing else is shared."""
    def apply(data: dict, folder: Path) -> None:
        twin = folder.parent / "XZJT-2025-903"
        shutil.copytree(BASE, twin)
        text = (BASE / "project.yaml").read_text("utf-8")
        text = text.replace("XZJT-2025-902", "XZJT-2025-903").replace("XZJT-SYS-002", "XZJT-SYS-093")
        text = text.replace("130299-", "130298-").replace("规则测试用城乡客运", "规则测试用出租汽车")
        (twin / "project.yaml").write_text(text, "utf-8")
        edit_text("drafts/design.md", "# 四、", chapter + "\n# 四、")(data, twin)
    return apply


CASES: dict[str, list[Mutation]] = {
    "art07.readable": [reencode],
    "art07.schema": [data_edit(lambda d: d.update(budget_owner="财务科"))],
    "art07.stage": [data_edit(lambda d: d.update(stage="finished"))],
    "art07.stage-requirements": [data_edit(lambda d: d["records"].pop("progress"))],
    "art03.type": [data_edit(lambda d: d.update(type="新建项目"))],
    "art03.categories": [data_edit(lambda d: d.update(categories=["应用系统", "大数据"]))],
    "art03.classified": [edit_text("drafts/proposal.md", "# 二、", "密级：秘密\n\n# 二、")],
    "art06.plan-year": [data_edit(lambda d: d.update(plan_year=2030))],
    "art10.unplanned-prereview": [data_edit(lambda d: d.update(planned=False))],
    "art07.documents": [data_edit(lambda d: d["documents"].pop("初步设计"))],
    "art07.placeholders": [data_edit(lambda d: d.update(proposer="项目提出单位名称"))],
    "art07.outline": [edit_text("drafts/feasibility.md", "# 七、方案比选", "# 七、其他说明")],
    "art07.multi-year-budget": [data_edit(lambda d: d["budget"]["years"].update({2026: "200.01"}))],
    "art07.budget-sources": [data_edit(lambda d: d["budget"]["sources"].update({"市级财政资金": "600.00"}))],
    "art07.cross-department": [data_edit(lambda d: d.update(partners=["忻州市公安局交通警察支队"]))],
    "art07.estimate-amount": [data_edit(lambda d: d["estimate"][0].update(quantity=261, amount="247.00"))],
    "art07.estimate-total": [data_edit(lambda d: d["estimate"].append(
        {"name": "额外设备", "group": "硬件设备购置", "quantity": 1, "unit": "台", "unit_price": "1.00", "amount": "1.00"}))],
    "art07.estimate-caps": [data_edit(lambda d: _swap_reserve(d, "60.00"))],
    "art08.resource-attributes": [data_edit(lambda d: _resource(d).pop("update_cycle"))],
    "art08.resource-enums": [data_edit(lambda d: _resource(d).update(format="数据表"))],
    "art08.share-conditions": [data_edit(lambda d: _resource(d).pop("share_condition"))],
    "art08.database-catalog": [data_edit(lambda d: d.pop("databases"))],
    "art08.system-catalog": [data_edit(lambda d: _system(d).update(network="专用光纤"))],
    "art08.unique-ids": [data_edit(lambda d: d["resources"][1].update(code=_resource(d)["code"]))],
    "art10.system-sharing": [data_edit(lambda d: _system(d).pop("shares_with"))],
    "art10.new-system-justification": [data_edit(lambda d: _system(d).update(action="新建"))],
    "art10.private-network": [data_edit(lambda d: _system(d).update(network="业务专网"))],
    "art10.review-dimensions": [data_edit(lambda d: d["records"]["review"]["opinion"].pop("预算合理性"))],
    "art28.cloud": [data_edit(lambda d: _system(d).update(cloud="本地机房"))],
    "art31.mlps-level": [data_edit(lambda d: _system(d).update(mlps_level=6))],
    "art31.crypto-plan": [data_edit(lambda d: d["security"]["crypto"]["in_step"].update(operation=False))],
    "art31.risk-assessment": [data_edit(lambda d: d["security"].pop("risk_assessment"))],
    "art31.personal-info": [edit_text("drafts/design.md", "# 二、", "联系人手机：13912345678\n\n# 二、")],
    "art12.contract-deliverables": [data_edit(lambda d: d["records"]["contract"].update(deliverables=["设计文件", "源代码"]))],
    "art14.contract-filing-deadline": [data_edit(lambda d: d["records"]["contract"].update(filed="2025-08-25"))],
    "art17.supervision-filing": [data_edit(lambda d: d["records"]["supervision"].pop("filed"))],
    "art19.catalog-registration": [data_edit(lambda d: _accepted(d, catalog=False))],
    "art20.key-products": [data_edit(lambda d: (_accepted(d), d["security"].pop("key_products")))],
    "art21.acceptance-filing-deadline": [data_edit(lambda d: _accepted(d, filing="2026-10-20"))],
    "art18.acceptance-checklist": [data_edit(lambda d: (_accepted(d), d["records"]["acceptance"].pop("trial_run")))],
    "art22.self-evaluation": [data_edit(lambda d: d["records"].pop("self_evaluations"))],
    "art24.acceptance-overdue": [data_edit(lambda d: d["records"]["approval"].update(planned_end="2026-03-31"))],
    "art32.emergency-drill": [data_edit(lambda d: (_accepted(d, day="2025-10-10", filing="2025-10-20", operating=True),
                                                   d["security"].pop("drills")))],
    "art32.emergency-plan": [data_edit(lambda d: d["security"].pop("emergency_plan"))],
    # Record integrity.
    "art08.unapproved-construction": [data_edit(lambda d: d["records"]["progress"].insert(
        0, {"date": dt.date(2025, 5, 20), "summary": "承建单位提前进场开展终端安装"}))],
    "art16.record-order": [data_edit(lambda d: d["records"]["review"].update(date=dt.date(2025, 6, 2)))],
    "art11.finance-review-date": [data_edit(lambda d: d["records"]["finance_review"].update(date=dt.date(2025, 5, 9)))],
    "art16.future-record": [data_edit(lambda d: d["records"]["progress"].append(
        {"date": dt.date(2026, 12, 10), "summary": "完成初步验收"}))],
    "art12.contract-amount": [data_edit(lambda d: d["records"]["contract"].update(amount="900.00"))],
    "art11.finance-review-amount": [data_edit(lambda d: d["records"]["finance_review"].update(amount="500.00"))],
    "art21.payments": [data_edit(lambda d: d["records"].update(payments=[
        {"date": dt.date(2025, 8, 12), "amount": "100.00", "stage": "预付款"}]))],
    "art10.review-substance": [data_edit(lambda d: d["records"]["review"]["opinion"].update(需求合理性="合理"))],
    "art10.placeholders": [data_edit(lambda d: _system(d).update(shares_with=["无"]))],
    "art12.procurement-method": [data_edit(lambda d: d["records"]["procurement"].update(method="单一来源"))],
    "art08.open-condition": [data_edit(lambda d: _resource(d).update(open_type="有条件开放"))],
    "art13.shared-platforms": [data_edit(lambda d: _system(d).pop("platforms"))],
    "art15.fund-analysis": [data_edit(lambda d: d["records"].pop("fund_analysis"))],
    "art25.annual-assessment": [data_edit(lambda d: (_accepted(d, day="2025-10-10", filing="2025-10-20", operating=True),
                                                     d["records"]["evaluations"].pop(0)))],
    "art26.efficiency-evaluation": [data_edit(lambda d: (_accepted(d, day="2025-10-10", filing="2025-10-20", operating=True),
                                                         d["records"]["evaluations"][1]["dimensions"].pop("用户满意度")))],
    "art27.ownership": [data_edit(lambda d: d["records"]["contract"].update(code_ownership="源代码归承建单位所有"))],
    "art06.stale-submitted": [data_edit(lambda d: (d.update(stage="submitted"), [d["records"].pop(k) for k in (
        "procurement", "contract", "supervision", "progress", "fund_analysis", "payments") if k in d["records"]]))],
    "art16.stale-building": [data_edit(lambda d: d["records"].update(progress=d["records"]["progress"][:3]))],
    "art28.cloud-purchases": [data_edit(lambda d: _item(d, "主动安全智能预警模块开发").update(name="主动安全预警模块开发及中间件"))],
    "art31.security-test-lines": [data_edit(lambda d: _item(d, "等保测评费").update(name="第三方软件测试费", kind="软件测评费"))],
    "art31.mlps-filing": [data_edit(lambda d: d["security"].pop("mlps_filing"))],
    "art31.crypto-assessment": [data_edit(lambda d: (_accepted(d), d["security"]["crypto"].pop("assessments")))],
    "art32.incident-report": [data_edit(lambda d: d["security"].update(incidents=[
        {"date": dt.date(2026, 5, 6), "summary": "平台遭受端口扫描，已封禁来源地址"}]))],
    "art22.om-self-evaluation": [data_edit(lambda d: _long_operating(d, skip_year=2025))],
    # Records that must agree with each other.
    "art12.contract-vendor": [data_edit(lambda d: d["records"]["contract"].update(vendor="北京某某科技有限公司"))],
    "art17.supervision": [data_edit(lambda d: d["records"]["supervision"].update(selected_by="直接指定"))],
    "art16.change-dates": [data_edit(lambda d: d["records"].update(changes=[
        {"date": dt.date(2026, 3, 10), "fields": ["建设内容"], "reason": "根据业务部门意见增加两处检测点位，投资总额不变",
         "approved": dt.date(2026, 3, 2), "doc_no": "忻政数函〔2026〕11号"}]))],
    "art16.stage-behind-records": [data_edit(lambda d: d.update(stage="contracted"))],
    "art16.termination": [data_edit(lambda d: d["records"].update(
        termination={"date": dt.date(2025, 12, 1), "doc_no": "忻政数函〔2025〕88号", "note": "业务整合，项目终止建设"}))],
    "art18.progress-after-acceptance": [data_edit(lambda d: (_accepted(d), d["records"]["progress"].append(
        {"date": dt.date(2026, 7, 10), "summary": "完成验收后剩余的终端安装和培训工作"})))],
    "art31.mlps-timeline": [data_edit(lambda d: (_accepted(d), d["security"].pop("mlps_assessments")))],
    "art22.om-self-evaluation-dates": [data_edit(lambda d: (_long_operating(d, skip_year=0),
                                                            d["records"]["self_evaluations"][-1].update(
                                                                date=dt.date(2026, 5, 20))))],
    "art16.record-substance": [data_edit(lambda d: d["records"]["progress"][0].update(summary="无"))],
    "art23.indicator-table": [data_edit(lambda d: d["performance_goals"][0].update(subcategory="经济效益指标"))],
    "art22.indicator-actuals": [data_edit(lambda d: d["records"]["self_evaluations"][0]["actuals"].pop("车载终端在线率"))],
    "art07.draft-references": [edit_text("drafts/proposal.md", "{{ budget.total }}", "{{ budget.years[2031] }}")],
    "art07.prose-amounts": [edit_text("drafts/proposal.md", "# 二、", "项目总投资720.00万元，由市级财政资金安排。\n\n# 二、")],
    "art31.prose-mlps": [edit_text("drafts/design.md", "# 二、", "系统按网络安全等级保护第二级开展安全建设。\n\n# 二、")],
    "art08.prose-systems": [edit_text("drafts/design.md", "# 二、", "本期整合公路养护管理系统（XZJT-SYS-099）。\n\n# 二、")],
    "art08.foreign-project": [edit_text("drafts/feasibility.md", "# 二、", "本项目与XZJT-2024-017项目统筹实施。\n\n# 二、")],
    "art08.prose-tables": [edit_text("drafts/design.md", "# 二、", DATABASE_TABLE + "\n# 二、")],
    "art08.chapter-reuse": [edit_text("drafts/design.md", "# 四、", NEEDS + "\n# 四、"), twin_with(NEEDS_EDITED)],
    "art31.pi-assessment": [data_edit(lambda d: _resource(d)["items"].append({"name": "驾驶员身份证号", "type": "字符型"}))],
}


def _item(data: dict, name: str) -> dict:
    return next(i for i in data["estimate"] if i["name"] == name)


def _shift(value: object, years: int) -> object:
    """Every date and year in the project moved by ``years``: the same history, earlier."""
    if isinstance(value, dt.date):
        return value.replace(year=value.year + years)
    if isinstance(value, dict):
        return {(k + years if isinstance(k, int) and k > 2000 else k): _shift(v, years) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, years) for v in value]
    return value


def _long_operating(data: dict, skip_year: int) -> None:
    """The base project two years earlier, accepted in 2024 and in operation since, with every yearly record."""
    shifted = _shift(data, -2)
    data.clear()
    data.update(shifted)  # type: ignore[arg-type]
    data["plan_year"] = 2023
    data["records"]["self_evaluations"][0]["year"] = 2023
    _accepted(data, day="2024-06-05", filing="2024-06-20", operating=True)
    first = data["records"]["self_evaluations"][0]
    for year in (2024, 2025):
        if year != skip_year:
            spent = min(first["spent"], data["budget"]["years"].get(year, first["spent"]))
            data["records"]["self_evaluations"].append({**first, "year": year, "date": dt.date(year + 1, 3, 20),
                                                        "spent": spent})
    data["security"]["crypto"]["assessments"] += [{"date": dt.date(2025, 5, 20), "conclusion": "符合"},
                                                  {"date": dt.date(2026, 5, 20), "conclusion": "符合"}]
    data["security"]["drills"] += [{"date": dt.date(2025, 6, 12), "summary": "网络中断应急切换演练"},
                                   {"date": dt.date(2026, 6, 12), "summary": "数据库故障切换演练"}]
    data["records"]["evaluations"].append({"date": dt.date(2026, 1, 15), "kind": "年度考核", "summary": "2025年度考核良好"})


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _accepted(data: dict, catalog: bool = True, filing: str | None = "2026-06-20", operating: bool = False,
              day: str = "2026-06-05") -> None:
    """Move the base project to acceptance on ``day``, with the records that stage needs."""
    data["stage"] = "operating" if operating else "accepted"
    acceptance = {"date": day, "conclusion": "通过竣工验收", "products_checked": True}
    held = dt.date.fromisoformat(day)
    data["records"]["progress"] = [p for p in data["records"]["progress"] if _day(p["date"]) <= held]
    acceptance.update(trial_run={"start": held - dt.timedelta(days=40), "end": held - dt.timedelta(days=12)},
                      third_party_test={"date": held - dt.timedelta(days=15), "conclusion": "功能和性能测试通过"},
                      supervision_opinion="按合同完成建设，质量合格，同意提请竣工验收", archives=["建设合同", "监理报告", "测评报告"])
    if catalog:
        acceptance["catalog_registered"] = day
    data["records"]["acceptance"] = acceptance
    if filing:
        data["records"]["acceptance_filing"] = {"date": filing, "consent": filing}
    year = int(day[:4])
    data["security"]["crypto"]["assessments"] = [{"date": f"{day[:8]}01", "conclusion": "符合"}]
    filing = data["security"]["mlps_filing"]
    filing["date"] = min(_day(filing["date"]), held - dt.timedelta(days=40))   # filed before the test and acceptance
    data["security"]["mlps_assessments"] = [{"date": held - dt.timedelta(days=30), "by": "山西省信息安全测评中心",
                                             "conclusion": "符合第三级安全保护要求"}]
    if operating:
        data["security"]["mlps_assessments"].append({"date": f"{year + 1}-04-10", "by": "山西省信息安全测评中心",
                                                     "conclusion": "符合第三级安全保护要求"})
    if operating:
        data["security"]["crypto"]["assessments"].append({"date": f"{year + 1}-09-01", "conclusion": "符合"})
        dims = {k: "评估结论良好，满足业务需要" for k in DIMENSIONS}
        data["records"]["evaluations"] = [
            {"date": f"{year + 1}-01-15", "kind": "年度考核", "summary": f"{year}年度使用情况考核良好"},
            {"date": f"{year + 1}-09-10", "kind": "应用效能评估", "dimensions": dims}]


def _swap_reserve(data: dict, amount: str) -> None:
    """Raise the reserve and lower a software item by the same sum, so only the cap trips."""
    items = {i["name"]: i for i in data["estimate"]}
    reserve, dev = items["预备费"], items["动态监控平台升级开发"]
    delta = float(amount) - float(reserve["amount"])
    reserve.update(unit_price=amount, amount=amount)
    new = f"{float(dev['amount']) - delta:.2f}"
    dev.update(unit_price=new, amount=new)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for rule, mutations in CASES.items():
        folder = OUT / rule / "XZJT-2025-902"
        shutil.copytree(BASE, folder)
        data = load_base()
        for mutate in mutations:
            mutate(data, folder)
    print(f"wrote {len(CASES)} fixtures to {OUT}")


if __name__ == "__main__":
    main()
