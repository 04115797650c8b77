"""`xzdoc --help` against a bare `python -c pass`: heavy modules must load lazily.

    python bench/startup.py [--repeat 15]

Both run as fresh processes of the same interpreter; best of --repeat each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

TARGET = 3.0


def best(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    base = best([sys.executable, "-c", "pass"], args.repeat)
    ours = best([sys.executable, "-m", "xzdoc", "--help"], args.repeat)
    ratio = ours / base
    print(f"start-up: xzdoc --help {ours * 1000:.0f} ms, python -c pass {base * 1000:.0f} ms, "
          f"ratio {ratio:.2f}x (target <= {TARGET}x) {'OK' if ratio <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
