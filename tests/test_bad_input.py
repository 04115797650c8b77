"""Malformed and hostile input: exit 1, a message naming the file and line, no traceback, nothing left behind."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import RESOURCES, invoke

CORPUS = RESOURCES / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file())
PROJECT = "projects/XZJT-2025-902"


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def copy_case(name: str, tmp_path: Path) -> Path:
    repo = tmp_path / name
    shutil.copytree(CORPUS / name, repo, symlinks=True)
    return repo


def check_failure(output: str, path: str, line: int | None, phrase: str) -> None:
    assert "Traceback" not in output and "内部错误" not in output, output
    assert phrase in output, output
    if path:
        assert path in output, output
        if line is not None:
            assert re.search(rf"{re.escape(path)}:{line}\b", output), output
        else:
            assert re.search(rf"{re.escape(path)}:\d+", output), output


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_case(name, tmp_path)
    case = yaml.safe_load((repo / "case.yaml").read_text("utf-8"))
    monkeypatch.chdir(repo)
    before = snapshot(repo)
    command = list(case["command"])
    if command[0] == "validate" and "--as-of" not in command:
        command += ["--as-of", "2026-11-20"]
    result = invoke(*command)
    assert result.exit_code == case["exit"], result.output
    if case["exit"]:
        check_failure(result.output, case["path"], case["line"], case["phrase"])
    else:
        assert case["phrase"] in result.output
    # Nothing lost, nothing half-written: the repository is exactly as it was.
    assert snapshot(repo) == before


def test_fifty_megabyte_yaml_is_refused_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_case("duplicate-key", tmp_path)
    shutil.copy(RESOURCES / "base_project" / "project.yaml", repo / PROJECT / "project.yaml")
    with open(repo / PROJECT / "project.yaml", "ab") as handle:
        handle.write(b"# " + b"x" * (50 * 1024 * 1024) + b"\n")
    monkeypatch.chdir(repo)
    result = invoke("validate")
    assert result.exit_code == 1
    check_failure(result.output, f"{PROJECT}/project.yaml", None, "超过 2 MB 的上限")


def test_fifty_megabyte_draft_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_case("bom-and-crlf-accepted", tmp_path)
    with open(repo / PROJECT / "drafts" / "design.md", "ab") as handle:
        handle.write(("正文" * 1024 + "\n").encode("utf-8") * 8600)
    monkeypatch.chdir(repo)
    result = invoke("validate", "--as-of", "2026-11-20")
    assert result.exit_code == 1
    check_failure(result.output, f"{PROJECT}/drafts/design.md", 1, "MB 上限")


def test_draft_symlink_escaping_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_case("bom-and-crlf-accepted", tmp_path)
    (tmp_path / "secret.md").write_text("# 一、项目概述\n\n外部\n", "utf-8")
    draft = repo / PROJECT / "drafts" / "proposal.md"
    draft.unlink()
    draft.symlink_to(tmp_path / "secret.md")
    monkeypatch.chdir(repo)
    result = invoke("validate", "--as-of", "2026-11-20")
    assert result.exit_code == 1
    check_failure(result.output, f"{PROJECT}/drafts/proposal.md", 1, "项目目录之外")
    bundle = invoke("bundle", PROJECT, "--out", str(tmp_path / "dist"))
    assert bundle.exit_code == 1 and "Traceback" not in bundle.output
    assert not any((tmp_path / "dist").rglob("*.zip"))


def test_image_symlink_escaping_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_case("bom-and-crlf-accepted", tmp_path)
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (repo / PROJECT / "drafts" / "photo.png").symlink_to(tmp_path / "photo.png")
    proposal = repo / PROJECT / "drafts" / "proposal.md"
    proposal.write_text(proposal.read_text("utf-8").replace("# 二、", "![图](photo.png)\n\n# 二、", 1), "utf-8")
    monkeypatch.chdir(repo)
    result = invoke("render", PROJECT, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    check_failure(result.output, f"{PROJECT}/drafts/proposal.md", 5, "项目目录")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.*"))


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "测试", "GIT_AUTHOR_EMAIL": "t@example.gov.cn",
           "GIT_COMMITTER_NAME": "测试", "GIT_COMMITTER_EMAIL": "t@example.gov.cn",
           "GIT_AUTHOR_DATE": "2026-03-02T10:00:00+08:00", "GIT_COMMITTER_DATE": "2026-03-02T10:00:00+08:00"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _committed_repo(tmp_path: Path) -> Path:
    repo = copy_case("bom-and-crlf-accepted", tmp_path)
    (repo / "case.yaml").unlink()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Add project")
    return repo


def test_shallow_clone_says_fetch_full_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    origin = _committed_repo(tmp_path)
    (origin / PROJECT / "drafts" / "note.md").write_text("补充\n", "utf-8")
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "Second")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(shallow)], check=True)
    monkeypatch.chdir(shallow)
    for command in (("ledger",), ("validate", "--as-of", "2026-11-20")):
        result = invoke(*command)
        assert result.exit_code == 1, result.output
        assert "浅克隆" in result.output and "fetch" in result.output and "Traceback" not in result.output


def test_detached_head_still_reads_the_main_branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _committed_repo(tmp_path)
    _git(repo, "checkout", "-q", "--detach", "HEAD")
    monkeypatch.chdir(repo)
    result = invoke("ledger")
    assert result.exit_code in (0, 1) and "Traceback" not in result.output and "内部错误" not in result.output


def test_repository_without_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_case("bom-and-crlf-accepted", tmp_path)
    _git(repo, "init", "-q", "-b", "main")
    monkeypatch.chdir(repo)
    for command in (("ledger",), ("validate", "--as-of", "2026-11-20"), ("status", "--as-of", "2026-11-20")):
        result = invoke(*command)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output and "内部错误" not in result.output


@pytest.mark.parametrize(("edit", "line", "phrase"), [
    (lambda t: t.replace("初步设计: drafts/design.md", "初步设计: /etc/passwd"), 116, "指向项目目录之外"),
    (lambda t: t + "note: !!int x\n", None, "不是标签 !!int 所要求的值"),
    (lambda t: t + "note: !!bool maybe\n", None, "不是标签 !!bool 所要求的值"),
    (lambda t: t + "note: !!null x\n", None, "不是标签 !!null 所要求的值"),
    (lambda t: t + "note: " + "[" * 5000 + "]" * 5000 + "\n", None, "嵌套超过 100 层"),
    (lambda t: t + "note:" + "".join(f"\n{'  ' * i}k{i}:" for i in range(1, 400)) + " 1\n", None, "嵌套超过 100 层"),
])
def test_hostile_yaml_values(edit, line, phrase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Absolute draft paths, tags with values they cannot hold, nesting deep enough to exhaust the stack."""
    repo = copy_case("bom-and-crlf-accepted", tmp_path)
    file = repo / PROJECT / "project.yaml"
    text = file.read_text("utf-8-sig").replace("\r\n", "\n")
    file.write_text(edit(text), "utf-8")
    monkeypatch.chdir(repo)
    before = snapshot(repo)
    result = invoke("validate", "--as-of", "2026-11-20")
    assert result.exit_code == 1, result.output
    check_failure(result.output, f"{PROJECT}/project.yaml", line, phrase)
    assert snapshot(repo) == before


