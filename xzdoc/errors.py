"""The single error type users see; raised anywhere, handled once, at the boundary in xzdoc/cli/base.py."""

from __future__ import annotations


class XzdocError(Exception):
    """A user-facing problem: bad input, missing tool, impossible request.

    ``message`` is Chinese and says what is wrong; ``hint`` says how to fix it.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint

    def location(self) -> str:
        if not self.path:
            return ""
        parts = [self.path]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        lines = [f"错误：{self.message}"]
        loc = self.location()
        if loc:
            lines.append(f"位置：{loc}")
        if self.hint:
            lines.append(f"提示：{self.hint}")
        return "\n".join(lines)


class UsageError(XzdocError):
    """A command given a wrong argument or option value: exit 2, like click's own usage errors.

    ``path`` names the argument or option (位置 then says which one to change).
    """


# The system's own reasons are English on every locale a CI runner has; these are the ones users meet.
_REASONS = {
    "ENOENT": "文件或目录不存在（或符号链接指向的文件不存在）",
    "ENOTDIR": "路径中的某一段不是目录",
    "EISDIR": "这是目录，不是文件",
    "EACCES": "没有权限",
    "EPERM": "操作不被允许",
    "EEXIST": "已存在同名的文件或目录",
    "ENAMETOOLONG": "路径或其中一段名称过长",
    "ENOSPC": "磁盘空间不足",
    "EDQUOT": "超出磁盘配额",
    "EROFS": "文件系统是只读的",
    "EBUSY": "文件或设备正忙",
    "ELOOP": "符号链接层数过多（可能是循环链接）",
    "EMFILE": "打开的文件过多",
    "ENFILE": "系统打开的文件过多",
    "EIO": "输入输出错误（磁盘或网络文件系统故障）",
    "ENOTEMPTY": "目录不为空",
    "EXDEV": "不能跨文件系统移动",
    "ETXTBSY": "文件正被程序使用",
    "EFBIG": "文件过大",
    "EINVAL": "参数无效",
    "ENXIO": "设备或地址不存在",
    "ENODEV": "设备不存在",
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in Chinese where the reason is a common one."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    return _REASONS.get(name) or exc.strerror or type(exc).__name__
