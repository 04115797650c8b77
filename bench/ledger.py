"""The approval ledger over a generated 10,000-commit history against a replay of the git commands it runs.

    python bench/ledger.py [--commits 10000] [--projects 100] [--repeat 7] [--keep DIR]

The history is written with ``git fast-import``: pull requests of one to four
commits on a branch, each merged into main with a merge commit (mostly by an
approver of the role the stage change needs, sometimes not), plus direct
pushes to main. Project files are the size of the demo projects. Both sides
read the same repository in the same run. The ledger is timed as a whole
command (a fresh interpreter: imports, its git calls and the Python that
derives the records). The baseline is the git work that run needs, timed as
a whole command too: the very git commands the ledger ran (recorded once,
with their input), replayed by one shell script. A first run (no facts cache,
so every project.yaml version is read) and a later run (facts found in
``.git/xzdoc/facts.bin``) each have their own baseline, since a later run
asks git for less. The two sides run in turn (ABAB...); the ratio of the
medians is judged against the 1.5x target, and the best of each is printed
too.

(``python bench/ledger.py --keep /tmp/ledgerfast`` keeps the generated
repository and the recorded scripts there, for profiling.)

What the ledger run does (xzdoc/history/gitlog.py, log.py, ledger.py,
facts.py): one ``git rev-parse`` (top level, git directory, shallow?), one
``git for-each-ref``, one ``git log --first-parent --raw`` read whole and
taken apart (log.py), one ``git cat-file --batch`` for the xzdoc.yaml
versions and the project.yaml versions the facts cache lacks, each of those
parsed by the strict loader (facts.py; cached by blob id in
``.git/xzdoc/facts.bin``), one ``--batch-check`` for the merges'
second-parent contents (merges.py) and one ``git diff-tree --stdin`` for the
folders that drifted (walk.py).
"""

from __future__ import annotations

import argparse
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from common import compiled, verdict  # noqa: E402

from xzdoc import config  # noqa: E402
from xzdoc.history import gitlog, ledger  # noqa: E402

TARGET = 1.5
TEMPLATE = (ROOT / "projects" / "XZJT-2025-002" / "project.yaml").read_text("utf-8")
STAGES = ["draft", "submitted", "reviewed", "approved", "contracted", "building", "accepted", "operating"]
APPROVERS = {"局党组": ("王建国", "wangjianguo@xzjt.example.gov.cn"), "数据中心": ("张伟", "zhangwei@xzjt.example.gov.cn")}
GATE = {"submitted": "局党组", "reviewed": "局党组", "approved": "数据中心", "contracted": "数据中心",
        "building": "局党组", "accepted": "局党组", "operating": "局党组"}
DEVELOPERS = [("赵工程师", "zhao@vendor.example.com"), ("钱工程师", "qian@vendor.example.com")]
CONFIG = """organisation: 忻州市交通运输局
approvers:
  局党组:
    - {name: 王建国, email: wangjianguo@xzjt.example.gov.cn}
  数据中心:
    - {name: 张伟, email: zhangwei@xzjt.example.gov.cn}
  财务科:
    - {name: 陈静, email: chenjing@xzjt.example.gov.cn}
"""


