from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from xzdoc.source.drafts import all_headings, chapters, glued, normalise

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


def _words(inlines: list[dict[str, object]]) -> str:
    return "".join(str(i.get("c", "")) if i["t"] == "Str" else " " for i in inlines)


_LAYOUTS = {
    "after a paragraph": "# 一、概述\n\n正文\n# 二、单位\n\n正文\n",
    "after a heading": "# 一、概述\n# 二、单位\n\n正文\n",
    "after a list item": "# 一、概述\n\n- 项\n# 二、单位\n\n正文\n",
    "after a quote": "# 一、概述\n\n> 引文\n# 二、单位\n\n正文\n",
    "after a numbered item": "# 一、概述\n\n1. 项\n# 二、单位\n\n正文\n",
    "after a rule": "# 一、概述\n\n文字\n\n---\n# 二、单位\n\n正文\n",
    "after a fence": "# 一、概述\n\n```\nx\n```\n# 二、单位\n\n正文\n",
    "in an indented fence": "# 一、概述\n\n   ```\n# 不是\n   ```\n\n# 二、单位\n\n正文\n",
    "~~~ inside a backtick fence": "# 一、概述\n\n```\n~~~\n# 不是\n```\n\n# 二、单位\n\n正文\n",
    "a longer fence closes it": "# 一、概述\n\n~~~\n# 不是\n~~~~\n\n# 二、单位\n\n正文\n",
    "a fence the text after does not close": "# 一、概述\n\n```\n# 不是\n``` x\n```\n\n# 二、单位\n\n正文\n",
}


@pytest.mark.parametrize("name", list(_LAYOUTS))
def test_chapters_are_the_level_one_headings_pandoc_reads(name: str) -> None:
    # WAS WRONG: "正文\n# 二、…", an indented fence and a ~~~ line in a ``` fence made the outline count a
    # chapter pandoc never saw (validate passed, the document lacked the chapter) or miss one it did.
    from xzdoc.render import pandoc

    text = _LAYOUTS[name]
    read = [_words(b["c"][2]) for b in pandoc.to_ast(text)["blocks"] if b["t"] == "Header" and b["c"][0] == 1]
    assert [h.title for h in chapters(text)] == read
    assert [h.title for h in all_headings(text) if h.level == 1] == read
    if "二、单位" not in read:
        assert [title for _, title in glued(text)] == ["二、单位"]


def test_validate_names_a_heading_without_its_blank_line(tmp_path: Path) -> None:
    import json
    import shutil

    from tests.conftest import AS_OF, RESOURCES, invoke

    folder = tmp_path / "XZJT-2025-902"
    shutil.copytree(RESOURCES / "base_project", folder)
    draft = folder / "drafts" / "proposal.md"
    lines = draft.read_text("utf-8").split("\n")
    at = [n for n, line in enumerate(lines) if line.startswith("# ")][1]
    assert lines[at - 1] == ""
    del lines[at - 1]
    draft.write_text("\n".join(lines), "utf-8")
    result = invoke("validate", str(folder), "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if f["rule"] == "art07.outline"]
    assert [(f["path"].endswith("drafts/proposal.md"), f["line"]) for f in found] == [(True, at)], found
    assert "在它前面加一个空行" in found[0]["message"] and result.exit_code == 1


_HIDING = [
    ("{# 暂不写\n%s\n#}", True),
    ("{%% if budget.total > 100000000 %%}\n%s\n{%% endif %%}", True),
    ("{%% for x in [] %%}\n%s\n{%% endfor %%}", True),
    ("{%% set kept %%}\n%s\n{%% endset %%}", True),
    ("{%% if budget.total > 0 %%}\n%s\n{%% endif %%}", False),
    ("{%% raw %%}\n%s\n{%% endraw %%}", False),
    ("{# 备注 #}\n%s", False),
]


@pytest.mark.parametrize(("wrapper", "lost"), _HIDING, ids=[w.split("\n")[0] for w, _ in _HIDING])
def test_a_chapter_the_template_takes_out_is_named_at_its_heading(tmp_path: Path, wrapper: str, lost: bool) -> None:
    # WAS A HOLE: the outline was read from the draft as written, so a chapter inside {# #} or a false
    # {% if %} passed validate and was missing from the document filed.
    import json
    import shutil

    from tests.conftest import AS_OF, RESOURCES, invoke

    folder = tmp_path / "XZJT-2025-903"
    shutil.copytree(RESOURCES / "base_project", folder)
    draft = folder / "drafts" / "proposal.md"
    text = draft.read_text("utf-8")
    lines = text.split("\n")
    at = [n for n, line in enumerate(lines) if line.startswith("# ")][1]
    ends = next(n for n in range(at + 1, len(lines)) if lines[n].startswith("# "))
    chapter = "\n".join(lines[at:ends]).rstrip("\n")
    wrapped = wrapper % chapter
    draft.write_text("\n".join(lines[:at]) + "\n" + wrapped + "\n\n" + "\n".join(lines[ends:]), "utf-8")
    result = invoke("validate", str(folder), "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if "在模板展开后不见了" in f["message"]]
    heading = at + 1 + wrapped.split("\n").index(lines[at])
    assert [(f["rule"], f["line"]) for f in found] == ([("art07.outline", heading)] if lost else []), found
    assert (result.exit_code == 1) == lost, result.output
