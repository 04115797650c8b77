"""Validate N generated projects against bare libyaml parsing of the same YAML, in one process.

    python bench/validate.py [--projects 1000] [--repeat 3]

Prints the ratio (target: 1.5x or less). Both sides read the files from disk;
the baseline only parses project.yaml with yaml.CSafeLoader, xzdoc also reads
the drafts and runs every rule.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xzdoc import config  # noqa: E402
from xzdoc.rules import engine as check  # noqa: E402

TEMPLATE = ROOT / "projects" / "XZJT-2025-002"
TARGET = 1.5


def generate(root: Path, count: int) -> list[Path]:
    text = (TEMPLATE / "project.yaml").read_text("utf-8")
    files = []
    for i in range(count):
        pid = f"XZJT-2031-{i:03d}" if i < 1000 else f"XZJB-2031-{i - 1000:03d}"
        folder = root / "projects" / pid
        shutil.copytree(TEMPLATE / "drafts", folder / "drafts")
        body = text.replace("XZJT-2025-002", pid).replace("130204-000", f"1302{i:05d}-000")
        body = body.replace("XZJT-SYS-002", f"XZJT-SYS-{i % 1000:03d}")
        (folder / "project.yaml").write_text(body, "utf-8")
        files.append(folder / "project.yaml")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    return files


def baseline(files: list[Path]) -> float:
    start = time.perf_counter()
    for file in files:
        yaml.load(file.read_text("utf-8"), Loader=yaml.CSafeLoader)
    return time.perf_counter() - start


def ours(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = check.validate(config.load(root), [root / "projects"])
    return time.perf_counter() - start, len(result.findings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = generate(root, args.projects)
        base_times, our_times = [], []
        for _ in range(args.repeat):
            base_times.append(baseline(files))
            elapsed, findings = ours(root)
            our_times.append(elapsed)
        base, mine = min(base_times), min(our_times)
    ratio = mine / base
    print(f"validate {args.projects} projects: xzdoc {mine:.3f}s, CSafeLoader only {base:.3f}s, "
          f"ratio {ratio:.2f}x (target <= {TARGET}x) {'OK' if ratio <= TARGET else 'MISSED'}; findings: {findings}")


if __name__ == "__main__":
    main()
