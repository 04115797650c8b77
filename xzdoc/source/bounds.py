"""Bounds on the work a draft's template may make xzdoc do: steps, number sizes and memory.

Jinja's sandbox keeps a draft away from Python internals but not from the
machine: two nested ``range(100000)`` loops, ``10 ** 10000000``,
``'x'|center(10**10)`` or squaring a number a dozen times would hold validate
and render for hours or exhaust memory, and a draft arrives in an untrusted
pull request. So, while a draft's template renders:

- every Python trace event is a step (the filters' own code included), and
  every call is charged extra steps for the long strings and lists it is
  handed, since C code walks them without an event; a clock is the backstop;
- powers, integer arithmetic, repetitions, padding and format widths that
  would build something huge are refused before they run, and any result past
  ITEMS items is refused after;
- nothing is computed while Jinja compiles (it would fold constant filters,
  tests and arithmetic outside every bound);
- the address space may grow by HEADROOM at most.

Each bound raises ``Exhausted``; the sandbox turns it into an XzdocError at
the draft's line.

This module imports Jinja at once; only the sandbox imports it, and only when
a template is compiled.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

# A draft's real template work (a few dozen references, perhaps a loop over budget years) takes a few
# thousand trace events; this bound is reached after about a second of hostile work.
STEPS = 2_000_000
# C code works on a long string or list without a trace event: each call is charged a step per CHARGE items
# it is handed or returns (building a list costs about that), and no run may take longer than SECONDS
# whatever its steps (one C call on ITEMS items takes milliseconds).
CHARGE = 20
SECONDS = 10.0
ITEMS = 1_000_000  # the longest string, bytes or list one operation may build
BITS = 100_000  # the largest integer arithmetic may take or produce (about 30,000 digits)
HEADROOM = 1 << 30  # how far the address space may grow while a draft runs
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC = re.compile(r"\{[^{}]*:([^{}]*)([{}]?)")  # a replacement field's format spec; "{" after it: a nested width
_DIGITS = re.compile(r"\d+")
_PADDING = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset)


class Exhausted(Exception):
    """A draft's template asked for more than the bounds allow; the message is the user's."""


class GuardedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with what costs far more than its text refused or charged for.

    Intercepting an operator also keeps Jinja from computing it while compiling, outside the bounds.
    """

    intercepted_binops = frozenset({"*", "**", "%", "//", "/", "+", "-"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _counted(f) for name, f in self.filters.items()}
        self.tests = {name: _counted(f) for name, f in self.tests.items()}  # type: ignore[arg-type]

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        if operator != "**":
            _check_bits(left, right)
        if operator == "%" and isinstance(left, str):
            _check_format(left)
        _charge(left, right)
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # str.format and format_map never get here as themselves: the sandbox hands out a wrapper (see
        # wrap_str_format, where their format strings are checked).
        name = getattr(__obj, "__name__", "")
        owner = getattr(__obj, "__self__", None)
        if name in _PADDING and any(type(a) is int and a > ITEMS for a in (*args, *kwargs.values())):
            raise Exhausted(f"文稿中的模板表达式要生成的内容过长（{name} 的宽度超过 {ITEMS:,}），已拒绝")
        _charge(owner, *args, *kwargs.values())
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        if isinstance(getattr(value, "__self__", None), str) and getattr(value, "__name__", "") in ("format",
                                                                                                    "format_map"):
            _check_format(value.__self__)
        return super().wrap_str_format(value)


def _charge(*values: Any) -> None:
    """Steps for the items C code will walk: a cheap-looking call on a long string is not cheap."""
    size = sum(len(v) for v in values if isinstance(v, _SIZED))
    if size >= CHARGE and _local.__dict__.get("depth"):
        _local.steps += size // CHARGE


def _sized(value: Any) -> Any:
    """The result, charged for as an argument is (building it was C work too), unless it is past ITEMS."""
    if isinstance(value, _SIZED):
        if len(value) > ITEMS:
            raise Exhausted(f"文稿中的模板表达式生成的内容过长（{len(value):,} 项，上限 {ITEMS:,}），已拒绝")
        _charge(value)
    return value


def _check_bits(left: Any, right: Any) -> None:
    # CPython multiplies and divides big integers in more than linear time.
    for n in (left, right):
        if type(n) is int and n.bit_length() > BITS:
            raise Exhausted(f"文稿中的模板表达式要计算的数值过大（{_number(n)}），已拒绝")


def _check_power(left: Any, right: Any) -> None:
    if (type(left) in (int, bool) and type(right) in (int, bool) and right > 0 and abs(left) > 1
            and (right > BITS or right * math.log2(abs(left)) > BITS)):  # |left| ≥ 2: log2 ≥ 1
        raise Exhausted(f"文稿中的模板表达式要计算的数值过大（{_number(left)} 的 {_number(right)} 次方），已拒绝")


def _number(n: int) -> str:
    # str() of a number past 4,300 digits raises, and a long one would bury the message.
    return str(n) if n.bit_length() < 64 else f"一个约 {int(n.bit_length() * 0.30103) + 1} 位的数"


def _check_repeat(seq: Any, times: Any) -> None:
    if isinstance(seq, (str, bytes, bytearray, list, tuple)) and type(times) is int and len(seq) * times > ITEMS:
        raise Exhausted(f"文稿中的模板表达式要生成的内容过长（{len(seq)} × {times}，上限 {ITEMS:,}），已拒绝")


def _check_format(fmt: str) -> None:
    for m in _PERCENT.finditer(fmt):
        for width in m.groups():
            if width == "*" or (width is not None and int(width) > ITEMS):
                raise Exhausted(f"文稿中的格式字符串“{m.group(0)}”要求的宽度或精度过大，已拒绝")
    if "{" in fmt:
        for m in _SPEC.finditer(fmt):
            spec, after = m.groups()
            if after == "{" or any(len(d) > 7 or int(d) > ITEMS for d in _DIGITS.findall(spec)):
                raise Exhausted(f"文稿中的格式字符串“{m.group(0)[:40]}”要求的宽度或精度过大（或由参数给出），已拒绝")


def _counted(f: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, run inside the bounds and never while the template compiles.

    Jinja evaluates a filter with constant arguments at compile time, outside
    any render, unless the filter asks for the render context; asking for it
    leaves every filter call to the counted render.
    """
    passes = getattr(getattr(f, "jinja_pass_arg", None), "name", None)

    @jinja2.pass_context  # outermost: wraps() copies the filter's own jinja_pass_arg, which this replaces
    @functools.wraps(f)
    def run(context: Any, *args: Any, **kwargs: Any) -> Any:
        if passes == "context":
            args = (context, *args)
        elif passes == "eval_context":
            args = (context.eval_ctx, *args)
        elif passes == "environment":
            args = (context.environment, *args)
        if f.__name__ == "do_format" and args and isinstance(args[0], str):
            _check_format(args[0])
        with bounded():
            _charge(*args, *kwargs.values())
            return _sized(f(*args, **kwargs))

    return run


_local = threading.local()
_memory = threading.Lock()
_memory_users = 0
_memory_saved: tuple[int, int] | None = None


@contextmanager
def bounded() -> Iterator[None]:
    """Count every step run inside, and cap the address space; re-entrant, per thread."""
    if getattr(_local, "depth", 0):
        _local.depth += 1
        try:
            yield
        finally:
            _local.depth -= 1
        return
    _local.depth = 1
    _local.steps = 0
    _local.line = None
    _local.deadline = time.monotonic() + SECONDS
    previous = sys.gettrace()
    _cap_memory()
    sys.settrace(_step)
    try:
        yield
    except MemoryError as exc:  # keeps the template's frames, which give the draft's line
        raise Exhausted("文稿中的模板表达式占用内存过多，已中止").with_traceback(exc.__traceback__) from None
    finally:
        sys.settrace(previous)
        _release_memory()
        _local.depth = 0


def _step(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
    if frame.f_code.co_filename == "<template>":
        # Jinja maps a failure back to its template line by rewriting the traceback, which itself needs
        # memory; the last template line run is kept for when that rewriting fails too.
        _local.line = frame.f_lineno
    _local.steps += 1
    if not _local.steps & 0x3FF and time.monotonic() > _local.deadline and _local.steps > 0:
        _local.steps = -STEPS
        raise Exhausted(f"文稿中的模板计算耗时过长（超过 {SECONDS:.0f} 秒），已中止")
    if _local.steps > STEPS:
        _local.steps = -STEPS  # room for the frames that unwind and for Jinja's traceback rewriting
        raise Exhausted(f"文稿中的模板计算量过大（超过 {STEPS:,} 步），已中止")
    return _step


def last_line() -> int | None:
    """The line of the compiled template (Python source) that ran last in this thread's bounded run."""
    return getattr(_local, "line", None)


def _cap_memory() -> None:
    global _memory_users, _memory_saved
    try:
        import resource
    except ImportError:  # no address-space limit on this platform: steps and sizes still bound the work
        return
    with _memory:
        _memory_users += 1
        if _memory_users > 1:
            return
        size = _address_space()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if size is None:
            return
        cap = size + HEADROOM
        if (soft != resource.RLIM_INFINITY and soft <= cap) or (hard != resource.RLIM_INFINITY and hard < cap):
            return
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        _memory_saved = (soft, hard)


def _release_memory() -> None:
    global _memory_users, _memory_saved
    try:
        import resource
    except ImportError:
        return
    with _memory:
        _memory_users -= 1
        if _memory_users == 0 and _memory_saved is not None:
            resource.setrlimit(resource.RLIMIT_AS, _memory_saved)
            _memory_saved = None


def _address_space() -> int | None:
    import os

    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def environment() -> GuardedEnvironment:
    from xzdoc.source.sandbox import printable

    return GuardedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, finalize=printable)
