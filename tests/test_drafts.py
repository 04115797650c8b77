from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from xzdoc.source.drafts import all_headings, chapters, normalise

SAMPLE = """# 一、项目概述

正文。

# 二、空章节

## （一）小节

小节正文。

# 三、真正的空章节

> 【编写提示】这不是正文

# 四、末章
"""


def test_chapters_know_whether_they_have_text() -> None:
    found = {h.title: h for h in chapters(SAMPLE)}
    assert found["一、项目概述"].has_body and found["一、项目概述"].line == 1
    assert found["二、空章节"].has_body, "text in a sub-section counts for the chapter"
    assert not found["三、真正的空章节"].has_body, "scaffold guidance is not text"
    assert not found["四、末章"].has_body


def test_fenced_code_is_not_a_heading() -> None:
    text = "# 一、甲\n\n```\n# 不是标题\n```\n\n# 二、乙\n"
    assert [h.title for h in chapters(text)] == ["一、甲", "二、乙"]
    assert chapters(text)[0].has_body


def test_fast_and_general_paths_agree_on_the_demo_drafts() -> None:
    for draft in sorted((ROOT / "projects").glob("*/drafts/*.md")):
        text = draft.read_text("utf-8")
        assert chapters(text) == tuple(h for h in all_headings(text) if h.level == 1), draft


def test_numbering_is_ignored_when_matching_titles() -> None:
    for title in ("一、项目概述", "第一章 项目概述", "1. 项目概述", "（一）项目概述", "项目概述"):
        assert normalise(title) == "项目概述", title


def test_symlinked_draft_outside_the_project_is_refused(tmp_path: Path) -> None:
    from tests.conftest import invoke

    repo = tmp_path / "repo"
    project = repo / "projects" / "XZJT-2026-003"
    import shutil

    shutil.copytree(ROOT / "projects" / "XZJT-2026-003", project)
    (repo / "xzdoc.yaml").write_text("organisation: 测试\n", "utf-8")
    secret = tmp_path / "outside.md"
    secret.write_text("# 一、项目概述\n\n外部文件\n", "utf-8")
    (project / "drafts" / "proposal.md").unlink()
    (project / "drafts" / "proposal.md").symlink_to(secret)
    result = invoke("validate", str(project))
    assert result.exit_code == 1 and "指向项目目录之外" in result.output
