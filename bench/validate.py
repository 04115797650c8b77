"""Validate generated projects against a floor that reads the same bytes, and memory at two sizes.

    python bench/validate.py [--projects 1000] [--large 10000] [--repeat 5]

Speed: the baseline reads what xzdoc reads (every project.yaml and every
draft), runs libyaml's C event stream over the YAML and decodes the drafts
as UTF-8: the least any validator must do. xzdoc runs ``engine.validate``
(tree, schema, every rule, the cross-project index). Both run in this
process, in turn (ABAB...), after one warm-up each; the ratio of the
medians is printed against the 2x target. Two lines: "cold (no cache)"
runs with the result cache off; "warm cache (unchanged projects)" runs
with a cache filled by one earlier run, as a second ``xzdoc validate`` over
an unchanged repository finds it.

Memory: ``xzdoc validate`` is run in a fresh child process over --projects
and over --large projects; each child reports its peak resident set
(VmHWM, else ``resource.getrusage``). Validation streams, so the larger portfolio may
need at most 1.3x the smaller one's peak. The child of the baseline is
printed for comparison.

Projects are copies of projects/XZJT-2025-002 with their own ids, system
ids and resource codes. Each project's drafts are varied (most sentences get
a clause of their own, naming the project's own area: two projects' varied
sentences never coincide by chance), so that, as in a real
portfolio, projects share some boilerplate but do not copy each other's
chapters, and the reuse check does its normal work rather than reporting
every pair.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import compiled, interleaved, median, verdict  # noqa: E402

TEMPLATE = ROOT / "projects" / "XZJT-2025-002"
TARGET, MEMORY_TARGET = 2.0, 1.3
DISTRICTS = ("忻府区", "原平市", "定襄县", "五台县", "代县", "繁峙县", "宁武县", "静乐县", "神池县", "五寨县", "岢岚县",
             "河曲县", "保德县", "偏关县")
VARIED = 0.85     # share of a draft's sentences given a clause of their own


def vary(text: str, rng: random.Random, number: int) -> str:
    """The draft with most prose sentences extended; headings, tables and template lines kept as they are."""
    out = []
    for line in text.split("\n"):
        if line.startswith(("#", "|")) or "{" in line or "。" not in line:
            out.append(line)
            continue
        parts = line.split("。")
        out.append("。".join(p + f"，覆盖{rng.choice(DISTRICTS)}第{number}片区{rng.randint(2, 999)}个站点"
                            if p and i < len(parts) - 1 and rng.random() < VARIED else p
                            for i, p in enumerate(parts)))
    return "\n".join(out)


def generate(root: Path, count: int) -> None:
    text = (TEMPLATE / "project.yaml").read_text("utf-8")
    drafts = {d.name: d.read_text("utf-8") for d in (TEMPLATE / "drafts").iterdir()}
    for i in range(count):
        # Ids are PREFIX-YYYY-NNN: the thousands go into the prefix (XZA, XZB, ...).
        prefix = "XZ" + "".join(chr(65 + int(d)) for d in str(i // 1000))
        pid = f"{prefix}-2031-{i % 1000:03d}"
        folder = root / "projects" / pid
        (folder / "drafts").mkdir(parents=True)
        rng = random.Random(i)
        for name, draft in sorted(drafts.items()):
            draft = draft.replace("XZJT-2025-002", pid).replace("XZJT-SYS-002", f"{prefix}-SYS-{i % 1000:03d}")
            (folder / "drafts" / name).write_text(vary(draft, rng, i), "utf-8")
        body = text.replace("XZJT-2025-002", pid).replace("130204-000", f"13{i:07d}-000")
        body = body.replace("XZJT-SYS-002", f"{prefix}-SYS-{i % 1000:03d}")
        (folder / "project.yaml").write_text(body, "utf-8")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")


def baseline(root: Path) -> int:
    """Same bytes, libyaml's event stream over the YAML, drafts decoded; returns the events seen."""
    from yaml.cyaml import CParser

    events = 0
    end = yaml.StreamEndEvent
    for folder in sorted((root / "projects").iterdir()):
        parser = CParser((folder / "project.yaml").read_bytes().decode("utf-8"))
        get = parser.get_event
        while type(get()) is not end:
            events += 1
        parser.dispose()
        for draft in sorted((folder / "drafts").iterdir()):
            draft.read_bytes().decode("utf-8")
    return events


def ours(root: Path, cache: bool | Path = False) -> int:
    from xzdoc import config
    from xzdoc.rules import engine

    return len(engine.validate(config.load(root), cache=cache).findings)


def _untimed(work: object, root: Path) -> None:
    work(root)  # type: ignore[operator]


def child(kind: str, root: Path) -> None:
    import resource

    count = ours(root) if kind == "xzdoc" else baseline(root)
    # ru_maxrss survives fork and exec, so a child reports its parent's peak when that is higher;
    # the kernel's high-water mark of this process's own memory (VmHWM) does not.
    try:
        status = Path("/proc/self/status").read_text("ascii")
        kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    except (OSError, StopIteration):
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(count, kib)


def peak(kind: str, root: Path) -> tuple[int, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(root)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1]) / 1024


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="xzdoc-bench-") as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        generate(small, args.projects)
        findings = ours(small)
        baseline(small)
        base, mine = interleaved([lambda: _untimed(baseline, small), lambda: _untimed(ours, small)], args.repeat)
        b, o = median(base), median(mine)
        print(verdict(f"validate {args.projects} projects, cold (no cache)", o / b, TARGET,
                      f"xzdoc {o:.3f} s, same bytes read + libyaml events + drafts decoded {b:.3f} s, "
                      f"median of {args.repeat} interleaved runs; {findings} findings"))
        store = Path(tmp) / "cache"
        warm = ours(small, store)
        assert warm == findings, f"warm cache gives {warm} findings, cold {findings}"
        base, mine = interleaved([lambda: _untimed(baseline, small), lambda: _untimed(partial(ours, cache=store), small)],
                                 args.repeat)
        b, o = median(base), median(mine)
        print(verdict(f"validate {args.projects} projects, warm cache (unchanged projects)", o / b, TARGET,
                      f"xzdoc {o:.3f} s, same bytes read + libyaml events + drafts decoded {b:.3f} s, "
                      f"median of {args.repeat} interleaved runs; {findings} findings"))
        generate(large, args.large)
        (_, m_small), (_, m_large) = peak("xzdoc", small), peak("xzdoc", large)
        (_, b_small), (_, b_large) = peak("baseline", small), peak("baseline", large)
        print(verdict(f"validate memory, {args.large} against {args.projects} projects", m_large / m_small,
                      MEMORY_TARGET, f"peak RSS xzdoc {m_small:.0f} MiB -> {m_large:.0f} MiB "
                      f"(baseline {b_small:.0f} MiB -> {b_large:.0f} MiB)"))


if __name__ == "__main__":
    main()
