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
