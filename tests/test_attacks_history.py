"""Attacks on where a merge happened, on the reader and on approved content: each must fail `validate` and `ledger`.

The legitimate lifecycles they are measured against are in tests/test_attacks_policy.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks import (
    CENTER,
    DEV,
    FOLDER,
    PARTY,
    PID,
    YAML,
    adjustment_request,
    caught,
    change,
    clean,
    ledger_exit,
    merge,
    policy,
    prepare,
    stage,
    submitted,
)
from tests.conftest import invoke
from tests.gitrepo import FORGE, Repo

# -- Merges that do not bring the change in --------------------------------------------------------


def test_direct_push(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    repo.commit("直接申报")
    caught(repo, "art24.unapproved-stage-change")


def test_direct_push_with_the_approvers_identity_and_a_trailer(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    repo.commit("申报\n\nApproved-by: 王建国", who=PARTY)
    caught(repo, "art24.unapproved-stage-change")


def test_merge_by_someone_without_the_role(repo: Repo) -> None:
    change(repo, "submit", DEV, stage(PID, "submitted"))
    caught(repo, "art24.unapproved-stage-change")


def test_laundered_update_branch_merge_fast_forwarded(repo: Repo) -> None:
    prepare(repo, "feature", stage(PID, "submitted"))
    repo.write("README.md", "主分支的其他修改\n")
    repo.commit("其他")
    repo.checkout("feature")
    merge(repo, "main", PARTY)            # the approver's "update branch"
    repo.checkout("main")
    repo.git("merge", "-q", "--ff-only", "feature")
    caught(repo, "art24.unapproved-stage-change")


def test_amended_merge_keeps_the_approver_as_author_only(repo: Repo) -> None:
    submitted(repo)
    stage(PID, "reviewed")(repo)
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit", who=DEV)
    caught(repo, "art24.unapproved-stage-change")


def test_change_already_on_main_before_the_approvers_merge(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    repo.commit("直接申报")
    change(repo, "other", PARTY, lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"))
    caught(repo, "art24.unapproved-stage-change")


def test_change_made_in_the_merge_commit_itself(repo: Repo) -> None:
    prepare(repo, "docs", lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"))
    repo.git("merge", "-q", "--no-ff", "--no-commit", "docs", who=PARTY)
    stage(PID, "submitted")(repo)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Merge branch 'docs'", who=PARTY)
    caught(repo, "art24.unapproved-stage-change")


def test_octopus_merge(repo: Repo) -> None:
    prepare(repo, "a", stage(PID, "submitted"))
    prepare(repo, "b", lambda r: r.write("README.md", "b\n"))
    repo.git("merge", "-q", "--no-ff", "-m", "octopus", "a", "b", who=PARTY)
    caught(repo, "art24.unapproved-stage-change")


def test_squash_merge_by_an_approver(repo: Repo) -> None:
    prepare(repo, "s", stage(PID, "submitted"))
    repo.git("merge", "-q", "--squash", "s", who=PARTY)
    repo.git("commit", "-q", "-m", "申报 (#3)", who=PARTY)
    caught(repo, "art24.unapproved-stage-change")


def test_forge_committer_not_named_in_the_policy(repo: Repo) -> None:
    prepare(repo, "submit", stage(PID, "submitted"))
    merge(repo, "submit", PARTY, committer=FORGE)
    caught(repo, "art24.unapproved-stage-change")


def test_replace_ref_dressing_a_direct_push_as_a_merge(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    pushed = repo.commit("直接申报")
    parent = repo.git("rev-parse", "HEAD^")
    tree = repo.git("rev-parse", "HEAD^{tree}")
    fake = repo.git("commit-tree", tree, "-p", parent, "-p", pushed, "-m", "Merge branch 'submit'", who=PARTY)
    repo.git("replace", pushed, fake)
    assert repo.git("log", "-1", "--format=%an") == PARTY.name   # git itself now shows the forgery
    caught(repo, "art24.unapproved-stage-change")


def test_graft_file(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    repo.commit("直接申报")
    other = change(repo, "x", PARTY, lambda r: r.write("README.md", "x\n"))
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "grafts").write_text(f"{other}\n", "utf-8")
    caught(repo, "art24.unapproved-stage-change")


# -- Readers that could disagree -------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "  id: XZJT-2026-101\n  stage: draft\nstage: approved\n",     # indented file, column-0 fake stage line
    "id: XZJT-2026-101\nstage: draft\rstage: approved\n",         # lone CR
    "id: XZJT-2026-101\nstage: draft\nstage: approved\n",         # duplicate key
    "id: XZJT-2026-101\nname: |\n  x\nstage: approved\n",         # block scalar, then the real key
    "\ufeffid: XZJT-2026-101\nstage: approved\n",                 # byte-order mark
    "{id: XZJT-2026-101, stage: approved}\n",                     # flow style
])
def test_one_reader_for_ledger_and_validate(repo: Repo, text: str) -> None:
    repo.write(YAML, text)
    repo.commit("格式花样")
    # validate refuses the file itself; the ledger must not find a stage in it either.
    caught(repo, ledger_only=True)


def test_symlinked_project_yaml(repo: Repo) -> None:
    submitted(repo)
    repo.write("elsewhere/project.yaml", f"id: {PID}\nname: x\nstage: operating\nbudget:\n  total: 1.00\n")
    (repo.path / YAML).unlink()
    (repo.path / YAML).symlink_to("../../elsewhere/project.yaml")
    repo.commit("链接")
    caught(repo, "art24.repository-layout")


def test_symlinked_project_folder(repo: Repo) -> None:
    repo.write("elsewhere/XZJT-2026-102/project.yaml", "id: XZJT-2026-102\nname: x\nstage: approved\n")
    (repo.path / "projects" / "XZJT-2026-102").symlink_to("../elsewhere/XZJT-2026-102")
    repo.commit("链接目录")
    caught(repo, "art24.repository-layout")


def test_submodule_under_projects(repo: Repo, tmp_path: Path) -> None:
    inner = Repo(tmp_path / "inner")
    inner.project("XZJT-2026-103", "approved")
    sha = inner.commit("子仓库")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},projects/XZJT-2026-103")
    repo.git("commit", "-q", "-m", "子模块")
    caught(repo, "art24.repository-layout")


def test_gitattributes_filter_under_projects(repo: Repo) -> None:
    repo.write("projects/.gitattributes", "*.yaml filter=stage\n")
    repo.commit("属性")
    caught(repo, "art24.repository-layout")


def test_gitattributes_at_the_root(repo: Repo) -> None:
    repo.write(".gitattributes", "projects/** working-tree-encoding=GB18030\n")
    repo.commit("属性")
    caught(repo, "art24.repository-layout")


def test_nested_config_under_a_project(repo: Repo) -> None:
    repo.write(f"{FOLDER}/xzdoc.yaml", "approvers:\n  局党组:\n    - {name: 钱, email: qian@vendor.example.com}\n")
    repo.commit("嵌套配置")
    caught(repo, "art24.repository-layout")
    result = invoke("validate", str(repo.path / FOLDER), "--as-of", "2026-11-20")
    assert "art24.repository-layout" in result.output


# -- Drift -----------------------------------------------------------------------------------------


def test_drift_in_drafts(repo: Repo) -> None:
    submitted(repo)
    repo.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n\n改写。\n")
    repo.commit("改正文")
    caught(repo, "art24.content-drift")


def test_drift_in_an_approved_filing(repo: Repo) -> None:
    records = "records:\n  review: {date: 2026-02-01}\n"
    change(repo, "submit", PARTY, stage(PID, "reviewed", records))
    stage(PID, "reviewed", "records:\n  review: {date: 2026-01-15}\n")(repo)
    repo.commit("改备案日期")
    caught(repo, "art24.content-drift")


def test_drift_in_id_and_name(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "name: 测试项目", "name: 另一个项目")
    repo.commit("改名称")
    caught(repo, "art24.content-drift")


def test_drift_then_an_unrelated_approving_merge(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "total: 100.00", "total: 900.00")
    repo.commit("直接改预算")
    change(repo, "docs", PARTY, lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"))
    caught(repo, "art24.content-drift")


def test_self_filed_adjustment_request(repo: Repo) -> None:
    submitted(repo)
    repo.write(YAML, repo.path.joinpath(YAML).read_text("utf-8").replace("total: 100.00", "total: 900.00")
               + "records:\n  changes:\n    - {date: 2026-03-01, fields: [budget.total], reason: 自行调整, "
                 "approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    repo.commit("自行登记调整申请")
    caught(repo, "art24.content-drift")


@pytest.mark.parametrize(("merger", "opinion", "draft_too"), [
    (PARTY, False, False),     # no 市政务信息管理局 opinion
    (CENTER, True, False),     # entered through a merge by the wrong role for records.changes
    (PARTY, True, True),       # names the budget but not the rewritten draft
])
def test_adjustment_request_that_does_not_cover_the_drift(repo: Repo, merger: object, opinion: bool,
                                                          draft_too: bool) -> None:
    submitted(repo)
    repo.edit(YAML, "total: 100.00", "total: 900.00")
    if draft_too:
        repo.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n\n改写。\n")
    repo.commit("直接修改")
    change(repo, "request", merger, adjustment_request(opinion))  # type: ignore[arg-type]
    caught(repo, "art24.content-drift")


def test_adjustment_request_that_names_one_field_of_two(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "total: 100.00", "total: 900.00")
    repo.edit(YAML, "name: 测试项目", "name: 另一个项目")
    repo.commit("直接修改")
    change(repo, "request", PARTY, adjustment_request(True))
    caught(repo, "art24.content-drift")
    assert "project.yaml（name、budget.total" in ledger_exit(repo)[1]


def test_drift_names_the_field_on_a_first_and_a_cached_run(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "total: 100.00", "total: 900.00")
    repo.commit("直接改预算")
    for _ in range(2):   # the second run finds the facts, digests included, in .git/xzdoc
        code, output = ledger_exit(repo)
        assert code == 1 and "project.yaml（budget.total）" in output, output


def test_deleted_approved_project(repo: Repo) -> None:
    submitted(repo)
    repo.project("XZJT-2026-102")
    repo.git("rm", "-rq", FOLDER)
    repo.commit("删除项目")
    caught(repo, "art24.deleted-project")


def test_renamed_approved_project(repo: Repo) -> None:
    submitted(repo)
    repo.git("mv", FOLDER, "projects/XZJT-2026-199")
    repo.commit("改目录名")
    caught(repo, "art24.deleted-project")


def test_filing_dated_after_the_commit_that_entered_it(repo: Repo) -> None:
    records = "records:\n  review: {date: 2026-12-31}\n"
    change(repo, "review", PARTY, stage(PID, "reviewed", records))
    caught(repo, "art24.future-filing")


def test_filing_dated_after_as_of(repo: Repo) -> None:
    from tests.attacks import art24_errors

    change(repo, "review", PARTY, stage(PID, "reviewed", "records:\n  review: {date: 2026-02-01}\n"))
    assert "art24.future-filing" in art24_errors(repo, "--as-of", "2026-01-20")


def test_stage_moved_back_and_forth_by_direct_pushes(repo: Repo) -> None:
    submitted(repo)
    change(repo, "review", PARTY, stage(PID, "reviewed"))
    stage(PID, "draft")(repo)
    repo.commit("退回")
    stage(PID, "approved")(repo)
    repo.commit("跳到已批复")
    caught(repo, "art24.unapproved-stage-change", "art24.content-drift")


def test_a_draft_project_may_change_freely(repo: Repo) -> None:
    repo.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n")
    repo.commit("草稿")
    clean(repo)


def test_git_trust_settings_cannot_make_an_unsigned_merge_count(signed: Repo) -> None:
    # gpg.minTrustLevel or a forged allowed-signers in the repository's own config change nothing.
    signed.git("config", "gpg.minTrustLevel", "undefined")
    change(signed, "submit", PARTY, stage(PID, "submitted"))
    caught(signed, "art24.unsigned-merge")


def test_ledger_reads_history_not_the_working_copy(repo: Repo) -> None:
    change(repo, "submit", DEV, stage(PID, "submitted"))
    # An uncommitted policy that names the merger does not change the verdict.
    repo.write("xzdoc.yaml", policy(repo, False, members=(PARTY, DEV)))  # type: ignore[arg-type]
    caught(repo, "art24.unapproved-stage-change")
