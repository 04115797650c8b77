"""Drafts written the Word way: full-width indents are body text; malformed chapter headings are found at their line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, RESOURCES, invoke

PID = "XZJT-2025-902"
PROPOSAL = "drafts/proposal.md"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / PID
    shutil.copytree(RESOURCES / "base_project", folder)
    return folder


def findings(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    result = invoke("validate", str(folder), "--format", "json", "--as-of", AS_OF)
    return [f for f in json.loads(result.output) if f["level"] != "info"]


def rewrite(folder: Path, old: str, new: str) -> None:
    file = folder / PROPOSAL
    text = file.read_text("utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), "utf-8")


def test_full_width_indented_paragraph_is_body_text(project: Path) -> None:
    rewrite(project, "本章说明{{ name }}的项目概述，总投资{{ budget.total }}万元。", "　　本章说明{{ name }}的项目概述。")
    assert findings(project) == []


def test_a_chapter_of_only_full_width_spaces_is_still_empty(project: Path) -> None:
    rewrite(project, "本章说明{{ name }}的项目概述，总投资{{ budget.total }}万元。", "　　")
    (finding,) = findings(project)
    assert finding["rule"] == "art07.outline" and "没有正文" in finding["message"]


@pytest.mark.parametrize(("written", "says"), [
    ("一、项目概述", "缺少标题标记"),
    ("#一、项目概述", "缺少空格"),
    ("## 一、项目概述", "2级标题"),
    ("### 项目概述", "3级标题"),
    ("**一、项目概述**", "加粗"),
    ("＃ 一、项目概述", "全角"),
    ("项目概述", "缺少标题标记"),
])
def test_malformed_heading_is_reported_at_its_own_line(project: Path, written: str, says: str) -> None:
    text = (project / PROPOSAL).read_text("utf-8")
    (project / PROPOSAL).write_text(text.replace("# 一、项目概述", written, 1), "utf-8")
    (finding,) = findings(project)
    assert finding["rule"] == "art07.outline"
    assert finding["path"].endswith(PROPOSAL) and finding["line"] == 1
    assert says in finding["message"] and "项目概述" in finding["message"]


def test_prose_mentioning_a_chapter_is_no_heading(project: Path) -> None:
    text = (project / PROPOSAL).read_text("utf-8")
    text = text.replace("# 一、项目概述", "本文件的项目概述见下文。", 1)
    (project / PROPOSAL).write_text(text, "utf-8")
    (finding,) = findings(project)
    assert finding["rule"] == "art07.outline" and "缺少章节“项目概述”" in finding["message"]


def test_malformed_heading_further_down_is_found_there(project: Path) -> None:
    rewrite(project, "# 五、总体建设方案", "五、总体建设方案")
    (finding,) = findings(project)
    text = (project / PROPOSAL).read_text("utf-8")
    assert finding["line"] == text[: text.index("五、总体建设方案")].count("\n") + 1


@pytest.mark.parametrize("written", ["十、投资估算和资金来源", "### 十、投资估算和资金来源"])
def test_the_line_between_its_neighbours_wins_over_a_namesake_subsection(tmp_path: Path, written: str) -> None:
    """WAS A HOLE: the missing chapter was shown at "## （六）投资估算及资金来源" under 项目概述, 280 lines earlier."""
    from tests.conftest import ROOT

    folder = tmp_path / "XZJT-2026-003"
    shutil.copytree(ROOT / "projects" / "XZJT-2026-003", folder)
    draft = folder / "drafts" / "proposal.md"
    text = draft.read_text("utf-8")
    assert "## （六）投资估算及资金来源" in text
    draft.write_text(text.replace("# 十、投资估算和资金来源\n", written + "\n"), "utf-8")
    line = text[:text.index("# 十、投资估算和资金来源")].count("\n") + 1
    found = [f for f in findings(folder) if f["rule"] == "art07.outline"]
    assert [f["line"] for f in found] == [line], found
    assert written in found[0]["message"]
