"""Generated YAML trees and drafts never crash the loader or the validator (no exit 3)."""

from __future__ import annotations

import shutil

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, invoke
from xzdoc.errors import XzdocError
from xzdoc.source.yamlio import loads

KEYS = ["id", "name", "type", "stage", "budget", "total", "years", "systems", "resources", "records", "estimate",
        "security", "documents", "amount", "quantity", "unit_price", "share_type", "mlps_level", "crypto", "2026"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                    st.sampled_from(["1,200", "１２０", "120万", "1e3", ".nan", "-1.00", "2026-02-30", "涉密", "2026-09-28"]))
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)),
    max_leaves=25)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(st.text(max_size=200))
def test_loader_raises_only_xzdoc_errors_on_any_text(text: str) -> None:
    try:
        loads(text, "fuzz.yaml")
    except XzdocError as exc:
        assert exc.message and exc.path == "fuzz.yaml"


@FAST
@given(trees)
def test_validate_never_crashes_on_generated_metadata(tmp_path_factory: object, tree: object) -> None:
    repo = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    project = repo / "projects" / "XZJT-2026-999"
    project.mkdir(parents=True)
    (repo / "xzdoc.yaml").write_text("organisation: 测试\n", "utf-8")
    data = tree if not isinstance(tree, dict) else {"stage": "building", **tree}
    (project / "project.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = invoke("validate", str(project), "--as-of", "2026-11-20")
    assert result.exit_code in (0, 1), result.output


@FAST
@given(st.dictionaries(st.sampled_from(["budget", "systems", "resources", "estimate", "security", "records", "stage",
                                        "plan_year", "documents", "partners"]), trees, max_size=3))
def test_validate_never_crashes_when_demo_fields_are_replaced(tmp_path_factory: object, patch: dict) -> None:
    repo = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    project = repo / "projects" / "XZJT-2025-002"
    shutil.copytree(ROOT / "projects" / "XZJT-2025-002", project)
    (repo / "xzdoc.yaml").write_text("organisation: 测试\n", "utf-8")
    data = yaml.safe_load((project / "project.yaml").read_text("utf-8"))
    data.update(patch)
    (project / "project.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = invoke("validate", str(project), "--as-of", "2026-11-20")
    assert result.exit_code in (0, 1), result.output


@FAST
@given(st.text(alphabet=st.sampled_from(list("# \n一、项目概述```~>【编写提示】密涉级：秘★\t")), max_size=300))
def test_drafts_of_any_shape_never_crash(tmp_path_factory: object, draft: str) -> None:
    repo = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    project = repo / "projects" / "XZJT-2026-003"
    shutil.copytree(ROOT / "projects" / "XZJT-2026-003", project)
    (repo / "xzdoc.yaml").write_text("organisation: 测试\n", "utf-8")
    (project / "drafts" / "proposal.md").write_text(draft, "utf-8")
    result = invoke("validate", str(project), "--as-of", "2026-11-20")
    assert result.exit_code in (0, 1), result.output
