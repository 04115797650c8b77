"""Attacks on the validation result cache: after each change a warm run must report what a run without it reports.

Each test warms the cache, changes one input a rule or the loader can read,
and compares the next cached run with ``--no-cache`` on the same files.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AS_OF, BASE_PROJECT, ROOT, invoke
from tests.gitrepo import CONFIG, MINIMAL, PARTY, Repo
from xzdoc.rules import cache

PID = "XZJT-2025-902"


def run(where: Path | None, *args: str, as_of: str = AS_OF) -> list[dict[str, object]]:
    result = invoke("validate", *([str(where)] if where else []), "--format", "json", "--as-of", as_of, *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def agree(where: Path | None, *args: str) -> list[dict[str, object]]:
    cached = run(where, *args)
    assert cached == run(where, "--no-cache", *args)
    return cached


def after(where: Path | None, change: Callable[[], object], *args: str) -> list[dict[str, object]]:
    """Warm the cache, apply ``change``, and require the cached run to equal a run without the cache."""
    before = agree(where, *args)
    assert run(where, *args) == before
    change()
    return agree(where, *args)


@pytest.fixture
def repo(demo_repo: Path) -> Path:
    shutil.copy(ROOT / "systems.yaml", demo_repo / "systems.yaml")
    return demo_repo


def _flagged(folder: Path) -> Path:
    """A copy of the test project at ``folder`` with one finding in a draft, so its shown path is in the output."""
    shutil.copytree(BASE_PROJECT, folder)
    draft = folder / "drafts" / "proposal.md"
    draft.write_text(draft.read_text("utf-8") + "\n联系电话 13912345678。\n", "utf-8")
    return folder


def _two(root: Path) -> tuple[Path, Path]:
    """Two identical copies of the test project outside projects/, each with a finding in a draft."""
    a, b = root / "store" / "a", root / "store" / "b"
    return _flagged(a), _flagged(b)


# --- the project folder itself ---------------------------------------------------------------------------------

def test_a_symlinked_project_folder_retargeted(repo: Path) -> None:
    """projects/X is a link; pointing it at an identical copy elsewhere changes where findings are shown."""
    a, b = _two(repo)
    link = repo / "projects" / PID
    link.symlink_to(a, target_is_directory=True)

    def retarget() -> None:
        link.unlink()
        link.symlink_to(b, target_is_directory=True)

    found = after(repo, retarget)
    assert any(str(f["path"]).startswith("store/b/") for f in found)


def test_a_symlinked_project_folder_moved_into_the_portfolio(repo: Path) -> None:
    """The systems register is checked only for folders that really sit in projects/ (art01.in_portfolio)."""
    outside = _flagged(repo / "store" / PID)
    link = repo / "projects" / PID
    link.symlink_to(outside, target_is_directory=True)

    def move() -> None:
        link.unlink()
        shutil.copytree(outside, link)

    after(repo, move)


def test_a_linked_project_outside_the_repository_from_another_cwd(repo: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Shown relative to the working directory once its real place is outside the repository."""
    outside = _flagged(tmp_path / "elsewhere" / PID)
    (repo / "projects" / PID).symlink_to(outside, target_is_directory=True)
    here = agree(None)
    sub = repo / "projects"
    monkeypatch.chdir(sub)
    there = agree(repo)
    assert here != there


def test_a_project_outside_any_repository_from_another_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lone = _flagged(tmp_path / "lone" / PID)
    monkeypatch.chdir(tmp_path)
    first = agree(lone)
    monkeypatch.chdir(lone)
    assert agree(lone) != first


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_renamed_and_renormalised_project_folders(repo: Path, form: str) -> None:
    folder = next(p for p in sorted((repo / "projects").iterdir()) if (p / "drafts").is_dir())
    after(repo, lambda: folder.rename(folder.with_name(unicodedata.normalize(form, "项目" + folder.name.lower()))))


def test_deleting_a_project_whose_name_another_draft_mentions(repo: Path) -> None:
    """The foreign-name check reads every project's name: a deleted one is no longer foreign."""
    a = repo / "projects" / "XZJT-2099-001"
    b = repo / "projects" / "XZJT-2099-002"
    shutil.copytree(BASE_PROJECT, a)
    shutil.copytree(BASE_PROJECT, b)
    (b / "project.yaml").write_text((b / "project.yaml").read_text("utf-8").replace(
        "\nname: ", "\nname: 另一个很长名字的测试项目", 1), "utf-8")
    draft = a / "drafts" / "proposal.md"
    name = next(line for line in (b / "project.yaml").read_text("utf-8").splitlines() if line.startswith("name: "))
    draft.write_text(draft.read_text("utf-8") + f"\n本项目参考了{name[6:]}的做法。\n", "utf-8")
    after(repo, lambda: shutil.rmtree(b))


