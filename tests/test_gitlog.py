"""The one module that runs git: history of the main line, blobs in bulk, errors users can act on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AS_OF, invoke
from tests.gitrepo import DEV, FORGE, PARTY, Repo
from xzdoc.errors import XzdocError
from xzdoc.history import gitlog, log


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "bureau")
    r.project("XZJT-2026-001")
    r.write("README.md", "说明\n")
    r.commit("新建")
    return r


def test_first_parent_history_with_identities_dates_and_trailers(repo: Repo) -> None:
    repo.branch("feature")
    repo.set_stage("XZJT-2026-001", "submitted")
    repo.write("projects/XZJT-2026-001/drafts/proposal.md", "# 一、项目概述\n")
    repo.commit("申报", who=DEV)
    repo.write("README.md", "更多说明\n")
    repo.commit("分支上的其他提交", who=DEV)
    repo.checkout("main")
    repo.merge("feature", PARTY, "合并申报\n\nReviewed-by: 李秀英 <lixiuying@xzjt.example.gov.cn>")
    repo.write("README.md", "直接修改\n")
    repo.commit("文档", who=DEV, committer=FORGE)
    history = log.read(repo.path, None)
    assert history is not None and history.branch == "refs/heads/main"
    # The branch's own commits are not on the first-parent line.
    assert [c.subject for c in history.commits] == ["新建", "合并申报", "文档"]
    first, merge, last = history.commits
    assert first.parents == () and merge.is_merge and not last.is_merge
    assert merge.author == log.Identity("王建国", "wangjianguo@xzjt.example.gov.cn")
    assert merge.committed == repo.git("log", "-1", "--format=%cI", merge.sha)
    assert merge.trailers == (("Reviewed-by", "李秀英 <lixiuying@xzjt.example.gov.cn>"),)
    assert last.committer == log.Identity("GitHub", "noreply@github.com") and last.author.name == "赵工程师"
    # Diffs against the first parent, inside projects/ only, with the folder's tree.
    paths = {c.path: c for c in merge.changes}
    assert set(paths) == {"README.md", "projects", "projects/XZJT-2026-001", "projects/XZJT-2026-001/project.yaml",
                          "projects/XZJT-2026-001/drafts", "projects/XZJT-2026-001/drafts/proposal.md"}
    assert paths["projects/XZJT-2026-001"].mode == "040000"
    assert paths["projects/XZJT-2026-001"].new == repo.git("rev-parse", f"{merge.sha}:projects/XZJT-2026-001")
    assert {c.path for c in last.changes} == {"README.md"}


def test_chinese_folder_names_survive(repo: Repo) -> None:
    repo.write("projects/交通项目/project.yaml", "id: XZJT-2026-002\nstage: draft\n")
    repo.commit("中文目录")
    history = log.read(repo.path, None)
    assert history is not None
    assert "projects/交通项目/project.yaml" in {c.path for c in history.commits[-1].changes}


def test_blobs_and_trees_in_bulk(repo: Repo) -> None:
    head = repo.head()
    blob = repo.git("rev-parse", f"{head}:projects/XZJT-2026-001/project.yaml")
    objects = gitlog.read_objects(repo.path, [blob, f"{head}:README.md", "0" * 40, blob])
    assert objects[blob].startswith(b"id: XZJT-2026-001") and objects[f"{head}:README.md"] == "说明\n".encode()
    assert "0" * 40 not in objects
    ids = gitlog.object_ids(repo.path, [f"{head}:projects/XZJT-2026-001", f"{head}:projects/none"])
    assert ids == {f"{head}:projects/XZJT-2026-001": repo.git("rev-parse", f"{head}:projects/XZJT-2026-001")}


def test_master_and_remote_branches(tmp_path: Path) -> None:
    r = Repo(tmp_path / "old")
    r.git("branch", "-m", "master")
    r.project("XZJT-2026-001")
    r.commit("新建")
    history = log.read(r.path, None)
    assert history is not None and history.branch == "refs/heads/master"
    clone = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", f"file://{r.path}", str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "--detach"], check=True)
    subprocess.run(["git", "-C", str(clone), "branch", "-q", "-D", "master"], check=True)
    history = log.read(clone, None)
    assert history is not None and history.branch == "refs/remotes/origin/master"


def test_configured_branch_that_does_not_exist(repo: Repo) -> None:
    with pytest.raises(XzdocError, match="找不到主分支 trunk") as caught:
        log.read(repo.path, "trunk")
    assert "branch:" in (caught.value.hint or "")


def test_not_a_repository_and_shallow_clone(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert gitlog.repository_root(outside) is None
    assert gitlog.toplevel(outside) is None
    repo.commit("第二个提交")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    with pytest.raises(XzdocError, match="浅克隆"):
        log.read(clone, None)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving the repository away needs root")
def test_repository_of_another_user_names_safe_directory(repo: Repo, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A CI container's checkout is often owned by another uid: git refuses it, and the user needs
    # git's safe.directory fix, not "不在 git 仓库中".
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for folder in [repo.path, *repo.path.rglob("*")]:
        os.chown(folder, 12345, 12345, follow_symlinks=False)
    with pytest.raises(XzdocError) as caught:
        gitlog.toplevel(repo.path)
    assert "safe.directory" in (caught.value.hint or "") and str(repo.path) in (caught.value.hint or "")
    result = invoke("validate", str(repo.path), "--as-of", AS_OF)
    assert result.exit_code == 1 and "safe.directory" in result.output and "不在 git 仓库中" not in result.output
    assert "Traceback" not in result.output


def test_unborn_branch_has_no_history(tmp_path: Path) -> None:
    assert log.read(Repo(tmp_path / "new").path, None) is None


def test_validate_runs_one_git_log_for_all_projects(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(2, 6):
        repo.project(f"XZJT-2026-00{n}")
    repo.commit("更多项目")
    trace = tmp_path / "trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    invoke("validate", str(repo.path), "--as-of", AS_OF)
    commands = [line.split("git ", 2)[-1] for line in trace.read_text().splitlines() if "built-in: git " in line]
    assert sum(c.startswith("log") for c in commands) == 1, commands
    # One batch for the xzdoc.yaml versions, one for the project.yaml versions, one for the merges' second parents.
    assert sum(c.startswith("cat-file") for c in commands) <= 3, commands
