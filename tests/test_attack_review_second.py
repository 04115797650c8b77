"""A second attacker's review of the ledger: holes found and closed, and legitimate workflows it wrongly refused.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one attack per test,
the comment above each saying what the ledger did before. Limits that remain are stated at the end.
"""

from __future__ import annotations

from pathlib import Path

from tests.attacks import (
    ATTACKER,
    DEV,
    FOLDER,
    PARTY,
    PID,
    YAML,
    approved,
    art24_errors,
    caught,
    change,
    clean,
    ledger_exit,
    policy,
    stage,
    submitted,
)
from tests.gitrepo import Repo


def _append(r: Repo, text: str) -> None:
    r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + text)


def _request(n: int, fields: str) -> str:
    return (f"    - {{date: 2026-03-0{n}, fields: [{fields}], reason: 调整{n}, "
            f"approved: 2026-03-0{n}, doc_no: 忻政数函〔2026〕{n}号}}\n")


# WAS A HOLE: an adjustment request counted when it was new since the approval, not new in the merge; one pushed
# straight to main (after an earlier request, so no filing record flagged it) covered its own budget change as
# soon as any 局党组 merge touched the folder.
def test_a_pushed_request_is_not_laundered_by_a_later_merge(repo: Repo) -> None:
    submitted(repo)

    def legit(r: Repo) -> None:
        r.edit(YAML, "total: 100.00", "total: 200.00")
        _append(r, "records:\n  changes:\n" + _request(1, "budget.total"))
    change(repo, "req1", PARTY, legit)
    repo.edit(YAML, "total: 200.00", "total: 900.00")
    _append(repo, _request(2, "budget.total, drafts"))
    repo.commit("直接改预算并自写调整申请", who=ATTACKER)
    caught(repo, "art24.content-drift")
    change(repo, "docs", PARTY, lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"))
    caught(repo, "art24.content-drift")


def test_a_second_request_brought_by_its_own_merge_still_covers(repo: Repo) -> None:
    submitted(repo)

    def first(r: Repo) -> None:
        r.edit(YAML, "total: 100.00", "total: 200.00")
        _append(r, "records:\n  changes:\n" + _request(1, "budget.total"))
    change(repo, "req1", PARTY, first)
    repo.edit(YAML, "total: 200.00", "total: 300.00")
    repo.commit("直接改预算", who=DEV)
    caught(repo, "art24.content-drift")

    def second(r: Repo) -> None:
        _append(r, _request(2, "budget.total"))
    change(repo, "req2", PARTY, second)
    clean(repo)


# WAS A HOLE: `projects_dir: .` was accepted; validate read projects from the top of the repository while the
# ledger matched git paths against "./" and saw none. Now the policy is refused, naming the fix.
def test_projects_dir_at_the_top_of_the_repository_is_refused(tmp_path: Path) -> None:
    r = Repo(tmp_path / "dot", config=None)
    r.write("xzdoc.yaml", policy(r, False, "projects_dir: .\n"))
    r.write(f"{PID}/project.yaml", f"id: {PID}\nname: 测试项目\nstage: draft\nbudget:\n  total: 100.00\n")
    r.commit("新建项目")
    code, output = ledger_exit(r)
    assert code == 1 and "projects_dir 不能是" in output and "Traceback" not in output, output


# WAS A HOLE: a filing's own name ("records.supervision") was also matched against file paths, so any file
# under <folder>/records.supervision/ rode along with a 局党组 filing on a project whose stage is 数据中心's.
def test_a_file_named_like_the_filing_does_not_ride_along(repo: Repo) -> None:
    approved(repo)

    def file(r: Repo) -> None:
        _append(r, "  supervision: {date: 2026-03-01, unit: 某监理公司}\n")
        r.write(f"{FOLDER}/records.supervision/预算调整说明.md", "预算改为 900 万元\n")
    change(repo, "file", PARTY, file)
    caught(repo, "art24.content-drift")


# WAS A HOLE (validate only): validate reads projects_dir from the working copy; an unapproved push pointing it at
# a folder without projects made it check none and pass, while the ledger still failed.
def test_an_unapproved_projects_dir_cannot_empty_validate(repo: Repo) -> None:
    stage(PID, "approved")(repo)
    repo.write("xzdoc.yaml", repo.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p9\n")
    repo.write("p9/README.md", "x\n")
    repo.commit("直接推进并改项目目录", who=ATTACKER)
    assert ledger_exit(repo)[0] == 1
    assert {"art24.unapproved-config", "art24.unapproved-stage-change"} <= art24_errors(repo)


def test_an_unapproved_projects_dir_with_a_decoy_project_still_reports_the_others(repo: Repo) -> None:
    stage(PID, "approved")(repo)
    repo.write("xzdoc.yaml", repo.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p9\n")
    repo.write("p9/XZJT-2026-909/project.yaml", "id: XZJT-2026-909\nname: 诱饵项目\nstage: draft\nbudget:\n  total: 1.00\n")
    repo.commit("直接推进并改项目目录", who=ATTACKER)
    assert "art24.unapproved-stage-change" in art24_errors(repo)


# WAS A FALSE POSITIVE: putting back the approved bytes after a broken file, a deleted folder or a misspelt stage
# re-entered every stage from the start, leaving an unapproved "（新建） → submitted" that nobody could clear.
def test_a_broken_file_put_back_is_clean(repo: Repo) -> None:
    submitted(repo)
    good = repo.path.joinpath(YAML).read_text("utf-8")
    repo.write(YAML, good + "budget: [\n")
    repo.commit("手误", who=DEV)
    repo.write(YAML, good)
    repo.commit("恢复", who=DEV)
    clean(repo)


def test_a_deleted_folder_restored_is_clean(repo: Repo) -> None:
    approved = submitted(repo)
    repo.git("rm", "-rq", FOLDER)
    repo.commit("误删", who=DEV)
    repo.git("checkout", approved, "--", FOLDER)
    repo.commit("恢复", who=DEV)
    clean(repo)


def test_a_misspelt_stage_put_back_is_clean(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "stage: submitted", "stage: submited")
    repo.commit("手误", who=DEV)
    repo.edit(YAML, "stage: submited", "stage: submitted")
    repo.commit("恢复", who=DEV)
    clean(repo)


def test_a_real_step_back_then_forward_onto_the_same_content_needs_the_gate(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "stage: submitted", "stage: draft")
    repo.commit("退回编制", who=DEV)
    repo.edit(YAML, "stage: draft", "stage: submitted")
    repo.commit("直接再申报", who=DEV)
    caught(repo, "art24.unapproved-stage-change")


# WAS A FALSE POSITIVE: an approved move of projects_dir, with the projects moved in the same merge, left the old
# folder as a deleted approved project and made the new one pass every gate again.
def test_an_approved_move_keeps_the_projects_approvals(repo: Repo) -> None:
    submitted(repo)

    def move(r: Repo) -> None:
        r.write("xzdoc.yaml", r.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p2\n")
        r.git("mv", "projects", "p2")
    change(repo, "move", PARTY, move, message="项目目录改名")
    code, output = ledger_exit(repo)
    assert code == 0 and f"p2/{PID}" in output and "draft → submitted" in output, output


def test_a_move_that_edits_the_project_on_the_way_is_judged(repo: Repo) -> None:
    approved(repo)   # its stage's edits are 数据中心's; the move is merged by 局党组

    def move(r: Repo) -> None:
        r.write("xzdoc.yaml", r.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p2\n")
        r.git("mv", "projects", "p2")
        r.edit(f"p2/{PID}/project.yaml", "total: 100.00", "total: 900.00")
    change(repo, "move", PARTY, move, message="项目目录改名")
    caught(repo, "art24.content-drift")


def test_a_move_into_a_folder_no_policy_puts_in_force_is_a_deletion(repo: Repo) -> None:
    submitted(repo)
    repo.git("mv", "projects", "p2")
    repo.commit("挪走", who=ATTACKER)
    caught(repo, "art24.deleted-project", ledger_only=True)


# WAS A FALSE POSITIVE: a bureau whose first xzdoc.yaml names no approver could never name one: the change needed
# a 局党组 member under a policy with none. The change that first names approvers now starts the ledger.
def test_a_policy_without_approvers_can_be_given_some(tmp_path: Path) -> None:
    r = Repo(tmp_path / "b", config=None)
    r.write("xzdoc.yaml", "organisation: 忻州市交通运输局\n")
    r.project(PID, "draft")
    r.commit("新建")
    change(r, "approvers", PARTY, lambda x: x.write("xzdoc.yaml", policy(x, False)))
    code, output = ledger_exit(r)
    assert code == 0 and "此前的配置没有审批人" in output, output


# LIMIT (not a test of a defence): commit dates are what the committer wrote. A filing is reported as future-dated
# when its date is later than a commit after it on the main line or than the check day; when the forged commit
# is the head, nothing later bounds it, and a date before the check day is not in the future by any evidence git
# holds. A server-side guard (`xzdoc guard`) sees pushes when they happen.


# WAS A HOLE: approved content whose stage does not exist (kept as it was at adoption) had no edit role, so any
# `--no-ff` merge, the attacker's own included, approved edits of it. Such content now falls to the party group.
def test_content_without_a_real_stage_is_not_open_to_any_merge(tmp_path: Path) -> None:
    r = Repo(tmp_path / "typo", config=None)
    r.project(PID, text=f"id: {PID}\nname: 测试项目\nstage: biulding\nbudget:\n  total: 100.00\n")
    r.commit("迁入")
    r.write("xzdoc.yaml", policy(r, False, f'baseline: "{r.head()}"\n'))
    r.commit("采用 xzdoc")
    change(r, "budget", ATTACKER, lambda x: x.edit(YAML, "total: 100.00", "total: 900.00"))
    code, output = ledger_exit(r)
    assert code == 1 and "art24.content-drift" in output, output
