"""pandoc runs within a wall clock, a CPU-time limit of its own and a heap cap, on the real binary.

WAS UNBOUNDED: pandoc had only the parent's timeout. Killed with SIGKILL, xzdoc left pandoc running for as
long as it liked, and nothing capped its memory (a reviewer's nested-bracket line reached 8.5 GB).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from xzdoc.errors import XzdocError
from xzdoc.render import pandoc

# Nested brackets make pandoc's Markdown reader backtrack: eleven levels take it many seconds.
SLOW = "[" * 11 + "x" + "]" * 11 + "(a)\n"


def _children() -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def _cpu_limit(pid: int) -> tuple[str, str] | None:
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max cpu time"):
                soft, hard = line.split()[3:5]
                return soft, hard
    except OSError:
        return None
    return None


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_a_slow_pandoc_is_stopped_and_carries_its_own_cpu_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pandoc, "TIMEOUT", 2)
    before = set(_children())
    failure: list[BaseException] = []

    def convert() -> None:
        try:
            pandoc.to_ast(SLOW)
        except BaseException as exc:  # handed to the test thread
            failure.append(exc)

    worker = threading.Thread(target=convert)
    worker.start()
    # Every reading is kept: the limit is set just after the spawn, so a first look can come before it.
    seen: dict[int, set[tuple[str, str] | None]] = {}
    while worker.is_alive():
        for pid in set(_children()) - before:
            seen.setdefault(pid, set()).add(_cpu_limit(pid))
        time.sleep(0.05)
    worker.join()
    assert len(failure) == 1 and isinstance(failure[0], XzdocError)
    assert "运行超过 2 秒" in failure[0].message
    # Even a pandoc whose parent was killed stops after this much CPU time.
    assert any(("2", "7") in readings for readings in seen.values()), seen
    # Killed and reaped: nothing is left running, not even a zombie.
    assert not any(Path(f"/proc/{pid}").exists() for pid in seen)


def test_pandoc_stopped_by_its_cpu_limit_before_the_wall_clock_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # pandoc's runtime uses both cores, so CPU time can run out before the wall-clock timeout: the reason must show.
    import resource

    monkeypatch.setattr(pandoc, "_limit_cpu", lambda pid: resource.prlimit(pid, resource.RLIMIT_CPU, (1, 6)))
    with pytest.raises(XzdocError) as caught:
        pandoc.to_ast(SLOW)
    assert caught.value.message == f"pandoc 运行超过 {pandoc.TIMEOUT} 秒（CPU 时间上限）"


def test_pandoc_past_its_heap_cap_is_told_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pandoc, "MEMORY_MB", 64)
    text = ("## 标题\n\n" + "政务信息化项目建设内容与规模，" * 200 + "\n\n") * 400
    with pytest.raises(XzdocError) as caught:
        pandoc.to_ast(text)
    assert "内存上限" in caught.value.message and "64 MB" in caught.value.message


def test_an_ordinary_draft_fits_well_inside_the_caps() -> None:
    text = Path("projects/XZJT-2026-001/drafts/proposal.md").read_text("utf-8")
    assert pandoc.to_ast(text * 4)["blocks"]
