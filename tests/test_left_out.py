"""Projects the portfolio views cannot read are named and fail the command; validate reports odd project.yaml entries.

WAS SILENT: a project whose project.yaml did not parse dropped out of status, catalog, site, plan and
CODEOWNERS with exit 0; a project.yaml that is a directory, a pipe or a dangling link was not even seen
by validate (and the pipe hung it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import AS_OF, invoke
from xzdoc.cli import cli

BROKEN = "id: XZJT-2026-009\nname: [坏的\n"


def _broken(repo: Path, kind: str) -> str:
    folder = repo / "projects" / "XZJT-2026-009"
    folder.mkdir()
    target = folder / "project.yaml"
    if kind == "syntax":
        target.write_text(BROKEN, "utf-8")
    elif kind == "directory":
        target.mkdir()
    elif kind == "pipe":
        os.mkfifo(target)
    else:
        target.symlink_to("nowhere.yaml")
    return "projects/XZJT-2026-009/project.yaml"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("kind", ["syntax", "directory", "pipe", "dangling"])
def test_validate_reports_every_kind_of_unreadable_metadata(demo_repo: Path, kind: str) -> None:
    shown = _broken(demo_repo, kind)
    code, out, _ = _run("validate", "--no-cache", "--format", "json")
    assert code == 1
    found = [f for f in json.loads(out) if f["path"] == shown]
    assert found and found[0]["level"] == "error" and found[0]["rule"] == "art07.readable"
    # The system's reason is told in Chinese, not as the C library's English.
    assert not any(w in found[0]["message"] for w in ("No such file", "Is a directory"))


@pytest.mark.parametrize("kind", ["syntax", "pipe"])
def test_status_shows_the_rest_and_names_the_one_left_out(demo_repo: Path, kind: str) -> None:
    shown = _broken(demo_repo, kind)
    code, out, err = _run("status", "--as-of", AS_OF)
    assert code == 1
    assert "XZJT-2026-001" in out and "XZJT-2026-009" not in out
    assert f"{shown}:" in err and "1 个项目的 project.yaml 未能读取" in err and "未列入项目一览" in err


def test_catalog_names_the_project_left_out(demo_repo: Path) -> None:
    shown = _broken(demo_repo, "syntax")
    code, out, err = _run("catalog", "--format", "json")
    assert code == 1
    assert json.loads(out)["systems"]
    assert f"{shown}:" in err and "未列入目录" in err


def test_site_lists_the_project_left_out_on_the_page_and_fails_on_every_rerun(demo_repo: Path) -> None:
    shown = _broken(demo_repo, "syntax")
    first = invoke("site", "--out", demo_repo / "out", "--as-of", AS_OF)
    assert first.exit_code == 1 and f"{shown}:" in first.stderr
    html = (demo_repo / "out" / "index.html").read_text("utf-8")
    assert "1 个项目未列入看板" in html and shown in html
    # Unchanged inputs keep the page, and the run still fails for the same project.
    again = invoke("site", "--out", demo_repo / "out", "--as-of", AS_OF)
    assert again.exit_code == 1 and "未变化" in again.stdout and f"{shown}:" in again.stderr
    (demo_repo / "projects" / "XZJT-2026-009" / "project.yaml").unlink()
    (demo_repo / "projects" / "XZJT-2026-009").rmdir()
    fixed = invoke("site", "--out", demo_repo / "out", "--as-of", AS_OF)
    assert fixed.exit_code == 0, fixed.output
    assert "未列入看板" not in (demo_repo / "out" / "index.html").read_text("utf-8")


def test_plan_refuses_rather_than_leave_a_project_out(demo_repo: Path) -> None:
    shown = _broken(demo_repo, "syntax")
    code, _, err = _run("plan", "--year", "2026", "--out", str(demo_repo / "plan"))
    assert code == 1
    assert shown in err and "年度计划不能漏列项目" in err
    assert not (demo_repo / "plan").exists()


def test_plan_refuses_a_project_with_schema_errors(demo_repo: Path) -> None:
    yaml_file = demo_repo / "projects" / "XZJT-2026-001" / "project.yaml"
    yaml_file.write_text(yaml_file.read_text("utf-8").replace("plan_year: 2026", "plan_year: 二〇二六"), "utf-8")
    code, _, err = _run("plan", "--year", "2026", "--out", str(demo_repo / "plan"))
    assert code == 1 and "projects/XZJT-2026-001/project.yaml" in err
    assert not (demo_repo / "plan").exists()


def test_codeowners_is_not_written_without_every_project(demo_repo: Path) -> None:
    shown = _broken(demo_repo, "dangling")
    code, _, err = _run("codeowners")
    assert code == 1 and f"{shown}:" in err and "CODEOWNERS（文件未改动）" in err
    assert not (demo_repo / ".github" / "CODEOWNERS").exists()
