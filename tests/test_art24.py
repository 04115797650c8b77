"""第二十四条 in `xzdoc validate`: unapproved changes, pending changes, content drift, unreadable history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AS_OF, invoke
from tests.gitrepo import CENTER, CONFIG, DEV, PARTY, Repo

PID = "XZJT-2025-902"
YAML = f"projects/{PID}/project.yaml"


def findings(path: Path, *rules: str) -> list[dict[str, object]]:
    result = invoke("validate", str(path), "--format", "json", "--as-of", AS_OF)
    assert result.exit_code in (0, 1), result.output
    return [f for f in json.loads(result.output) if not rules or f["rule"] in rules]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").split("\n"), 1) if needle in line)


@pytest.fixture
def adopted(tmp_path: Path) -> Repo:
    """A bureau that adopted xzdoc with one project already under construction."""
    r = Repo(tmp_path / "bureau", config=None)
    r.full_project(PID)
    r.commit("迁入在建项目")
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用 xzdoc")
    return r


def test_adopted_project_validates_clean(adopted: Repo) -> None:
    result = invoke("validate", str(adopted.path), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_direct_push_is_an_error_at_the_stage_line(adopted: Repo) -> None:
    adopted.set_stage(PID, "contracted")   # moving back needs no approval ...
    adopted.commit("退回签约阶段")
    adopted.set_stage(PID, "building")      # ... moving forward again does
    adopted.commit("直接改回建设中")
    (hit,) = findings(adopted.path, "art24.unapproved-stage-change")
    assert hit["path"] == YAML and hit["line"] == line_of(adopted.path / YAML, "stage:")
    assert "contracted → building" in str(hit["message"]) and "直接推送" in str(hit["message"])
    assert "第十七条要求局党组同意" in str(hit["message"]) and "依据第二十四条" in str(hit["message"])


def test_merge_by_an_approver_is_clean(adopted: Repo) -> None:
    adopted.set_stage(PID, "contracted")
    adopted.commit("退回签约阶段")
    adopted.pull_request("build", PARTY, lambda r: r.set_stage(PID, "building"))
    assert findings(adopted.path, "art24.unapproved-stage-change", "art24.unapproved-filing") == []


def test_pending_stage_change_in_the_working_copy_is_information(adopted: Repo) -> None:
    adopted.pull_request("back", PARTY, lambda r: r.set_stage(PID, "contracted"))
    adopted.set_stage(PID, "building")   # not committed: a pull request under review
    (hit,) = findings(adopted.path, "art24.pending-approval", "art24.unapproved-stage-change")
    assert hit["rule"] == "art24.pending-approval" and hit["level"] == "info"
    assert "局党组成员合并" in str(hit["message"])
    assert invoke("validate", str(adopted.path), "--as-of", AS_OF).exit_code == 0


def _share_more(r: Repo) -> None:
    r.edit(YAML, "shares_with: [市政务数据共享交换平台, 山西省道路运输车辆动态监管平台]",
           "shares_with: [市政务数据共享交换平台, 山西省道路运输车辆动态监管平台, 市公安交警支队平台]")


def _new_sources(r: Repo) -> None:
    r.edit(YAML, "  sources:\n    市级财政资金: 620.00", "  sources:\n    市级财政资金: 500.00\n    省级补助资金: 120.00")


def test_direct_edit_after_approval_is_drift_naming_fields_and_files(adopted: Repo) -> None:
    _share_more(adopted)
    _new_sources(adopted)
    adopted.write(f"projects/{PID}/drafts/proposal.md", "# 一、项目概述\n\n改过的正文。\n")
    first = adopted.commit("直接调整")
    (hit,) = findings(adopted.path, "art24.content-drift")
    text = str(hit["message"])
    assert first[:10] in text and "systems" in text and "budget.sources" in text and "drafts/proposal.md" in text
    assert "采用 xzdoc 时的基线" in text


def test_edit_merged_by_the_stage_role_is_not_drift(adopted: Repo) -> None:
    adopted.pull_request("adjust", PARTY, _share_more)   # building: the party group's stage
    assert findings(adopted.path, "art24.content-drift") == []


def test_edit_merged_by_another_role_is_drift(adopted: Repo) -> None:
    adopted.pull_request("adjust", CENTER, _share_more)
    (hit,) = findings(adopted.path, "art24.content-drift")
    assert "systems" in str(hit["message"])


def test_revert_makes_the_folder_clean_again(adopted: Repo) -> None:
    _new_sources(adopted)
    adopted.commit("直接调整")
    adopted.git("revert", "--no-edit", "HEAD")
    assert findings(adopted.path, "art24.content-drift") == []


def test_drift_covered_by_an_approved_adjustment_request(adopted: Repo) -> None:
    _new_sources(adopted)
    adopted.commit("直接调整资金来源")

    def request(r: Repo) -> None:
        r.edit(YAML, "  self_evaluations:", "  changes:\n    - {date: 2026-03-01, fields: [budget.sources], "
                                            "reason: 省级补助资金到位，调整资金来源, approved: 2026-03-01, "
                                            "doc_no: 忻政数函〔2026〕5号}\n  self_evaluations:")
    adopted.pull_request("request", PARTY, request)
    assert findings(adopted.path, "art24.content-drift") == []


def test_self_filed_adjustment_request_covers_nothing(adopted: Repo) -> None:
    _new_sources(adopted)
    adopted.edit(YAML, "  self_evaluations:", "  changes:\n    - {date: 2026-03-01, fields: [budget.sources], "
                                              "reason: 调整, approved: 2026-03-01, doc_no: 忻政数函〔2026〕5号}\n"
                                              "  self_evaluations:")
    adopted.commit("自行登记调整申请")
    assert len(findings(adopted.path, "art24.content-drift")) == 1


def test_drift_against_an_approval_made_after_adoption(tmp_path: Path) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    r.full_project(PID)
    r.set_stage(PID, "reviewed")
    r.commit("迁入")
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用")
    approval = r.pull_request("approve", CENTER, lambda x: x.set_stage(PID, "approved"))
    _share_more(r)
    r.commit("直接修改")
    (hit,) = findings(r.path, "art24.content-drift")
    assert f"提交 {approval[:10]}" in str(hit["message"]) and "基线" not in str(hit["message"])


def test_filing_merged_by_the_wrong_role(tmp_path: Path) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    r.full_project(PID)
    supervision = "  supervision: {unit: 山西诚信工程监理有限公司, selected_by: 竞争性磋商, consent: 2025-08-26, filed: 2025-09-02}\n"
    r.edit(YAML, supervision, "")
    r.set_stage(PID, "contracted")
    r.commit("迁入")
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用")

    def supervise(x: Repo) -> None:
        x.edit(YAML, "  progress:", "  supervision: {unit: 山西诚信工程监理有限公司, selected_by: 竞争性磋商, "
                                    "consent: 2025-08-26, filed: 2025-09-02}\n  progress:")
    r.pull_request("supervision", CENTER, supervise)
    r.pull_request("build", PARTY, lambda x: x.set_stage(PID, "building"))
    (hit,) = findings(r.path, "art24.unapproved-filing", "art24.unapproved-stage-change")
    assert hit["rule"] == "art24.unapproved-filing" and "第十七条要求局党组同意" in str(hit["message"])
    assert hit["line"] == line_of(r.path / YAML, "  supervision:")


def test_shallow_clone_is_one_error_for_the_run(adopted: Repo, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{adopted.path}", str(clone)], check=True)
    (hit,) = findings(clone, "art24.approval-history")
    assert hit["level"] == "error" and "浅克隆" in str(hit["message"]) and "fetch-depth: 0" in str(hit["message"])


def test_project_never_merged_to_main(tmp_path: Path) -> None:
    r = Repo(tmp_path / "bureau")
    r.project("XZJT-2026-009", "draft")
    r.commit("占位")
    r.full_project(PID)   # present only in the working copy, at stage building
    hits = findings(r.path, "art24.pending-approval")
    assert hits and all(h["path"] == YAML for h in hits)


def test_folders_outside_projects_are_not_judged_by_history(adopted: Repo) -> None:
    elsewhere = adopted.path / "archive" / PID
    elsewhere.parent.mkdir()
    (adopted.path / "projects" / PID).rename(elsewhere)
    assert findings(elsewhere, "art24.pending-approval", "art24.unapproved-stage-change") == []


def test_direct_push_by_developer_then_fix(adopted: Repo) -> None:
    adopted.set_stage(PID, "accepted")
    adopted.commit("直接改为已验收", who=DEV)
    rules = {str(h["rule"]) for h in findings(adopted.path)}
    assert {"art24.unapproved-stage-change", "art24.content-drift"} <= rules
    adopted.set_stage(PID, "building")
    adopted.commit("撤回", who=DEV)
    rules = {str(h["rule"]) for h in findings(adopted.path)}
    assert "art24.unapproved-stage-change" not in rules and "art24.content-drift" not in rules
