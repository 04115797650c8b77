from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.conftest import invoke


def test_catalog_markdown_lists_every_system_and_resource(demo_repo: Path) -> None:
    result = invoke("catalog")
    assert result.exit_code == 0, result.output
    for sid in ("XZJT-SYS-002", "XZJT-SYS-003", "XZJT-SYS-004", "XZJT-SYS-007", "XZJT-SYS-015"):
        assert f"| {sid} |" in result.output
    assert "在用系统 4 个，登记系统 6 个，信息资源 10 项" in result.output
    assert "疑似重复建设" not in result.output


def test_catalog_csv_matches_the_projects(demo_repo: Path) -> None:
    rows = list(csv.reader(io.StringIO(invoke("catalog", "--format", "csv", "--table", "resources").output.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["资源代码", "资源名称"]
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert len(by_code) == 10
    weather = by_code["130201-0004"]
    assert weather["资源名称"] == "路面气象预警信息" and weather["共享属性"] == "无条件共享"
    assert weather["开放属性"] == "无条件开放" and weather["所属项目"] == "XZJT-2026-001"


def test_catalog_xlsx_opens_with_both_sheets(demo_repo: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "catalog.xlsx"
    assert invoke("catalog", "--format", "xlsx", "--out", out).exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["信息系统目录", "信息资源目录"]
    systems = [row for row in book["信息系统目录"].iter_rows(min_row=2, values_only=True)]
    assert {row[0] for row in systems} == {"XZJT-SYS-002", "XZJT-SYS-003", "XZJT-SYS-004", "XZJT-SYS-007",
                                           "XZJT-SYS-015", "XZJT-SYS-021"}


def test_catalog_xlsx_needs_an_output_file(demo_repo: Path) -> None:
    assert invoke("catalog", "--format", "xlsx").exit_code == 2


def test_catalog_json_and_duplicate_construction(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2026-003/project.yaml"
    text = file.read_text("utf-8")
    # Same system name under a new id, and a resource another project already provides.
    text = text.replace("id: XZJT-SYS-007\n    name: 公路养护管理系统", "id: XZJT-SYS-099\n    name: 城乡客运车辆动态监控系统")
    text = text.replace("name: 农村公路技术状况评定数据", "name: 景区客流与旅游交通预测")
    file.write_text(text, "utf-8")
    result = invoke("catalog", "--format", "json")
    doc = json.loads(result.stdout)
    assert len(doc["warnings"]) == 2
    assert any("城乡客运车辆动态监控系统" in w and "XZJT-SYS-002、XZJT-SYS-099" in w for w in doc["warnings"])
    assert any("景区客流与旅游交通预测" in w and "XZJT-2026-001、XZJT-2026-003" in w for w in doc["warnings"])
    assert "warning [art08.duplicate-construction]" in result.stderr