# --- files a project's drafts point at --------------------------------------------------------------------------

def _draft(repo: Path) -> Path:
    return next(p for p in sorted((repo / "projects").glob("*/drafts/*.md")))


def test_a_draft_replaced_by_a_directory(repo: Path) -> None:
    draft = _draft(repo)

    def replace() -> None:
        draft.unlink()
        draft.mkdir()

    after(repo, replace)


def test_a_draft_replaced_by_a_fifo(repo: Path) -> None:
    draft = _draft(repo)
    before = agree(repo)
    draft.unlink()
    os.mkfifo(draft)
    # The loader reads a FIFO draft like any file: a writer that opens and closes it again and again ends each read.
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with open(draft, "wb"):
                pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert agree(repo) != before
    finally:
        stop.set()
        os.close(os.open(draft, os.O_RDONLY | os.O_NONBLOCK))   # lets a writer waiting in open() see the stop
        thread.join(60)


def test_a_draft_link_retargeted_inside_the_project(repo: Path) -> None:
    drafts = sorted(p for p in _draft(repo).parent.iterdir())
    spare = drafts[0].with_name("spare.md")
    spare.write_text("# 另一版\n\n正文。\n", "utf-8")
    keep = drafts[0].with_name("keep.md")
    shutil.copy(drafts[0], keep)
    drafts[0].unlink()
    drafts[0].symlink_to(keep.name)

    def retarget() -> None:
        drafts[0].unlink()
        drafts[0].symlink_to(spare.name)

    after(repo, retarget)


def test_a_drafts_folder_link_retargeted(repo: Path) -> None:
    folder = _draft(repo).parent
    real = folder.with_name("drafts-real")
    folder.rename(real)
    other = folder.with_name("drafts-other")
    shutil.copytree(real, other)
    first = sorted(other.iterdir())[0]
    first.write_text(first.read_text("utf-8").replace("\n## ", "\n### ", 1), "utf-8")
    folder.symlink_to(real.name, target_is_directory=True)

    def retarget() -> None:
        folder.unlink()
        folder.symlink_to(other.name, target_is_directory=True)

    after(repo, retarget)


def test_files_no_rule_reads_change_nothing(repo: Path) -> None:
    """records/ and extra drafts are not read; an image a draft links to is (art07.draft-images), and its arrival is seen."""
    draft = _draft(repo)
    project = draft.parent.parent
    draft.write_text(draft.read_text("utf-8") + "\n![拓扑图](../images/net.png)\n", "utf-8")

    def extras() -> None:
        (project / "records").mkdir(exist_ok=True)
        (project / "records" / "批复.pdf").write_bytes(b"%PDF-1.4\n")
        (project / "images").mkdir(exist_ok=True)
        (project / "images" / "net.png").write_bytes(b"\x89PNG\r\n")
        (draft.parent / "unlisted.md").write_text("# 草稿\n", "utf-8")

    after(repo, extras)


PNG_HEADER = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("change", ["repaired", "broken", "large-broken", "swapped-link", "removed"])
def test_an_image_a_draft_shows_is_a_dependency(repo: Path, change: str) -> None:
    """WAS A HOLE (while the images rule was new): a cached result kept the verdict on an image since changed."""
    draft = _draft(repo)
    images = draft.parent.parent / "images"
    images.mkdir(exist_ok=True)
    image = images / "net.png"
    image.write_bytes((b"not a png" if change == "repaired" else PNG_HEADER) + b"\0" * (3 << 20 if "large" in change else 8))
    (images / "bad.png").write_bytes(b"GIF89a")
    if change == "swapped-link":
        image.unlink()
        (images / "good.png").write_bytes(PNG_HEADER)
        image.symlink_to("good.png")
    draft.write_text(draft.read_text("utf-8") + "\n![拓扑图](../images/net.png)\n", "utf-8")

    def edit() -> None:
        if change == "repaired":
            image.write_bytes(PNG_HEADER)
        elif change in ("broken", "large-broken"):
            data = bytearray(image.read_bytes())
            data[1] = ord("X")
            image.write_bytes(bytes(data))
        elif change == "swapped-link":
            image.unlink()
            image.symlink_to("bad.png")
        else:
            image.unlink()

    before = [f["message"] for f in agree(repo) if f["rule"] == "art07.draft-images"]
    now = [f["message"] for f in after(repo, edit) if f["rule"] == "art07.draft-images"]
    assert before != now, (before, now)


