"""The commands as a user runs them, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import AS_OF, ROOT, invoke
from xzdoc import cli as cli_module


def test_demo_projects_validate_clean(demo_repo: Path) -> None:
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "已检查 4 个项目" in result.output


@pytest.mark.parametrize("target", [".", "projects", "projects/XZJT-2026-001", "projects/XZJT-2026-001/project.yaml"])
def test_validate_accepts_repo_projects_or_one_project(demo_repo: Path, target: str) -> None:
    assert invoke("validate", target, "--as-of", AS_OF).exit_code == 0


def _mutate(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").split("\n"), 1) if needle in line)


def test_deleted_share_attribute(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2026-001/project.yaml"
    line = _line_of(file, "name: 道路运输车辆实时位置")
    _mutate(file, "    share_type: 有条件共享\n    share_condition: 向承担交通运输", "    share_condition: 向承担交通运输")
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert f"projects/XZJT-2026-001/project.yaml:{line}:" in result.output
    assert "[art08.resource-attributes]" in result.output and "共享属性" in result.output


def test_year_budgets_that_no_longer_sum(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2026-001/project.yaml"
    _mutate(file, "2027: 860.00", "2027: 850.00")
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 1
    years_line = _line_of(file, "  years:")
    assert f"project.yaml:{years_line + 1}:5: error [art07.multi-year-budget]" in result.output
    assert "2,030.00万元" in result.output and "2,040.00万元" in result.output


def test_duplicate_key(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2026-003/project.yaml"
    _mutate(file, "plan_year: 2027\n", "plan_year: 2027\nplan_year: 2028\n")
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 1
    line = _line_of(file, "plan_year: 2028")
    assert f"projects/XZJT-2026-003/project.yaml:{line}:1: error [art07.readable]" in result.output
    assert "重复的键“plan_year”" in result.output


def test_file_resaved_as_gbk(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2025-002/project.yaml"
    file.write_bytes(file.read_text("utf-8").encode("gbk"))
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "projects/XZJT-2025-002/project.yaml:" in result.output
    assert "[art07.readable]" in result.output and "GBK" in result.output and "iconv" in result.output


def test_outline_chapter_removed(demo_repo: Path) -> None:
    draft = demo_repo / "projects/XZJT-2026-001/drafts/feasibility.md"
    _mutate(draft, "# 十、节能分析", "## 节能措施补充")
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "projects/XZJT-2026-001/drafts/feasibility.md:" in result.output
    assert "[art07.outline]" in result.output and "节能分析" in result.output


def test_json_format(demo_repo: Path) -> None:
    _mutate(demo_repo / "projects/XZJT-2026-003/project.yaml", "type: 改造升级", "type: 翻新")
    rows = json.loads(invoke("validate", "--format", "json", "--as-of", AS_OF).output)
    assert rows and set(rows[0]) == {"path", "line", "column", "rule", "article", "level", "message"}
    (row,) = [r for r in rows if r["path"] == "projects/XZJT-2026-003/project.yaml"]
    assert row["rule"] == "art03.type" and row["article"] == "第三条"


def test_github_format_and_step_summary(demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _mutate(demo_repo / "projects/XZJT-2026-003/project.yaml", "type: 改造升级", "type: 翻新")
    result = invoke("validate", "--format", "github", "--as-of", AS_OF)
    assert result.exit_code == 1
    line = _line_of(demo_repo / "projects/XZJT-2026-003/project.yaml", "type: 翻新")
    assert f"::error file=projects/XZJT-2026-003/project.yaml,line={line},col=7,title=art03.type::" in result.output
    text = summary.read_text("utf-8")
    assert "| 级别 | 位置 | 规则 | 说明 |" in text and "`art03.type`" in text


def test_sarif_format(demo_repo: Path) -> None:
    doc = json.loads(invoke("validate", "--format", "sarif", "--as-of", AS_OF).output)
    # The one finding of the demos: XZJT-2026-001 is still 已申报 in its first budget year (第六条 rolling plan).
    (only,) = doc["runs"][0]["results"]
    assert doc["version"] == "2.1.0" and only["ruleId"] == "art06.stale-submitted" and only["level"] == "warning"
    assert only["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "projects/XZJT-2026-001/project.yaml"


def test_strict_turns_warnings_into_failures(demo_repo: Path) -> None:
    _mutate(demo_repo / "projects/XZJT-2026-003/project.yaml", "plan_year: 2027", "plan_year: 2029")
    assert invoke("validate", "--as-of", AS_OF).exit_code == 0
    assert invoke("validate", "--as-of", AS_OF, "--strict").exit_code == 1


def test_usage_errors_exit_2(demo_repo: Path) -> None:
    assert invoke("validate", "--format", "xml").exit_code == 2
    assert invoke("validate", "--as-of", "yesterday").exit_code == 2


def test_missing_path_is_a_usage_error(demo_repo: Path) -> None:
    result = invoke("validate", "no/such/dir")
    assert result.exit_code == 2 and "路径不存在" in result.output and "位置：命令行参数 PATH" in result.output


def test_unexpected_exception_exits_3(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xzdoc.rules import engine as check

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(check, "validate", broken)
    result = invoke("validate")
    assert result.exit_code == 3 and "--debug" in result.output and "Traceback" not in result.output


def test_console_entry_returns_exit_codes(demo_repo: Path) -> None:
    assert cli_module.main(["validate", "--as-of", AS_OF]) == 0
    assert cli_module.main(["validate", "--format", "xml"]) == 2


def test_rules_lists_every_rule() -> None:
    from xzdoc import rules

    output = invoke("rules").output
    for rule in rules.RULES:
        assert rule.id in output and rule.article in output


def test_schema_is_valid_and_accepts_every_demo_project() -> None:
    schema = json.loads(invoke("schema").output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for file in sorted((ROOT / "projects").glob("*/project.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(file.read_text("utf-8")), default=str))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], (file, errors)


def test_schema_rejects_what_validate_rejects() -> None:
    schema = json.loads(invoke("schema").output)
    data = json.loads(json.dumps(yaml.safe_load((ROOT / "projects/XZJT-2026-003/project.yaml").read_text("utf-8")),
                                 default=str))
    data["stage"] = "finished"
    data["budget_owner"] = "x"
    assert len(list(jsonschema.Draft202012Validator(schema).iter_errors(data))) == 2


def test_committed_ide_schema_is_current() -> None:
    assert (ROOT / ".vscode/xzdoc.schema.json").read_text("utf-8") == invoke("schema").output


def test_new_scaffolds_a_project_that_validates(demo_repo: Path) -> None:
    result = invoke("new", "projects/XZJT-2027-001", "--id", "XZJT-2027-001", "--name", "测试新项目")
    assert result.exit_code == 0, result.output
    folder = demo_repo / "projects/XZJT-2027-001"
    first = (folder / "project.yaml").read_text("utf-8").split("\n")[0]
    assert first == "# yaml-language-server: $schema=../../.vscode/xzdoc.schema.json"
    assert (demo_repo / ".vscode/xzdoc.schema.json").is_file()
    proposal = (folder / "drafts/proposal.md").read_text("utf-8")
    for title in ("项目概述", "建设单位概况", "效益与风险分析"):
        assert f"、{title}\n" in proposal
    outcome = invoke("validate", "projects/XZJT-2027-001", "--as-of", AS_OF)
    # A fresh draft-stage project only warns: every chapter still waits for its text.
    assert outcome.exit_code == 0, outcome.output
    assert "没有正文内容" in outcome.output and "error" not in outcome.output


def test_new_refuses_bad_id_and_existing_folder(demo_repo: Path) -> None:
    bad = invoke("new", "projects/x", "--id", "2027-1", "--name", "测试")
    assert bad.exit_code == 2 and "格式不对" in bad.output and "位置：命令行选项 --id" in bad.output
    taken = invoke("new", "projects/XZJT-2026-001", "--id", "XZJT-2026-009", "--name", "测试", "--force")
    assert taken.exit_code == 1 and "不为空" in taken.output


def test_changed_files_stand_for_their_project(demo_repo: Path) -> None:
    """pre-commit passes changed file names; each names the project that holds it."""
    result = invoke("validate", "projects/XZJT-2026-001/drafts/overall.md", "projects/XZJT-2026-001/project.yaml",
                    "projects/XZJT-2026-003/drafts/proposal.md", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "已检查 2 个项目" in result.output


def test_vscode_maps_project_files_to_the_schema() -> None:
    settings = json.loads((ROOT / ".vscode/settings.json").read_text("utf-8"))
    assert settings["yaml.schemas"] == {"./.vscode/xzdoc.schema.json": ["projects/*/project.yaml"]}
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert hooks[0]["id"] == "xzdoc-validate" and hooks[0]["entry"] == "xzdoc validate"


def test_step_summary_and_sarif_keep_hostile_text_in_its_cell(demo_repo: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS A HOLE: a line break in a key ended the summary's table row, so the rest (a fake "全部符合" heading)
    # became Markdown of its own in the summary approvers read; SARIF carried the raw path as its URI.
    from xzdoc import report
    from xzdoc.model import Finding

    hostile = Finding("projects/a|b\n## 全部符合/project.yaml", 3, 1, "art03.type", "error",
                      "键“evil\n## 全部符合编制规范\n| x |”未知", "第三条")
    text = report.step_summary([hostile], 1)
    rows = [line for line in text.splitlines() if line.startswith("| 错误")]
    assert len(rows) == 1 and not any(line.startswith("##") and "全部符合" in line for line in text.splitlines()), text
    assert rows[0].count(" | ") == 3, rows
    sarif = json.loads(report.sarif([hostile], []))
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert "\n" not in uri and "|" not in uri and uri.startswith("projects/a%7Cb%0A")


def test_an_id_with_a_final_line_break_is_no_id(demo_repo: Path) -> None:
    # WAS A HOLE: the schema's "^…$" pattern was searched with Python's "$", which matches before a final line
    # break, so id: "XZJT-2026-001\n" passed as well formed and, being another string, as unique.
    _mutate(demo_repo / "projects/XZJT-2026-003/project.yaml", "id: XZJT-2026-003", 'id: "XZJT-2026-001\\n"')
    found = json.loads(invoke("validate", "--format", "json", "--as-of", AS_OF).output)
    assert any(f["rule"] == "art07.schema" and "XZJT-2026-001\\n" in f["message"] for f in found), found
    # Nor does an id in other digits pass: Python's \d would also take Arabic-Indic ones.
    _mutate(demo_repo / "projects/XZJT-2026-003/project.yaml", 'id: "XZJT-2026-001\\n"', "id: XZJT-٢٠٢٧-017")
    found = json.loads(invoke("validate", "--format", "json", "--as-of", AS_OF).output)
    assert any(f["rule"] == "art07.schema" and "٢٠٢٧" in f["message"] for f in found), found
