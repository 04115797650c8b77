"""The validation result cache: a warm run reports exactly what a cold run and a run without the cache report."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke
from tests.gitrepo import CONFIG, MINIMAL, Repo
from xzdoc import config
from xzdoc.rules import cache, engine
from xzdoc.rules.index import Rows

PID = "XZJT-2025-902"


def run(where: Path, *args: str, as_of: str = AS_OF) -> list[dict[str, object]]:
    result = invoke("validate", str(where), "--format", "json", "--as-of", as_of, *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def entries(folder: Path) -> dict[str, int]:
    """Each entry file with its inode: a rewritten entry gets a new one (writes are temp file + rename)."""
    return {p.name: p.stat().st_ino for p in folder.glob("p-*")} if folder.is_dir() else {}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    return folder


@pytest.fixture
def repo(demo_repo: Path, store: Path) -> Path:
    shutil.copy(ROOT / "systems.yaml", demo_repo / "systems.yaml")
    return demo_repo


def same_three_ways(where: Path, store: Path, *args: str, as_of: str = AS_OF) -> list[dict[str, object]]:
    """Cold, warm and --no-cache findings; asserts they are equal and that the warm run rewrote nothing."""
    cold = run(where, *args, as_of=as_of)
    written = entries(store)
    warm = run(where, *args, as_of=as_of)
    assert entries(store) == written
    assert warm == cold == run(where, "--no-cache", *args, as_of=as_of)
    return cold


def test_demo_projects_cold_warm_and_without_cache(repo: Path, store: Path) -> None:
    found = same_three_ways(repo, store)
    assert found and len(entries(store)) == len(list((repo / "projects").iterdir())) + 1   # + the portfolio's


def test_broken_projects_cold_warm_and_without_cache(repo: Path, store: Path) -> None:
    projects = repo / "projects"
    (projects / "BAD-YAML").mkdir()
    (projects / "BAD-YAML" / "project.yaml").write_text("id: [unclosed\nname: x\n", "utf-8")
    (projects / "NOT-MAP").mkdir()
    (projects / "NOT-MAP" / "project.yaml").write_text("- a\n- b\n", "utf-8")
    sample = next(p for p in sorted(projects.iterdir()) if (p / "drafts").is_dir())
    drafts = sorted((sample / "drafts").iterdir())
    drafts[0].write_bytes(b"# \xff\xfe broken utf-8\n")
    drafts[1].unlink()
    outside = repo.parent / "outside.md"
    outside.write_text("# 外部\n", "utf-8")
    drafts[2].unlink()
    drafts[2].symlink_to(outside)
    found = same_three_ways(repo, store)
    rules = {f["rule"] for f in found}
    assert "art07.readable" in rules and "art07.schema" in rules and "art07.documents" in rules


def _refreshed(repo: Path, store: Path, change: object, as_of: str = AS_OF) -> None:
    """After ``change``, the warm run equals a run without the cache and the entries were recomputed."""
    before = run(repo)
    written = entries(store)
    change() if callable(change) else None
    after = run(repo, as_of=as_of)
    assert after == run(repo, "--no-cache", as_of=as_of)
    assert after != before
    changed = {name for name, ino in entries(store).items() if written.get(name) != ino}
    assert changed


def test_editing_a_draft_byte_invalidates(repo: Path, store: Path) -> None:
    draft = next((repo / "projects").glob("*/drafts/*.md"))
    _refreshed(repo, store, lambda: draft.write_text(draft.read_text("utf-8") + "\n联系电话 13912345678。\n", "utf-8"))


def test_editing_project_yaml_invalidates(repo: Path, store: Path) -> None:
    file = next((repo / "projects").glob("*/project.yaml"))
    text = file.read_text("utf-8")
    _refreshed(repo, store, lambda: file.write_text(text.replace("\nstage: ", "\nstage: no-such-", 1), "utf-8"))


def test_editing_xzdoc_yaml_invalidates(repo: Path, store: Path) -> None:
    file = repo / "xzdoc.yaml"
    # A lower reuse threshold changes the cross-project findings; any byte changes every key.
    _refreshed(repo, store, lambda: file.write_text(file.read_text("utf-8") + "\nreuse:\n  threshold: 0.01\n", "utf-8"))


def test_editing_systems_yaml_invalidates(repo: Path, store: Path) -> None:
    file = repo / "systems.yaml"
    _refreshed(repo, store, lambda: file.write_text("systems: []\n", "utf-8"))


def test_another_as_of_invalidates(repo: Path, store: Path) -> None:
    _refreshed(repo, store, None, as_of="2031-06-30")


def test_a_damaged_or_foreign_entry_is_ignored_and_rewritten(repo: Path, store: Path) -> None:
    cold = run(repo)
    files = sorted(store.glob("p-*"))
    files[0].write_bytes(files[0].read_bytes()[:-7])                      # truncated
    data = bytearray(files[1].read_bytes())
    data[-2] ^= 0x01                                                       # one bit flipped
    files[1].write_bytes(bytes(data))
    files[2].write_bytes(files[3].read_bytes())                            # another project's entry
    files[3].write_bytes(b"\x00garbage")
    assert run(repo) == cold == run(repo, "--no-cache")
    healed = entries(store)
    assert run(repo) == cold and entries(store) == healed


def test_an_unwritable_cache_folder_changes_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = repo.parent / "a-file"
    blocker.write_text("", "utf-8")
    monkeypatch.setenv(cache.ENV, str(blocker / "cache"))
    assert run(repo) == run(repo) == run(repo, "--no-cache")


def test_cache_lives_in_the_git_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV, raising=False)
    r = Repo(tmp_path / "bureau")
    r.project(PID)
    r.commit("立项")
    assert cache.location(config.load(r.path)) == r.path / ".git" / "xzdoc" / "validate"
    worktree = tmp_path / "second"
    r.git("worktree", "add", "-q", str(worktree))
    assert cache.location(config.load(worktree)) == r.path / ".git" / "worktrees" / "second" / "xzdoc" / "validate"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.location(config.load(tmp_path / "elsewhere")) == tmp_path / "xdg" / "xzdoc" / "validate"
    run(r.path)
    assert list((r.path / ".git" / "xzdoc" / "validate").glob("p-*"))


def test_a_new_commit_is_reflected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The working copy is the same before and after the commit; only history says the change is unapproved now."""
    monkeypatch.delenv(cache.ENV, raising=False)
    r = Repo(tmp_path / "bureau", config=None)
    r.full_project(PID)
    r.commit("迁入在建项目")
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用 xzdoc")
    r.set_stage(PID, "contracted")
    r.commit("退回签约阶段")
    r.set_stage(PID, "building")
    pending = run(r.path)
    assert run(r.path) == pending
    rules = {f["rule"] for f in pending}
    assert "art24.pending-approval" in rules and "art24.unapproved-stage-change" not in rules
    r.commit("直接改回建设中")
    pushed = run(r.path)
    assert pushed == run(r.path, "--no-cache") == run(r.path)
    assert "art24.unapproved-stage-change" in {f["rule"] for f in pushed}