# --- files outside the project -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["systems.yaml", "xzdoc.yaml"])
def test_a_fifo_in_place_of_a_repository_file(repo: Path, name: str) -> None:
    """The loader skips anything but a regular file there; the cache must not block reading one."""
    file = repo / name
    file.unlink()
    os.mkfifo(file)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(run(repo)), daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():
        file.unlink()   # a writer's end would be needed; removing the FIFO does not wake the reader, so fail
        pytest.fail(f"a FIFO at {name} blocks the cached run")
    assert done[0] == run(repo, "--no-cache")


@pytest.mark.parametrize("name", ["systems.yaml", "xzdoc.yaml"])
def test_a_directory_in_place_of_a_repository_file(repo: Path, name: str) -> None:
    def replace() -> None:
        (repo / name).unlink()
        (repo / name).mkdir()

    after(repo, replace)


def test_the_projects_folder_moved_by_configuration(repo: Path) -> None:
    def move() -> None:
        shutil.copytree(repo / "projects", repo / "portfolio")
        text = (repo / "xzdoc.yaml").read_text("utf-8")
        assert "\nprojects_dir: projects\n" in text
        (repo / "xzdoc.yaml").write_text(text.replace("\nprojects_dir: projects\n", "\nprojects_dir: portfolio\n"),
                                         "utf-8")
        shutil.rmtree(repo / "projects" / next(iter(sorted(os.listdir(repo / "projects")))))

    after(repo, move)


def test_two_repositories_sharing_one_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same layout, different content, one cache folder; and one repository moved to where the other was."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "shared"))
    one, two = tmp_path / "one", tmp_path / "two"
    for where in (one, two):
        shutil.copytree(ROOT / "projects", where / "projects")
        shutil.copy(ROOT / "xzdoc.yaml", where / "xzdoc.yaml")
    draft = next((two / "projects").glob("*/drafts/*.md"))
    draft.write_text(draft.read_text("utf-8") + "\n联系电话 13912345678。\n", "utf-8")
    a, b = agree(one), agree(two)
    assert a != b and agree(one) == a and agree(two) == b
    shutil.rmtree(one)
    two.rename(one)
    assert agree(one) == b


