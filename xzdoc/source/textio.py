"""Project files as text: UTF-8 only (a BOM and CRLF tolerated), regular files only, of a bounded size.

Every reader of project.yaml, xzdoc.yaml and the drafts goes through here, so a file in GB18030, UTF-16, with
a NUL byte, or one that is a FIFO or a device, is refused the same way everywhere, naming the fix.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from xzdoc.errors import XzdocError, os_reason

MAX_BYTES = 2 * 1024 * 1024
# C0 controls but tab and newline, DEL and C1: no font has a glyph for them (the PDF fails) and XML 1.0,
# which DOCX is, cannot hold most of them.
_CONTROL = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {"\x07": "响铃符", "\x08": "退格符", "\x0b": "垂直制表符", "\x0c": "换页符", "\r": "回车符",
                  "\x1b": "转义符 ESC", "\x7f": "删除符 DEL"}


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


def from_editor(text: str, path: str) -> str:
    """An editor's unsaved text, refused and normalised as :func:`decode` does the same file's bytes."""
    if "\x00" in text:
        raise XzdocError("文件含有空字符（NUL），不是文本文件", path, text.count("\n", 0, text.index("\x00")) + 1,
                         hint="确认文件未损坏，且不是二进制文件")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


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
        raise XzdocError(f"无法读取文件：{os_reason(exc)}", display) from None
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
        raise XzdocError(f"无法读取文件：{os_reason(exc)}", display) from None
    return decode(data, display)


def regular_bytes(path: Path, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; None for anything else, which read_text explains.

    Opened without blocking and checked on the open file: a FIFO swapped in after a stat cannot stall the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limit + 1)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


_NOT_CONTROL = bytes(b for b in range(256) if not (0 < b < 32 or b == 127) or b in (9, 10, 13))
# The UTF-8 lead bytes of every character _UNFIT (below) refuses.
_SUSPECT_LEADS = (0xEE, 0xF0, 0xF3, 0xF4)
_NOT_SUSPECT = bytes(b for b in _NOT_CONTROL if b not in _SUSPECT_LEADS)
_HIGH = bytes(range(0x80, 0x100))


def may_hold(raw: bytes) -> tuple[bool, bool]:
    """Whether the UTF-8 bytes may hold (a control character, an unfit one), from one byte-table pass.

    Several times faster than a search; False is certain. C1 controls are U+0080–U+009F, in UTF-8 a
    0xC2 lead byte then 0x80–0x9F.
    """
    left = raw.translate(None, _NOT_SUSPECT)
    if not left:
        return _c1(raw), False
    controls = left.translate(None, _HIGH)
    return bool(controls) or _c1(raw), len(controls) < len(left)


def _c1(raw: bytes) -> bool:
    at = raw.find(b"\xc2")
    while 0 <= at < len(raw) - 1:
        if 0x80 <= raw[at + 1] <= 0x9F:
            return True
        at = raw.find(b"\xc2", at + 1)
    return False


def strip_controls(text: str) -> str:
    text = text.replace("\x00", "") if "\x00" in text else text
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def first_control(text: str) -> str | None:
    found = _CONTROL.search(text)
    return found.group(0) if found else None


def control_character(text: str, path: str, first_line: int = 1) -> XzdocError | None:
    """The error for the first control character in ``text`` (a document cannot show it), or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    char = found.group(0)
    line = text.count("\n", 0, found.start()) + first_line
    column = found.start() - text.rfind("\n", 0, found.start())
    name = _CONTROL_NAMES.get(char, "不可见的控制字符")
    return XzdocError(f"文稿第{line}行有控制字符 U+{ord(char):04X}（{name}），PDF 和 DOCX 都无法容纳", path, line,
                      hint="删去这个字符；它通常是从网页或其他软件复制文字时带入的", column=column)


# Characters an official document cannot carry whatever fonts are installed: pictographs (emoji and the
# sequences built on them), private-use code points (their meaning lives in one machine's font) and tag
# characters. PDF/A refuses a glyph no font has, so each fails the PDF. The set is what one byte-table pass
# over the UTF-8 can rule out (lead bytes EE, F0, F3, F4); private use from U+F000 shares its lead byte with
# full-width punctuation, and render names its line if no font has it.
_UNFIT = re.compile("[\ue000-\uefff\U0001f000-\U0001faff\U000e0000-\U000e01ef\U000f0000-\U0010ffff]")


def first_unfit(text: str) -> str | None:
    found = _UNFIT.search(text)
    return found.group(0) if found else None


def unfit_kind(char: str) -> str:
    code = ord(char)
    if 0xE000 <= code <= 0xF8FF or code >= 0xF0000:
        return "私用区字符（造字），只有造字的那台电脑的字体能显示"
    if 0x1F000 <= code <= 0x1FAFF:
        return "表情符号或图形符号"
    return "标签字符或变体选择符"


def unfit_character(text: str, path: str, what: str = "文稿") -> XzdocError | None:
    """The error for the first character an official document cannot show (see _UNFIT), or None."""
    found = _UNFIT.search(text)
    if found is None:
        return None
    char = found.group(0)
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - text.rfind("\n", 0, found.start())
    return XzdocError(f"{what}第{line}行有 U+{ord(char):04X}（{unfit_kind(char)}），公文字体中没有它的字形，PDF 无法生成",
                      path, line, hint="删去它，或改用文字表述；表情符号不能用于公文", column=column)