def test_repository_wide_history_issues_are_reported_in_any_order(tmp_path: Path, store: Path) -> None:
    """The ledger's issues outside any one project go to the first projects checked, cached or not."""
    r = Repo(tmp_path / "bureau")
    for n in range(5):
        r.project(f"XZJT-2026-{n:03d}", text=MINIMAL.format(id=f"XZJT-2026-{n:03d}", stage="draft"))
    r.write(".gitattributes", "*.md filter=lfs\n")
    r.commit("立项")
    full = same_three_ways(r.path, store)
    assert "art24.repository-layout" in {f["rule"] for f in full}
    later = [str(r.path / "projects" / f"XZJT-2026-{n:03d}") for n in (3, 4, 1)]
    result = invoke("validate", *later, "--format", "json", "--as-of", AS_OF)
    plain = invoke("validate", *later, "--format", "json", "--as-of", AS_OF, "--no-cache")
    assert json.loads(result.output) == json.loads(plain.output)
    assert "art24.repository-layout" in {f["rule"] for f in json.loads(result.output)}


def test_sharded_runs_with_the_cache(repo: Path, store: Path) -> None:
    whole = run(repo, "--no-cache")
    for _ in range(2):   # cold, then warm
        outs = []
        for i in (1, 2, 3):
            out = repo.parent / f"index-{i}.json"
            result = invoke("validate", "--shard", f"{i}/3", "--index-out", str(out), "--as-of", AS_OF)
            assert result.exit_code in (0, 1), result.output
            outs.append(out)
        joined = invoke("validate", "--format", "json", "--as-of", AS_OF, *(a for o in outs for a in ("--join", str(o))))
        assert json.loads(joined.output) == whole


def test_rows_spilled_to_disk_give_the_same_findings(repo: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = run(repo, "--no-cache")
    monkeypatch.setattr(Rows, "SPILL", 64)
    assert run(repo, "--no-cache") == whole == run(repo) == run(repo)
    test_sharded_runs_with_the_cache(repo, store)


def test_rows_read_back_in_order() -> None:
    rows = Rows()
    rows.SPILL = 50   # type: ignore[misc]
    data = [bytes([65 + i % 26]) * (i % 37 + 1) for i in range(300)]
    rows.extend(data)
    assert list(rows) == data and [rows.get(i) for i in range(len(data))] == data
    assert [a for a, _ in zip(rows, rows, strict=True)] == data   # two readers at once
    rows.close()


def test_the_editor_path_never_uses_the_cache(repo: Path, store: Path) -> None:
    conf = config.load(repo)
    folder = next((repo / "projects").iterdir())
    engine.check_project(conf, folder, {folder / "project.yaml": "id: X\n"}, as_of=None)
    assert not store.exists()
    assert engine.validate(conf, cache=False).findings == engine.validate(conf, cache=store).findings
    assert os.listdir(store)


def test_a_file_saved_while_it_is_checked_is_not_stored(repo: Path, store: Path) -> None:
    """The entry is written only when the files still hold the bytes the findings were made from."""
    import datetime as dt

    from xzdoc.source import loader

    cfg = config.load(repo)
    import hashlib

    folder = str((repo / "projects" / "XZJT-2026-003").resolve())
    source = hashlib.sha256((Path(folder) / "project.yaml").read_bytes()).hexdigest()   # as engine._sources keys it
    for edit in ("drafts/proposal.md", "project.yaml"):
        results = cache.ResultCache(store, cfg)
        results.begin(dt.date(2026, 11, 20), (), None, 0)
        loaded = loader.load_project(cfg, Path(folder))
        changed = Path(folder) / edit
        changed.write_text(changed.read_text("utf-8") + "\n补记一句。\n", "utf-8")   # saved mid-check
        results.put(folder, source, loaded, [], ["projects/XZJT-2026-003", "XZJT-2026-003", "名称"], b"{}")
        assert results.get(folder, source, True) is None, edit
        assert not list(store.glob("p-*")), edit
        source = hashlib.sha256((Path(folder) / "project.yaml").read_bytes()).hexdigest()
        results.put(folder, source, loader.load_project(cfg, Path(folder)), [], None, b"")
        assert list(store.glob("p-*")), edit          # settled files are stored as before
        for entry in store.glob("p-*"):
            entry.unlink()
