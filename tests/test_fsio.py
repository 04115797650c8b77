from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xzdoc.errors import XzdocError
from xzdoc.source.fsio import sweep_stale, write_all, write_atomic


def test_write_is_atomic_with_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    write_atomic(target, "内容")
    assert target.read_text("utf-8") == "内容"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_failed_rename_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(XzdocError) as err:
        write_atomic(target, b"data")
    assert str(target) in err.value.message and "--out" in (err.value.hint or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip"] and (target / "keep").exists()


def test_a_fifo_or_device_at_the_target_is_refused_not_replaced(tmp_path: Path) -> None:
    """WAS A HOLE: the rename put a regular file where /dev/full was (as root)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(XzdocError) as caught:
        write_atomic(fifo, "内容")
    assert "不是普通文件" in caught.value.message
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
    link = tmp_path / "link"
    link.symlink_to(os.devnull)  # a link is replaced, never written through
    write_atomic(link, "内容")
    assert link.is_file() and not link.is_symlink() and Path(os.devnull).is_char_device()


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(XzdocError) as err:
        write_atomic(blocker / "dist" / "out.zip", b"data")
    assert "无法写入输出目录" in err.value.message


def test_stale_temp_files_of_dead_writers_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".X-1.zip.{dead.stdout.strip()}.abc123.tmp"
    live = tmp_path / f".X-1.zip.{os.getpid()}.def456.tmp"
    stale.write_bytes(b"half")
    live.write_bytes(b"in progress")
    sweep_stale(tmp_path)
    assert not stale.exists() and live.exists()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_files_written_together_land_together_or_not_at_all(tmp_path: Path) -> None:
    """WAS A HOLE: an import whose draft could not be written had already replaced the draft's images."""
    image, draft, blocked = tmp_path / "images" / "a.png", tmp_path / "draft.md", tmp_path / "project.yaml"
    image.parent.mkdir()
    image.write_bytes(b"old image")
    draft.write_text("旧文稿", "utf-8")
    blocked.mkdir()  # the last rename fails: a folder stands where the file goes
    with pytest.raises(XzdocError) as caught:
        write_all([(image, b"new image"), (draft, "新文稿"), (tmp_path / "new.md", "新"), (blocked, "x")])
    assert "project.yaml" in caught.value.message
    assert image.read_bytes() == b"old image" and draft.read_text("utf-8") == "旧文稿"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.png", "draft.md", "images", "project.yaml"]
    blocked.rmdir()
    write_all([(image, b"new image"), (draft, "新文稿"), (blocked, "x")])
    assert image.read_bytes() == b"new image" and draft.read_text("utf-8") == "新文稿" and blocked.read_text() == "x"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.png", "draft.md", "images", "project.yaml"]


def test_folders_made_for_a_write_that_fails_are_removed_again(tmp_path: Path) -> None:
    # WAS LEFT BEHIND: `xzdoc new projects/sub/<a name too long>` failed and left the empty projects/sub.
    too_long = tmp_path / "a" / "b" / ("x" * 300) / "f.txt"
    with pytest.raises(XzdocError):
        write_atomic(too_long, "正文")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    with pytest.raises(XzdocError):
        write_all([(tmp_path / "kept" / "new" / "one.txt", "一"), (tmp_path / "c" / ("y" * 300) / "two.txt", "二")])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["kept"]


def test_new_with_a_name_too_long_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import invoke

    monkeypatch.chdir(tmp_path)
    (tmp_path / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    (tmp_path / "projects").mkdir()
    result = invoke("new", f"projects/sub/{'X' * 300}", "--id", "XZJT-2026-050", "--name", "测试项目", "--force")
    assert result.exit_code == 1, result.output
    assert list((tmp_path / "projects").iterdir()) == []
    assert not (tmp_path / "schema").exists() or sorted((tmp_path / "schema").iterdir()) == []
