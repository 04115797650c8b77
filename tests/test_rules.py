"""Every registered rule has a fixture that fails that rule and nothing else."""

from __future__ import annotations

import json

import pytest

from tests.conftest import AS_OF, RESOURCES, invoke
from xzdoc import rules

FIXTURES = RESOURCES / "rules"
CORE_RULES = sorted(p.name for p in FIXTURES.iterdir())


def rules_hit(path: object) -> set[str]:
    """Rules that fail (errors and warnings); info findings such as funding status do not fail anything."""
    result = invoke("validate", str(path), "--format", "json", "--as-of", AS_OF)
    return {f["rule"] for f in json.loads(result.output) if f["level"] != "info"}


def test_base_project_is_clean() -> None:
    result = invoke("validate", str(RESOURCES / "base_project"), "--as-of", AS_OF, "--strict")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("rule", CORE_RULES)
def test_fixture_fails_exactly_its_rule(rule: str) -> None:
    assert rules_hit(FIXTURES / rule) == {rule}


def test_every_fixture_names_a_registered_rule() -> None:
    assert set(CORE_RULES) <= set(rules.BY_ID)


def test_rule_table_is_well_formed() -> None:
    for rule in rules.RULES:
        assert rule.id.split(".")[0].startswith(("art",)), rule.id
        assert rule.article.startswith("第") and rule.article.endswith("条"), rule.id
        assert rule.level in ("error", "warning", "info")
        assert rule.description


def test_findings_name_their_article() -> None:
    result = invoke("validate", str(FIXTURES / "art28.cloud"), "--format", "json", "--as-of", AS_OF)
    (finding,) = json.loads(result.output)
    assert finding["article"] == "第二十八条"
    assert "依据第二十八条" in finding["message"]


def test_id_card_check_digit_and_allow_mark() -> None:
    from xzdoc.rules.art31 import personal_info

    valid = "11010519491231002X"   # the GB 11643 example number
    assert [label for _, _, label in personal_info(f"身份证：{valid}\n")] == ["身份证号"]
    assert list(personal_info("身份证：110105194912310021\n")) == [], "a wrong check digit is not an ID number"
    assert list(personal_info(f"示例：{valid} xzdoc: allow\n")) == []
    assert [(line, label) for line, _, label in personal_info("甲\n电话13912345678\n")] == [(2, "手机号码")]
    assert list(personal_info("金额 139123456789 元\n")) == [], "longer digit runs are not phone numbers"


@pytest.mark.parametrize(("edit", "rule", "message"), [
    (("    action: 升级\n", ""), "art08.system-catalog", "没有写明建设方式"),
    (("    cloud: 市级政务云\n", ""), "art08.system-catalog", "没有写明部署位置"),
    (("    mlps_level: 3\n\nresources:", "\nresources:"), "art31.mlps-level", "缺少等保级别"),
    (("    level: 3\n    plan:", "    level: 9\n    plan:"), "art31.crypto-plan", "密码应用等级 9 无效"),
    (("    level: 3\n    plan:", "    level: 0\n    plan:"), "art31.crypto-plan", "密码应用等级 0 无效"),
])
def test_a_system_or_crypto_plan_missing_what_later_rules_judge_fails(tmp_path: object, edit: tuple[str, str],
                                                                      rule: str, message: str) -> None:
    # WAS A HOLE: a system with no action, cloud or level passed, so 第十、二十八、三十一条 had nothing to check,
    # and a crypto level of 9 was taken.
    import shutil
    from pathlib import Path

    folder = Path(str(tmp_path)) / "XZJT-2025-902"
    shutil.copytree(RESOURCES / "base_project", folder)
    meta = (folder / "project.yaml").read_text("utf-8")
    assert edit[0] in meta
    (folder / "project.yaml").write_text(meta.replace(edit[0], edit[1], 1), "utf-8")
    result = invoke("validate", str(folder), "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if f["level"] != "info"]
    assert [f["rule"] for f in found] == [rule] and message in found[0]["message"], found
    assert result.exit_code == 1


def test_a_system_being_retired_needs_no_cloud_or_level(tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    folder = Path(str(tmp_path)) / "XZJT-2025-902"
    shutil.copytree(RESOURCES / "base_project", folder)
    meta = (folder / "project.yaml").read_text("utf-8")
    extra = "  - id: XZJT-SYS-099\n    name: 旧客运监管系统\n    owner: 忻州市道路运输事业发展中心\n    action: 下线\n"
    (folder / "project.yaml").write_text(meta.replace("\nresources:", extra + "\nresources:", 1), "utf-8")
    result = invoke("validate", str(folder), "--format", "json", "--as-of", AS_OF)
    assert [f for f in json.loads(result.output) if f["rule"] in ("art08.system-catalog", "art31.mlps-level")] == []
