"""`xzdoc plan`: the annual plan through the bundle pipeline, checked by the text of its DOCX and PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import invoke
from xzdoc import config
from xzdoc.render import plan

UPGRADE = "忻州市城乡客运车辆动态监控系统升级改造项目"      # plan_year 2025, budget in 2025 and 2026
PLATFORM = "忻州市综合交通运输数据共享与运行监测平台建设项目"  # plan_year 2026
ROADS = "忻州市农村公路养护巡查智能化升级项目"            # plan_year 2027
STEM = "2026年度政务信息化项目计划"


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    return "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))


def test_plan_selects_the_year_and_sums_exactly(demo_repo: Path) -> None:
    cfg = config.load(demo_repo)
    result = plan.build(cfg, 2026, plan.load_projects(cfg))
    assert [r.id for r in result.rows] == ["XZJT-2025-002", "XZJT-2026-001"]
    assert result.years == (2025, 2026, 2027)
    assert result.total == Decimal("2660.00") and result.this_year == Decimal("1380.00")
    assert result.year_totals == (Decimal("420.00"), Decimal("1380.00"), Decimal("860.00"))
    assert [(s.label, s.amount) for s in result.sources] == [("市级财政资金", Decimal("2260.00")),
                                                            ("省级交通运输专项补助资金", Decimal("400.00"))]
    assert "跨年度实施" in result.rows[0].note


def test_docx_and_pdf_name_the_projects_of_that_year(demo_repo: Path) -> None:
    result = invoke("plan", "--year", "2026", "--out", demo_repo / "plan")
    assert result.exit_code == 0, result.output
    text = docx_text(demo_repo / "plan" / f"{STEM}.docx")
    assert UPGRADE in text and PLATFORM in text and ROADS not in text
    assert "2660.00" in text and "1380.00" in text
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext 未安装（apt-get install -y poppler-utils）")
    pdf = subprocess.run(["pdftotext", str(demo_repo / "plan" / f"{STEM}.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    flat = re.sub(r"[\s\u200b]+", "", pdf)
    assert UPGRADE in flat and PLATFORM in flat and ROADS not in flat
    assert "2026年度政务信息化项目计划" in flat and "2660.00" in flat


def test_docx_only_and_byte_identical_on_rerun(demo_repo: Path) -> None:
    out = demo_repo / "plan"
    assert invoke("plan", "--year", "2027", "--format", "docx", "--out", out).exit_code == 0
    first = (out / "2027年度政务信息化项目计划.docx").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["2027年度政务信息化项目计划.docx"]
    assert ROADS in docx_text(out / "2027年度政务信息化项目计划.docx")
    assert invoke("plan", "--year", "2027", "--format", "docx", "--out", out).exit_code == 0
    assert (out / "2027年度政务信息化项目计划.docx").read_bytes() == first


def test_year_without_projects_and_bad_format_are_clear_errors(demo_repo: Path) -> None:
    empty = invoke("plan", "--year", "2031", "--out", demo_repo / "plan")
    assert empty.exit_code == 1 and "没有列入 2031 年度计划的项目" in empty.stderr
    assert not (demo_repo / "plan").exists()
    bad = invoke("plan", "--year", "2026", "--format", "odt")
    assert bad.exit_code == 2 and "不支持的格式：odt" in bad.stderr
