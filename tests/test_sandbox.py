"""The quick reference check agrees with Jinja's sandbox on every path it decides without it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xzdoc.errors import XzdocError
from xzdoc.source import sandbox

VALUES: dict[str, Any] = {
    "name": "忻州市智慧交通平台", "id": "XZJT-2025-002", "stage": "approved",
    "budget": {"total": Decimal("120.50"), "years": {2025: Decimal("20.00"), 2026: Decimal("100.50")},
               "items": [{"name": "软件", "amount": Decimal("1.00")}], "keys": "shadowed by dict.keys"},
    "systems": [{"name": "平台", "tags": ["a", "b"]}, "plain"],
    "flag": True, "nothing": None, "1": "one",
}

PATHS = ["name", "id", "budget", "budget.total", "budget.years[2026]", "budget.years[2024]", "budget.years['2026']",
         "budget.items[0].name", "budget.items[1]", "budget.items[0]['amount']", "budget.keys", "budget.items",
         "budget.total.real", "budget.__class__", "systems[0].tags[1]", "systems[1]", "systems[1].upper",
         "systems['x']", "systems.count", "flag", "nothing", "nothing.x", "missing", "missing.x", "name.upper",
         "name[0]", "budget.years[2026].quantize"]


def _jinja(steps: tuple[Any, ...], values: dict[str, Any]) -> Any:
    env = sandbox.environment()
    value = values[steps[0]] if steps[0] in values else env.undefined(name=steps[0])
    for is_attr, key in steps[1:]:
        value = env.getattr(value, key) if is_attr else env.getitem(value, key)
    return value


@pytest.mark.parametrize("source", PATHS)
def test_plain_lookup_is_the_sandbox_lookup_or_undecided(source: str) -> None:
    steps = sandbox.path(source)
    assert steps is not None
    quick = sandbox._plain_lookup(steps, VALUES)
    if quick is not sandbox._UNDECIDED:
        assert quick is _jinja(steps, VALUES)


@pytest.mark.parametrize("source", PATHS)
def test_references_ok_is_what_the_template_says(source: str) -> None:
    try:
        sandbox.render("{{ " + source + " }}", "drafts/x.md", VALUES)
    except XzdocError:
        rendered = False
    else:
        rendered = True
    assert sandbox.references_ok([source], VALUES) is rendered


def test_plain_references_are_decided_without_jinja() -> None:
    for source in ("name", "budget.total", "budget.years[2026]", "systems[0].name", "systems[0].tags[1]"):
        steps = sandbox.path(source)
        assert steps is not None and sandbox._plain_lookup(steps, VALUES) is not sandbox._UNDECIDED, source


@pytest.mark.parametrize(("text", "line"), [
    ("# 一、项目概述\n\n总投资{{ budget.total 万元。\n\n第二段。\n\n第三段。\n", 3),   # WAS: reported at line 5
    ("{{ name }}，{{ id\n", 1),
    ("正文\n\n{{ name }}{{ id {{ name }}\n", 3),
])
def test_an_unclosed_reference_is_reported_where_it_opens(text: str, line: int) -> None:
    from xzdoc.errors import XzdocError

    with pytest.raises(XzdocError) as caught:
        sandbox.render(text, "d.md", VALUES)
    assert caught.value.line == line and "没有闭合" in caught.value.message
    exc = sandbox.problem(text, "d.md", VALUES)
    assert exc is not None and exc.line == line


@pytest.mark.parametrize(("source", "what"), [
    ("budget.years", "映射，2 项"), ("budget['items']", "列表，1 项"), ("budget.items", "方法"), ("name.upper", "方法"),
    ("systems[0].tags", "列表，2 项"),
    ("flag", "是/否"), ("nothing", "空值"), ("true", "是/否"), ("[1, 2]", "列表"), ("budget.years.values() | list", "列表"),
])
def test_a_value_with_no_wording_is_refused_at_its_line(source: str, what: str) -> None:
    # WAS WRONG: Python's repr reached the document: "{2025: Decimal('20.00'), …}", "True", "None", "['a', 'b']".
    text = "第一段。\n\n金额为 {{ " + source + " }} 万元。\n"
    with pytest.raises(XzdocError) as caught:
        sandbox.render(text, "drafts/x.md", VALUES)
    assert what in caught.value.message and caught.value.line == 3 and "join" in (caught.value.hint or "")
    assert sandbox.problem(text, "drafts/x.md", VALUES) is not None
    assert not sandbox.references_ok([source], VALUES)


def test_values_that_read_as_text_and_their_parts_still_render() -> None:
    text = ("{{ budget.years[2026] }} {{ systems[0].tags | join('、') }} {% if flag %}是{% endif %}"
            "{% for y in budget.years %}{{ y }}年{% endfor %}")
    assert sandbox.render(text, "drafts/x.md", VALUES) == "100.50 a、b 是2025年2026年"


def test_a_missing_reference_is_still_named_as_missing() -> None:
    with pytest.raises(XzdocError) as caught:
        sandbox.render("{{ budget.nowhere }}", "drafts/x.md", VALUES)
    assert "不存在的元数据" in caught.value.message and "nowhere" in caught.value.message
