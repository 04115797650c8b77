"""第三条: classification marks are errors; the non-classified wording every security chapter has is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from xzdoc.rules.art03 import classified_lines

CORPUS = Path(__file__).resolve().parent / "resources" / "classified"
MARKED = [line for line in (CORPUS / "classified.txt").read_text("utf-8").splitlines() if line.strip()]
PLAIN = [line for line in (CORPUS / "unclassified.txt").read_text("utf-8").splitlines() if line.strip()]


def test_corpus_is_large_enough() -> None:
    assert len(MARKED) >= 15 and len(PLAIN) >= 15


@pytest.mark.parametrize("line", MARKED)
def test_classification_marks_are_found(line: str) -> None:
    assert [n for n, _, _ in classified_lines(f"前文。\n{line}\n后文。\n")] == [2]


@pytest.mark.parametrize("line", PLAIN)
def test_non_classified_wording_is_not_a_mark(line: str) -> None:
    assert list(classified_lines(f"前文。\n{line}\n后文。\n")) == []


def test_allow_mark_accepts_one_line_only() -> None:
    text = "示例：密级：秘密 xzdoc: allow\n密级：机密\n"
    assert [n for n, _, _ in classified_lines(text)] == [2]


def test_a_mark_inside_a_longer_paragraph_is_found_at_its_column() -> None:
    ((line, column, marker),) = classified_lines("第一行\n本报告的附件二为机密★5年，另行报送。\n")
    assert (line, column) == (2, 9) and marker.startswith("机密")
