"""A seventh attacker's review, of what reviewers and CI read: repository templates, `xzdoc diff`, `xzdoc changed`.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one case per test.
"""

from __future__ import annotations

from click.testing import Result

from tests.attacks import PID, run_in
from tests.gitrepo import Repo

FORGED = "# 审批记录\n\n| 关口 | 审批人 | 合并提交 |\n|---|---|---|\n| approved 已批复 | 王建国（局党组） | 3f9ad89757 已签名 |\n"


def _run(repo: Repo, *args: str) -> Result:
    return run_in(repo, *args)


# WAS A HOLE: repository templates ran in a plain Jinja environment; a template from a pull request could reach
# Python's internals and run any command in the CI jobs that render bundles and the dashboard.
def test_a_repository_template_cannot_reach_python(repo: Repo) -> None:
    repo.write("templates/site/index.html.j2", "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}\n")
    repo.commit("看板样式")
    result = _run(repo, "site", "--out", str(repo.path / "dist"), "--as-of", "2026-11-20")
    assert result.exit_code == 1 and "unsafe" in result.output and "Traceback" not in result.output, result.output
    assert not (repo.path / "PWNED").exists()


# WAS A HOLE: a pull request touching only templates/ (for instance the approval page's template) was shown by
# `xzdoc diff` as touching no project, and `xzdoc changed` rebuilt no bundle after its merge.
def test_a_template_change_is_shown_and_rebuilds_every_bundle(repo: Repo) -> None:
    repo.project("XZJT-2026-102", "draft")
    base = repo.commit("第二个项目")
    repo.branch("pr")
    repo.write("templates/approval/document.md.j2", FORGED)
    repo.commit("样式调整")
    summary = _run(repo, "diff", base)
    assert "影响全部材料包的文件" in summary.output and "templates/approval/document.md.j2" in summary.output
    changed = _run(repo, "changed", base)
    assert changed.output.split() == [f"projects/{PID}", "projects/XZJT-2026-102"], changed.output


def test_a_policy_change_rebuilds_every_bundle_and_a_project_change_only_its_own(repo: Repo) -> None:
    base = repo.head()
    repo.write("xzdoc.yaml", repo.path.joinpath("xzdoc.yaml").read_text("utf-8") + "# 字体说明\n")
    assert _run(repo, "changed", base).output.split() == [f"projects/{PID}"]
    assert "`xzdoc.yaml`" in _run(repo, "diff", base).output
    repo.git("checkout", "--", "xzdoc.yaml")
    repo.project("XZJT-2026-102", "draft")
    assert _run(repo, "changed", base).output.split() == ["projects/XZJT-2026-102"]


# WAS A HOLE: a second entry of one system id in a project (another owner, `action: 新建`, a machine room of its
# own) passed validate, and `xzdoc diff`, comparing systems by id, showed nothing of it.
def test_a_system_listed_twice_in_one_project_is_reported(repo: Repo) -> None:
    entry = "  - {id: XZJT-SYS-001, name: 旧系统, owner: 局办公室, action: 升级, cloud: 市级政务云}\n"
    twin = "  - {id: XZJT-SYS-001, name: 旧系统, owner: 某公司, action: 新建, cloud: 本地机房, cloud_exemption: 保密}\n"
    repo.project(PID, text=f"id: {PID}\nname: 测试项目\nstage: draft\nbudget:\n  total: 100.00\nsystems:\n{entry}{twin}")
    repo.commit("两次写同一个系统")
    result = _run(repo, "validate", "--format", "json", "--as-of", "2026-11-20")
    assert "系统编号 XZJT-SYS-001 在本项目中重复" in result.output and '"line": 8' in result.output, result.output


# WAS A WRONG REPORT: `xzdoc diff main` from a pull-request branch compared main's tip with the branch, so what main
# gained after the branch was made showed as the pull request undoing it. The base is now taken at the fork point.
def test_diff_against_a_branch_that_moved_on_shows_only_the_pull_request(repo: Repo) -> None:
    repo.branch("pr")
    repo.write("projects/XZJT-2026-200/project.yaml", "id: XZJT-2026-200\nname: 供应商项目\nstage: draft\nbudget:\n"
                                                       "  total: 10.00\n")
    repo.commit("pr")
    repo.checkout("main")
    repo.edit(f"projects/{PID}/project.yaml", "total: 100.00", "total: 300.00")
    repo.commit("主分支上的另一次修改")
    repo.checkout("pr")
    summary = _run(repo, "diff", "main").output
    assert "XZJT-2026-200" in summary and PID not in summary, summary
    assert _run(repo, "changed", "main").output.split() == ["projects/XZJT-2026-200"]
