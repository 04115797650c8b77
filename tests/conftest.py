from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xzdoc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"
AS_OF = "2026-11-20"  # pinned so deadline rules do not drift with the calendar


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def demo_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the toolkit's demo repository (projects and config), outside git, as cwd."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "projects", copy / "projects")
    if (ROOT / "xzdoc.yaml").exists():
        shutil.copy(ROOT / "xzdoc.yaml", copy / "xzdoc.yaml")
    else:
        (copy / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    monkeypatch.chdir(copy)
    return copy


# The attack modules' bureau repositories (unsigned and signed), shared as fixtures. tests/attacks.py imports
# this module only inside its functions; this import still comes last.
from tests.attacks import repo, signed  # noqa: E402,F401
