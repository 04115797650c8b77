"""A third attacker's review: a decoy file that emptied validate, shards that dropped what no project carries,
projects_dir moves split over several merges, .gitattributes read as rules, and a policy nobody could change.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one case per test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.attacks import (
    ATTACKER,
    CENTER,
    DEV,
    FOLDER,
    PARTY,
    PID,
    YAML,
    approved,
    bureau,
    caught,
    change,
    ledger_exit,
    policy,
    stage,
    submitted,
    validate_errors,
)
from tests.gitrepo import BASE_PROJECT, Repo


def _policy_plus(r: Repo, extra: str) -> None:
    r.write("xzdoc.yaml", r.path.joinpath("xzdoc.yaml").read_text("utf-8") + extra)


# WAS A HOLE: a project.yaml at the top of the projects folder made `validate` (and `validate projects`) take the
# folder for one project and check nothing else; the ledger saw nothing wrong, so CI passed.
@pytest.mark.parametrize("args", [(), ("projects",), (".",)], ids=["no-path", "projects", "root"])
def test_a_project_file_on_top_of_the_projects_folder_hides_nothing(repo: Repo, args: tuple[str, ...]) -> None:
    repo.write(YAML, repo.path.joinpath(YAML).read_text("utf-8") + "bogus_key: 1\n")
    repo.commit("草稿", who=DEV)
    shutil.copytree(BASE_PROJECT, repo.path / "projects", dirs_exist_ok=True)   # projects/project.yaml + drafts/
    repo.commit("模板", who=ATTACKER)
    code, errors = validate_errors(repo, *args)
    assert code == 1 and any(path.startswith(FOLDER) for _, path in errors), errors


def test_a_decoy_does_not_hide_an_unregistered_upgrade(tmp_path: Path) -> None:
    r = bureau(tmp_path / "b")
    r.write("systems.yaml", "systems:\n  - {id: XZJT-SYS-001, name: 公路养护管理系统, owner: 某中心, cloud: 市级政务云,"
                            " shares_with: [], status: 在用}\n")
    r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + "systems:\n  - {id: XZJT-SYS-777, name: 不存在的系统, action: 升级}\n")
    r.commit("升级未登记的系统", who=DEV)
    shutil.copytree(BASE_PROJECT, r.path / "projects", dirs_exist_ok=True)
    r.commit("模板", who=ATTACKER)
    assert validate_errors(r, "projects")[0] == 1


# WAS A HOLE: what the ledger holds against folders no checked project carries (a folder left under an old
# projects_dir, pushed forward) was reported by a whole run but by no shard.
def test_a_shard_run_reports_what_no_project_carries(tmp_path: Path) -> None:
    left, moved = "XZJT-2026-109", "XZJT-2025-902"
    r = Repo(tmp_path / "b", config=None)
    r.full_project(moved)
    r.project(left, "draft")
    r.commit("迁入")
    r.write("xzdoc.yaml", policy(r, False, f'baseline: "{r.head()}"\n'))
    r.commit("采用 xzdoc")

    def move(x: Repo) -> None:
        _policy_plus(x, "projects_dir: p2\n")
        (x.path / "p2").mkdir()
        x.git("mv", f"projects/{moved}", f"p2/{moved}")
    change(r, "move", PARTY, move)
    assert ledger_exit(r)[0] == 0 and validate_errors(r) == (0, [])
    stage(left, "approved")(r)
    r.commit("推进留在旧目录的项目", who=ATTACKER)
    assert validate_errors(r)[0] == 1
    assert validate_errors(r, "--shard", "1/2")[0] == 1 or validate_errors(r, "--shard", "2/2")[0] == 1
    assert validate_errors(r, "--shard", "1/1")[0] == 1


# WAS A FALSE POSITIVE: only a move made in the very merge that changed projects_dir kept the projects' approvals;
# the same move in two approved merges, in either order, or as a copy then a deletion, left a deleted approved
# project that nothing could clear.
def test_policy_first_then_the_move(repo: Repo) -> None:
    submitted(repo)
    change(repo, "cfg", PARTY, lambda r: _policy_plus(r, "projects_dir: p2\n"), message="改项目目录")
    change(repo, "mv", PARTY, lambda r: r.git("mv", "projects", "p2"), message="移动项目")
    code, output = ledger_exit(repo)
    assert code == 0 and f"p2/{PID}" in output, output


def test_move_first_then_the_policy(repo: Repo) -> None:
    submitted(repo)
    change(repo, "mv", PARTY, lambda r: r.git("mv", "projects", "p2"), message="移动项目")
    change(repo, "cfg", PARTY, lambda r: _policy_plus(r, "projects_dir: p2\n"), message="改项目目录")
    code, output = ledger_exit(repo)
    assert code == 0, output


def test_copy_with_the_policy_then_delete_the_old_folder(repo: Repo) -> None:
    submitted(repo)

    def copy(r: Repo) -> None:
        shutil.copytree(r.path / "projects", r.path / "p2")
        _policy_plus(r, "projects_dir: p2\n")
    change(repo, "cp", PARTY, copy, message="复制")
    change(repo, "rm", PARTY, lambda r: r.git("rm", "-rq", "projects"), message="删旧")
    code, output = ledger_exit(repo)
    assert code == 0, output


def test_a_move_does_not_carry_an_edit_past_the_stage_role(repo: Repo) -> None:
    approved(repo)
    change(repo, "cfg", PARTY, lambda r: _policy_plus(r, "projects_dir: p2\n"), message="改项目目录")

    def move(r: Repo) -> None:
        r.git("mv", "projects", "p2")
        r.edit(f"p2/{PID}/project.yaml", "total: 100.00", "total: 900.00")
    change(repo, "mv", PARTY, move, message="移动项目")
    caught(repo, "art24.content-drift")


def test_an_approved_project_dropped_at_a_move_is_still_deleted(repo: Repo) -> None:
    submitted(repo)

    def move(r: Repo) -> None:
        _policy_plus(r, "projects_dir: p2\n")
        r.git("rm", "-rq", FOLDER)
        r.project("XZJT-2026-555", "draft")
        r.git("add", "-A")
        r.git("mv", "projects", "p2")
    change(repo, "move", PARTY, move, message="改目录，顺便丢下一个项目")
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.deleted-project" in output, output


# WAS A FALSE POSITIVE: any mention of "text", "filter" or "eol" in the root .gitattributes (a comment, an LFS rule
# for PDFs under docs/) was reported; rules are now read line by line, for the paths they can reach.
@pytest.mark.parametrize("attributes", ["# plain text settings live in .editorconfig\n*.psd binary\n",
                                        "docs/*.pdf filter=lfs diff=lfs merge=lfs -text\n", "* -text\n"])
def test_gitattributes_that_cannot_reach_what_is_read_are_fine(repo: Repo, attributes: str) -> None:
    repo.write(".gitattributes", attributes)
    repo.commit("attrs", who=DEV)
    assert ledger_exit(repo)[0] == 0


@pytest.mark.parametrize("attributes", ["*.md text\n", "systems.yaml ident\n", "projects/** eol=crlf\n",
                                        "[attr]quiet filter=strip\n*.yaml quiet\n", '"xzdoc.yaml" crlf\n',
                                        "**/drafts/* working-tree-encoding=GBK\n"])
def test_gitattributes_that_reach_what_is_read_are_reported(repo: Repo, attributes: str) -> None:
    repo.write(".gitattributes", attributes)
    repo.commit("attrs", who=ATTACKER)
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.repository-layout" in output and ".gitattributes 第" in output, output


# WAS A FALSE POSITIVE: a policy naming approvers but no member of gates.config's role (局党组) could never be
# changed again. It is now refused as a policy; in history the next valid version starts the ledger.
def test_a_policy_nobody_could_change_is_refused(tmp_path: Path) -> None:
    from xzdoc import config
    from xzdoc.errors import XzdocError

    (tmp_path / "xzdoc.yaml").write_text(f"organisation: 忻州市交通运输局\napprovers:\n  数据中心:\n"
                                         f"    - {{name: {CENTER.name}, email: {CENTER.email}}}\n", "utf-8")
    with pytest.raises(XzdocError, match=r"修改 xzdoc\.yaml 本身须由“局党组”成员合并"):
        config.load(tmp_path)


def test_history_moves_past_a_policy_nobody_could_change(tmp_path: Path) -> None:
    r = Repo(tmp_path / "b", config=None)
    r.write("xzdoc.yaml", f"organisation: 忻州市交通运输局\napprovers:\n  数据中心:\n"
                          f"    - {{name: {CENTER.name}, email: {CENTER.email}}}\n")
    r.project(PID, "draft")
    r.commit("新建")
    change(r, "full", CENTER, lambda x: x.write("xzdoc.yaml", policy(x, False)))
    code, output = ledger_exit(r)
    assert code == 0, output
