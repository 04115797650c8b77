"""One date per build and zips with fixed order, timestamps and permissions, so equal inputs give equal bytes."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


@dataclass(frozen=True)
class Stamp:
    """When the inputs were fixed, and by which commit; every date in the outputs comes from here."""

    epoch: int
    commit: str | None = None
    dirty: bool = False
    source: str = "git"  # git | SOURCE_DATE_EPOCH | mtime

    @property
    def local(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.epoch, CHINA)

    @property
    def date_text(self) -> str:
        day = self.local
        return f"{day.year}年{day.month}月{day.day}日"

    @property
    def zip_time(self) -> tuple[int, int, int, int, int, int]:
        moment = self.local.timetuple()[:6]
        return max(moment, _ZIP_EPOCH)  # type: ignore[return-value]


def stamp(head: Any, inputs: Iterable[Path]) -> Stamp:
    """SOURCE_DATE_EPOCH if set, else the HEAD commit, else the newest input's modification time.

    Outside git the newest modification time is the date a reader expects on
    the cover (the last edit), and it does not move when nothing is edited.
    """
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        try:
            return Stamp(int(env), source="SOURCE_DATE_EPOCH")
        except ValueError:
            raise XzdocError(f"环境变量 SOURCE_DATE_EPOCH 的值“{env}”不是整数秒",
                             hint="删除该变量，或设为 Unix 秒数，例如 SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)") from None
    if head is not None:  # gitlog.Head
        return Stamp(head.epoch, head.commit, head.dirty, "git")
    newest = max((int(p.stat().st_mtime) for p in inputs if p.is_file()), default=0)
    return Stamp(newest, source="mtime")


def _info(name: str, when: tuple[int, int, int, int, int, int], compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.create_system = 3  # unix, whatever the build machine
    info.external_attr = (0o100644 << 16) if not name.endswith("/") else (0o40755 << 16)
    return info


def write_zip(entries: Iterable[tuple[str, bytes]], when: tuple[int, int, int, int, int, int], *,
              sort: bool = True) -> bytes:
    """A zip archive whose bytes depend only on the entries (and their order when ``sort`` is off)."""
    items = sorted(entries) if sort else list(entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in items:
            archive.writestr(_info(name, when, compress=True), data, compresslevel=6)
    return buffer.getvalue()


def read_zip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]
