"""Every benchmark in one run: validate, render, site, ledger, start-up and the language server, each as a ratio against its baseline.

    python bench/run.py

Each benchmark is its own script (run it alone for details and options); this
runs them one after another in fresh processes and repeats the lines that
state a ratio and its target at the end. Exit code 1 when any target is missed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("validate.py", "render.py", "site.py", "ledger.py", "startup.py", "lsp.py")


def main() -> int:
    verdicts: list[str] = []
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        proc = subprocess.run([sys.executable, str(HERE / script)], capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode:
            sys.stdout.write(proc.stderr)
            verdicts.append(f"{script}: failed to run (exit {proc.returncode})")
            continue
        verdicts += [line.strip() for line in proc.stdout.splitlines() if "target" in line]
    print("\n== summary")
    for line in verdicts:
        print(line)
    # A figure without a verdict is a benchmark that forgot to judge itself: count it as missed.
    unjudged = [v for v in verdicts if not re.search(r"\b(OK|MISSED)\b", v)]
    for line in unjudged:
        print(f"no OK/MISSED verdict: {line}")
    missed = [v for v in verdicts if re.search(r"\bMISSED\b", v) or "failed to run" in v]
    print(f"\n{len(verdicts) - len(missed) - len(unjudged)} OK, {len(missed)} MISSED, {len(unjudged)} without a verdict")
    return 1 if unjudged or missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
