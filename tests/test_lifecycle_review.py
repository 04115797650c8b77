"""Later-lifecycle records from a reviewer's corpus: crashes, false alarms, missed disagreements and misplaced lines.

Each case mutates a demo project the way the review did. Cases marked WAS A CRASH exited 3, WAS A
HOLE passed validate, WAS A FALSE ALARM failed a consistent project, WAS MISPLACED named another line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import AS_OF, invoke
from tests.test_integrity import BUILDING, OPERATING, SUBMITTED, mutate


def validate(*extra: str) -> tuple[int, list[dict[str, object]]]:
    result = invoke("validate", "--format", "json", "--as-of", AS_OF, "--no-cache", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def of(found: list[dict[str, object]], rule: str) -> list[dict[str, object]]:
    return [f for f in found if f["rule"] == rule]


# -- crashes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("year", ["-5", "0", "10000", "99999999999999999999"])
def test_self_evaluation_year_out_of_range_is_a_schema_error(demo_repo: Path, year: str) -> None:
    # WAS A CRASH: dt.date(year, 12, 31) raised for years outside 1..9999.
    line = mutate(demo_repo, OPERATING, "    - year: 2025\n", f"    - year: {year}\n")
    code, found = validate()
    assert code == 1
    assert any(f["rule"] == "art07.schema" and f["line"] == line and f["path"] == OPERATING for f in found)


@pytest.mark.parametrize("year", ["0000", "0001", "9999"])
def test_budget_year_out_of_range_is_named_with_the_fix(demo_repo: Path, year: str) -> None:
    # WAS A CRASH for 0000: the stale-submitted rule built 0000-01-01.
    line = mutate(demo_repo, SUBMITTED, "    2026: 1180.00", f"    {year}: 1180.00")
    code, found = validate()
    (hit,) = [f for f in of(found, "art07.schema") if f["path"] == SUBMITTED]
    assert code == 1 and hit["line"] == line
    assert f"“{year}”" in str(hit["message"]) and "2000–2100" in str(hit["message"])
    for command in (("status", "XZJT-2026-001"), ("brief", "XZJT-2026-001", "--out", str(demo_repo / "brief"))):
        assert invoke(*command).exit_code in (0, 1)


# -- YAML spellings ------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["15:00", "0x384", "9_00.00", "0o1604", "0b1110000100", "1.2.3"])
def test_money_in_yaml_1_1_spellings_is_not_read_as_a_number(demo_repo: Path, spelling: str) -> None:
    # WAS A HOLE: YAML 1.1 read 15:00 as 900 (base 60), 0x384 and 01604 as 900, 9_00.00 as 900.
    line = mutate(demo_repo, BUILDING, "    amount: 548.00", f"    amount: {spelling}")
    code, found = validate()
    (hit,) = [f for f in of(found, "art07.schema") if f["line"] == line]
    assert code == 1 and spelling in str(hit["message"])


def test_a_time_of_day_in_a_text_field_stays_text(demo_repo: Path) -> None:
    from xzdoc.source.yamlio import loads

    data = loads("a: 9:30\nb: 0351\nc: 12\nd: -3\ne: 1.50\nf: .inf\n", "x.yaml")
    assert (data["a"], data["b"], data["c"], data["d"]) == ("9:30", "0351", 12, -3)
    assert str(data["e"]) == "1.50" and not data["f"].is_finite()
    # A leading zero is not octal: written as money it means what it says, 1604 and not 900.
    from xzdoc.source.structure import parse_money

    assert str(parse_money(data["b"])[0]) == "351.00"


@pytest.mark.parametrize("spelling", ["'20250811'", "'2025-W33-1'", "'2025-8-11'"])
def test_quoted_dates_in_other_iso_forms_are_refused(demo_repo: Path, spelling: str) -> None:
    # WAS A HOLE: date.fromisoformat took 20250811 and 2025-W33-1, and the 合同备案表 printed the week form.
    line = mutate(demo_repo, BUILDING, "    signed: 2025-08-11", f"    signed: {spelling}")
    code, found = validate()
    (hit,) = [f for f in of(found, "art07.schema") if f["line"] == line]
    assert code == 1 and "YYYY-MM-DD" in str(hit["message"])


def test_a_quoted_future_application_date_is_a_future_record(demo_repo: Path) -> None:
    # WAS A HOLE: quoted dates in applied, start and end skipped art16.future-record.
    line = mutate(demo_repo, OPERATING, "    applied: 2024-05-06", "    applied: '2027-05-06'")
    _, found = validate()
    assert [f["line"] for f in of(found, "art16.future-record")] == [line]


@pytest.mark.parametrize(("old", "new"), [
    ("mlps_filing: {date: 2023-09-20", "mlps_filing: {date: 2026-12-30"),
    ("report: {date: 2025-07-08", "report: {date: 2026-12-08"),
    ("- {date: 2026-09-17, summary: 勒索", "- {date: 2027-01-17, summary: 勒索"),
    ("- {date: 2026-04-16, doc_no: 晋密评", "- {date: 2026-12-16, doc_no: 晋密评"),
])
def test_future_security_records_are_future_records(demo_repo: Path, old: str, new: str) -> None:
    # WAS A HOLE: only records.* was checked, so a drill dated next month stopped the drill clock today.
    line = mutate(demo_repo, OPERATING, old, new)
    _, found = validate()
    (hit,) = of(found, "art16.future-record")
    assert hit["line"] == line and str(hit["message"]).startswith("security.")


# -- payments and order ------------------------------------------------------------------------

def test_an_om_fee_is_not_counted_against_the_construction_contract(demo_repo: Path) -> None:
    # WAS A FALSE ALARM: 运维费 were added to the contract's payments.
    mutate(demo_repo, OPERATING, "stage: 尾款, note: 质保期满一年后支付合同金额的5%}",
           "stage: 尾款, note: 质保期满一年后支付合同金额的5%}\n    - {date: 2026-06-30, amount: 36.00, stage: 运维费}")
    code, found = validate()
    assert code == 0 and not of(found, "art21.payments")


def test_payments_over_the_contract_still_count_construction_stages(demo_repo: Path) -> None:
    line = mutate(demo_repo, OPERATING, "amount: 23.10, stage: 尾款", "amount: 60.10, stage: 尾款")
    _, found = validate()
    (hit,) = of(found, "art21.payments")
    assert hit["line"] == line and "超过合同金额" in str(hit["message"])


def test_acceptance_payment_before_the_acceptance(demo_repo: Path) -> None:
    # WAS A HOLE: 验收款 needed only the supervision filing.
    line = mutate(demo_repo, OPERATING, "{date: 2024-06-28, amount: 115.50, stage: 验收款",
                  "{date: 2024-05-10, amount: 115.50, stage: 验收款")
    _, found = validate()
    (hit,) = of(found, "art21.payments")
    assert hit["line"] == line and "尚未竣工验收" in str(hit["message"])


def test_supervision_chosen_between_signing_and_filing_the_contract_is_in_order(demo_repo: Path) -> None:
    # WAS A FALSE ALARM: the chain put the supervisor's consent after the contract's filing.
    mutate(demo_repo, BUILDING, "consent: 2025-08-26", "consent: 2025-08-13")
    code, found = validate()
    assert code == 0 and not of(found, "art16.record-order")


def test_supervision_chosen_before_the_contract_is_signed_is_out_of_order(demo_repo: Path) -> None:
    line = mutate(demo_repo, BUILDING, "consent: 2025-08-26", "consent: 2025-08-01")
    _, found = validate()
    (hit,) = of(found, "art16.record-order")
    assert hit["line"] == line and "合同签订" in str(hit["message"])


def test_acceptance_still_follows_both_filings(demo_repo: Path) -> None:
    line = mutate(demo_repo, OPERATING, "    date: 2024-05-16\n    conclusion", "    date: 2023-06-20\n    conclusion")
    _, found = validate()
    assert line in [f["line"] for f in of(found, "art16.record-order")]


def test_a_budget_change_that_keeps_the_total_does_not_explain_a_finance_review(demo_repo: Path) -> None:
    # WAS A HOLE: any approved change naming the budget silenced the mismatch.
    line = mutate(demo_repo, BUILDING, "amount: 620.00, note: 财务科", "amount: 100.00, note: 财务科")
    mutate(demo_repo, BUILDING, "  self_evaluations:", "  changes:\n    - date: 2025-06-05\n      fields: [budget]\n"
           "      reason: 根据市财政局意见调整资金来源结构，总额不变，分年度安排不变\n      approved: 2025-06-08\n"
           "      doc_no: 忻政数函〔2025〕40号\n  self_evaluations:")
    _, found = validate()
    (hit,) = of(found, "art11.finance-review-amount")
    assert hit["line"] == line and "未写明调整后的金额" in str(hit["message"])


# -- acceptance --------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "words"), [
    ("    conclusion: 通过竣工验收", "    conclusion: 未通过竣工验收", "竣工验收结论"),
    ("conclusion: 功能、性能和安全测试通过}", "conclusion: 性能测试不合格}", "第三方测评结论"),
    ("conclusion: 符合第三级安全保护要求，测评得分86.5分}", "conclusion: 不符合第三级安全保护要求}", "等级保护测评"),
])
def test_a_failed_acceptance_or_test_cannot_stand_for_an_accepted_project(demo_repo: Path, old: str, new: str,
                                                                          words: str) -> None:
    # WAS A HOLE: conclusions were checked for presence only.
    line = mutate(demo_repo, OPERATING, old, new)
    _, found = validate()
    (hit,) = of(found, "art18.acceptance-checklist")
    assert hit["line"] == line and words in str(hit["message"]) and hit["article"] == "第十八条"


def test_a_rectified_failure_is_not_a_failure(demo_repo: Path) -> None:
    mutate(demo_repo, OPERATING, "conclusion: 功能、性能和安全测试通过}", "conclusion: 首轮性能测试不通过，整改后复测通过}")
    code, found = validate()
    assert code == 0 and not of(found, "art18.acceptance-checklist")


@pytest.mark.parametrize("field", ["trial_run", "third_party_test", "supervision_opinion", "archives"])
def test_the_acceptance_checklist_must_be_recorded(demo_repo: Path, field: str) -> None:
    # WAS A HOLE: the 竣工验收报告 printed "未记录 缺失" and validate passed.
    text = (demo_repo / OPERATING).read_text("utf-8")
    (old,) = [ln + "\n" for ln in text.splitlines() if ln.startswith(f"    {field}:")]
    mutate(demo_repo, OPERATING, old, "")
    _, found = validate()
    (hit,) = of(found, "art18.acceptance-checklist")
    assert f"records.acceptance.{field}" in str(hit["message"])


def test_filing_consent_before_the_acceptance(demo_repo: Path) -> None:
    # WAS A HOLE: the 局党组 could consent to filing a report of an acceptance not yet held.
    mutate(demo_repo, OPERATING, "consent: 2024-06-11", "consent: 2024-05-10")
    _, found = validate()
    assert any("早于竣工验收日期" in str(f["message"]) for f in of(found, "art18.acceptance-dates"))


# -- lines ---------------------------------------------------------------------------------------

def test_a_fund_analysis_gap_points_at_the_analysis_that_came_late(demo_repo: Path) -> None:
    # WAS MISPLACED: every gap was reported at the first entry of the list.
    mutate(demo_repo, BUILDING, "    - {date: 2026-04-20, summary: 一季度按进度支付平台迁移款项，支付比例与完成工作量相符}\n", "")
    text = (demo_repo / BUILDING).read_text("utf-8")
    late = text[:text.index("- {date: 2026-07-20")].count("\n") + 1
    _, found = validate()
    (hit,) = of(found, "art15.fund-analysis")
    assert hit["line"] == late


def test_a_drill_gap_in_the_middle_of_the_list_is_a_warning_at_the_later_drill(demo_repo: Path) -> None:
    # WAS A HOLE: only the time since the last drill was checked.
    mutate(demo_repo, OPERATING, "    - {date: 2025-10-22, summary: 数据库主备切换和执法证据数据恢复演练}\n", "")
    text = (demo_repo / OPERATING).read_text("utf-8")
    later = text[:text.index("- {date: 2026-09-17")].count("\n") + 1
    code, found = validate()
    (hit,) = of(found, "art32.emergency-drill")
    assert code == 0 and hit["level"] == "warning" and hit["line"] == later and "672 天" in str(hit["message"])


def test_status_names_the_year_the_calendar_lacks(demo_repo: Path) -> None:
    # WAS WRONG: the due date's year was named, although the count ran into the next, uncovered year.
    result = invoke("status", "XZJT-2025-002", "--as-of", "2027-01-10")
    assert "2027 年无工作日历" in result.output and "2026 年无工作日历" not in result.output


# -- records that must agree with each other (second pass of the review) -------------------------

@pytest.mark.parametrize(("rel", "old", "new", "rule", "words"), [
    (BUILDING, "    vendor: 山西智联交通科技有限公司", "    vendor: 北京某某科技有限公司", "art12.contract-vendor",
     "采购确定的供应商"),
    (BUILDING, "unit: 山西诚信工程监理有限公司", "unit: 山西智联交通科技有限公司", "art17.supervision", "就是项目建设单位"),
    (BUILDING, "selected_by: 竞争性磋商", "selected_by: 直接指定", "art17.supervision", "不是市场化方式"),
    (BUILDING, "doc_no: 忻政数函〔2025〕37号", "doc_no: 无", "art16.record-substance", "不是实际文号"),
    (BUILDING, "summary: 上半年资金支付进度正常，无超概算情况", "summary: 无", "art16.record-substance", "只写了“无”"),
    (BUILDING, "需求合理性: 现有终端老化、平台不具备主动安全功能，升级需求真实迫切", "需求合理性: 合理合理合理合理合理合理合理",
     "art10.review-substance", "重复了 7 遍"),
    (BUILDING, "shares_with: [市政务数据共享交换平台, 山西省道路运输车辆动态监管平台]", "shares_with: ['None']",
     "art10.placeholders", "None"),
    (BUILDING, "indicator: 车载终端在线率, unit: '%', target: ≥95%}", "indicator: 车载终端在线率, unit: '%', target: 待定}",
     "art23.indicator-table", "只写了“待定”"),
    (BUILDING, "    amount: 548.00", "    amount: 0.00", "art12.contract-amount", "实际金额"),
    (OPERATING, "mlps_filing: {date: 2023-09-20", "mlps_filing: {date: 2024-08-01", "art31.mlps-timeline", "晚于竣工验收"),
    (OPERATING, "{date: 2025-06-30, amount: 23.10, stage: 尾款", "{date: 2025-06-30, amount: 23.10, stage: 质保金",
     "art21.payments", "不是规定的拨付节点"),
])
def test_records_that_disagree_are_findings(demo_repo: Path, rel: str, old: str, new: str, rule: str,
                                            words: str) -> None:
    # WAS A HOLE: each of these passed validate.
    line = mutate(demo_repo, rel, old, new)
    _, found = validate()
    hits = [f for f in of(found, rule) if f["path"] == rel]
    assert hits and any(words in str(f["message"]) for f in hits), found
    assert line in [f["line"] for f in hits]


def test_a_qualitative_target_is_a_target(demo_repo: Path) -> None:
    code, _ = validate()
    assert code == 0 and "target: 通过" in (demo_repo / BUILDING).read_text("utf-8")


def test_a_change_approved_before_it_was_asked_for(demo_repo: Path) -> None:
    mutate(demo_repo, BUILDING, "  self_evaluations:", "  changes:\n    - date: 2026-06-05\n      fields: [estimate]\n"
           "      reason: 调整终端型号，概算总额不变，分项金额不变\n      approved: 2026-05-01\n      doc_no: 忻政数函〔2026〕12号\n"
           "  self_evaluations:")
    _, found = validate()
    (hit,) = of(found, "art16.change-dates")
    assert "2026-05-01" in str(hit["message"])


def test_a_pre_review_after_the_approval_is_out_of_order(demo_repo: Path) -> None:
    mutate(demo_repo, BUILDING, "planned: true", "planned: false")
    mutate(demo_repo, BUILDING, "records:\n", "records:\n  pre_review: {date: 2025-06-20, doc_no: 忻政数审〔2025〕9号}\n")
    _, found = validate()
    assert any("早于前置审查日期" in str(f["message"]) for f in of(found, "art16.record-order"))


def test_a_termination_before_the_approval_and_work_after_it(demo_repo: Path) -> None:
    mutate(demo_repo, BUILDING, "stage: building", "stage: terminated")
    mutate(demo_repo, BUILDING, "records:\n", "records:\n  termination: {date: 2025-01-01, doc_no: 忻交发〔2025〕1号}\n")
    _, found = validate()
    messages = [str(f["message"]) for f in of(found, "art16.termination")]
    assert any("早于立项批复日期" in m for m in messages) and any("晚于项目终止日期" in m for m in messages)


@pytest.mark.parametrize(("stage", "words"), [("approved", "建设合同"), ("contracted", "监理单位")])
def test_a_stage_behind_its_records_is_a_warning(demo_repo: Path, stage: str, words: str) -> None:
    line = mutate(demo_repo, BUILDING, "stage: building", f"stage: {stage}")
    _, found = validate()
    (hit,) = of(found, "art16.stage-behind-records")
    assert hit["level"] == "warning" and hit["line"] == line and words in str(hit["message"])


def test_progress_after_the_acceptance_is_a_warning(demo_repo: Path) -> None:
    line = mutate(demo_repo, OPERATING, "  progress:\n",
                  "  progress:\n    - {date: 2024-09-10, summary: 补充安装两处站点的抓拍设备}\n")
    _, found = validate()
    (hit,) = of(found, "art18.progress-after-acceptance")
    assert hit["level"] == "warning" and hit["line"] == line + 1


def test_a_late_om_self_evaluation_is_a_warning(demo_repo: Path) -> None:
    line = mutate(demo_repo, OPERATING, "      date: 2026-03-19", "      date: 2026-05-19")
    _, found = validate()
    (hit,) = of(found, "art22.om-self-evaluation-dates")
    assert hit["line"] == line and "晚于 2026-03-31" in str(hit["message"])


def test_flash_arrays_are_storage_and_encrypted_servers_are_servers(demo_repo: Path) -> None:
    text = (demo_repo / BUILDING).read_text("utf-8")
    (old,) = [ln for ln in text.splitlines() if "name: 国产化车载视频监控终端" in ln]
    mutate(demo_repo, BUILDING, old, old.replace("国产化车载视频监控终端", "全闪存阵列"))
    _, found = validate()
    assert any("全闪存" in str(f["message"]) for f in of(found, "art28.cloud-purchases"))


def test_a_year_without_an_mlps_assessment_is_named_at_the_list(demo_repo: Path) -> None:
    # WAS A HOLE: 等保测评 was never required, before acceptance or yearly.
    mutate(demo_repo, OPERATING, "    - {date: 2025-04-09, by: 山西省信息安全测评中心",
           "    - {date: 2024-12-09, by: 山西省信息安全测评中心")
    text = (demo_repo / OPERATING).read_text("utf-8")
    key = text[:text.index("  mlps_assessments:")].count("\n") + 1
    _, found = validate()
    (hit,) = of(found, "art31.mlps-timeline")
    assert hit["line"] == key and "2025 年没有测评记录" in str(hit["message"])


@pytest.mark.parametrize(("written", "meant"), [("submited", "submitted"), ("buildng", "building"), ("建设中", "building")])
def test_a_misspelt_stage_gets_the_closest_name(demo_repo: Path, written: str, meant: str) -> None:
    # WAS the whole list only.
    line = mutate(demo_repo, BUILDING, "stage: building", f"stage: {written}")
    _, found = validate()
    (hit,) = of(found, "art07.stage")
    assert hit["line"] == line and f"你是不是想写“{meant}”" in str(hit["message"])


def test_a_drill_list_with_a_stray_entry_is_a_schema_error_not_a_crash(demo_repo: Path) -> None:
    # WAS A CRASH (exit 3): the last drill's index was taken from the list of mapping entries only.
    mutate(demo_repo, OPERATING, "  drills:\n", "  drills:\n    - 2024-01-01\n")
    code, found = validate()
    assert code == 1 and of(found, "art07.schema")
