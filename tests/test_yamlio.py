from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from xzdoc.errors import XzdocError
from xzdoc.source.yamlio import YList, YMap, decode, load_file, loads


def test_values_keep_their_lines() -> None:
    data = loads("a: 1\nb:\n  - x\n  - {c: 2.50}\n", "f.yaml")
    assert isinstance(data, YMap)
    assert data.at("a") == (1, 4)
    assert data.keypos["b"] == (2, 1)
    assert isinstance(data["b"], YList)
    assert data["b"].at(1) == (4, 5)
    assert data["b"][1].at("c") == (4, 9)


def test_floats_are_exact_decimals() -> None:
    data = loads("x: 0.10\ny: 120.50\n", "f.yaml")
    assert data["x"] == Decimal("0.10") and data["y"] == Decimal("120.50")


def test_duplicate_key_is_an_error_with_both_lines() -> None:
    with pytest.raises(XzdocError) as err:
        loads("budget:\n  total: 10\n  total: 20\n", "p.yaml")
    assert err.value.line == 3
    assert "第 2 行" in err.value.message and "total" in err.value.message


def test_tab_indentation_is_explained() -> None:
    with pytest.raises(XzdocError) as err:
        loads("a:\n\tb: 1\n", "p.yaml")
    assert "制表符" in err.value.message and err.value.line == 2
    assert "空格" in (err.value.hint or "")


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(XzdocError) as err:
        loads("a: [1, 2\nb: 3\n", "p.yaml")
    assert err.value.line is not None and err.value.column is not None


def test_gbk_is_refused_with_the_fix() -> None:
    with pytest.raises(XzdocError) as err:
        decode("名称: 忻州\n".encode("gb18030"), "p.yaml")
    assert "GBK" in err.value.message and "iconv" in (err.value.hint or "")


def test_bom_and_crlf_are_accepted() -> None:
    text = decode(b"\xef\xbb\xbfa: 1\r\nb: 2\r\n", "p.yaml")
    assert loads(text, "p.yaml") == {"a": 1, "b": 2}


def test_alias_bomb_is_bounded() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join('*' + prev for _ in range(10))}]")
    with pytest.raises(XzdocError) as err:
        loads("\n".join(lines), "bomb.yaml")
    assert "别名" in err.value.message


def test_invalid_calendar_date() -> None:
    with pytest.raises(XzdocError) as err:
        loads("d: 2026-02-30\n", "p.yaml")
    assert "不是有效日期" in err.value.message and err.value.line == 1


def test_dates_are_dates() -> None:
    assert loads("d: 2026-09-28\n", "p.yaml")["d"] == dt.date(2026, 9, 28)


def test_merge_keys_are_refused() -> None:
    with pytest.raises(XzdocError, match="合并键"):
        loads("a: &x {b: 1}\nc:\n  <<: *x\n", "p.yaml")


def test_huge_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * (3 * 1024 * 1024))
    with pytest.raises(XzdocError, match="过大"):
        load_file(big, "big.yaml")
