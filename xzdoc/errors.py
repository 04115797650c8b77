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