def test_project_folder_name_that_is_no_utf8_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WAS A CRASH: exit 3 (UnicodeEncodeError) when the index wrote the folder name."""
    repo = copy_case("duplicate-key", tmp_path)
    shutil.copy(RESOURCES / "base_project" / "project.yaml", repo / PROJECT / "project.yaml")
    odd = os.fsdecode(bytes(repo / "projects") + b"/X\xff\xfe")
    shutil.copytree(repo / PROJECT, odd)
    monkeypatch.chdir(repo)
    for args in (["validate"], ["validate", "--format", "json"]):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        assert "项目目录名不是有效的 UTF-8 文本" in result.output and "X\ufffd\ufffd" in result.output


def test_a_looping_link_among_the_projects_hides_none_of_them(demo_repo: Path) -> None:
    # WAS FAIL-OPEN: a link projects/real -> real made listing the folder fail, so validate checked 0 projects
    # and passed (exit 0); status showed none.
    import json

    (demo_repo / "projects" / "real").symlink_to("real")
    result = invoke("validate", "--format", "json", "--as-of", "2026-11-20")
    assert result.exit_code == 1, result.output
    found = json.loads(result.output)
    assert any(f["path"] == "projects/real/project.yaml" and f["rule"] == "art07.readable" for f in found), found
    assert {f["path"].split("/")[1] for f in found} >= {"real", "XZJT-2026-001"}
