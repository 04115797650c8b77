"""A draft's template cannot make xzdoc work without end: steps, number sizes and memory are bounded.

Each hostile draft below held validate or render for hours, or exhausted memory, before the bounds.
"""

from __future__ import annotations

import resource
import sys
from decimal import Decimal
from typing import Any

import pytest

from xzdoc.errors import XzdocError
from xzdoc.source import bounds, sandbox

VALUES: dict[str, Any] = {"name": "忻州市智慧交通平台", "id": "XZJT-2026-003",
                          "budget": {"total": Decimal("120.50"), "years": {2026: Decimal("20.00"), 2027: Decimal("100.50")}}}

HOSTILE = {
    "nested-loops": ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", "计算量过大"),
    "loop-without-output": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                            "计算量过大"),
    "python-filter": ("{{ ('x' * 999999)|wordwrap(1) }}", "计算量过大"),
    "big-power": ("{{ 10 ** 100000 }}", "数值过大"),
    "power-of-power": ("{{ (2 ** 64) ** (2 ** 20) }}", "数值过大"),
    "repetition": ("{{ 'x' * 3000000 }}", "内容过长"),
    "list-repetition": ("{{ (range(100000)|list) * 100 }}", "内容过长"),
    "percent-width": ("{{ '%0999999999d' % 1 }}", "宽度或精度过大"),
    "percent-star": ("{{ '%*d' % (999999999, 1) }}", "宽度或精度过大"),
    "format-method": ("{{ '{:0999999999}'.format(1) }}", "宽度或精度过大"),
    "format-filter": ("{{ '%.999999999f'|format(budget.total) }}", "宽度或精度过大"),
    "center": ("{{ 'x'|center(100000000000) }}", "内存过多"),
    "ljust-method": ("{{ 'x'.ljust(100000000000) }}", "内存过多"),
    "doubling": ("{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}", "内存过多"),
    "replace": ("{{ ('x' * 100000)|replace('x', 'y' * 100000) }}", "内存过多"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_template_is_refused_at_its_line(name: str) -> None:
    source, reason = HOSTILE[name]
    text = "# 一、项目概述\n\n项目名称为{{ name }}。\n\n" + source + "\n\n以上。\n"
    with pytest.raises(XzdocError) as caught:
        sandbox.render(text, "projects/XZJT-2026-003/drafts/proposal.md", VALUES)
    assert reason in caught.value.message, caught.value.message
    assert caught.value.line == 5, (caught.value.line, caught.value.message)
    assert caught.value.path.endswith("proposal.md")


@pytest.mark.parametrize("name", ["python-filter", "big-power", "repetition", "format-method"])
def test_hostile_expression_is_no_plain_reference(name: str) -> None:
    source = HOSTILE[name][0]
    assert not sandbox.references_ok([source.removeprefix("{{").removesuffix("}}")], VALUES)


def test_the_bounds_leave_the_process_as_they_found_it() -> None:
    limits = resource.getrlimit(resource.RLIMIT_AS)
    tracer = sys.gettrace()
    for source, _ in HOSTILE.values():
        with pytest.raises(XzdocError):
            sandbox.render(source, "d.md", VALUES)
    assert resource.getrlimit(resource.RLIMIT_AS) == limits
    assert sys.gettrace() is tracer
    assert sandbox.render("{{ name }}", "d.md", VALUES) == "忻州市智慧交通平台"


def test_ordinary_template_work_is_untouched() -> None:
    text = ("总投资{{ budget.total }}万元，{{ '%.2f'|format(budget.total) }}；"
            "{% for year, amount in budget.years|dictsort %}{{ year }}年{{ amount }}万元{% if not loop.last %}、"
            "{% endif %}{% endfor %}；{{ name|length }}字；{{ 2 ** 10 }}；{{ '-' * 20 }}；{{ '{:>8}'.format(id) }}")
    assert sandbox.render(text, "d.md", VALUES) == (
        "总投资120.50万元，120.50；2026年20.00万元、2027年100.50万元；9字；1024；" + "-" * 20 + "；XZJT-2026-003")


def test_filters_run_inside_the_render_not_while_compiling() -> None:
    # Jinja folds a filter with constant arguments while compiling, outside any bound.
    calls: list[str] = []

    def probe(value: str) -> str:
        calls.append(value)
        return value.upper()

    env = bounds.environment()
    env.filters["probe"] = bounds._counted(probe)
    template = env.from_string("{{ 'abc'|probe }}{{ ('x' * 3)|wordwrap(1) }}")
    assert calls == []
    with bounds.bounded():
        assert template.render() == "ABCx\nx\nx"
    assert calls == ["abc"]


def test_steps_are_counted_across_filters_and_loops() -> None:
    template = sandbox.environment().from_string("{% for i in range(10) %}{{ 'a b c'|wordwrap(1) }}{% endfor %}")
    with bounds.bounded():
        template.render()
        assert 0 < bounds._local.steps < bounds.STEPS
