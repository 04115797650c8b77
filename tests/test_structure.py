from __future__ import annotations

from decimal import Decimal

import pytest

from xzdoc.source.structure import parse_money


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("120.5"), Decimal("120.50")),
    (120, Decimal("120.00")),
    ("1200.00", Decimal("1200.00")),
    ("0.01", Decimal("0.01")),
])
def test_valid_amounts(value: object, expected: Decimal) -> None:
    amount, problem = parse_money(value)
    assert problem is None and amount == expected and str(amount) == str(expected)


@pytest.mark.parametrize(("value", "says"), [
    ("１２０", "全角"),
    ("120万", "单位"),
    ("120万元", "单位"),
    ("1,200", "千分位"),
    ("-5.00", "负数"),
    (Decimal("1.234"), "两位小数"),
    (Decimal("NaN"), "有限"),
    ("1e3", "科学计数法"),
    (True, "数字"),
    ("abc", "不是金额"),
])
def test_invalid_amounts(value: object, says: str) -> None:
    amount, problem = parse_money(value)
    assert amount is None and problem and says in problem


# WAS A HOLE: pandoc reads an "=" underline as a chapter heading, validate reported the chapter missing.
@pytest.mark.parametrize(("text", "titles"), [
    ("一、项目概述\n======\n\n正文。\n", [("一、项目概述", 1)]),
    ("前言\n\n一、项目概述\n=\n正文。\n\n二、建设单位\n===\n\n正文。\n", [("一、项目概述", 3), ("二、建设单位", 7)]),
    ("1. 项目概述\n===\n\n正文。\n", [("1. 项目概述", 1)]),
    ("甲\n乙\n===\n", []),                                  # a two-line paragraph: pandoc keeps it a paragraph
    ("- 列表\n===\n", []),
    ("正文 a\n\n= 不是下划线\n", []),
])
def test_setext_chapters_are_chapters_as_pandoc_reads_them(text: str, titles: list[tuple[str, int]]) -> None:
    from xzdoc.render import pandoc
    from xzdoc.source import drafts

    assert [(h.title, h.line) for h in drafts.chapters(text)] == titles
    assert [(h.title, h.line) for h in drafts.all_headings(text) if h.level == 1] == titles
    tree = pandoc.to_ast(text)
    assert [b["c"][0] for b in tree["blocks"] if b["t"] == "Header"] == [1] * len(titles)


def test_hash_then_full_width_space_is_named() -> None:
    from xzdoc.source import drafts

    assert drafts.malformed_heading("正文\n\n#\u3000一、项目概述\n\n正文", ["项目概述"]) == (
        3, "#\u3000一、项目概述", "“#”后是全角空格，须是半角空格")
