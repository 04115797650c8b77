"""What every benchmark shares: interleaved runs, medians and the verdict line.

On a shared machine a load spike lasting a few seconds would land on one side
if xzdoc's runs were all taken before the baseline's. Running the two in turn
(ABAB...) and comparing medians keeps both sides under the same load.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def interleaved(sides: Sequence[Callable[[], float | None]], repeat: int) -> list[list[float]]:
    """Run each side once per round, in turn; a side returns its own time or None to be timed here."""
    times: list[list[float]] = [[] for _ in sides]
    for _ in range(repeat):
        for i, side in enumerate(sides):
            start = time.perf_counter()
            took = side()
            times[i].append(took if took is not None else time.perf_counter() - start)
    return times


def median(times: Sequence[float]) -> float:
    return statistics.median(times)


def command(args: Sequence[str], **kwargs: object) -> Callable[[], None]:
    """A whole command as one side: interpreter start, imports and work."""
    def run() -> None:
        subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return run


def verdict(label: str, value: float, target: float, detail: str = "", unit: str = "x") -> str:
    """One line with the figure, its target and OK or MISSED (bench/run.py collects these lines)."""
    line = f"{label}: {value:.2f}{unit} (target <= {target}{unit}) {'OK' if value <= target else 'MISSED'}"
    return f"{line}; {detail}" if detail else line


def python() -> str:
    return sys.executable


def compiled() -> None:
    """Write xzdoc's bytecode before anything is timed.

    The README installs with ``pip install .``, which compiles every module as it installs, and the
    baselines' packages (click, yaml) were compiled when pip installed them. Run from a checkout under
    PYTHONDONTWRITEBYTECODE, each timed process would instead compile all of xzdoc's sources afresh,
    a cost no installed copy pays.
    """
    import compileall
    from pathlib import Path

    compileall.compile_dir(Path(__file__).resolve().parent.parent / "xzdoc", quiet=1)
