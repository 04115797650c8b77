"""Start-up: ``xzdoc --help`` against ``python -c "import click"``, and ``xzdoc validate`` on one project
against ``python -c "import click, yaml"``.

    python bench/startup.py [--repeat 15]

Every side is a fresh process of the same interpreter, run in turn (ABAB...);
the ratio of the medians is printed against its target (1.2x and 3x).
Find what a command imports with ``python -X importtime -m xzdoc --help``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import command, compiled, interleaved, median, verdict  # noqa: E402

HELP_TARGET, VALIDATE_TARGET = 1.2, 3.0


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    env_root = {"cwd": str(ROOT)}
    base, ours = interleaved([command([py, "-c", "import click"], **env_root),
                              command([py, "-m", "xzdoc", "--help"], **env_root)], args.repeat)
    b, o = median(base), median(ours)
    print(verdict("start-up, xzdoc --help against import click", o / b, HELP_TARGET,
                  f"{o * 1000:.0f} ms against {b * 1000:.0f} ms, median of {args.repeat} interleaved runs"))
    with tempfile.TemporaryDirectory(prefix="xzdoc-bench-") as tmp:
        repo = Path(tmp)
        shutil.copytree(ROOT / "projects" / "XZJT-2025-002", repo / "projects" / "XZJT-2025-002")
        (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
        where = {"cwd": str(repo), "env": {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}}
        base, ours = interleaved([command([py, "-c", "import click, yaml"], **where),
                                  command([py, "-m", "xzdoc", "validate", "--as-of", "2026-11-20"], **where)],
                                 args.repeat)
    b, o = median(base), median(ours)
    print(verdict("start-up, xzdoc validate (one project) against import click, yaml", o / b, VALIDATE_TARGET,
                  f"{o * 1000:.0f} ms against {b * 1000:.0f} ms, median of {args.repeat} interleaved runs"))


if __name__ == "__main__":
    main()