class Stream:
    """A fast-import stream; each commit one minute after the last."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.mark = 0
        self.clock = 1_767_225_600   # 2026-01-01
        self.commits = 0

    def data(self, payload: bytes) -> None:
        self.parts += [f"data {len(payload)}\n".encode(), payload, b"\n"]

    def commit(self, ref: str, who: tuple[str, str], message: str, files: list[tuple[str, bytes]],
               parent: int | None = None, merge: int | None = None) -> int:
        self.mark += 1
        self.clock += 60
        self.commits += 1
        ident = f"{who[0]} <{who[1]}> {self.clock} +0800"
        self.parts.append(f"commit {ref}\nmark :{self.mark}\nauthor {ident}\ncommitter {ident}\n".encode())
        self.data(message.encode())
        if parent is not None:
            self.parts.append(f"from :{parent}\n".encode())
        if merge is not None:
            self.parts.append(f"merge :{merge}\n".encode())
        for path, payload in files:
            self.parts.append(f"M 100644 inline {path}\n".encode())
            self.data(payload)
        return self.mark


def project_yaml(pid: str, stage: str, revision: int) -> bytes:
    text = TEMPLATE.replace("XZJT-2025-002", pid).replace("stage: building", f"stage: {stage}")
    return text.replace("target: ≥95%", f"target: ≥{90 + revision % 10}%").encode()


def generate(root: Path, commits: int, projects: int, seed: int = 4) -> int:
    """Write the history; returns the number of stage changes made."""
    rnd = random.Random(seed)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    stream = Stream()
    ids = [f"XZJT-2026-{i:03d}" for i in range(projects)]
    stage = dict.fromkeys(ids, 0)
    files = [(f"projects/{pid}/project.yaml", project_yaml(pid, "draft", 0)) for pid in ids]
    files.append(("xzdoc.yaml", CONFIG.encode()))
    main = stream.commit("refs/heads/main", DEVELOPERS[0], "初始化", files)
    changes = revision = 0
    while stream.commits < commits:
        if rnd.random() < 0.05:
            revision += 1
            main = stream.commit("refs/heads/main", rnd.choice(DEVELOPERS), "更新说明",
                                 [("README.md", f"修订 {revision}\n".encode())], parent=main)
            continue
        pid = rnd.choice(ids)
        tip = main
        touched: dict[str, bytes] = {}
        for _ in range(rnd.randint(1, 4)):
            revision += 1
            path = f"projects/{pid}/drafts/proposal.md" if rnd.random() < 0.5 else f"projects/{pid}/project.yaml"
            touched[path] = (f"# 一、项目概述\n\n第 {revision} 稿。\n".encode() if path.endswith(".md")
                             else project_yaml(pid, STAGES[stage[pid]], revision))
            tip = stream.commit("refs/heads/pr", rnd.choice(DEVELOPERS), "修改材料", [(path, touched[path])], parent=tip)
        advance = stage[pid] < len(STAGES) - 1 and rnd.random() < 0.3
        if advance:
            stage[pid] += 1
            changes += 1
        revision += 1
        path = f"projects/{pid}/project.yaml"
        touched[path] = project_yaml(pid, STAGES[stage[pid]], revision)
        tip = stream.commit("refs/heads/pr", rnd.choice(DEVELOPERS), "推进阶段" if advance else "修改",
                            [(path, touched[path])], parent=tip)
        needed = GATE.get(STAGES[stage[pid]], "局党组")
        merger = APPROVERS[needed] if rnd.random() < 0.9 else rnd.choice(DEVELOPERS)
        # fast-import starts a merge from its first parent's tree: replay what the branch changed.
        main = stream.commit("refs/heads/main", merger, f"Merge pull request #{revision}", sorted(touched.items()),
                             parent=main, merge=tip)
    stream.parts.append(b"reset refs/heads/pr\nfrom 0000000000000000000000000000000000000000\n\n")
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(stream.parts), check=True)
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True)
    subprocess.run(["git", "-C", str(root), "gc", "-q"], check=True)
    return changes


def record(root: Path, cold: bool, folder: Path) -> tuple[Path, ledger.Ledger]:
    """Run the ledger in-process once, writing the git commands it runs (with their input) as a shell script."""
    if cold:
        shutil.rmtree(root / ".git" / "xzdoc", ignore_errors=True)
    calls: list[tuple[tuple[str, ...], bytes | None, tuple[str, ...]]] = []
    real = gitlog.start   # every git command goes through it, awaited at once (run) or later

    def spy(where: Path, *args: str, stdin: bytes | None = None, env: object = None, config: tuple[str, ...] = (),
            **options: bool) -> gitlog.Pending:
        calls.append((args, stdin, tuple(config)))
        return real(where, *args, stdin=stdin, env=env, config=config, **options)  # type: ignore[arg-type]

    gitlog.start = spy  # type: ignore[assignment]
    try:
        book = ledger.build(config.load(root))
    finally:
        gitlog.start = real  # type: ignore[assignment]
    assert book is not None
    lines = ["set -e", f"cd {shlex.quote(str(root))}"]
    for i, (args, stdin, options) in enumerate(calls):
        command = ["git", "--no-replace-objects", *[x for o in options for x in ("-c", o)], *args]
        source = folder / f"{'cold' if cold else 'warm'}-{i}.in"
        source.write_bytes(stdin or b"")
        lines.append(f"{shlex.join(command)} < {shlex.quote(str(source))} > /dev/null")
    script = folder / f"{'cold' if cold else 'warm'}.sh"
    script.write_text("\n".join(lines) + "\n")
    return script, book


def bare(script: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["sh", str(script)], check=True)
    return time.perf_counter() - start


COMMAND = ("import sys, pathlib; from xzdoc import config; from xzdoc.history import ledger; "
           "ledger.build(config.load(pathlib.Path(sys.argv[1])))")


def ours(root: Path, cold: bool) -> float:
    if cold:
        # The per-blob facts cache in .git/xzdoc: without it every project.yaml version is read.
        shutil.rmtree(root / ".git" / "xzdoc", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", COMMAND, str(root)], check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="generate into this (new or empty) folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(args.keep or scratch)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            if any(args.keep.iterdir()):
                parser.error(f"{args.keep} is not empty")
        root = Path(tmp) / "bureau"
        changes = generate(root, args.commits, args.projects)
        total = int(subprocess.run(["git", "-C", str(root), "rev-list", "--count", "main"], check=True,
                                   capture_output=True, text=True).stdout)
        line = int(subprocess.run(["git", "-C", str(root), "rev-list", "--first-parent", "--count", "main"],
                                  check=True, capture_output=True, text=True).stdout)
        cold_script, book = record(root, True, Path(tmp))
        warm_script, _ = record(root, False, Path(tmp))
        times: dict[str, list[float]] = {"cold": [], "cold git": [], "warm": [], "warm git": []}
        for _ in range(args.repeat):
            times["cold git"].append(bare(cold_script))
            times["cold"].append(ours(root, cold=True))
            times["warm git"].append(bare(warm_script))
            times["warm"].append(ours(root, cold=False))
    stage_records = sum(1 for r in book.records if r.change == "stage" and r.roles)
    print(f"ledger over {total} commits ({line} on the first-parent line, {stage_records} gated stage changes of "
          f"{changes} generated, {len(book.problems())} current findings)")
    for label, key in (("first run (no facts cache)", "cold"), ("later runs (facts cached in .git/xzdoc)", "warm")):
        ours_, base = times[key], times[f"{key} git"]
        mid, floor = statistics.median(ours_), statistics.median(base)
        print(verdict(f"ledger over {total} commits, {label}", mid / floor, TARGET,
                      f"xzdoc {mid * 1000:.0f} ms, its git work {floor * 1000:.0f} ms, median of {args.repeat} "
                      f"interleaved runs; best of each {min(ours_) * 1000:.0f} ms against {min(base) * 1000:.0f} ms"))

if __name__ == "__main__":
    main()
