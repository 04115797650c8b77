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

from xzdoc.errors import XzdocError

_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]*\.tmp$")
_HINT = "检查该目录的权限、只读挂载和磁盘空间；生成材料的命令也可用 --out 改写到其他目录"


def write_atomic(path: Path, data: bytes | str) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = 0
    if mode and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode)):
        # The rename would put a file where a device, FIFO or socket was (as root: /dev/null, /dev/full).
        raise XzdocError(f"{path} 是设备、管道或套接字，不是普通文件，不会用输出替换它", str(path),
                         hint="--out 请指定普通文件或目录的路径")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        raise XzdocError(f"无法写入输出目录 {path.parent}：{exc.strerror or exc}", str(path.parent), hint=_HINT) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise XzdocError(f"无法写入 {path}：{exc.strerror or exc}", str(path), hint=_HINT) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
