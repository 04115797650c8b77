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
    "ljust-method": ("{{ 'x'.ljust(100000000000) }}", "内容过长"),
    "doubling": ("{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}", "内存过多"),
    "replace": ("{{ ('x' * 100000)|replace('x', 'y' * 100000) }}", "内存过多"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_template_is_refused_at_its_line(name: str) -> None:
    source, reason = {**HOSTILE, **LATER}[name]
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


# Found by an attacker's review of the first bounds: C code working on long strings costs no trace event,
# big integers were only checked for powers, tests were folded while compiling, and a failing lookup's
# message quoted a 300 MB key outside the memory cap.
LATER = {
    "cheap-step-long-string": ('{% set s = "a".ljust(900000) %}{% for i in range(100000) %}{{ s.count("b") }}{% endfor %}',
                               "计算"),
    "bytes-repetition": ('{{ "a".encode() * 900000000 }}', "内容过长"),
    "big-multiplication": ("{% set x = 2 ** 90000 - 1 %}{% set x = x * x %}{% set x = x * x %}{{ x > 5 }}", "数值过大"),
    "big-literal-folded": ("{{ 0x" + "f" * 30000 + " is divisibleby 0x" + "e" * 15000 + " }}", "位数过多"),
    "big-literal-division": ("{{ 0x" + "f" * 30000 + " // 0x" + "e" * 15000 + " }}", "位数过多"),
    "big-literal-product": ("{{ 0x" + "f" * 3000 + " * 0x" + "e" * 3000 + " * 0x" + "d" * 3000 + " }}", "位数过多"),
    "fill-digit-width": ('{{ "{:0>900000000}".format(1) }}', "宽度或精度过大"),
    "nested-width": ('{{ "{:{}}".format(1, 900000000) }}', "宽度或精度过大"),
    "keyed-percent": ('{{ "%(a)900000000s"|format(a=1) }}', "宽度或精度过大"),
    "multiplied-markup": ('{{ " ".ljust(100000).replace(" ", "*a* ") }}', "远多于文稿本身"),
    "long-result": ('{{ "ab".ljust(900000).replace(" ", "xx") }}', "内容过长"),
}


@pytest.mark.parametrize("name", LATER)
def test_later_attacks_are_refused(name: str) -> None:
    test_hostile_template_is_refused_at_its_line(name)


@pytest.mark.parametrize("source", ['{{ [].index("x".ljust(900000)) }}', '{{ {}["x".ljust(900000)] }}'])
def test_a_failing_lookup_of_a_long_key_gives_a_short_message(source: str) -> None:
    with pytest.raises(XzdocError) as caught:
        sandbox.render(source, "d.md", VALUES)
    assert len(caught.value.message) < 400


def test_ordinary_amount_formatting_with_large_numbers_still_works() -> None:
    assert sandbox.render("{{ '{:,}'.format(12000000) }}元，{{ 1200000 // 100 }}，{{ 3 * 4 }}", "d.md", VALUES) == \
        "12,000,000元，12000，12"


@pytest.mark.parametrize("source", [
    "{% for i in range(100000) %}{{ (range(100000)|list)|length }}{% endfor %}",
    "{% for i in range(100000) %}{% set x = range(100000)|list %}{% endfor %}",
])
def test_building_big_lists_in_a_loop_is_counted(source: str) -> None:
    """Each iteration is a few trace events but a millisecond of C work: results are charged by their size."""
    with pytest.raises(XzdocError) as caught:
        sandbox.render(source, "d.md", VALUES)
    assert "计算量过大" in caught.value.message
