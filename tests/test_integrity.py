"""Record integrity on the demo projects: each mutation a reviewer would catch fails at its file, line and article."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import AS_OF, invoke

BUILDING = "projects/XZJT-2025-002/project.yaml"
SUBMITTED = "projects/XZJT-2026-001/project.yaml"
OPERATING = "projects/XZJT-2023-004/project.yaml"


def mutate(root: Path, rel: str, old: str, new: str) -> int:
    """Replace ``old`` once and return the 1-based line where the replacement starts."""
    file = root / rel
    text = file.read_text("utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), "utf-8")
    return text[:text.index(old)].count("\n") + 1


def findings(rule: str) -> list[dict[str, object]]:
    result = invoke("validate", "--format", "json", "--as-of", AS_OF)
    assert result.exit_code == 1, result.output
    return [f for f in json.loads(result.output) if f["rule"] == rule]


def test_demos_have_no_errors(demo_repo: Path) -> None:
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_contract_before_approval_is_unapproved_construction(demo_repo: Path) -> None:
    line = mutate(demo_repo, BUILDING, "    signed: 2025-08-11", "    signed: 2025-05-20")
    (hit,) = findings("art08.unapproved-construction")
    assert (hit["path"], hit["line"], hit["article"]) == (BUILDING, line, "第八条")
    assert "未批先建" in str(hit["message"]) and "2025-05-30" in str(hit["message"])


def test_contract_over_budget(demo_repo: Path) -> None:
    line = mutate(demo_repo, BUILDING, "    amount: 548.00", "    amount: 900.00")
    (hit,) = findings("art12.contract-amount")
    assert (hit["path"], hit["line"], hit["article"]) == (BUILDING, line, "第十二条")
    assert "900.00" in str(hit["message"]) and "620.00" in str(hit["message"])


def test_contract_over_the_lines_it_covers(demo_repo: Path) -> None:
    line = mutate(demo_repo, BUILDING, "    amount: 548.00",
                  "    amount: 548.00\n    covers: [国产化车载视频监控终端, 动态监控平台升级开发]")
    (hit,) = findings("art12.contract-amount")
    assert hit["line"] == line and "415.00" in str(hit["message"])


def test_finance_review_differs_from_total(demo_repo: Path) -> None:
    line = mutate(demo_repo, BUILDING, "amount: 620.00, note: 财务科", "amount: 500.00, note: 财务科")
    (hit,) = findings("art11.finance-review-amount")
    assert (hit["path"], hit["line"], hit["article"]) == (BUILDING, line, "第十一条")


def test_an_approved_budget_adjustment_explains_the_difference(demo_repo: Path) -> None:
    mutate(demo_repo, BUILDING, "amount: 620.00, note: 财务科", "amount: 500.00, note: 财务科")
    result = invoke("validate", "--format", "json", "--as-of", AS_OF)
    assert any(f["rule"] == "art11.finance-review-amount" for f in json.loads(result.output))
    mutate(demo_repo, BUILDING, "  fund_analysis:", "  changes:\n    - {date: 2025-06-20, fields: [budget.total], "
           "reason: 财政压减后按审定金额实施, approved: 2025-06-30, amount: 500.00}\n  fund_analysis:")
    result = invoke("validate", "--format", "json", "--as-of", AS_OF)
    assert not [f for f in json.loads(result.output) if f["rule"] == "art11.finance-review-amount"]


def test_level_three_without_testing_lines(demo_repo: Path) -> None:
    text = (demo_repo / BUILDING).read_text("utf-8")
    kept = [ln for ln in text.split("\n") if "kind: 等保测评费" not in ln and "kind: 密码测评费" not in ln]
    (demo_repo / BUILDING).write_text("\n".join(kept), "utf-8")
    hits = findings("art31.security-test-lines")
    assert {h["article"] for h in hits} == {"第三十一条"} and len(hits) == 2
    assert {h["path"] for h in hits} == {BUILDING} and {h["line"] for h in hits} == {text.split("\n").index("estimate:") + 1}
    assert any("等保测评费" in str(h["message"]) for h in hits) and any("密码测评费" in str(h["message"]) for h in hits)


def test_testing_lines_are_recognised_by_name(demo_repo: Path) -> None:
    mutate(demo_repo, BUILDING, "kind: 等保测评费, ", "")
    mutate(demo_repo, BUILDING, "kind: 密码测评费, ", "")
    assert invoke("validate", "--as-of", AS_OF).exit_code == 0


def test_conditional_opening_without_its_condition(demo_repo: Path) -> None:
    condition = "    open_condition: 仅按日开放各收费站出入口汇总流量，经脱敏后通过市公共数据开放平台向社会提供\n"
    line = mutate(demo_repo, SUBMITTED, condition, "")
    (hit,) = findings("art08.open-condition")
    assert (hit["path"], hit["article"]) == (SUBMITTED, "第八条") and hit["line"] == line - 1  # at open_type


def test_one_word_review_opinions(demo_repo: Path) -> None:
    text = (demo_repo / BUILDING).read_text("utf-8")
    start = text.index("    opinion:\n")
    lines = text[start:].split("\n")[1:6]
    new = text
    for old in lines:
        key = old.split(":")[0]
        new = new.replace(old, f"{key}: 合理", 1)
    (demo_repo / BUILDING).write_text(new, "utf-8")
    hits = findings("art10.review-substance")
    first = text[:start].count("\n") + 2
    assert [h["line"] for h in hits] == list(range(first, first + 5))
    assert {h["article"] for h in hits} == {"第十条"} and all("合理" in str(h["message"]) for h in hits)


def test_missing_fund_analysis_at_building(demo_repo: Path) -> None:
    text = (demo_repo / BUILDING).read_text("utf-8")
    block = re.search(r"  fund_analysis:\n(    - .*\n)+", text)
    assert block
    (demo_repo / BUILDING).write_text(text.replace(block.group(0), ""), "utf-8")
    (hit,) = findings("art15.fund-analysis")
    assert (hit["path"], hit["article"], hit["level"]) == (BUILDING, "第十五条", "error")
    assert hit["line"] == text.split("\n").index("records:") + 1  # the records the analysis belongs in


@pytest.mark.parametrize(("old", "new", "rule"), [
    ("  review:\n    date: 2025-04-18", "  review:\n    date: 2025-06-02", "art16.record-order"),
    ("finance_review: {date: 2025-06-10", "finance_review: {date: 2025-05-09", "art11.finance-review-date"),
    ("method: 公开招标", "method: 单一来源", "art12.procurement-method"),
    ("shares_with: [市政务数据共享交换平台, 山西省道路运输车辆动态监管平台]", "shares_with: [无]", "art10.placeholders"),
    ("code_ownership: 定制开发部分的源代码及知识产权归忻州市交通运输局所有，承建单位在交付时移交全部源代码",
     "code_ownership: 源代码归承建单位所有", "art27.ownership"),
    ("  mlps_filing: {date: 2025-10-30, doc_no: 忻公网安备〔2025〕0217号}\n", "", "art31.mlps-filing"),
])
def test_other_building_mutations(demo_repo: Path, old: str, new: str, rule: str) -> None:
    mutate(demo_repo, BUILDING, old, new)
    assert findings(rule)


def test_draft_giving_source_code_to_the_vendor_contradicts_article_27(demo_repo: Path) -> None:
    draft = "projects/XZJT-2025-002/drafts/design.md"
    text = (demo_repo / draft).read_text("utf-8")
    at = text.index("\n# 二、")
    (demo_repo / draft).write_text(text[:at] + "\n\n项目形成的源代码归承建单位所有。\n" + text[at:], "utf-8")
    (hit,) = findings("art27.ownership")
    assert hit["path"] == draft and hit["line"] == text[:at].count("\n") + 3


@pytest.mark.parametrize(("old", "new", "rule"), [
    ("    - {date: 2026-01-15, kind: 年度考核", "    - {date: 2024-01-15, kind: 年度考核", "art25.annual-assessment"),
    ("        用户满意度: 问卷满意度94%，移动端查询上线后货运企业投诉下降\n", "", "art26.efficiency-evaluation"),
    ("      - {date: 2026-04-16, doc_no: 晋密评〔2026〕0377号, conclusion: 符合}\n", "", "art31.crypto-assessment"),
    ("      report: {date: 2025-07-08, to: 市委网信办和市公安局网络安全保卫支队, doc_no: 忻交数安报〔2025〕3号}\n", "",
     "art32.incident-report"),
    ("    - year: 2025\n      date: 2026-03-19", "    - year: 2022\n      date: 2026-03-19", "art22.om-self-evaluation"),
    ("超限案件网上办结率: 97.8, ", "", "art22.indicator-actuals"),
    ("      - {date: 2024-04-22, doc_no: 晋密评〔2024〕0418号, conclusion: 符合}\n", "", "art31.crypto-assessment"),
])
def test_operating_mutations(demo_repo: Path, old: str, new: str, rule: str) -> None:
    mutate(demo_repo, OPERATING, old, new)
    hits = findings(rule)
    assert hits and {h["path"] for h in hits} == {OPERATING}


def test_payment_before_acceptance_filing(demo_repo: Path) -> None:
    line = mutate(demo_repo, OPERATING, "{date: 2025-06-30, amount: 23.10, stage: 尾款",
                  "{date: 2024-06-01, amount: 23.10, stage: 尾款")
    (hit,) = findings("art21.payments")
    assert hit["line"] == line and "验收报告尚未备案" in str(hit["message"])


def test_acceptance_before_the_contract(demo_repo: Path) -> None:
    mutate(demo_repo, OPERATING, "    date: 2024-05-16\n    conclusion", "    date: 2023-05-16\n    conclusion")
    assert findings("art16.record-order")


def test_stale_building_is_a_warning(demo_repo: Path) -> None:
    result = invoke("validate", "--format", "json", "--as-of", "2027-06-01")
    stale = [f for f in json.loads(result.output) if f["rule"] == "art16.stale-building"]
    assert [(f["path"], f["level"]) for f in stale] == [(BUILDING, "warning")]
