"""Draft nesting: validate names the line before the PDF typesetter fails on it, and allows what typesets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke
from xzdoc.rules.nesting import MAX_LISTS, MAX_QUOTES, deepest

DRAFT = Path("projects/XZJT-2026-003/drafts/proposal.md")


def _nested(quotes: int, lists: int) -> str:
    prefix = "> " * quotes
    if not lists:
        return f"{prefix}深层引用的内容。\n"
    return "".join(f"{prefix}{'  ' * i}- 第{i + 1}层\n" for i in range(lists))


def _append(repo: Path, text: str) -> None:
    draft = repo / DRAFT
    draft.write_text(draft.read_text("utf-8") + "\n\n" + text, "utf-8")


def _nesting(repo: Path) -> list[dict[str, object]]:
    result = invoke("validate", "projects/XZJT-2026-003", "--format", "json", "--no-cache")
    return [f for f in json.loads(result.output) if f["rule"] == "art07.draft-nesting"]


@pytest.mark.parametrize(("quotes", "lists", "line", "over"), [
    (MAX_QUOTES + 1, 0, 1, True),
    (0, MAX_LISTS + 1, MAX_LISTS + 1, True),
    (MAX_QUOTES, MAX_LISTS, 0, False),
    (3, 4, 0, False),
])
def test_depth_of_quotes_and_lists(quotes: int, lists: int, line: int, over: bool) -> None:
    found = deepest(_nested(quotes, lists))
    assert (found is not None) is over
    if found is not None:
        assert found[0] == line


def test_what_does_not_nest_is_not_counted() -> None:
    # Siblings indented by one space more each time are siblings, not children (they do not reach the item's text).
    siblings = "".join(f"{' ' * min(i, 1)}- 第{i}项\n" for i in range(30))
    assert deepest(siblings) is None
    # Deep prefixes inside a code fence are code, not structure.
    fenced = "```\n" + _nested(20, 0) + _nested(0, 20) + "```\n"
    assert deepest(fenced) is None
    # A paragraph at the margin closes the lists above it, so the next list starts at level one.
    restart = _nested(0, 10) + "说明文字。\n" + _nested(0, 10)
    assert deepest(restart) is None
    # A blank line between items does not close the list: depth keeps counting across it.
    spaced = "\n".join(f"{'  ' * i}- 第{i + 1}层\n" for i in range(MAX_LISTS + 1))
    assert deepest(spaced) == (2 * MAX_LISTS + 1, 0, MAX_LISTS + 1)
    # Ordered items and tabs nest too.
    ordered = "".join(f"{'    ' * i}{i + 1}. 第{i + 1}层\n" for i in range(MAX_LISTS + 1))
    tabs = "".join(f"{chr(9) * i}- 第{i + 1}层\n" for i in range(MAX_LISTS + 1))
    assert deepest(ordered) is not None and deepest(tabs) is not None
    # Markers written without spaces (>>>>) count as the quote levels pandoc reads.
    assert deepest(">" * (MAX_QUOTES + 1) + " 文字\n") == (1, MAX_QUOTES + 1, 0)


def test_validate_names_the_line_and_bundle_explains_the_failure(demo_repo: Path) -> None:
    before = (demo_repo / DRAFT).read_text("utf-8").count("\n")
    _append(demo_repo, _nested(17, 0))
    found = _nesting(demo_repo)
    assert len(found) == 1 and found[0]["path"] == DRAFT.as_posix() and found[0]["line"] == before + 3
    assert "17 层" in str(found[0]["message"])
    # Rendering what validate refused fails at the same line before pandoc and Typst, not the template blamed.
    result = invoke("render", "projects/XZJT-2026-003", "--format", "pdf", "--out", "out")
    assert result.exit_code == 1, result.output
    assert "17 层，嵌套过深" in result.output and f"位置：{DRAFT.as_posix()}:{before + 3}" in result.output
    assert "page.typ" not in result.output
    assert not (demo_repo / "out" / "项目建议书.pdf").exists()


def test_the_deepest_nesting_allowed_renders(demo_repo: Path) -> None:
    _append(demo_repo, _nested(MAX_QUOTES, MAX_LISTS) + "\n\n" + _nested(0, MAX_LISTS))
    assert _nesting(demo_repo) == []
    result = invoke("render", "projects/XZJT-2026-003", "--format", "pdf", "--out", "out")
    assert result.exit_code == 0, result.output
    assert (demo_repo / "out" / "项目建议书.pdf").stat().st_size > 0


def test_square_brackets_nested_past_four_levels_are_refused_before_pandoc() -> None:
    # WAS A HANG: pandoc reads nested "[" by backtracking, about 2.4 times slower a level: a 20-level line
    # never finished converting (and took gigabytes) while validate passed it.
    from xzdoc.rules import nesting

    assert nesting.brackets("正文" + "[" * 20 + "x" + "]" * 20) == (1, 5)
    assert nesting.brackets("第一段[[[[x]]]]。\n\n第二段[[[[y]]]]。") is None           # per paragraph
    assert nesting.brackets("[甲](a)、[乙](b)、[丙](c)、[丁](d)、[戊](e)、[己](f)") is None   # side by side
    assert nesting.brackets("代码 `[[[[[[x` 与转义 \\[\\[\\[\\[\\[\\[") is None
    assert nesting.brackets("```\n[[[[[[[[\n```\n") is None
    assert nesting.brackets("[a [b\n[c [d [e]]]]]") == (2, 5)                            # across lines
    problem = nesting.too_deep("x\n" + "[" * 6 + "y" + "]" * 6, "projects/p/drafts/proposal.md", "项目建议书")
    assert problem is not None and problem.line == 2 and "方括号" in problem.message
