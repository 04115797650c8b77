"""Deadlines and eligibility as `xzdoc validate` reports them, on a pinned --as-of."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, RESOURCES, invoke
from xzdoc import config
from xzdoc.history import deadlines as lifecycle
from xzdoc.source import loader

PID = "XZJT-2025-902"
YAML = f"projects/{PID}/project.yaml"
CONTRACT = "    signed: 2025-08-11\n    filed: 2025-08-15\n"
SUPERVISION = "  supervision: {unit: 山西诚信工程监理有限公司, selected_by: 竞争性磋商, consent: 2025-08-26, filed: 2025-09-02}"
_BASE_TEXT = (Path(__file__).parent / "resources" / "base_project" / "project.yaml").read_text("utf-8")
SELF_EVALUATIONS = _BASE_TEXT[_BASE_TEXT.index("  self_evaluations:"):]
ACCEPTED = ("  acceptance: {date: 2026-09-01, conclusion: 通过, catalog_registered: 2026-09-01, products_checked: true,\n"
            "    trial_run: {start: 2026-07-01, end: 2026-08-20}, third_party_test: {date: 2026-08-15, conclusion: 通过},\n"
            "    supervision_opinion: 按合同完成建设，同意验收, archives: [建设合同, 监理报告]}\n"
            "  self_evaluations:")
# The State Council's 2026 notice as STANDARD §8 gives it, to count by hand.
REST_2026 = {dt.date(2026, 9, 25), dt.date(2026, 9, 26), dt.date(2026, 9, 27),
             *(dt.date(2026, 10, d) for d in range(1, 8))}
MAKEUP_2026 = {dt.date(2026, 9, 20), dt.date(2026, 10, 10)}


def make(tmp_path: Path, *edits: tuple[str, str], xzdoc_yaml: str = "organisation: 忻州市交通运输局\n") -> Path:
    root = tmp_path / "repo"
    shutil.copytree(RESOURCES / "base_project", root / "projects" / PID)
    (root / "xzdoc.yaml").write_text(xzdoc_yaml, "utf-8")
    file = root / YAML
    text = file.read_text("utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    file.write_text(text, "utf-8")
    return root


def hits(root: Path, as_of: str, *rules: str) -> list[dict[str, object]]:
    result = invoke("validate", str(root), "--format", "json", "--as-of", as_of)
    found = json.loads(result.output)
    return [f for f in found if f["rule"] in rules] if rules else found


def messages(root: Path, as_of: str, rule: str) -> str:
    return "\n".join(str(f["message"]) for f in hits(root, as_of, rule))


def by_hand(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        if (day.weekday() < 5 and day not in REST_2026) or day in MAKEUP_2026:
            n -= 1
    return day


def contract(signed: str, filed: str | None) -> tuple[str, str]:
    return CONTRACT, f"    signed: {signed}\n" + (f"    filed: {filed}\n" if filed else "")


def test_base_project_has_no_lifecycle_findings(tmp_path: Path) -> None:
    assert hits(make(tmp_path), AS_OF) == []


# 第十四条 across the 2026 National Day holiday: signed Mon 28 Sep, 5 工作日 end on the make-up Saturday 10 Oct.

def test_national_day_deadline_matches_a_hand_count() -> None:
    assert by_hand(dt.date(2026, 9, 28), 5) == dt.date(2026, 10, 10)


@pytest.mark.parametrize("filed", ["2026-10-09", "2026-10-10"])
def test_contract_filed_in_time_across_national_day(tmp_path: Path, filed: str) -> None:
    assert hits(make(tmp_path, contract("2026-09-28", filed)), AS_OF, "art14.contract-filing-deadline") == []


def test_contract_filed_one_working_day_late(tmp_path: Path) -> None:
    root = make(tmp_path, contract("2026-09-28", "2026-10-12"))
    (hit,) = hits(root, AS_OF, "art14.contract-filing-deadline")
    assert hit["level"] == "error" and hit["path"] == YAML
    assert "2026-10-10 前" in str(hit["message"]) and "逾期 1 个工作日" in str(hit["message"])
    assert "依据第十四条" in str(hit["message"])


def test_unfiled_contract_becomes_overdue_the_day_after(tmp_path: Path) -> None:
    root = make(tmp_path, contract("2026-09-28", None))
    assert hits(root, "2026-10-10", "art14.contract-filing-deadline") == []
    (hit,) = hits(root, "2026-10-11", "art14.contract-filing-deadline")
    assert "截至 2026-10-11 仍未记录" in str(hit["message"]) and "records.contract.filed" in str(hit["message"])


@pytest.mark.parametrize("signed", ["2026-09-18", "2026-09-24", "2026-09-30", "2026-10-02", "2026-10-09"])
def test_deadline_agrees_with_the_notice(tmp_path: Path, signed: str) -> None:
    due = by_hand(dt.date.fromisoformat(signed), 5)
    root = make(tmp_path, contract(signed, (due + dt.timedelta(days=1)).isoformat()))
    (hit,) = hits(root, AS_OF, "art14.contract-filing-deadline")
    assert f"{due} 前" in str(hit["message"])
    ok = make(tmp_path / "ok", contract(signed, due.isoformat()))
    assert hits(ok, AS_OF, "art14.contract-filing-deadline") == []


def test_contract_filed_before_it_was_signed(tmp_path: Path) -> None:
    assert "早于" in messages(make(tmp_path, contract("2026-09-28", "2026-09-20")), AS_OF, "art14.contract-filing-deadline")


# An uncovered year fails closed, with the remedy; a declared year is used.

def test_uncovered_year_fails_closed_with_the_remedy(tmp_path: Path) -> None:
    root = make(tmp_path, contract("2031-03-03", None))
    text = messages(root, "2031-04-01", "art14.contract-filing-deadline")
    assert "2031 年没有工作日历数据" in text and "calendar.years" in text and "chinesecalendar" in text


def test_uncovered_year_is_not_needed_when_calendar_days_decide(tmp_path: Path) -> None:
    root = make(tmp_path, contract("2031-03-03", "2031-03-07"))
    assert hits(root, "2031-04-01", "art14.contract-filing-deadline") == []


def test_declared_year_is_used(tmp_path: Path) -> None:
    declared = ("calendar:\n  years:\n    2031:\n      rest: ['2031-01-01', '2031-03-05..2031-03-06']\n"
                "      workdays: ['2031-03-08']\n")
    root = make(tmp_path, contract("2031-03-03", "2031-03-11"), xzdoc_yaml=declared)
    # Rest Wed 5 and Thu 6, make-up Sat 8: Tue 4, Fri 7, Sat 8, Mon 10, Tue 11.
    assert hits(root, "2031-04-01", "art14.contract-filing-deadline") == []
    late = make(tmp_path / "late", contract("2031-03-03", "2031-03-12"), xzdoc_yaml=declared)
    assert "2031-03-11 前" in messages(late, "2031-04-01", "art14.contract-filing-deadline")


def test_bad_calendar_declaration_is_a_config_error(tmp_path: Path) -> None:
    root = make(tmp_path, xzdoc_yaml="calendar:\n  years:\n    2031:\n      rest: ['2031-02-30']\n      workdays: []\n")
    result = invoke("validate", str(root), "--as-of", AS_OF)
    assert result.exit_code == 1 and "不是合法日期" in result.output and "xzdoc.yaml" in result.output


# 第二十一条: 30 工作日 after acceptance, with the party group's consent.

def test_acceptance_report_filing_deadline(tmp_path: Path) -> None:
    root = make(tmp_path, ("  self_evaluations:", ACCEPTED))
    due = by_hand(dt.date(2026, 9, 1), 30)
    assert due == dt.date(2026, 10, 19)
    assert hits(root, due.isoformat(), "art21.acceptance-filing-deadline") == []
    (hit,) = hits(root, "2026-10-20", "art21.acceptance-filing-deadline")
    assert "2026-10-19 前" in str(hit["message"]) and "依据第二十一条" in str(hit["message"])


def test_acceptance_filing_needs_consent_first(tmp_path: Path) -> None:
    filing = ACCEPTED.replace("  self_evaluations:", "  acceptance_filing: {date: 2026-10-09, consent: 2026-10-12}\n"
                                                      "  self_evaluations:")
    root = make(tmp_path, ("  self_evaluations:", filing))
    assert "早于局党组同意日期" in messages(root, AS_OF, "art21.acceptance-filing-deadline")


# 第二十二条: a self-evaluation for each finished budget year.

def test_missing_self_evaluation(tmp_path: Path) -> None:
    root = make(tmp_path, (SELF_EVALUATIONS, ""))
    assert hits(root, "2026-03-31", "art22.self-evaluation") == []
    (hit,) = hits(root, "2026-04-01", "art22.self-evaluation")
    assert "2025 年度预算已结束" in str(hit["message"]) and "2026-03-31" in str(hit["message"])


def test_self_evaluation_due_date_is_configurable(tmp_path: Path) -> None:
    root = make(tmp_path, (SELF_EVALUATIONS, ""),
                xzdoc_yaml="standard:\n  caps:\n    self_evaluation_due: '06-30'\n")
    assert hits(root, "2026-04-01", "art22.self-evaluation") == []
    assert hits(root, "2026-07-01", "art22.self-evaluation")


def test_late_self_evaluation_is_a_warning(tmp_path: Path) -> None:
    root = make(tmp_path, ("date: 2026-03-20\n      score: 92", "date: 2026-04-15\n      score: 92"))
    (hit,) = hits(root, AS_OF, "art22.self-evaluation")
    assert hit["level"] == "warning"


# 第二十四条: acceptance long delayed against the approved end.

def test_acceptance_delay_warning_then_error(tmp_path: Path) -> None:
    root = make(tmp_path, ("planned_end: 2027-03-31", "planned_end: 2026-09-30"))
    (hit,) = hits(root, AS_OF, "art24.acceptance-overdue")
    assert hit["level"] == "warning"
    (hit,) = hits(root, "2027-04-01", "art24.acceptance-overdue")
    assert hit["level"] == "error" and "长期拖延不验收" in str(hit["message"])


def test_acceptance_delay_threshold_is_configurable(tmp_path: Path) -> None:
    root = make(tmp_path, ("planned_end: 2027-03-31", "planned_end: 2026-09-30"),
                xzdoc_yaml="standard:\n  caps:\n    acceptance_overdue_days: 30\n")
    assert hits(root, AS_OF, "art24.acceptance-overdue")[0]["level"] == "error"


# 第三十二条: drills at least yearly once operating.

DIMENSIONS = ", ".join(f"{d}: 评估结论良好满足业务需要" for d in ("计算存储网络支撑适配", "用户满意度", "政务效能提升",
                                                                "应用可持续发展", "系统安全可靠"))

OPERATING = (("stage: building", "stage: operating"),
             ("  self_evaluations:", ACCEPTED.replace("  self_evaluations:", "  acceptance_filing: {date: 2026-09-20, "
                                                      "consent: 2026-09-15}\n  evaluations:\n    - {date: 2026-10-01, "
                                                      "kind: 应用效能评估, dimensions: {" + DIMENSIONS + "}}\n"
                                                      "  self_evaluations:")),
             ("    in_step: {planning: true, construction: true, operation: true}\n",
              "    in_step: {planning: true, construction: true, operation: true}\n"
              "    assessments: [{date: 2026-08-20, conclusion: 符合}]\n"),
             # What an operating level-3 project has recorded: its 等保测评, and no progress after acceptance.
             ("  mlps_filed: true\n",
              "  mlps_filed: true\n  mlps_assessments: [{date: 2026-08-10, conclusion: 符合第三级安全保护要求}]\n"),
             ("    - {date: 2026-10-12, summary: 完成等保三级测评现场工作和密码应用安全性评估}\n", ""))


def test_drill_overdue_once_operating(tmp_path: Path) -> None:
    root = make(tmp_path, *OPERATING)
    assert hits(root, AS_OF, "art32.emergency-drill") == []
    # The year runs from the last drill (2026-06-12); going into operation (2026-09-20) does not restart it.
    assert hits(root, "2027-06-13", "art32.emergency-drill") == []
    (hit,) = hits(root, "2027-06-14", "art32.emergency-drill")
    assert "自 2026-06-12 起超过 366 天" in str(hit["message"])


def test_operating_project_is_clean(tmp_path: Path) -> None:
    assert hits(make(tmp_path, *OPERATING), AS_OF) == []


# 第十九、二十条 at acceptance; 第十二条 contract; 第十七条 supervision.

def test_acceptance_checks_catalog_and_key_products(tmp_path: Path) -> None:
    bare = ACCEPTED.replace(", catalog_registered: 2026-09-01, products_checked: true", "")
    root = make(tmp_path, ("stage: building", "stage: accepted"), ("  self_evaluations:", bare),
                ("vendor: 国产厂商, controllable: true}\n    - {name: 国产关系型数据库", "vendor: 国产厂商, controllable: false}\n"
                 "    - {name: 国产关系型数据库"))
    assert "信息资源目录纳入共享平台" in messages(root, AS_OF, "art19.catalog-registration")
    text = messages(root, AS_OF, "art20.key-products")
    assert "不是安全可控产品" in text and "products_checked" in text


def test_uncontrollable_product_before_acceptance_is_a_warning(tmp_path: Path) -> None:
    root = make(tmp_path, ("name: 服务器密码机, category: 密码产品, vendor: 国产厂商, controllable: true",
                           "name: 服务器密码机, category: 密码产品, vendor: 国外厂商, controllable: false"))
    (hit,) = hits(root, AS_OF, "art20.key-products")
    assert hit["level"] == "warning"


def test_contract_must_name_the_deliverables_and_ownership(tmp_path: Path) -> None:
    root = make(tmp_path, ("deliverables: [设计文件, 源代码, 测试文档]", "deliverables: [设计文件]"),
                ("    ownership: 系统所有权归忻州市交通运输局\n", ""))
    text = messages(root, AS_OF, "art12.contract-deliverables")
    assert "源代码、测试文档" in text and "所有权" in text


def test_supervision_unit_must_be_filed_after_consent(tmp_path: Path) -> None:
    root = make(tmp_path, (SUPERVISION, SUPERVISION.replace(", filed: 2025-09-02", "")))
    assert "未向市政务信息管理局备案" in messages(root, AS_OF, "art17.supervision-filing")
    root = make(tmp_path / "b", (SUPERVISION, SUPERVISION.replace("consent: 2025-08-26", "consent: 2025-09-10")))
    assert "须先经局党组同意再备案" in messages(root, AS_OF, "art17.supervision-filing")


# Funding eligibility: eligible, or blocked with every reason.

def _funding(root: Path, as_of: dt.date) -> lifecycle.Funding:
    cfg = config.load(root)
    project = loader.load_project(cfg, root / "projects" / PID).project
    assert project is not None
    return lifecycle.funding(project, cfg, as_of)


def test_funding_eligible_for_a_project_with_every_filing(tmp_path: Path) -> None:
    assert _funding(make(tmp_path), dt.date(2026, 11, 20)).eligible


def test_funding_blocked_with_every_reason(tmp_path: Path) -> None:
    shared = ("    cloud: 市级政务云\n    network: 电子政务外网\n"
              "    shares_with: [市政务数据共享交换平台, 山西省道路运输车辆动态监管平台]")
    root = make(tmp_path, *OPERATING, ("    filed: 2025-08-15\n", ""), (SUPERVISION, SUPERVISION.replace(", filed: 2025-09-02", "")),
                (shared, "    cloud: 本地机房\n    cloud_exemption: ''\n    network: 电子政务外网"))
    status = _funding(root, dt.date(2028, 1, 1))
    assert not status.eligible
    assert [(r.article, r.text) for r in status.reasons] == [
        ("第二十一条", "建设合同未备案"), ("第二十一条", "监理单位未备案"),
        ("第五条", "最近一次应用评估（2026-10-01）已超过 366 天"),
        ("第二十八条", "信息系统“城乡客运车辆动态监控系统”未部署在市级政务云"),
        ("第十条", "已有信息系统“城乡客运车辆动态监控系统”未实现数据共享，不拨付运维经费")]
    (hit,) = hits(root, "2028-01-01", "art21.funding-eligibility")
    assert hit["level"] == "info" and "建设合同未备案（第二十一条）" in str(hit["message"])


def test_funding_held_until_the_acceptance_report_is_filed(tmp_path: Path) -> None:
    root = make(tmp_path, ("stage: building", "stage: accepted"), ("  self_evaluations:", ACCEPTED))
    (hit,) = hits(root, "2026-09-10", "art21.funding-eligibility")
    assert "竣工验收报告未备案" in str(hit["message"])
    assert hits(root, "2026-09-10", "art21.acceptance-filing-deadline") == []


def test_o_and_m_years_have_their_self_evaluation_deadlines_in_the_brief_and_status(demo_repo: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS MISSING: the deadline table (brief, status) listed budget years' self-evaluations only; an O&M
    # year's was checked by art22.om-self-evaluation but shown nowhere as an open obligation.
    loaded = config.load(demo_repo)
    project = loader.load_project(loaded, demo_repo / "projects" / "XZJT-2023-004").project
    assert project is not None
    found = {d.key: d for d in lifecycle.deadlines(project, loaded, lifecycle.calendar(loaded), dt.date(2026, 12, 3))}
    assert {"self_evaluation.2023", "self_evaluation.2024"} <= set(found)          # the budget years
    assert found["om_self_evaluation.2025"].done == dt.date(2026, 3, 19)
    running = found["om_self_evaluation.2026"]
    assert running.done is None and running.due == dt.date(2027, 3, 31) and running.label == "2026 年度自评价（运行维护）"
    assert "om_self_evaluation.2024" not in found                                  # 2024 is a budget year
    from xzdoc.render import briefing

    table = {d["label"]: d for d in briefing._deadlines(loaded, project, dt.date(2026, 12, 3))}
    assert table["2026 年度自评价（运行维护）"]["state"] == "尚余 118 天"
    assert table["2025 年度自评价（运行维护）"]["state"] == "已于 2026-03-19 完成"
    monkeypatch.chdir(demo_repo)
    status = invoke("status", "--as-of", "2026-12-03")
    assert status.exit_code == 0 and "2026 年度自评价（运行维护）" in status.output, status.output
    # Open and not yet due: no finding from the construction years' rule, none from the O&M one.
    result = invoke("validate", "projects/XZJT-2023-004", "--as-of", "2026-12-03", "--format", "json")
    rules = {f["rule"] for f in json.loads(result.output)}
    assert not rules & {"art22.self-evaluation", "art22.om-self-evaluation"}
