"""Per-document reuse inside a bundle, and `bundle --all -j N` against a serial run; real pandoc and Typst."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import BASE_PID as PID
from tests.conftest import BASE_PROJECT as BASE
from tests.conftest import ROOT, invoke
from xzdoc.render import bundle

ZIP = f"dist/{PID}/{PID}-building.zip"


@pytest.fixture(autouse=True)
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents the next runs really convert (cache hits never reach Builder.convert)."""
    kinds: list[str] = []
    real = bundle.Builder.convert

    def convert(self: bundle.Builder, doc: bundle.Document, *args: object) -> list[bundle.Output]:
        kinds.append(doc.kind)
        return real(self, doc, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(bundle.Builder, "convert", convert)
    return kinds


def test_an_edit_to_one_draft_rerenders_only_that_document(project_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = rendered(monkeypatch)
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    assert "可行性研究报告" in kinds and len(kinds) >= 8
    kinds.clear()
    draft = project_repo / "projects" / PID / "drafts" / "feasibility.md"
    draft.write_text(draft.read_text("utf-8") + "\n补充说明。\n", "utf-8")
    result = invoke("bundle", f"projects/{PID}")
    assert result.exit_code == 0 and "已生成" in result.output, result.output
    assert kinds == ["可行性研究报告"]
    incremental = (project_repo / ZIP).read_bytes()
    # Byte for byte what a rebuild from nothing gives.
    shutil.rmtree(project_repo / "dist")
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    assert (project_repo / ZIP).read_bytes() == incremental


def test_force_and_a_changed_template_render_everything_again(project_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = rendered(monkeypatch)
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    total = len(kinds)
    kinds.clear()
    assert invoke("bundle", "--force", f"projects/{PID}").exit_code == 0
    assert len(kinds) == total
    kinds.clear()
    page = project_repo / "templates" / "typst" / "page.typ"
    page.parent.mkdir(parents=True)
    page.write_text((ROOT / "templates" / "typst" / "page.typ").read_text("utf-8") + "\n// 本局版式\n", "utf-8")
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    assert len(kinds) == total


def test_a_damaged_cache_entry_is_rendered_again(project_repo: Path) -> None:
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    before = (project_repo / ZIP).read_bytes()
    for entry in (project_repo / "dist" / ".cache").rglob("*.zip"):
        entry.write_bytes(b"not a zip")
    assert invoke("bundle", "--force", f"projects/{PID}").exit_code == 0
    assert (project_repo / ZIP).read_bytes() == before


def test_parallel_bundles_equal_serial_ones_in_the_same_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project_repo"
    shutil.copytree(ROOT / "projects", root / "projects")
    shutil.copytree(BASE, root / "projects" / PID)
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    serial = invoke("bundle", "--all", "-j", "1", "--out", "serial")
    parallel = invoke("bundle", "--all", "-j", "3", "--out", "parallel")
    assert serial.exit_code == parallel.exit_code == 0, serial.output + parallel.output
    assert parallel.output.replace("parallel/", "serial/") == serial.output
    zips = sorted(p.relative_to(root / "serial") for p in (root / "serial").rglob("*.zip") if ".cache" not in p.parts)
    assert len(zips) == 5
    for name in zips:
        assert (root / "parallel" / name).read_bytes() == (root / "serial" / name).read_bytes(), name
    assert not list(root.rglob("*.tmp"))


def test_a_parallel_rerun_skips_unchanged_projects_and_rebuilds_the_changed_one(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "projects", root / "projects")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    monkeypatch.chdir(root)
    first = invoke("bundle", "--all", "-j", "2")
    assert first.exit_code == 0, first.output
    again = invoke("bundle", "--all", "-j", "2")
    assert again.exit_code == 0 and again.output.count(bundle.SKIPPED) == 4, again.output
    draft = root / "projects" / "XZJT-2026-003" / "drafts" / "proposal.md"
    draft.write_text(draft.read_text("utf-8") + "\n补充说明。\n", "utf-8")
    changed = invoke("bundle", "--all", "-j", "2")
    lines = changed.output.splitlines()
    assert changed.exit_code == 0 and len(lines) == 4, changed.output
    assert [line.split("：")[0] for line in lines] == [line.split("：")[0] for line in first.output.splitlines()]
    assert [line for line in lines if bundle.SKIPPED not in line] == [
        "XZJT-2026-003：已生成 dist/XZJT-2026-003/XZJT-2026-003-draft.zip"]
