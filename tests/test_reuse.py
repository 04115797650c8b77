"""Near-duplicate chapters across projects; personal-information impact assessment by stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, RESOURCES, ROOT, invoke
from xzdoc import config
from xzdoc.rules import reuse
from xzdoc.source import loader

FIXTURE = RESOURCES / "rules" / "art08.chapter-reuse"


def test_summary_holds_hashes_not_text() -> None:
    project = loader.load_project(config.load(ROOT), ROOT / "projects" / "XZJT-2026-001").project
    assert project is not None
    chapters = reuse.summarise(project)
    assert chapters and all(len(c.sketch) <= reuse.SKETCH for c in chapters)
    assert all(isinstance(h, int) for c in chapters for h in c.sketch)


def _chapter(sentences: list[str]) -> reuse.Chapter:
    sketched = reuse._sketch("。".join(sentences) + "。")
    assert sketched is not None
    return reuse.Chapter("X", "x", "x", "x.md", "x", "x", 1, *sketched)


def test_long_chapters_are_sketched_and_the_overlap_estimated() -> None:
    common = [f"第{chr(0x4e00 + i)}{chr(0x4e80 + i)}项共同建设内容包括数据汇聚和共享服务" for i in range(150)]
    a = _chapter(common + [f"甲项目专有内容{chr(0x5000 + i)}{chr(0x5100 + i)}说明如下事项" for i in range(50)])
    b = _chapter(common + [f"乙项目专有内容{chr(0x5200 + i)}{chr(0x5300 + i)}说明如下事项" for i in range(50)])
    assert a.size == 200 and len(a.sketch) == reuse.SKETCH
    assert 0.55 <= reuse._containment(a, b) <= 0.95   # true value 0.75


def test_near_duplicate_is_a_warning_naming_the_other_project() -> None:
    result = invoke("validate", FIXTURE, "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if f["rule"] == "art08.chapter-reuse"]
    assert {f["level"] for f in found} == {"warning"} and len(found) == 2
    assert "XZJT-2025-903" in found[0]["message"] and "三、需求分析" in found[0]["message"]
    assert "project.yaml 第1行" in found[0]["message"] and "%" in found[0]["message"]


def _repo(tmp_path: Path, config_text: str = "") -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo / "projects")
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n" + config_text, "utf-8")
    return repo


def test_excluded_chapter_titles_are_not_compared(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "reuse:\n  exclude: [需求分析]\n")
    result = invoke("validate", repo / "projects", "--format", "json", "--as-of", AS_OF)
    assert [f for f in json.loads(result.output) if f["rule"] == "art08.chapter-reuse"] == []


def test_verbatim_copy_is_an_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    mine = repo / "projects" / "XZJT-2025-902" / "drafts" / "design.md"
    twin = repo / "projects" / "XZJT-2025-903" / "drafts" / "design.md"
    twin.write_text(mine.read_text("utf-8"), "utf-8")
    result = invoke("validate", repo / "projects", "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if f["rule"] == "art08.chapter-reuse"]
    assert result.exit_code == 1 and found and {f["level"] for f in found} == {"error"}


@pytest.mark.parametrize("setting", ["reuse:\n  threshold: 2\n", "reuse:\n  exclude: 编制依据\n", "reuse:\n  limit: 3\n"])
def test_bad_reuse_settings_are_errors(tmp_path: Path, setting: str) -> None:
    repo = _repo(tmp_path, setting)
    result = invoke("validate", repo / "projects", "--as-of", AS_OF)
    assert result.exit_code == 1 and "xzdoc.yaml" in result.output and "reuse" in result.output


@pytest.mark.parametrize(("stage", "level"), [("draft", None), ("submitted", "warning"), ("building", "error")])
def test_sensitive_personal_information_needs_an_impact_assessment(tmp_path: Path, stage: str, level: str | None) -> None:
    folder = tmp_path / "XZJT-2026-001"
    shutil.copytree(ROOT / "projects" / "XZJT-2026-001", folder)
    meta = folder / "project.yaml"
    text = meta.read_text("utf-8").replace("stage: submitted", f"stage: {stage}")
    text = text.replace("      - {name: 车牌号码, type: 字符型}\n", "      - {name: 车牌号码, type: 字符型}\n"
                        "      - {name: 驾驶员人脸图像, type: 二进制}\n", 1)
    meta.write_text(text, "utf-8")
    result = invoke("validate", folder, "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if f["rule"] == "art31.pi-assessment"]
    assert [f["level"] for f in found] == ([level] if level else [])
    if level:
        assert "人脸" in found[0]["message"] and found[0]["line"] == text[: text.index("驾驶员人脸图像")].count("\n") + 1
        meta.write_text(text.replace("security:\n", "security:\n  pi_assessment: {date: 2026-02-20, summary: 评估人脸图像"
                                     "采集的必要性和保护措施}\n", 1), "utf-8")
        again = invoke("validate", folder, "--format", "json", "--as-of", AS_OF)
        assert [f for f in json.loads(again.output) if f["rule"] == "art31.pi-assessment"] == []


def test_vehicle_positions_are_not_personal_whereabouts() -> None:
    project = loader.load_project(config.load(ROOT), ROOT / "projects" / "XZJT-2026-001").project
    assert project is not None
    from xzdoc.rules.art31 import sensitive_items
    assert list(sensitive_items(project)) == []


def test_a_copied_document_is_one_error_listing_its_chapters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "projects", repo / "projects")
    shutil.copy(ROOT / "xzdoc.yaml", repo / "xzdoc.yaml")
    mine = repo / "projects" / "XZJT-2026-003" / "drafts" / "proposal.md"
    mine.write_text((ROOT / "projects" / "XZJT-2026-001" / "drafts" / "proposal.md").read_text("utf-8"), "utf-8")
    monkeypatch.chdir(repo)
    result = invoke("validate", "projects", "--format", "json", "--as-of", AS_OF)
    found = [f for f in json.loads(result.output) if f["rule"] == "art08.chapter-reuse"
             and f["path"].endswith("XZJT-2026-003/drafts/proposal.md")]
    assert result.exit_code == 1 and len(found) == 1 and found[0]["level"] == "error"
    assert "个章节" in found[0]["message"] and "XZJT-2026-001" in found[0]["message"]
    assert "projects/XZJT-2026-001/project.yaml 第3行" in found[0]["message"]


@pytest.mark.parametrize(("resource", "item", "kind"), [
    ("营运车辆动态监控库", "驾驶人行驶轨迹", "个人行踪轨迹"),   # WAS A HOLE: the person named in the item only
    ("营运车辆动态监控库", "车主定位位置", "个人行踪轨迹"),
    ("营运车辆动态监控库", "车辆行驶轨迹", None),              # a vehicle's track, no person
    ("出租车服务质量库", "投诉人银行卡号", "金融账户"),
    ("从业人员管理库", "驾驶员体检结果", "医疗健康信息"),
    ("从业人员管理库", "从业资格证号", None),
])
def test_sensitive_item_names(tmp_path: Path, resource: str, item: str, kind: str | None) -> None:
    folder = tmp_path / "XZJT-2026-001"
    shutil.copytree(ROOT / "projects" / "XZJT-2026-001", folder)
    meta = folder / "project.yaml"
    text = meta.read_text("utf-8")
    start = text.index("resources:\n")
    rest = text[start + len("resources:\n"):]
    meta.write_text(text[:start] + f"resources:\n  - name: {resource}\n    items:\n      - {{name: {item}, type: 字符型}}\n"
                    + _after_resources(rest), "utf-8")
    project = loader.load_project(config.load(ROOT), folder).project
    assert project is not None
    from xzdoc.rules.art31 import sensitive_items
    assert [k for *_, k in sensitive_items(project)] == ([kind] if kind else [])


def _after_resources(rest: str) -> str:
    """What follows the resources list: its entries (indented or dashed) are dropped."""
    lines = rest.split("\n")
    keep = 0
    while keep < len(lines) and (lines[keep].startswith(" ") or lines[keep].startswith("-")):
        keep += 1
    return "\n".join(lines[keep:])
