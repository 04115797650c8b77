"""The loader's fast paths give what the plain way gives: each is checked against that way here."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from xzdoc.errors import XzdocError
from xzdoc.source import drafts, sandbox, structure
from xzdoc.source.yamlio import decode, loads

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)


def _expressions_plainly(text: str) -> list[str] | None:
    if "{%" in text or "{#" in text:
        return None
    found = _EXPRESSION.findall(text)
    return found if len(found) == text.count("{{") else None


@pytest.mark.parametrize("text", [
    "", "正文", "{{ name }}", "{{ a }}{{ b }}", "{{{ a }}", "{{ a {{ b }}", "{{ a", "a }}", "{{%", "{{#", "{%",
    "{ {{ a }} }", "{{ '{{' }}", "{{}}", "{{ a }}\n{# x #}", "{" * 7 + "}}", "{{ a }}" * 600, "{" * 2000,
])
def test_draft_expressions_match_the_regular_expression(text: str) -> None:
    assert sandbox.expressions(text) == _expressions_plainly(text)


def test_typed_scalars_are_the_same_each_time_they_are_read() -> None:
    text = "a: 1.50\nb: 2026-09-28\nc: 0x1F\nd: yes\ne: ~\nf: 1_000\n2026: x\ng: 31\n"
    first, second = loads(text, "p.yaml"), loads(text, "q.yaml")
    # Only decimal spellings are numbers: YAML 1.1's hex and digit groups stay the text they are.
    assert first == second == {"a": Decimal("1.50"), "b": dt.date(2026, 9, 28), "c": "0x1F",
                               "d": True, "e": None, "f": "1_000", 2026: "x", "g": 31}
    assert str(second["a"]) == "1.50"


def test_a_bad_date_is_reported_every_time() -> None:
    for _ in range(2):
        with pytest.raises(XzdocError) as err:
            loads("x: 1\nd: 2026-02-30\n", "p.yaml")
        assert err.value.line == 2 and err.value.column == 4


def test_a_merge_key_is_refused_after_the_same_spelling_was_read_as_text() -> None:
    assert loads("a: '<<'\n", "p.yaml") == {"a": "<<"}
    with pytest.raises(XzdocError, match="合并键"):
        loads("<<: {a: 1}\n", "p.yaml")


def test_nul_is_located_by_line() -> None:
    with pytest.raises(XzdocError) as err:
        decode("一\n二\n三\x00".encode(), "p.md")
    assert err.value.line == 3


@pytest.mark.parametrize("value", [Decimal("120.50"), Decimal("1"), Decimal("0.5"), Decimal("12.345"), Decimal("-1"),
                                   Decimal("1E+3"), Decimal("NaN"), 7, "120.50", True])
def test_money_fast_path_agrees_with_the_text_rules(value: object) -> None:
    amount, problem = structure.parse_money(value)
    text = str(value)
    if isinstance(value, Decimal) and value.is_finite() and structure._MONEY.match(text):
        assert (amount, problem) == (Decimal(text).quantize(Decimal("0.01")), None)
        assert str(amount) == str(Decimal(text).quantize(Decimal("0.01")))
    elif problem is None:
        assert amount == Decimal(text).quantize(Decimal("0.01"))


def test_chapters_ignore_headings_in_fences_with_or_without_backticks() -> None:
    text = "# 一、概述\n正文\n```\n# 不是标题\n```\n# 二、需求\n"
    assert [h.title for h in drafts.chapters(text)] == ["一、概述", "二、需求"]
    assert [h.title for h in drafts.chapters(text.replace("```", "~~~"))] == ["一、概述", "二、需求"]
    # A code span is no fence; the blank line keeps "# 乙" a heading (pandoc folds it into "`x`" without one).
    assert [(h.title, h.line, h.has_body) for h in drafts.chapters("# 甲\n`x`\n\n# 乙\n")] == [("甲", 1, True),
                                                                                             ("乙", 4, False)]
    assert [h.title for h in drafts.chapters("# 甲\n`x`\n# 乙\n")] == ["甲"]
