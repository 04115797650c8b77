"""`xzdoc diff` and `xzdoc changed` on a real scenario repository with pull-request branches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.gitrepo import DEV, PARTY, Repo
from xzdoc import config
from xzdoc.portfolio import diff as review
from xzdoc.portfolio import summary

ROAD, HUB, PARK = "XZJT-2026-101", "XZJT-2026-102", "XZJT-2026-103"

PROJECT = """\
id: {pid}
name: {name}
stage: {stage}
plan_year: 2026
budget:
  total: {total}
  years:
    2026: 200.00
    2027: {y2027}
  sources:
    市级财政资金: {total}
systems:
{systems}
resources:
  - name: {name}数据
    code: 1302{num}-0001
    format: 数据库类
    share_type: 有条件共享
    share_condition: 仅向监管部门共享
    update_cycle: 每日
"""


def system(sid: str, name: str, action: str) -> str:
    return f"  - {{id: {sid}, name: {name}, action: {action}, cloud: 市级政务云, shares_with: [市政务数据共享交换平台]}}\n"


def write(repo: Repo, pid: str, name: str, stage: str = "draft", y2027: str = "100.00",
          systems: str = "", num: str = "01") -> None:
    total = f"{200 + float(y2027):.2f}"
    repo.project(pid, text=PROJECT.format(pid=pid, name=name, stage=stage, total=total, y2027=y2027,
                                          systems=systems.rstrip("\n") or "  []", num=num))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """main: three projects, two active systems (道路运输管理, 公交监管)."""
    r = Repo(tmp_path / "bureau")
    write(r, ROAD, "道路运输管理系统升级", systems=system("XZJT-SYS-101", "道路运输管理系统", "升级"), num="01")
    write(r, HUB, "综合交通枢纽监测", stage="submitted", systems=system("XZJT-SYS-102", "公交监管系统", "升级"), num="02")
    write(r, PARK, "停车信息服务", num="03")
    r.write(f"projects/{PARK}/drafts/proposal.md", "# 一、项目概述\n\n正文。\n")
    r.commit("基线", who=DEV)
    monkeypatch.chdir(r.path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return r


def bad_change(r: Repo) -> None:
    """Adds a system without retiring one, raises a budget, advances a stage."""
    write(r, ROAD, "道路运输管理系统升级", num="01",
          systems=system("XZJT-SYS-101", "道路运输管理系统", "升级") + system("XZJT-SYS-120", "综合执法系统", "新建"))
    write(r, HUB, "综合交通枢纽监测", stage="reviewed", y2027="150.00",
          systems=system("XZJT-SYS-102", "公交监管系统", "升级"), num="02")


def test_bad_pull_request_is_named_in_full_and_fails_the_count(repo: Repo, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    repo.branch("bad")
    bad_change(repo)
    repo.commit("新增综合执法系统，调整预算，审核通过", who=DEV)
    summary = tmp_path / "summary.md"
    summary.write_text("# 前一步的摘要\n", "utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = invoke("diff", "main")
    assert result.exit_code == 1, result.output
    out = result.stdout
    # The added system, by id and name, as a new active system.
    assert "新列入系统 XZJT-SYS-120 综合执法系统（新建）" in out
    assert "新增在用：XZJT-SYS-120 综合执法系统" in out
    # The budget change, by year and in total.
    assert f"| {HUB} | 2027年 | 100.00 | 150.00 | +50.00 |" in out
    assert f"| {HUB} | 总投资 | 300.00 | 350.00 | +50.00 |" in out
    # The stage change and whose merge approves it.
    assert f"| {HUB} | submitted 已申报 → reviewed 审核通过 | 局党组 | 王建国、李秀英 | 第十条 |" in out
    # The count, and the rule it breaks.
    assert "在用系统：变更前 2 个，变更后 3 个" in out and "**不通过**" in out
    assert "政务信息系统总量只减不增（第一条）" in result.stderr
    assert PARK not in out   # untouched
    written = summary.read_text("utf-8")
    assert written.startswith("# 前一步的摘要\n") and "新列入系统 XZJT-SYS-120" in written


def test_retiring_one_for_each_added_passes(repo: Repo) -> None:
    def change(r: Repo) -> None:
        write(r, ROAD, "道路运输管理系统升级", num="01",
              systems=system("XZJT-SYS-101", "道路运输管理系统", "整合") + system("XZJT-SYS-120", "综合执法系统", "新建"))

    repo.pull_request("good", PARTY, change, "新建综合执法系统并整合道路运输管理系统")
    result = invoke("diff", "HEAD~1", "HEAD")
    assert result.exit_code == 0, result.output
    assert "在用系统：变更前 2 个，变更后 2 个" in result.stdout
    assert "下线或整合：XZJT-SYS-101 道路运输管理系统" in result.stdout
    assert "- 建设方式（`action`）：升级 → 整合" in result.stdout
    assert "符合系统总量只减不增（第一条）" in result.stdout


def test_working_tree_is_compared_by_default(repo: Repo) -> None:
    bad_change(repo)   # not committed
    result = review.review(config.load(repo.path), "main")
    assert result.head == review.WORKTREE and result.failed
    assert {p.project for p in result.projects} == {ROAD, HUB}
    stage = next(p.stage for p in result.projects if p.project == HUB)
    assert stage is not None and stage.roles == ("局党组",) and stage.gates == ("reviewed",)


def test_field_level_changes_added_and_removed_projects(repo: Repo) -> None:
    repo.branch("edit")
    repo.edit(f"projects/{ROAD}/project.yaml", "share_type: 有条件共享", "share_type: 无条件共享")
    repo.git("rm", "-q", "-r", f"projects/{PARK}")
    write(repo, "XZJT-2026-104", "出租汽车服务", stage="submitted", num="04")
    repo.commit("修改", who=DEV)
    result = review.review(config.load(repo.path), "main", "edit")
    by_id = {p.project: p for p in result.projects}
    assert (by_id[ROAD].status, by_id[PARK].status, by_id["XZJT-2026-104"].status) == ("changed", "removed", "added")
    (item,) = by_id[ROAD].items
    assert (item.kind, item.key, item.status) == ("resource", "130201-0001", "changed")
    assert [(f.key, f.before, f.after) for f in item.fields] == [("share_type", "有条件共享", "无条件共享")]
    added = by_id["XZJT-2026-104"].stage
    assert added is not None and added.old is None and added.roles == ("局党组",)
    assert by_id[PARK].files == ("drafts/proposal.md", "project.yaml")
    text = summary.as_markdown(result)
    assert f"| 删除 | {PARK} | 停车信息服务 |" in text and "新增 1 个，修改 1 个，删除 1 个" in text
    assert not result.failed


def test_changed_lists_exactly_the_touched_projects(repo: Repo) -> None:
    repo.branch("bad")
    bad_change(repo)
    repo.commit("改动", who=DEV)
    result = invoke("changed", "main", "bad")
    assert result.exit_code == 0 and result.stdout.split() == [f"projects/{ROAD}", f"projects/{HUB}"]
    # A draft-only edit touches its project; an untracked new project counts in the working tree.
    repo.write(f"projects/{PARK}/drafts/proposal.md", "# 一、项目概述\n\n改过的正文。\n")
    write(repo, "XZJT-2026-104", "出租汽车服务", num="04")
    repo.write("README.md", "不属于任何项目\n")
    doc = json.loads(invoke("changed", "bad", "--json").stdout)
    assert doc == {"project": ["projects/XZJT-2026-103", "projects/XZJT-2026-104"]}


def test_changed_leaves_out_removed_projects_and_all_zero_base_means_everything(repo: Repo) -> None:
    repo.git("rm", "-q", "-r", f"projects/{PARK}")
    repo.commit("删除项目", who=DEV)
    assert invoke("changed", "HEAD~1").stdout == ""
    everything = invoke("changed", "0" * 40, "--json")
    assert json.loads(everything.stdout) == {"project": [f"projects/{ROAD}", f"projects/{HUB}"]}


def test_unknown_revision_is_a_clear_error(repo: Repo) -> None:
    result = invoke("diff", "no-such-branch")
    assert result.exit_code == 2
    assert "找不到版本 no-such-branch" in result.stderr and "git fetch" in result.stderr


def test_shallow_clone_gets_the_fetch_depth_hint(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.pull_request("pr", PARTY, bad_change)
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    monkeypatch.chdir(clone)
    result = invoke("diff", "HEAD~1")
    assert result.exit_code == 1 and "浅克隆" in result.stderr and "fetch-depth: 0" in result.stderr


def test_unreadable_project_is_named_not_shown_as_removed(repo: Repo) -> None:
    # WAS WRONG: the table showed the project as 删除 (its budget taken off, its systems retired) and the
    # command passed; only a note said the file did not load.
    repo.write(f"projects/{PARK}/project.yaml", "id: [unclosed\n")
    result = invoke("diff", "main")
    assert result.exit_code == 1, result.output
    assert "无法读取" in result.stdout and "xzdoc validate" in result.stdout
    assert "删除" not in result.stdout and f"projects/{PARK}/project.yaml 无法读取" in result.stderr


def test_outside_git_is_a_clear_error(demo_repo: Path) -> None:
    result = invoke("changed", "main")
    assert result.exit_code == 1 and "不在 git 仓库中" in result.stderr


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_project_yaml_that_is_no_file_is_no_project_in_the_working_tree(repo: Repo, kind: str) -> None:
    """WAS A CRASH (a folder: exit 3) and a HANG (a FIFO: diff blocked reading it)."""
    target = repo.path / "projects" / PARK / "project.yaml"
    target.unlink()
    if kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    result = review.review(config.load(repo.path), "main")
    assert {p.project: p.status for p in result.projects} == {PARK: "removed"}


def test_a_file_name_that_is_not_utf8_is_no_crash_of_the_summary(repo: Repo, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS A CRASH (exit 3, UnicodeEncodeError): the job summary could not hold a name git keeps in other bytes.
    import subprocess

    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=b"x", capture_output=True,
                          check=True).stdout.decode().strip()
    subprocess.run([b"git", b"update-index", b"--add", b"--cacheinfo",
                    f"100644,{blob},projects/{PARK}/attach/".encode() + b"bad\xff\xfe"], cwd=repo.path, check=True)
    repo.git("commit", "-q", "-m", "附件")
    summary_file = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    result = invoke("diff", "HEAD~1", "HEAD")
    assert result.exit_code in (0, 1) and "内部错误" not in result.output, result.output
    assert PARK in summary_file.read_text("utf-8")
