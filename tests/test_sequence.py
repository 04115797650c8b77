"""Later-stage dates the lifecycle chain does not link, each named at the date that is out of order.

WAS A HOLE: each mutation below passed validate on a project with a full set of later-stage records.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke

PID = "XZJT-2023-004"
YAML = f"projects/{PID}/project.yaml"

MUTATIONS = [
    ("applied-after-acceptance", "applied: 2024-05-06", "applied: 2024-05-20", "art18.acceptance-dates", "applied:",
     "晚于竣工验收日期"),
    ("trial-ends-after-acceptance", "end: 2024-04-30,", "end: 2024-05-30,", "art18.acceptance-dates", "trial_run:",
     "试运行结束日期 2024-05-30 晚于竣工验收日期"),
    ("trial-ends-before-it-starts", "end: 2024-04-30,", "end: 2024-01-30,", "art18.acceptance-dates", "trial_run:",
     "早于开始日期"),
    ("test-after-acceptance", "third_party_test: {date: 2024-04-08", "third_party_test: {date: 2024-05-28",
     "art18.acceptance-dates", "third_party_test:", "第三方测试日期 2024-05-28 晚于竣工验收日期"),
    ("trial-before-contract", "trial_run: {start: 2024-02-01", "trial_run: {start: 2023-06-01", "art18.acceptance-dates",
     "trial_run:", "早于建设合同签订日期"),
    ("planned-end-before-approval", "planned_end: 2024-06-30", "planned_end: 2023-03-30", "art10.planned-end",
     "planned_end:", "早于批复日期"),
    ("progress-before-contract", "{date: 2023-09-15, summary: 完成详细设计", "{date: 2023-05-15, summary: 完成详细设计",
     "art16.progress-after-contract", "2023-05-15, summary: 完成详细设计", "早于建设合同签订日期"),
    ("self-evaluation-within-its-year", "      date: 2025-03-20\n", "      date: 2024-12-20\n",
     "art22.self-evaluation-dates", "date: 2024-12-20", "不在该年度结束之后"),
    ("spent-over-year-budget", "      spent: 150.20\n", "      spent: 180.20\n", "art22.self-evaluation-dates",
     "spent: 180.20", "超过该年度预算 166.00万元"),
    ("drill-before-plan", "emergency_plan: {name: 公路治超非现场执法系统网络安全事件应急预案, date: 2023-12-05}",
     "emergency_plan: {name: 公路治超非现场执法系统网络安全事件应急预案, date: 2025-01-05}", "art32.plan-before-drills",
     "{date: 2024-11-14", "早于应急预案的日期 2025-01-05"),
]
RULES = {m[3] for m in MUTATIONS}


def _findings(tmp_path: Path, old: str, new: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], str]:  # type: ignore[type-arg]
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "projects" / PID, repo / "projects" / PID)
    shutil.copy(ROOT / "xzdoc.yaml", repo / "xzdoc.yaml")
    meta = repo / YAML
    text = meta.read_text("utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    meta.write_text(text, "utf-8")
    monkeypatch.chdir(repo)
    result = invoke("validate", f"projects/{PID}", "--format", "json", "--as-of", AS_OF, "--no-cache")
    return [f for f in json.loads(result.output) if f["rule"] in RULES], text


def test_the_records_as_kept_are_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found, _ = _findings(tmp_path, "doc_no: 忻政数函〔2023〕21号", "doc_no: 忻政数函〔2023〕21号", monkeypatch)
    assert found == []


@pytest.mark.parametrize(("name", "old", "new", "rule", "at", "message"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_out_of_order_date_is_named_where_it_stands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, old: str,
                                                    new: str, rule: str, at: str, message: str) -> None:
    found, text = _findings(tmp_path, old, new, monkeypatch)
    line = text[:text.index(at)].count("\n") + 1
    assert [(f["rule"], f["path"], f["line"]) for f in found] == [(rule, YAML, line)], found
    assert message in found[0]["message"], found[0]["message"]
