"""The dashboard on an unchanged repository against validating it: `xzdoc site` rerun vs `xzdoc validate`.

    python bench/site.py [--projects 300] [--repeat 5]

A git repository of generated projects (copies of projects/XZJT-2025-002
with their own ids, drafts varied, as bench/validate.py makes them),
committed on main. `xzdoc site` runs once to build the page; then the
unchanged rerun of `xzdoc site` and `xzdoc validate` over the same
repository are timed as whole commands (interpreter start, imports, git),
in turn (ABAB...) after one warm-up each; the ratio of the medians is
printed against the 1.2x target. The rerun must say the page is unchanged
and keep its bytes and mtime.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import compiled, interleaved, median, verdict  # noqa: E402
from validate import generate  # noqa: E402

TARGET = 1.2
AS_OF = "2026-11-20"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
       "GIT_AUTHOR_DATE": "2026-03-02T10:00:00+08:00", "GIT_COMMITTER_DATE": "2026-03-02T10:00:00+08:00"}


def xzdoc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # validate exits 1 when it reports errors; either way it has done its whole work.
    done = subprocess.run([sys.executable, "-m", "xzdoc", *args], cwd=repo, env=ENV, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"xzdoc {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def prepare(repo: Path, count: int) -> None:
    generate(repo, count)
    (repo / ".gitignore").write_text("/dist/\n", "utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", f"{count} projects"]):
        subprocess.run(["git", *args], cwd=repo, env=ENV, check=True)


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xzdoc-bench-") as tmp:
        repo = Path(tmp) / "repo"
        prepare(repo, args.projects)
        site_args = ("site", "--as-of", AS_OF)
        first = xzdoc(repo, *site_args)
        assert "已生成" in first.stdout, first.stdout + first.stderr
        page = repo / "dist" / "site" / "index.html"
        before, mtime = page.read_bytes(), page.stat().st_mtime_ns

        def rerun() -> None:
            done = xzdoc(repo, *site_args)
            assert "未变化" in done.stdout, done.stdout + done.stderr

        def check() -> None:
            xzdoc(repo, "validate", "--as-of", AS_OF)

        rerun(), check()
        site_times, validate_times = interleaved([rerun, check], args.repeat)
        assert page.read_bytes() == before and page.stat().st_mtime_ns == mtime, "the unchanged page was rewritten"
        s, v = median(site_times), median(validate_times)
        print(verdict(f"site rerun on {args.projects} unchanged projects", s / v, TARGET,
                      f"xzdoc site {s:.3f} s, xzdoc validate {v:.3f} s, whole commands in git, "
                      f"median of {args.repeat} interleaved runs"))


if __name__ == "__main__":
    main()
