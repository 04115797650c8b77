"""The 审批记录 rows and page, and the layout section of xzdoc.yaml."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pymupdf
import pytest

from tests import layout
from tests.conftest import ROOT
from xzdoc import config
from xzdoc.errors import XzdocError
from xzdoc.history import ledger
from xzdoc.render import bundle, records


def record(**changes: object) -> ledger.ApprovalRecord:
    base = ledger.ApprovalRecord(
        project="XZJT-2026-001", folder="projects/XZJT-2026-001", change="stage", from_stage="draft",
        to_stage="submitted", gates=("submitted",), roles=("局党组",), commit="a" * 40,
        date="2026-03-01T20:30:00-05:00", merged_by="王建国 <wangjianguo@xzjt.example.gov.cn>", held=("局党组",),
        tree="b" * 40, blob="c" * 40, status=ledger.APPROVED)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Signed:
    """A record as the ledger may carry it once merges are signed: the same fields plus two more."""

    inner: ledger.ApprovalRecord
    signature_status: str
    key_fingerprint: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_dates_are_the_beijing_calendar_day() -> None:
    assert records.beijing_date("2026-03-01T20:30:00-05:00") == "2026-03-02"   # 09:30 on the 2nd in Beijing
    assert records.beijing_date("2026-03-01T23:59:59+08:00") == "2026-03-01"
    assert records.beijing_date("2026-03-01T16:00:00Z") == "2026-03-02"
    assert records.beijing_date("2026-03-01") == "2026-03-01"
    # git takes a commit dated at the very end of year 9999 west of UTC; moved to Beijing it would leave the calendar.
    assert records.beijing_date("9999-12-31T11:46:40-12:00") == "9999-12-31"


def test_a_row_says_each_fact_once_and_baseline_records_say_adopted() -> None:
    cfg = config.Config(root=Path("."))
    approved = records.row(cfg, record(), ledger.STATUS_ZH)
    assert approved["approver"] == "王建国" and approved["date"] == "2026-03-02" and approved["commit"] == "a" * 40
    assert "王建国" not in approved["note"] and "a" * 10 not in approved["note"]
    adopted = records.row(cfg, record(status=ledger.ADOPTED, evidence="批复文号 忻政数函〔2025〕37号"), ledger.STATUS_ZH)
    assert adopted["approver"] == "基线采纳"
    assert "王建国" not in "".join(adopted.values()) and "忻政数函〔2025〕37号" in adopted["note"]
    assert approved["signature"] == approved["fingerprint"] == ""


def test_signature_result_and_fingerprint_are_shown_when_a_record_has_them() -> None:
    cfg = config.Config(root=Path("."))
    row = records.row(cfg, Signed(record(), "G", "0123456789abcdef0123456789ABCDEF01234567"), ledger.STATUS_ZH)
    assert row["signature"] == "有效"
    assert row["fingerprint"] == "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567"
    assert records.signature(Signed(record(), "bad", "")) == "无效"


def test_long_unbroken_values_get_break_opportunities() -> None:
    assert records.breakable("Seed bc0084c2 maintainers") == "Seed bc0084c2 maintainers"
    broken = records.breakable("averyveryverylongmaintainername")
    assert broken.replace("\u200b", "") == "averyveryverylongmaintainername" and "\u200b" in broken


def test_approval_page_fits_the_text_block_and_shows_the_signature(tmp_path: Path) -> None:
    """Rendered with a long merger name, a signed record and a baseline record: nothing crosses the right margin."""
    root = tmp_path / "repo"
    (root / "projects").mkdir(parents=True)
    shutil.copytree(ROOT / "projects" / "XZJT-2026-001", root / "projects" / "XZJT-2026-001")
    cfg = config.load(root)
    long_name = record(merged_by="Averyveryverylongmaintainernamewithoutspaces <x@example.com>")
    rows = [records.row(cfg, r, ledger.STATUS_ZH) for r in (
        record(status=ledger.ADOPTED, evidence="批复文号 忻政数函〔2025〕37号"), long_name,
        Signed(record(), "G", "0123456789ABCDEF0123456789ABCDEF01234567"))]
    with bundle.Builder(cfg) as builder:
        project = bundle.load(cfg, root / "projects" / "XZJT-2026-001")
        outputs = builder.outputs(project, ("pdf",), builder.stamp(project), rows)
    page = next(o for o in outputs if o.name == bundle.APPROVAL_PAGE)
    doc = pymupdf.open(stream=page.data, filetype="pdf")
    text = re.sub(r"\s+", "", "".join(p.get_text() for p in doc)).replace("\u200b", "")
    assert "签名验证：有效；密钥指纹0123456789ABCDEF" in text
    assert text.count("a" * 40) == 3 and "基线采纳" in text and "2026-03-02" in text
    for line in layout.lines(doc):
        assert line.x1 / layout.MM <= 184.5, line.text   # inside the 156 mm text block
        assert line.x0 / layout.MM >= 27.5, line.text


def test_layout_section_of_the_config(tmp_path: Path) -> None:
    assert config.Config(root=tmp_path).layout.is_duplex("可行性研究报告")
    assert not config.Config(root=tmp_path).layout.is_duplex("项目建议书")
    (tmp_path / "xzdoc.yaml").write_text("layout:\n  duplex: false\n  toc_pages: 3\n", "utf-8")
    loaded = config.load(tmp_path).layout
    assert not loaded.is_duplex("初步设计") and loaded.toc_pages == 3
    (tmp_path / "xzdoc.yaml").write_text("layout:\n  duplex: [项目建议书]\n", "utf-8")
    assert config.load(tmp_path).layout.is_duplex("项目建议书")


@pytest.mark.parametrize(("text", "message"), [
    ("layout:\n  duplex: 是\n", "layout.duplex 应为 true、false 或文档名称列表"),
    ("layout:\n  toc_pages: -1\n", "layout.toc_pages 应为非负整数"),
    ("layout:\n  margins: 3\n", "layout 中有未知的配置项“margins”"),
])
def test_bad_layout_settings_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "xzdoc.yaml").write_text(text, "utf-8")
    with pytest.raises(XzdocError) as caught:
        config.load(tmp_path)
    assert message in caught.value.message and caught.value.line == 2


def test_page_lists_approvals_and_problems_in_force_not_undone_pushes(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.gitrepo import PARTY, Repo

    repo = Repo(tmp_path / "bureau")
    repo.project("XZJT-2026-801")
    repo.commit("新项目")
    repo.set_stage("XZJT-2026-801", "submitted")
    repo.commit("直接改为已申报")            # an unapproved stage change pushed directly...
    repo.set_stage("XZJT-2026-801", "draft")
    repo.commit("撤回")                      # ...then undone
    repo.pull_request("submit", PARTY, lambda r: r.set_stage("XZJT-2026-801", "submitted"))
    monkeypatch.chdir(repo.path)
    cfg = config.load(repo.path)
    approvals = bundle.Approvals(cfg, in_git=True)
    from xzdoc.source import loader

    project = loader.load_project(cfg, repo.path / "projects" / "XZJT-2026-801").project
    assert project is not None
    every = approvals.records(project) or []
    assert any(not r.approved for r in every), "the ledger itself keeps the undone push"
    rows = approvals.rows(project)
    assert rows and all("未经审批" not in " ".join(row.values()) for row in rows)
    assert any("王建国" in " ".join(row.values()) for row in rows)
