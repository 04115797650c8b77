"""A fourth attacker's review: a move that overwrote a deleted approved project, a folder swapped for a symlink
in one commit, .gitattributes read as git reads it, and shards that repeated each other's reports.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one case per test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.attacks import ATTACKER, FOLDER, PID, YAML, bureau, ledger_exit, policy, submitted, validate_errors
from tests.gitrepo import Repo

LINKED = "XZJT-2025-902"


# WAS A HOLE: a folder arriving under the projects folder took over the state of a same-named folder elsewhere
# whenever it had no tree; an approved project deleted a moment before was such a folder, so a copy planted
# under a once-named projects_dir replaced it with content nobody approved, and its approvals stayed current.
def test_a_move_does_not_overwrite_a_deleted_approved_project(repo: Repo) -> None:
    repo.write(f"p3/{PID}/project.yaml", f"id: {PID}\nname: 测试项目{PID}\nstage: submitted\nbudget:\n  total: 900.00\n")
    repo.commit("别处的目录", who=ATTACKER)
    repo.write("xzdoc.yaml", repo.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p3\n")
    repo.commit("cfg", who=ATTACKER)
    repo.git("checkout", "HEAD~1", "--", "xzdoc.yaml")
    repo.commit("revert cfg", who=ATTACKER)
    submitted(repo)
    repo.git("rm", "-rq", FOLDER)
    repo.commit("删", who=ATTACKER)
    (repo.path / "projects").mkdir(exist_ok=True)
    repo.git("mv", f"p3/{PID}", FOLDER)
    repo.commit("换", who=ATTACKER)
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.content-drift" in output, output


# WAS A HOLE: a project folder replaced by a symlink in one commit is listed by git as the link's addition, then the
# tree's deletion; the deletion cleared the symlink finding. validate, reading through the link, shows the
# project at its target, so nothing of the ledger's reached its output either.
def _linked(tmp_path: Path, stage: str | None) -> Repo:
    r = Repo(tmp_path / "b", config=None)
    if stage is None:
        r.full_project(LINKED)
        r.commit("迁入")
        r.write("xzdoc.yaml", policy(r, False, f'baseline: "{r.head()}"\n'))
        r.commit("采用 xzdoc")
    else:
        r.write("xzdoc.yaml", policy(r, False))
        r.full_project(LINKED)
        r.set_stage(LINKED, "draft")
        r.commit("新建草稿项目")
    (r.path / "elsewhere").mkdir()
    r.git("mv", f"projects/{LINKED}", f"elsewhere/{LINKED}")
    moved = r.path / "elsewhere" / LINKED / "project.yaml"
    if stage:
        moved.write_text(moved.read_text("utf-8").replace("stage: draft", f"stage: {stage}"), "utf-8")
    os.makedirs(r.path / "projects", exist_ok=True)
    os.symlink(f"../elsewhere/{LINKED}", r.path / "projects" / LINKED)
    r.commit("挪", who=ATTACKER)
    return r


def test_a_draft_swapped_for_a_symlink_and_pushed_forward_is_reported(tmp_path: Path) -> None:
    r = _linked(tmp_path, "building")
    code, output = ledger_exit(r)
    assert code == 1 and "符号链接" in output, output
    assert validate_errors(r)[0] == 1


@pytest.mark.parametrize("args", [(), (".",), ("projects",), ("--shard", "1/2")])
def test_an_approved_project_swapped_for_a_symlink_is_reported(tmp_path: Path, args: tuple[str, ...]) -> None:
    r = _linked(tmp_path, None)
    code, output = ledger_exit(r)
    assert code == 1 and "符号链接" in output and "art24.deleted-project" in output, output
    assert validate_errors(r, *args)[0] == 1


# WAS A HOLE: the .gitattributes reader split lines at a CR, kept a leading BOM in the first pattern, and only knew
# macros defined before their use; git does none of these, so these rules converted project files unreported.
@pytest.mark.parametrize("attributes", [b"\xef\xbb\xbfprojects/** text eol=crlf\n", b"projects/**\rtext\n",
                                        b"*.yaml -text\rident\n", b"*.yaml quiet\n[attr]quiet ident\n",
                                        b"[attr]a b\n[attr]b eol=crlf\n*.yaml a\n", b"Projects/** ident\n"])
def test_gitattributes_read_as_git_reads_them(repo: Repo, attributes: bytes) -> None:
    (repo.path / ".gitattributes").write_bytes(attributes)
    repo.commit("attrs", who=ATTACKER)
    code, output = ledger_exit(repo)
    assert code == 1 and ".gitattributes 第" in output, output


# WAS A DUPLICATE: each shard's first project reported the other folders' ledger issues again; a whole run and
# a set of shards now report each finding once.
def test_shards_report_each_ledger_finding_once(tmp_path: Path) -> None:
    r = bureau(tmp_path / "b")
    for i in range(2, 8):
        r.project(f"XZJT-2026-10{i}", "draft")
    r.commit("more")
    submitted(r)
    r.edit(YAML, "total: 100.00", "total: 900.00")
    r.commit("改", who=ATTACKER)
    r.write(".gitattributes", "*.md text\n")
    r.commit("attrs", who=ATTACKER)
    wanted = ("art24.content-drift", "art24.repository-layout")
    whole = [e for e in validate_errors(r)[1] if e[0] in wanted]
    shards = [e for i in (1, 2, 3) for e in validate_errors(r, "--shard", f"{i}/3")[1] if e[0] in wanted]
    assert sorted(whole) == sorted(shards) and len(whole) == 2, (whole, shards)
