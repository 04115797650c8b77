from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xzdoc import config
from xzdoc.cli import cli
from xzdoc.model import Project
from xzdoc.render import bundle

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"
AS_OF = "2026-11-20"  # pinned so deadline rules do not drift with the calendar


@pytest.fixture(autouse=True)
def _validate_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own result cache: none is shared between tests or with the machine's ~/.cache."""
    monkeypatch.setenv("XZDOC_CACHE_DIR", str(tmp_path_factory.mktemp("validate-cache")))


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


BASE_PROJECT = RESOURCES / "base_project"
BASE_PID = "XZJT-2025-902"


@pytest.fixture
def project_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small four-document test project (tests/resources/base_project) in a repository folder, outside git, as cwd."""
    root = tmp_path / "repo"
    shutil.copytree(BASE_PROJECT, root / "projects" / BASE_PID)
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    monkeypatch.chdir(root)
    return root


@dataclass(frozen=True)
class Demo:
    root: Path
    projects: dict[str, Project]
    files: dict[str, dict[str, Path]]   # project id -> output name -> file on disk


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Every demo project rendered once per session (outside git: dates from the files, no approvals)."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "projects", root / "projects")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    cfg = config.load(root)
    projects, files = {}, {}
    with bundle.Builder(cfg) as builder:
        for folder in sorted((root / "projects").iterdir()):
            project = bundle.load(cfg, folder)
            out = root / "out" / project.id
            out.mkdir(parents=True)
            projects[project.id] = project
            files[project.id] = {}
            for output in builder.outputs(project, bundle.FORMATS, builder.stamp(project), []):
                (out / output.name).write_bytes(output.data)
                files[project.id][output.name] = out / output.name
    return Demo(root, projects, files)


# The attack modules' bureau repositories (unsigned and signed), shared as fixtures. tests/attacks.py imports
# this module only inside its functions; this import still comes last.
from tests.attacks import gnupg, repo, signed  # noqa: E402,F401