def test_a_dependency_of_the_rules_is_part_of_the_code_fingerprint(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """chinesecalendar's yearly release adds a year of holidays: deadline findings change with the package."""
    real = importlib.import_module("chinese_calendar")
    copy = tmp_path / "site" / "chinese_calendar"
    shutil.copytree(Path(real.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(copy.parent))
    monkeypatch.delitem(sys.modules, "chinese_calendar")
    importlib.invalidate_caches()
    monkeypatch.setattr(cache, "_code", None)
    first = cache.code_fingerprint()
    monkeypatch.setattr(cache, "_code", None)
    assert cache.code_fingerprint() == first
    constants = copy / "constants.py"
    constants.write_text(constants.read_text("utf-8") + "\n# a newer release\n", "utf-8")
    monkeypatch.setattr(cache, "_code", None)
    assert cache.code_fingerprint() != first


# --- runs over part of the repository, shards, output forms --------------------------------------------------------

def test_a_subset_then_everything_then_a_subset(repo: Path) -> None:
    projects = sorted((repo / "projects").iterdir())
    some = [str(p) for p in projects[1:3]]
    part = invoke("validate", *some, "--format", "json", "--as-of", AS_OF)
    whole = agree(repo)
    assert json.loads(invoke("validate", *some, "--format", "json", "--as-of", AS_OF).output) == json.loads(part.output)
    assert json.loads(invoke("validate", *some, "--format", "json", "--as-of", AS_OF, "--no-cache").output) \
        == json.loads(part.output)
    assert agree(repo) == whole


def test_shards_after_a_change_join_to_the_whole(repo: Path) -> None:
    def shards() -> list[dict[str, object]]:
        outs = []
        for i in (1, 2):
            out = repo.parent / f"index-{i}.json"
            result = invoke("validate", "--shard", f"{i}/2", "--index-out", str(out), "--as-of", AS_OF)
            assert result.exit_code in (0, 1), result.output
            outs.append(out)
        joined = invoke("validate", "--format", "json", "--as-of", AS_OF, *(a for o in outs for a in ("--join", str(o))))
        return json.loads(joined.output)  # type: ignore[no-any-return]

    shards()
    file = next((repo / "projects").glob("*/project.yaml"))
    file.write_text(file.read_text("utf-8").replace("\nname: ", "\nname: 改", 1), "utf-8")
    assert shards() == run(repo, "--no-cache")


@pytest.mark.parametrize("fmt", ["text", "github", "sarif"])
def test_every_output_form_and_strict(repo: Path, fmt: str) -> None:
    def out(*extra: str) -> tuple[int, str]:
        result = invoke("validate", str(repo), "--format", fmt, "--as-of", AS_OF, "--strict", *extra)
        return result.exit_code, result.output

    first = out()
    assert out() == first == out("--no-cache")


def test_the_default_check_date_is_today(repo: Path) -> None:
    def today() -> list[dict[str, object]]:
        result = invoke("validate", str(repo), "--format", "json")
        return json.loads(result.output)  # type: ignore[no-any-return]

    first = today()
    assert today() == first == json.loads(invoke("validate", str(repo), "--format", "json", "--no-cache").output)


# --- git state ---------------------------------------------------------------------------------------------------

def _adopted(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "bureau", config=None)
    r.full_project(PID)
    r.project("XZJT-2026-001", text=MINIMAL.format(id="XZJT-2026-001", stage="draft"))
    r.commit("迁入在建项目")
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用 xzdoc")
    return r


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.delenv(cache.ENV, raising=False)    # the usual place, inside .git
    r = _adopted(tmp_path)
    monkeypatch.chdir(r.path)
    return r


def test_an_uncommitted_stage_change_then_its_approving_merge(git_repo: Path) -> None:
    r: Repo = git_repo  # type: ignore[assignment]
    found = after(r.path, lambda: r.set_stage("XZJT-2026-001", "submitted"))
    assert "art24.pending-approval" in {f["rule"] for f in found}
    r.git("stash")
    r.branch("submit")
    r.git("stash", "pop")
    r.commit("申报")
    agree(r.path)
    r.checkout("main")
    assert "art24.pending-approval" not in {f["rule"] for f in agree(r.path)}
    r.merge("submit", PARTY)
    agree(r.path)


def test_a_branch_switch_and_a_detached_head(git_repo: Path) -> None:
    r: Repo = git_repo  # type: ignore[assignment]
    r.branch("feature")
    r.set_stage("XZJT-2026-001", "submitted")
    r.commit("直接申报")
    on_feature = agree(r.path)
    r.checkout("main")
    on_main = agree(r.path)
    r.checkout("feature")
    assert agree(r.path) == on_feature
    r.git("checkout", "-q", "--detach", "main")
    assert agree(r.path) == on_main
    r.git("checkout", "-q", "--detach", "feature")
    agree(r.path)


def test_a_direct_push_of_a_deletion(git_repo: Path) -> None:
    """A deleted approved project is a repository-wide issue, reported by the first project checked."""
    r: Repo = git_repo  # type: ignore[assignment]
    r.project("XZJT-2026-002", text=MINIMAL.format(id="XZJT-2026-002", stage="draft"))
    r.commit("立项")
    agree(r.path)
    shutil.rmtree(r.path / "projects" / PID)
    agree(r.path)
    r.commit("删除项目")
    assert "art24.deleted-project" in {f["rule"] for f in agree(r.path)}
    agree(r.path / "projects" / "XZJT-2026-002")


def test_a_shallow_clone_then_unshallowed(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r: Repo = git_repo  # type: ignore[assignment]
    r.set_stage("XZJT-2026-001", "submitted")
    r.commit("直接申报")
    clone = tmp_path / "clone"
    r.git("clone", "-q", "--depth", "1", f"file://{r.path}", str(clone))
    monkeypatch.chdir(clone)
    shallow = agree(clone)
    Repo.git(r, "-C", str(clone), "fetch", "-q", "--unshallow")
    full = agree(clone)
    assert full != shallow
