"""Bringing direct edits of an adopted repository back under approval: restore, then re-apply through merges."""

from __future__ import annotations

import json
from pathlib import Path

from tests.attacks import caught, clean, ledger_exit, merge
from tests.gitrepo import CENTER, CONFIG, PARTY, Repo

OLD, NEW = "XZJT-2025-902", "XZJT-2026-150"


def _edited(tmp_path: Path) -> tuple[Repo, str]:
    """Adopted at a baseline, then edited by direct commits: a draft rewritten, a new project at operating."""
    repo = Repo(tmp_path / "bureau", config=None)
    repo.full_project(OLD)
    base = repo.commit("迁入")
    repo.write("xzdoc.yaml", CONFIG + f'baseline: "{base}"\n')
    repo.commit("采用 xzdoc")
    repo.write(f"projects/{OLD}/drafts/proposal.md", "# 一、项目概述\n\n修订后的正文。\n")
    repo.write("xzdoc.yaml", "# 说明\n" + CONFIG + f'baseline: "{base}"\n')
    repo.full_project(NEW)
    repo.edit(f"projects/{NEW}/project.yaml", f"id: {OLD}", f"id: {NEW}")
    repo.set_stage(NEW, "operating")
    repo.edit(f"projects/{NEW}/project.yaml", "  progress:", "  acceptance_filing: {date: 2026-01-20, consent: 2026-01-18}\n"
              "  progress:")
    tip = repo.commit("直接修改")
    return repo, tip


def test_direct_edits_are_caught(tmp_path: Path) -> None:
    repo, _ = _edited(tmp_path)
    caught(repo, "art24.content-drift", "art24.unapproved-config", "art24.unapproved-stage-change")


def test_restore_then_reapply_through_merges_by_each_role(tmp_path: Path) -> None:
    repo, tip = _edited(tmp_path)
    _, text = ledger_exit(repo, "--format", "json")
    book = json.loads(text)
    # 1. One commit on main puts every approved folder and xzdoc.yaml back as approved; new projects go.
    policy = next(r["commit"] for r in book["records"] if r["change"] == "config" and r["current"] and r["approved"])
    repo.git("restore", f"--source={policy}", "--staged", "--worktree", "--", "xzdoc.yaml")
    for folder, ref in book["approved"].items():
        repo.git("restore", f"--source={ref['commit']}", "--staged", "--worktree", "--", folder)
    repo.git("rm", "-rq", f"projects/{NEW}")
    repo.commit("恢复为经审批的内容")
    clean(repo)
    # 2. Re-apply the current content on a branch, one merge per role the changes need.
    repo.branch("reapply-1")
    repo.git("restore", f"--source={tip}", "--staged", "--worktree", "--", "xzdoc.yaml", f"projects/{OLD}",
             f"projects/{NEW}")
    repo.set_stage(NEW, "reviewed")
    repo.commit("重新提交：配置、修订的正文、新项目（至已审核）")
    repo.checkout("main")
    merge(repo, "reapply-1", PARTY)
    repo.branch("reapply-2")
    repo.set_stage(NEW, "contracted")
    repo.commit("新项目：已批复、已签约")
    repo.checkout("main")
    merge(repo, "reapply-2", CENTER)
    repo.branch("reapply-3")
    repo.git("restore", f"--source={tip}", "--staged", "--worktree", "--", f"projects/{NEW}")
    repo.commit("新项目：建设、验收、运维")
    repo.checkout("main")
    merge(repo, "reapply-3", PARTY)
    assert repo.git("diff", tip, "HEAD", "--stat") == ""
    clean(repo)
