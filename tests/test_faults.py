"""Faults around `xzdoc bundle`: interruption, concurrency, unwritable output, crashing tools."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke

BIG = "projects/XZJT-2026-001"   # five documents: long enough to interrupt half-way


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "projects", root / "projects")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    monkeypatch.chdir(root)
    return root


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "xzdoc", *args], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "SOURCE_DATE_EPOCH": "1790000000", **(env or {})})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def edit_draft(root: Path) -> None:
    draft = root / BIG / "drafts" / "overall.md"
    draft.write_text(draft.read_text("utf-8") + "\n补充说明。\n", "utf-8")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_bundle_keeps_the_previous_one(repo: Path, how: signal.Signals) -> None:
    first = run_cli(repo, "bundle", BIG)
    assert first.wait() == 0, first.stdout.read() if first.stdout else b""
    zip_path = repo / "dist" / "XZJT-2026-001" / "XZJT-2026-001-submitted.zip"
    before = zip_path.read_bytes()
    edit_draft(repo)
    second = run_cli(repo, "bundle", BIG)
    time.sleep(0.6)
    assert second.poll() is None, "the render finished before it could be interrupted"
    second.send_signal(how)
    code = second.wait(timeout=60)
    output = second.stdout.read().decode("utf-8") if second.stdout else ""
    assert code == 130 and "已中断" in output and "Traceback" not in output
    assert zip_path.read_bytes() == before
    assert leftovers(repo / "dist") == []


def test_killed_bundle_leaves_nothing_the_next_run_does_not_clear(repo: Path) -> None:
    assert run_cli(repo, "bundle", BIG).wait() == 0
    zip_path = repo / "dist" / "XZJT-2026-001" / "XZJT-2026-001-submitted.zip"
    before = zip_path.read_bytes()
    edit_draft(repo)
    victim = run_cli(repo, "bundle", BIG)
    time.sleep(0.6)
    victim.kill()
    victim.wait()
    assert zip_path.read_bytes() == before
    # Even a temp file from a writer killed mid-write is swept by the next run.
    (zip_path.parent / f".{zip_path.name}.{victim.pid}.zzz.tmp").write_bytes(b"half a zip")
    assert run_cli(repo, "bundle", BIG).wait() == 0
    assert zip_path.read_bytes() != before and leftovers(repo / "dist") == []


def test_concurrent_bundles_into_one_folder_corrupt_nothing(repo: Path) -> None:
    reference = run_cli(repo, "bundle", "--all", "--out", "ref")
    assert reference.wait() == 0
    runs = [run_cli(repo, "bundle", "--all", "--force") for _ in range(2)]
    assert [r.wait(timeout=300) for r in runs] == [0, 0]
    for zip_path in sorted((repo / "ref").rglob("*.zip")):
        twin = repo / "dist" / zip_path.relative_to(repo / "ref")
        assert twin.read_bytes() == zip_path.read_bytes(), twin
    assert leftovers(repo / "dist") == []


def test_unwritable_output_folder_is_a_clear_error(repo: Path) -> None:
    (repo / "blocked").write_text("a file where the folder should be", "utf-8")
    result = invoke("bundle", "projects/XZJT-2026-003", "--out", "blocked/dist")
    assert result.exit_code == 1, result.output
    assert "无法写入输出目录" in result.output and "--out" in result.output and "Traceback" not in result.output


def test_pandoc_crash_names_project_and_document(repo: Path, tmp_path: Path) -> None:
    import pypandoc

    real = pypandoc.get_pandoc_path()
    fake = tmp_path / "pandoc"
    fake.write_text("#!/bin/sh\n"
                    f'case "$*" in *--version*|*--print-default-data-file*) exec "{real}" "$@";; esac\n'
                    'echo "pandoc: internal error: heap exhausted" >&2\nexit 251\n', "utf-8")
    fake.chmod(0o755)
    proc = run_cli(repo, "bundle", "projects/XZJT-2026-003", env={"PYPANDOC_PANDOC": str(fake)})
    output = proc.stdout.read().decode("utf-8") if proc.stdout else ""
    assert proc.wait() == 1, output
    assert "XZJT-2026-003《项目建议书》" in output and "heap exhausted" in output and "Traceback" not in output
    assert not (repo / "dist").exists() or leftovers(repo / "dist") == []


def test_typst_failure_names_project_and_document(repo: Path) -> None:
    page = repo / "templates" / "typst" / "page.typ"
    page.parent.mkdir(parents=True)
    page.write_text("#let broken = (\n", "utf-8")
    result = invoke("bundle", "projects/XZJT-2026-003")
    assert result.exit_code == 1, result.output
    assert "XZJT-2026-003《项目建议书》" in result.output and "PDF 排版失败" in result.output
    assert not list(repo.rglob("*.zip")) and leftovers(repo) == []
