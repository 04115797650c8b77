"""Messages that point at the mistake, in a fresh copy of a demo project: the character, the fix, 位置."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke

PROJECT = "projects/XZJT-2026-003"


def _edit(repo: Path, old: str, new: str) -> list[dict]:
    file = repo / PROJECT / "project.yaml"
    text = file.read_text("utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), "utf-8")
    result = invoke("validate", PROJECT, "--format", "json", "--as-of", AS_OF)
    findings: list[dict] = json.loads(result.output)
    return findings


def _line_of(repo: Path, needle: str) -> tuple[int, int]:
    lines = (repo / PROJECT / "project.yaml").read_text("utf-8").split("\n")
    number = next(i for i, line in enumerate(lines, 1) if needle in line)
    return number, lines[number - 1].index(needle) + 1


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("proposer: ", "proposer：", "："),                  # a top-level key: libyaml fails one line later
    ("planned: true", "planned：true", "："),            # followed by a blank line
    ("  total: 365.40", "  total：365.40", "："),        # nested: budget then reads as text
    ("    市级财政资金: ", "    市级财政资金：", "："),   # a Chinese key: sources becomes a string
    ("group: 硬件设备购置", "group：硬件设备购置", "："),  # inside a flow mapping
])
def test_full_width_colon_is_reported_at_the_colon(demo_repo: Path, old: str, new: str, needle: str) -> None:
    findings = _edit(demo_repo, old, new)
    line, col = _line_of(demo_repo, new.strip())
    col += new.strip().index(needle)
    hits = [f for f in findings if "把全角冒号“：”改为半角“:”" in f["message"]]
    assert [(f["line"], f["column"]) for f in hits] == [(line, col)], findings


def test_full_width_space_after_colon_is_reported_at_the_space(demo_repo: Path) -> None:
    findings = _edit(demo_repo, "proposer: ", "proposer:\u3000")
    line, col = _line_of(demo_repo, "proposer:\u3000")
    assert [(f["line"], f["column"]) for f in findings if "全角空格" in f["message"]] == [(line, col + len("proposer:"))]


@pytest.mark.parametrize("mark", ["，", "、"])
def test_chinese_comma_in_flow_list_points_at_the_comma(demo_repo: Path, mark: str) -> None:
    findings = _edit(demo_repo, "categories: [应用系统, 信息资源]", f"categories: [应用系统{mark}信息资源]")
    line, col = _line_of(demo_repo, mark)
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [("art03.categories", line, col)]
    assert f"把“{mark}”改为半角逗号“,”" in findings[0]["message"]


@pytest.mark.parametrize(("old", "new", "want"), [("proposer:", "propser:", "proposer"), ("  total:", "  totl:", "total"),
                                                  ("implementer:", "implementor:", "implementer")])
def test_misspelled_key_gets_the_closest_match(demo_repo: Path, old: str, new: str, want: str) -> None:
    findings = _edit(demo_repo, old, new)
    unknown = [f for f in findings if "不是已知字段" in f["message"]]
    assert len(unknown) == 1 and f"你是不是想写“{want}”" in unknown[0]["message"]
    assert "可用字段" not in unknown[0]["message"]
    assert (unknown[0]["line"], unknown[0]["column"]) == _line_of(demo_repo, new.strip())


def test_unrelated_key_still_lists_the_fields(demo_repo: Path) -> None:
    findings = _edit(demo_repo, "proposer:", "remark: 某科\nproposer:")
    assert any("可用字段" in f["message"] for f in findings)


def test_scaffold_placeholders_are_errors_from_submitted(demo_repo: Path) -> None:
    assert invoke("new", "projects/XZJT-2027-009", "--id", "XZJT-2027-009", "--name", "测试项目").exit_code == 0
    draft = invoke("validate", "projects/XZJT-2027-009", "--format", "json", "--as-of", AS_OF)
    assert not [f for f in json.loads(draft.output) if f["rule"] == "art07.placeholders"]
    file = demo_repo / "projects/XZJT-2027-009/project.yaml"
    file.write_text(file.read_text("utf-8").replace("stage: draft", "stage: submitted"), "utf-8")
    result = invoke("validate", "projects/XZJT-2027-009", "--format", "json", "--as-of", AS_OF)
    hits = [f for f in json.loads(result.output) if f["rule"] == "art07.placeholders"]
    assert result.exit_code == 1
    assert {f["path"].rsplit("/", 1)[-1] for f in hits} == {"project.yaml", "proposal.md", "feasibility.md", "design.md",
                                                             "estimate.md"}
    assert any("项目提出单位名称" in f["message"] for f in hits) and any("0.00" in f["message"] for f in hits)


def test_new_refuses_a_used_id_and_a_folder_named_otherwise(demo_repo: Path) -> None:
    used = invoke("new", "projects/XZJT-2026-001-copy", "--id", "XZJT-2026-001", "--name", "测试", "--force")
    assert used.exit_code == 2 and "已被 projects/XZJT-2026-001 使用" in used.output and "位置" in used.output
    # WAS A HOLE: a final line break passed the id's pattern ("$" matches before it) and the uniqueness check.
    broken = invoke("new", "projects/XZJT-2026-001-copy", "--id", "XZJT-2026-001\n", "--name", "测试", "--force")
    assert broken.exit_code == 2 and "格式不对" in broken.output and not (demo_repo / "projects/XZJT-2026-001-copy").exists()
    # The id written inside a project counts even when its folder is named otherwise.
    (demo_repo / "projects/XZJT-2026-003").rename(demo_repo / "projects/road-patrol")
    renamed = invoke("new", "projects/XZJT-2026-003", "--id", "XZJT-2026-003", "--name", "测试")
    assert renamed.exit_code == 2 and "projects/road-patrol" in renamed.output
    mismatch = invoke("new", "projects/bus", "--id", "XZJT-2027-002", "--name", "测试")
    assert mismatch.exit_code == 2 and "目录名“bus”与项目编号“XZJT-2027-002”不一致" in mismatch.output
    assert not (demo_repo / "projects/bus").exists()
    forced = invoke("new", "projects/bus", "--id", "XZJT-2027-002", "--name", "测试", "--force")
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize("args", [
    ("render", PROJECT, "--format", "odt"),
    ("bundle", "NO-SUCH-ID"),
    ("validate", "--format", "yaml"),
    ("validate", "--as-of", "2026-13-01"),
    ("status", "--as-of", "tomorrow"),
    ("plan", "--year", "next"),
    ("plan", "--year", "2026", "--format", ""),
    ("catalog", "--table", "people"),
    ("new", "projects/x", "--id", "bad", "--name", "x"),
    ("render", "NO-SUCH-ID"),
])
def test_bad_arguments_exit_2(demo_repo: Path, args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, (args, result.output)


def test_render_and_bundle_take_a_project_id(demo_repo: Path) -> None:
    result = invoke("render", "XZJT-2026-003", "--format", "xlsx", "--out", demo_repo / "out")
    assert result.exit_code == 0, result.output
    assert (demo_repo / "out/投资概算表.xlsx").is_file()
    (demo_repo / "projects/XZJT-2026-003").rename(demo_repo / "projects/road-patrol")
    by_declared = invoke("render", "XZJT-2026-003", "--format", "xlsx", "--out", demo_repo / "out2")
    assert by_declared.exit_code == 0, by_declared.output


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _first_column(line: str, width: int) -> str:
    out, used = "", 0
    for ch in line:
        used += _columns(ch)
        if used > width:
            break
        out += ch
    return out.strip()


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_status_fits_the_terminal(demo_repo: Path, monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    # With the system register the lines under the table list unfunded systems; they wrap too.
    shutil.copy(ROOT / "systems.yaml", demo_repo / "systems.yaml")
    result = invoke("status", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    lines = result.output.split("\n")
    assert "XZJT-SYS-009" in result.output
    assert max(_columns(line) for line in lines) <= columns
    rule = next(line for line in lines if line.startswith("─"))
    first = len(rule.split("  ")[0])
    # Wrapped, not dropped: the project column still holds every project's full name.
    names = "".join(_first_column(line, first) for line in lines[3:])
    for name in ("忻州市综合交通运输数据共享与运行监测平台建设项目", "忻州市农村公路养护巡查智能化升级项目"):
        assert name in names
    monkeypatch.delenv("COLUMNS")
    whole = invoke("status", "--as-of", AS_OF).output
    assert "忻州市综合交通运输数据共享与运行监测平台建设项目" in whole  # not a terminal: whole lines


@pytest.mark.parametrize("args", [
    ("new", "projects/x", "--id", "bad", "--name", "x"),
    ("new", "projects/XZJT-2026-009", "--id", "XZJT-2026-001", "--name", "x"),
    ("render", PROJECT, "--format", "odt"),
    ("render", "NO-SUCH-ID"),
    ("plan", "--year", "2031"),
    ("import", "missing.docx", "--project", PROJECT, "--as", "项目建议书"),
    ("import", "xzdoc.yaml", "--project", PROJECT, "--as", "项目建议书", "--force"),
])
def test_every_error_says_where(demo_repo: Path, args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code in (1, 2) and "错误：" in result.output
    assert "位置：" in result.output, result.output
