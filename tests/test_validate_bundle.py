"""validate exits 0 ⇒ bundle exits 0, for every demo project and every rule fixture (real pandoc and Typst)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, RESOURCES, ROOT, invoke

FOLDERS = sorted([*(ROOT / "projects").iterdir(), RESOURCES / "base_project",
                  *(p for p in (RESOURCES / "rules").iterdir() if p.is_dir())])


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_validate_clean_means_bundle_succeeds(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    target = repo / "projects" / folder.name
    shutil.copytree(folder, target)
    shutil.copy(ROOT / "xzdoc.yaml", repo / "xzdoc.yaml")
    if folder.parent == ROOT / "projects":   # the portfolio rules see the other demos too
        for other in (ROOT / "projects").iterdir():
            if other != folder:
                shutil.copytree(other, repo / "projects" / other.name)
    monkeypatch.chdir(repo)
    if invoke("validate", target, "--as-of", AS_OF).exit_code != 0:
        return
    result = invoke("bundle", target, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output


def test_the_property_is_not_vacuous() -> None:
    """The demos and the base project validate clean, so the test above bundles them."""
    for folder in [*(ROOT / "projects").iterdir(), RESOURCES / "base_project"]:
        assert invoke("validate", folder, "--as-of", AS_OF).exit_code == 0, folder


def test_a_reference_render_would_reject_fails_validate_at_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "XZJT-2025-902"
    shutil.copytree(RESOURCES / "base_project", folder)
    draft = folder / "drafts" / "design.md"
    lines = draft.read_text("utf-8").split("\n")
    lines[6] = "本章引用 {{ budget.years[2031] }} 和 {{ name }}。"
    draft.write_text("\n".join(lines), "utf-8")
    result = invoke("validate", folder, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "drafts/design.md:7:" in result.output and "art07.draft-references" in result.output
    rendered = invoke("render", folder, "--format", "docx", "--out", tmp_path / "out")
    assert rendered.exit_code == 1 and "design.md:7" in rendered.output
