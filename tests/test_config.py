"""xzdoc.yaml values that would otherwise reach the documents as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from xzdoc import config
from xzdoc.errors import XzdocError


def test_font_names_that_would_break_into_the_documents_are_refused(tmp_path: Path) -> None:
    # WAS A CRASH: a font name with '"' went into the reference document's XML as written, and render died
    # with ParseError (exit 3); in the Typst page setup it could have run code.
    (tmp_path / "xzdoc.yaml").write_text('organisation: 某局\nfonts:\n  body: ["\\"); #panic(\\"x\\") //"]\n', "utf-8")
    with pytest.raises(XzdocError) as caught:
        config.load(tmp_path)
    assert caught.value.line == 3 and "字体名称中不会有它" in caught.value.message


@pytest.mark.parametrize(("value", "what"), [("123", "不是文字"), ("[忻州市, 交通运输局]", "不是文字"), ("true", "不是文字"),
                                             ("''", "为空"), ("'   '", "为空"), ("'" + "局" * 61 + "'", "超过 60 个字"),
                                             ('"忻州市\\t交通运输局"', "不可见字符")])
def test_an_organisation_that_is_not_one_line_of_text_is_refused(tmp_path: Path, value: str, what: str) -> None:
    # WAS ACCEPTED: `organisation: 123` printed "123" on every cover, and a list printed its Python repr.
    (tmp_path / "xzdoc.yaml").write_text(f"branch: main\norganisation: {value}\n", "utf-8")
    with pytest.raises(XzdocError) as caught:
        config.load(tmp_path)
    assert caught.value.line == 2 and what in caught.value.message, caught.value.message


def test_an_organisation_is_kept_as_written_and_defaults_to_the_bureau(tmp_path: Path) -> None:
    (tmp_path / "xzdoc.yaml").write_text("organisation: ' 某市交通运输局 '\n", "utf-8")
    assert config.load(tmp_path).organisation == "某市交通运输局"
    (tmp_path / "xzdoc.yaml").write_text("branch: main\n", "utf-8")
    assert config.load(tmp_path).organisation == "忻州市交通运输局"


@pytest.mark.parametrize("login", ['"zw\\n* @evil2"', '"zw @evil"', '"-zw"', '"张伟"'])
def test_a_forge_login_that_would_write_owner_rules_is_refused(tmp_path: Path, login: str) -> None:
    # WAS A HOLE: github: "zw\n* @evil2" wrote a catch-all owner line into CODEOWNERS, and doctor showed ✓.
    (tmp_path / "xzdoc.yaml").write_text("organisation: 某局\napprovers:\n  数据中心:\n"
                                         f"    - {{name: 张伟, email: zw@example.gov.cn, github: {login}}}\n", "utf-8")
    with pytest.raises(XzdocError) as caught:
        config.load(tmp_path)
    assert caught.value.line == 4 and "github 用户名" in caught.value.message, caught.value.message


def test_ordinary_forge_logins_pass(tmp_path: Path) -> None:
    (tmp_path / "xzdoc.yaml").write_text(
        "organisation: 某局\napprovers:\n  局党组:\n    - {name: 王建国, email: w@example.gov.cn, github: wjg}\n"
        "  数据中心:\n    - {name: 张伟, email: zw@example.gov.cn, github: '@zhang-wei.2_x'}\n"
        "  财务科:\n    - {name: 陈静, email: c@example.gov.cn}\n", "utf-8")
    assert [a.github for a in config.load(tmp_path).approvers] == ["wjg", "zhang-wei.2_x", None]
