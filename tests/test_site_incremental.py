"""`xzdoc site` on an unchanged repository leaves the page alone; after a change it equals a build from nothing.

Also: site, catalog and status read project.yaml only, never a draft (checked with an audit hook on open).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke
from tests.gitrepo import PARTY, Repo
from xzdoc.portfolio import site, sitecache

PAGE = "out/index.html"
_opened: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opened is not None and isinstance(args[0], (str, Path)):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)  # cannot be removed again: it records only while a test sets _opened


def run_site(root: Path, out: str = "out") -> str:
    result = invoke("site", "--out", root / out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return result.output


def fresh(root: Path) -> bytes:
    """The page as a build from nothing gives it."""
    shutil.rmtree(root / "fresh", ignore_errors=True)
    run_site(root, "fresh")
    return (root / "fresh" / "index.html").read_bytes()


def test_an_unchanged_repository_keeps_the_page_without_building_it(demo_repo: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert "已生成" in run_site(demo_repo)
    page = demo_repo / PAGE
    before, mtime = page.read_bytes(), page.stat().st_mtime_ns

    def refuse(*args: object) -> None:
        raise AssertionError("an unchanged page is not built again")

    monkeypatch.setattr(site, "build", refuse)
    assert "未变化" in run_site(demo_repo)
    assert page.read_bytes() == before and page.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in page.parent.iterdir()) == [sitecache.INPUTS, "index.html"]


@pytest.mark.parametrize("edit", ["project", "register", "config", "template", "day"])
def test_each_input_changes_the_page_as_a_full_build_does(demo_repo: Path, edit: str) -> None:
    shutil.copy(ROOT / "systems.yaml", demo_repo / "systems.yaml")
    run_site(demo_repo)
    before = (demo_repo / PAGE).read_bytes()
    as_of = AS_OF
    if edit == "project":
        file = demo_repo / "projects/XZJT-2026-003/project.yaml"
        file.write_text(file.read_text("utf-8").replace("name: 忻州市农村", "name: 忻州市乡村", 1), "utf-8")
    elif edit == "register":
        file = demo_repo / "systems.yaml"
        file.write_text((ROOT / "systems.yaml").read_text("utf-8") + "\n# 注释\n", "utf-8")
    elif edit == "config":
        (demo_repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局信息中心\n", "utf-8")
    elif edit == "template":
        shutil.copytree(ROOT / "templates" / "site", demo_repo / "templates" / "site")
        css = demo_repo / "templates/site/style.css"
        css.write_text(css.read_text("utf-8") + "\n/* 本局 */\n", "utf-8")
    else:
        as_of = "2026-11-27"
    result = invoke("site", "--out", demo_repo / "out", "--as-of", as_of)
    assert result.exit_code == 0, result.output
    after = (demo_repo / PAGE).read_bytes()
    # A comment in systems.yaml changes the inputs, not what the page shows.
    assert ("已生成" in result.output) == (after != before) == (edit != "register"), result.output
    invoke("site", "--out", demo_repo / "fresh", "--as-of", as_of)
    assert after == (demo_repo / "fresh" / "index.html").read_bytes()


def test_in_git_a_merge_on_main_is_seen_and_a_new_digest_with_the_same_page_is_not_rewritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "git")
    repo.write(".gitignore", "/out/\n/fresh/\n")
    repo.full_project("XZJT-2025-902")
    repo.set_stage("XZJT-2025-902", "draft")
    repo.commit("新建项目")
    monkeypatch.chdir(repo.path)
    run_site(repo.path)
    repo.pull_request("submit", PARTY, lambda r: r.set_stage("XZJT-2025-902", "submitted"), "申报")
    assert "已生成" in run_site(repo.path)
    assert (repo.path / PAGE).read_bytes() == fresh(repo.path)
    # A commit to main that the page does not show: inputs differ, the bytes do not, the file is kept.
    mtime = (repo.path / PAGE).stat().st_mtime_ns
    repo.write("README.md", "说明\n")
    repo.commit("说明")
    assert "未变化" in run_site(repo.path)
    assert (repo.path / PAGE).stat().st_mtime_ns == mtime


@pytest.mark.parametrize("command", [("site", "--out", "out", "--as-of", AS_OF), ("catalog",),
                                     ("status", "--as-of", AS_OF)], ids=["site", "catalog", "status"])
def test_portfolio_views_read_no_draft(demo_repo: Path, command: tuple[str, ...]) -> None:
    global _opened
    _opened = []
    try:
        result = invoke(*command)
    finally:
        opened, _opened = _opened, None
    assert result.exit_code in (0, 1), result.output
    assert any(p.endswith("project.yaml") for p in opened)
    assert not [p for p in opened if "/drafts/" in p.replace("\\", "/")]
