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
