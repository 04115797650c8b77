"""A ninth attacker's review: main beside master, a nested projects folder's parent .gitattributes, commit dates.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one case per test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.attacks import (
    APPROVAL,
    ATTACKER,
    CENTER,
    PARTY,
    PID,
    art24_errors,
    bureau,
    caught,
    change,
    clean,
    ledger_exit,
    policy,
    stage,
    submitted,
    text_of,
)
from tests.gitrepo import Repo, env

CONFIG = "xzdoc.yaml"


def _commit_dated(repo: Repo, message: str, when: str) -> None:
    repo.git("add", "-A")
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.path, env=env(ATTACKER, when, home=repo.home),
                   check=True)


# WAS A HOLE: with no branch: in the approved policy, any walked branch called main or master was accepted. A
# pushed branch "master" at a clean snapshot, plus "branch: master" in the working copy's xzdoc.yaml, had the
# ledger judge the snapshot, so the same direct push took the project from submitted to approved unseen.
def test_a_pushed_master_beside_main_cannot_stand_in_for_it(repo: Repo) -> None:
    submitted(repo)
    repo.git("branch", "master")
    stage(PID, "approved", APPROVAL)(repo)
    repo.write(CONFIG, text_of(repo, CONFIG) + "branch: master\n")
    repo.commit("直接推进", who=ATTACKER)
    code, output = ledger_exit(repo)
    assert code == 1 and "同时有 main 和 master" in output, output
    assert "art24.approval-history" in art24_errors(repo)


def test_naming_the_only_main_line_in_the_working_copy_is_still_accepted(repo: Repo) -> None:
    # The working copy may spell out what the main-or-master rule picks anyway.
    submitted(repo)
    repo.write(CONFIG, text_of(repo, CONFIG) + "branch: main\n")
    repo.commit("写明主分支")
    code, output = ledger_exit(repo)
    assert "指定的主分支" not in output and "同时有" not in output, output     # walked, not refused
    assert code == 1 and "art24.unapproved-config" in output   # the config edit itself is still unapproved


# WAS A HOLE: git applies the .gitattributes of every folder on the way down, but only the root one and those
# inside the projects folder were looked at. With projects_dir: bureau/projects, a bureau/.gitattributes setting
# working-tree-encoding=SHIFT_JIS had the work tree read stage "approved" (0x5C is ¥ in SHIFT_JIS) while the
# ledger read the blob's unknown stage, and neither reported anything.
def test_a_gitattributes_above_a_nested_projects_folder_is_refused(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "bureau", config=None)
    repo.write(CONFIG, policy(repo, False, "projects_dir: bureau/projects\n"))
    repo.write(f"bureau/projects/{PID}/project.yaml",
               f"id: {PID}\nname: 测试项目\nstage: draft\nbudget:\n  total: 100.00\n")
    repo.commit("新建")
    repo.write("bureau/.gitattributes", "*.yaml working-tree-encoding=SHIFT_JIS\n")
    folder = repo.path / "bureau" / "projects" / "XZJT-2026-555"
    folder.mkdir(parents=True)
    (folder / "project.yaml").write_bytes(b'id: XZJT-2026-555\nname: "\\u6D4B\\u8BD5"\nstage: "\\x61pproved"\n'
                                          b"budget:\n  total: 100.00\n")
    repo.commit("新项目", who=ATTACKER)
    code, output = ledger_exit(repo)
    assert code == 1 and "bureau/.gitattributes" in output and "art24.repository-layout" in output, output
    # Taken out again, nothing of it is held against the repository.
    repo.git("rm", "-q", "bureau/.gitattributes")
    repo.commit("删除")
    assert "bureau/.gitattributes" not in ledger_exit(repo)[1]


# WAS A DENIAL OF SERVICE: a commit's day was bounded by every later commit's, so one harmless direct push dated
# 2001 (or a day back, after a filing made that day) moved every earlier commit back with it and made each
# approved filing already made a "future" one, for good. An approver's merge is now believed over a plain push
# after it: the disagreement is a warning naming both commits, and nothing fails.
@pytest.mark.parametrize("when", ["2001-01-01T10:00:00+08:00", "2026-03-01T23:00:00+08:00"])
def test_one_commit_dated_back_does_not_turn_approved_filings_into_future_ones(tmp_path: Path, when: str) -> None:
    repo = bureau(tmp_path / "bureau")
    submitted(repo)
    change(repo, "review", PARTY, stage(PID, "reviewed"))
    # Filed the day it is merged (the repository's clock says 2026-03-02).
    change(repo, "approve", CENTER, stage(PID, "approved", APPROVAL.replace("2026-02-10", "2026-03-02")))
    clean(repo)
    repo.write("README.md", "更正错别字\n")
    _commit_dated(repo, "docs: typo", when)
    forged = repo.head()
    for i in range(3):
        repo.write("README.md", f"第 {i} 次修改\n")
        repo.commit(f"修改 {i}")
    code, output = ledger_exit(repo)
    assert code == 0 and "error [art24.future-filing]" not in output, output
    assert "warning [art24.future-filing]" in output and forged[:10] in output, output
    assert "art24.future-filing" not in art24_errors(repo)


def test_filings_under_commits_dated_ahead_are_still_caught_by_the_commits_after_them(repo: Repo) -> None:
    # The bound still holds where it matters: two direct pushes dated June register an approval dated May,
    # and the honest commits after them, made in March, show the filing was entered before its date.
    submitted(repo)
    repo.write("README.md", "准备\n")
    _commit_dated(repo, "准备", "2026-06-01T10:00:00+08:00")
    stage(PID, "submitted", "records:\n  approval: {date: 2026-05-01, doc_no: 忻政数函〔2026〕1号}\n")(repo)
    _commit_dated(repo, "登记批复", "2026-06-01T11:00:00+08:00")
    for i in range(3):
        repo.write("README.md", f"第 {i} 次修改\n")
        repo.commit(f"修改 {i}")
    caught(repo, "art24.future-filing")


# WAS A HOLE: the walked branch was compared by its short name, so "branch: refs/remotes/upstream/main" (another
# remote's stale copy) passed for main, and a direct push was judged on that copy.
def test_another_remotes_main_cannot_stand_in_for_main(repo: Repo) -> None:
    submitted(repo)
    repo.git("update-ref", "refs/remotes/upstream/main", repo.head())
    stage(PID, "approved", APPROVAL)(repo)
    repo.write(CONFIG, text_of(repo, CONFIG) + "branch: refs/remotes/upstream/main\n")
    repo.commit("直接推进", who=ATTACKER)
    code, output = ledger_exit(repo)
    assert code == 1 and "未经审批" in output and "refs/remotes/upstream/main" in output, output
    assert "art24.approval-history" in art24_errors(repo)


# WAS A HOLE: the .gitattributes check compared paths case for case; on a checkout that ignores case
# (Windows and macOS by default) Bureau/.gitattributes, Projects/<id>/.gitattributes and .GitAttributes
# are the files git applies to bureau/projects, projects/<id> and the root.
def test_gitattributes_spelt_in_other_case_are_refused(tmp_path: Path) -> None:
    for projects_dir, path in (("bureau/projects", "Bureau/.gitattributes"), ("projects", f"Projects/{PID}/.gitattributes"),
                               ("projects", ".GitAttributes")):
        repo = Repo(tmp_path / path.replace("/", "_"), config=None)
        repo.write(CONFIG, policy(repo, False, f"projects_dir: {projects_dir}\n"))
        repo.write(f"{projects_dir}/{PID}/project.yaml", f"id: {PID}\nname: 测试项目\nstage: draft\nbudget:\n  total: 100.00\n")
        repo.commit("新建")
        repo.write(path, "*.yaml working-tree-encoding=SHIFT_JIS\n")
        repo.commit("编码设置", who=ATTACKER)
        code, output = ledger_exit(repo)
        assert code == 1 and f"{path} 是" in output and "art24.repository-layout" in output, (path, output)
