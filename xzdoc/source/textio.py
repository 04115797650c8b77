"""Project files as text: UTF-8 only (a BOM and CRLF tolerated), regular files only, of a bounded size.

Every reader of project.yaml, xzdoc.yaml and the drafts goes through here, so a file in GB18030, UTF-16, with
a NUL byte, or one that is a FIFO or a device, is refused the same way everywhere, naming the fix.
"""

from __future__ import annotations

import stat
from pathlib import Path

from xzdoc.errors import XzdocError

MAX_BYTES = 2 * 1024 * 1024


def decode(data: bytes, path: str) -> str:
    """UTF-8 text with BOM and CRLF tolerated; anything else is refused with the fix."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        raise XzdocError(
            "文件是 UTF-16 编码，xzdoc 只接受 UTF-8",
            path,
            1,
            hint=f"在编辑器中另存为 UTF-8，或执行：iconv -f UTF-16 -t UTF-8 {path} -o {path}.utf8 && mv {path}.utf8 {path}",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = _guess_encoding(data)
        raise XzdocError(
            f"文件不是 UTF-8 编码（{guess}），xzdoc 只接受 UTF-8",
            path,
            line,
            hint=(
                "在 VS Code 中点击右下角编码→“通过编码保存”→UTF-8，或执行："
                f"iconv -f GB18030 -t UTF-8 {path} -o {path}.utf8 && mv {path}.utf8 {path}"
            ),
        ) from None
    # Asked of the bytes, not the text: in UTF-8 a NUL or CR byte is exactly that character, and
    # memchr over bytes is many times faster than a search of (mostly two-byte) Chinese text.
    if b"\x00" in data:
        raise XzdocError("文件含有空字符（NUL），不是文本文件", path, data.count(b"\n", 0, data.index(b"\x00")) + 1,
                         hint="确认文件未损坏，且不是二进制文件")
    return text.replace("\r\n", "\n").replace("\r", "\n") if b"\r" in data else text


def _guess_encoding(data: bytes) -> str:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return "编码无法识别"
    return "看起来是 GBK/GB18030 编码"


def read_text(path: Path, display: str, limit: int = MAX_BYTES) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        raise XzdocError(f"无法读取文件：{exc.strerror}", display) from None
    if not stat.S_ISREG(info.st_mode):
        # A FIFO blocks the read and /dev/zero never ends it: only a regular file is read.
        raise XzdocError("不是普通文件（是目录、管道或设备）", display, hint="把它换成普通的文本文件")
    size = info.st_size
    if size > limit:
        raise XzdocError(
            f"文件过大（{size / 1048576:.1f} MB），超过 {limit / 1048576:.0f} MB 的上限",
            display,
            hint="项目元数据和文稿应当是几十 KB 的文本；请检查是否误放了数据文件或附件",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise XzdocError(f"无法读取文件：{exc.strerror}", display) from None
    return decode(data, display)
