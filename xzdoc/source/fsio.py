"""Writing output files: atomically, with ordinary permissions, and with clear errors.

Every file xzdoc produces (bundles, renders, catalogs, scaffolds) goes through
``write_atomic``: a temp file in the target folder, then a rename, so a reader
or an interrupted run never sees half a file. Temp names carry the writer's
process id, so a run killed outright (SIGKILL, power loss) leaves a temp file
that the next run in that folder recognises as stale and removes.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from xzdoc.errors import XzdocError, os_reason

_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]*\.tmp$")
_HINT = "检查该目录的权限、只读挂载和磁盘空间；生成材料的命令也可用 --out 改写到其他目录"


def write_atomic(path: Path, data: bytes | str) -> None:
    made: list[Path] = []
    tmp = _stage(path, data, made)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        _remove_made(made)
        raise XzdocError(f"无法写入 {path}：{os_reason(exc)}", str(path), hint=_HINT) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _make_parents(folder: Path, made: list[Path]) -> None:
    """``folder`` and any missing parents, each one made listed in ``made`` (outermost first) to undo a failure."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir()
        made.append(each)


def _remove_made(made: list[Path]) -> None:
    """Folders a failed write made, innermost first; one something else has put a file in stays."""
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            continue


def _stage(path: Path, data: bytes | str, made: list[Path]) -> str:
    """``data`` in a temp file beside ``path``, with ordinary permissions; its name, or an XzdocError and no file.

    Folders made for it are added to ``made``; a failure here removes those it made itself.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    _refuse_special(path)
    mine: list[Path] = []
    try:
        _make_parents(path.parent, mine)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        _remove_made(mine)
        raise XzdocError(f"无法写入输出目录 {path.parent}：{os_reason(exc)}", str(path.parent), hint=_HINT) from None
    made += mine
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        _remove_made(mine)
        raise XzdocError(f"无法写入 {path}：{os_reason(exc)}", str(path), hint=_HINT) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        _remove_made(mine)
        raise
    return tmp


def write_all(files: list[tuple[Path, bytes | str]]) -> None:
    """Several files that belong together (a draft, its images, the project.yaml naming it): all or none.

    Every temp file is written first; only when all are on disk is each renamed into place, so a folder
    that cannot be written, a full disk or a bad name leaves every existing file as it was.
    """
    staged: list[tuple[str, Path]] = []
    kept: list[tuple[str, Path]] = []
    done: list[Path] = []
    made: list[Path] = []
    finished = False
    try:
        for path, data in files:
            staged.append((_stage(path, data, made), path))
        # The files being replaced are kept under a second name (a hard link: no copy) until every rename
        # is done, so one that fails (an immutable file, say) puts back the ones already replaced.
        for path in dict.fromkeys(p for _, p in staged):
            if os.path.isfile(path) and not os.path.islink(path):
                keep = f"{path.parent}/.{path.name}.{os.getpid()}.keep.tmp"
                try:
                    os.link(path, keep)
                except OSError as exc:
                    raise XzdocError(f"无法替换 {path}：{os_reason(exc)}", str(path), hint=_HINT) from None
                kept.append((keep, path))
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                for keep, old in kept:
                    if old in done:
                        os.replace(keep, old)
                for new in done:
                    if new not in {old for _, old in kept}:
                        new.unlink(missing_ok=True)
                raise XzdocError(f"无法写入 {path}：{os_reason(exc)}", str(path), hint=_HINT) from None
            done.append(path)
        finished = True
    finally:
        for tmp, _ in staged + kept:
            Path(tmp).unlink(missing_ok=True)
        if not finished:
            _remove_made(made)


def refuse_outside(folder: Path, paths: list[Path], doing: str) -> None:
    """An XzdocError, before anything is written, when a path would land outside ``folder`` through a
    symbolic link (the path itself, or a linked images/ or drafts/ folder on the way)."""
    home = folder.resolve()
    for path in paths:
        try:
            where = path.parent.resolve() / path.name
        except (OSError, RuntimeError):
            where = path
        if path.is_symlink() or not where.is_relative_to(home):
            shown = path.relative_to(folder) if path.is_relative_to(folder) else path
            raise XzdocError(f"{shown} 经符号链接指向项目目录之外，{doing}不会写到那里，未做任何改动", str(path),
                             hint="把符号链接换成项目中的普通目录或文件后再试")


def refuse_replacing(folder: Path, files: dict[Path, bytes], what: str) -> None:
    """An XzdocError, before anything is written, when one of ``files`` exists with other content."""
    for path, data in files.items():
        try:
            same = path.read_bytes() == data
        except FileNotFoundError:
            continue
        except OSError:
            same = False
        if not same:
            raise XzdocError(f"{what} {path.relative_to(folder)} 已存在且内容不同，未做任何改动", str(path),
                             hint=f"加 --force 用新的{what}覆盖它，或先把原有的{what}改名")


def _refuse_special(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode)):
        # The rename would put a file where a device, FIFO or socket was (as root: /dev/null, /dev/full).
        raise XzdocError(f"{path} 是设备、管道或套接字，不是普通文件，不会用输出替换它", str(path),
                         hint="--out 请指定普通文件或目录的路径")


def sweep_stale(folder: Path) -> None:
    """Remove temp files left by writers that are no longer running."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _TEMP.match(name)
        if match and not _alive(int(match.group(1))):
            (folder / name).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
