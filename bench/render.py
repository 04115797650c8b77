"""Rendering cost: one bundle and 20 cold projects against the bare pandoc + Typst steps, and a rebuild of 100 unchanged ones.

    python bench/render.py [--repeat 3] [--cold 20] [--cold-repeat 2] [--projects 100] [--jobs N]

1. Bundle: the demo project XZJT-2025-002 (项目建议书, 可行性研究报告, 初步设计,
   投资概算, and what building files: 合同备案表, 监理单位备案表, 自评价报告,
   党组决策简报). The baseline takes the same Markdown documents (xzdoc's
   Jinja output) and runs only the bare steps: ``pandoc`` to DOCX, ``pandoc``
   to Typst and ``typst.compile`` to PDF, on as many threads as xzdoc's
   Builder uses.
   xzdoc does everything a bundle needs on top: metadata, sandboxed drafts,
   reference.docx, link and image checks, the cover, the workbook, the
   approval page, the manifest and the zip. Each side runs in a fresh Python
   process (Typst memoises within a process), timed from process start to
   the end of the work; sides run in turn and the medians are compared.
2. Cold: ``--cold`` copies of XZJT-2026-003 (own ids) bundled from nothing
   (no dist/, no document cache) by ``xzdoc bundle --all -j 1`` and by
   ``-j N`` (N = the cores, the default), whole commands, in turn with a
   baseline of the same documents' bare steps on N worker processes. The
   serial and parallel bundles must be byte for byte the same (the bench
   fails otherwise); the speed-up is printed as a measurement, and the
   parallel run is judged against the baseline with the same number of workers.
3. Rebuild: ``xzdoc bundle --all`` over a git repository of 100 projects that
   were all bundled before and have not changed, timed as the whole command
   (interpreter start included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import compiled, interleaved, median, verdict  # noqa: E402

TARGET_RATIO, TARGET_REBUILD = 1.3, 1.0
DEMO, COLD = "XZJT-2025-002", "XZJT-2026-003"
FORMAT = "markdown+east_asian_line_breaks-smart-raw_attribute-raw_html-raw_tex"
TINY = "# 一、项目概述\n\n{{ name }}（{{ id }}）总投资{{ budget.total }}万元。\n"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def bare_one(md: Path) -> None:
    """The bare steps for one document: DOCX and Typst by pandoc, the PDF by Typst."""
    import pypandoc
    import typst

    pandoc = pypandoc.get_pandoc_path()
    subprocess.run([pandoc, "-f", FORMAT, "-t", "docx", "-o", str(md.with_suffix(".docx")), str(md)], check=True)
    subprocess.run([pandoc, "-f", FORMAT, "-t", "typst", "--standalone", "-V", "mainfont=Noto Serif CJK SC",
                    "-o", str(md.with_suffix(".typ")), str(md)], check=True)
    typst.compile(str(md.with_suffix(".typ")), output=str(md.with_suffix(".pdf")), root=str(md.parent))


def child_bare(folder: Path, workers: int, kind: str) -> None:
    """Every prepared document under ``folder``, on ``workers`` threads or processes (as xzdoc uses them)."""
    import concurrent.futures as cf
    import multiprocessing

    docs = sorted(folder.rglob("*.md"))
    if workers <= 1:
        for md in docs:
            bare_one(md)
        return
    pool = cf.ThreadPoolExecutor(workers) if kind == "threads" else \
        cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    with pool:
        list(pool.map(bare_one, docs))


def child_xzdoc(repo: Path, jobs: int) -> None:
    from xzdoc import config
    from xzdoc.render import bundle

    cfg = config.load(repo)
    results = list(bundle.bundle(cfg, [repo / "projects" / DEMO], repo / "dist", force=True, jobs=jobs or None))
    if not all(isinstance(r, bundle.Result) for r in results):
        raise SystemExit(str(results))


def timed_child(*args: str) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def markdown_of(repo: Path, pid: str, dest: Path) -> None:
    """The documents a bundle of ``pid`` converts, as Markdown files: its application, its stage's filings, the brief."""
    from xzdoc import config
    from xzdoc.render import briefing, bundle, context, stagedocs

    cfg = config.load(repo)
    project = bundle.load(cfg, repo / "projects" / pid)
    with bundle.Builder(cfg) as builder:
        the_stamp = builder.stamp(project)
        ctx = context.build(cfg, project, the_stamp)
        brief = stagedocs.render_brief(cfg, ctx, briefing.facts(cfg, project, None, builder.workdir, the_stamp))
        dest.mkdir(parents=True)
        for job in stagedocs.plan(cfg, project, ctx, None, builder.workdir, brief):
            (dest / f"{job.doc.kind}.md").write_text(job.doc.markdown, "utf-8")


def prepare_bundle(work: Path) -> tuple[Path, Path]:
    repo = work / "repo"
    shutil.copytree(ROOT / "projects" / DEMO, repo / "projects" / DEMO)
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    sys.path.insert(0, str(ROOT))
    markdown_of(repo, DEMO, work / "markdown")
    return repo, work / "markdown"


def prepare_cold(work: Path, count: int) -> tuple[Path, Path]:
    """``count`` copies of the cold template project with their own ids, and the Markdown of each."""
    repo = work / "cold"
    template = ROOT / "projects" / COLD
    for i in range(count):
        pid = f"XZJT-2027-{100 + i:03d}"
        folder = repo / "projects" / pid
        shutil.copytree(template, folder)
        for file in [folder / "project.yaml", *sorted((folder / "drafts").glob("*.md"))]:
            file.write_text(file.read_text("utf-8").replace(COLD, pid), "utf-8")
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    for folder in sorted((repo / "projects").iterdir()):
        markdown_of(repo, folder.name, work / "cold-markdown" / folder.name)
    return repo, work / "cold-markdown"


def zips(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.zip")) if ".cache" not in p.parts}


def prepare_rebuild(work: Path, count: int) -> Path:
    repo = work / "many"
    template = (ROOT / "projects" / "XZJT-2026-003" / "project.yaml").read_text("utf-8")
    for i in range(count):
        pid = f"XZJT-2026-{100 + i:03d}"
        folder = repo / "projects" / pid
        (folder / "drafts").mkdir(parents=True)
        (folder / "project.yaml").write_text(template.replace("XZJT-2026-003", pid), "utf-8")
        (folder / "drafts" / "proposal.md").write_text(TINY, "utf-8")
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    (repo / ".gitignore").write_text("/dist/\n", "utf-8")
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2026-03-02T10:00:00+08:00", "GIT_COMMITTER_DATE": "2026-03-02T10:00:00+08:00"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "100 projects"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    subprocess.run([sys.executable, "-m", "xzdoc", "bundle", "--all"], cwd=repo, env=ENV, check=True, capture_output=True)
    return repo


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds for the one bundle and the rebuild")
    parser.add_argument("--cold", type=int, default=20, help="projects bundled from nothing")
    parser.add_argument("--cold-repeat", type=int, default=2, help="rounds of the cold runs")
    parser.add_argument("--projects", type=int, default=100, help="unchanged projects rebuilt")
    parser.add_argument("--jobs", type=int, default=0, help="workers of the parallel cold run (default: the cores)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, target, *rest = args.child
        if kind == "bare":
            child_bare(Path(target), int(rest[0]), rest[1])
        else:
            sys.path.insert(0, str(ROOT))
            child_xzdoc(Path(target), int(rest[0]))
        print(f"{time.perf_counter() - START:.4f}")
        return
    sys.path.insert(0, str(ROOT))
    from xzdoc.render import pool

    cores = args.jobs or pool.default_workers()
    with tempfile.TemporaryDirectory(prefix="xzdoc-bench-") as tmp:
        work = Path(tmp)
        one_bundle(work, args.repeat)
        cold(work, args.cold, args.cold_repeat, cores)
        rebuild(work, args.projects, args.repeat)


def one_bundle(work: Path, repeat: int) -> None:
    from xzdoc import config
    from xzdoc.render import bundle

    repo, markdown = prepare_bundle(work)
    threads = bundle.Builder(config.load(repo)).jobs   # what a bundle uses by default: the baseline gets as many
    bare, ours = interleaved([
        lambda: timed_child("bare", str(markdown), str(threads), "threads"),
        lambda: timed_child("xzdoc", str(repo), "0"),
    ], repeat)
    b, o = median(bare), median(ours)
    print(verdict(f"bundle {DEMO}, {threads} threads", o / b, TARGET_RATIO,
                  f"xzdoc {o:.2f} s, bare pandoc + typst on {threads} threads {b:.2f} s, "
                  f"fresh processes, median of {repeat} interleaved runs"))


def cold(work: Path, count: int, repeat: int, cores: int) -> None:
    repo, markdown = prepare_cold(work, count)

    def run(jobs: int) -> float:
        out = repo / f"dist-{jobs}"
        shutil.rmtree(out, ignore_errors=True)   # cold: no bundle, no hash, no document cache
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "xzdoc", "bundle", "--all", "-j", str(jobs), "--out", str(out)],
                       cwd=repo, env=ENV, check=True, capture_output=True)
        return time.perf_counter() - began

    def bare() -> float:
        for typ in markdown.rglob("*.typ"):
            typ.unlink()
        began = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", "bare", str(markdown), str(cores), "processes"],
                       env=ENV, check=True, capture_output=True)
        return time.perf_counter() - began

    serial, parallel, base = interleaved([lambda: run(1), lambda: run(cores), bare], repeat)
    one, many = zips(repo / "dist-1"), zips(repo / f"dist-{cores}")
    if len(one) != count or one != many:
        differ = sorted(k for k in one.keys() | many.keys() if one.get(k) != many.get(k))
        raise SystemExit(f"FAILED: -j 1 and -j {cores} bundles differ ({len(one)} and {len(many)} zips): {differ[:5]}")
    s, p, b = median(serial), median(parallel), median(base)
    # A measurement, not a goal: -j 1 already renders each bundle's documents on one thread per core,
    # so on a small machine the pool has little left to win; the zips being identical is what is checked.
    print(f"cold bundle --all of {count} projects, -j {cores} against -j 1: {p / s:.2f}x (measured, no goal set); "
          f"speed-up {s / p:.2f}x: -j 1 {s:.2f} s, -j {cores} {p:.2f} s, whole commands, median of "
          f"{repeat} interleaved runs; the {count} zips are byte-identical")
    print(verdict(f"cold bundle --all of {count} projects, -j {cores} against the bare steps", p / b, TARGET_RATIO,
                  f"xzdoc {p:.2f} s, bare pandoc + typst of the same documents on {cores} processes {b:.2f} s, "
                  f"whole commands, median of {repeat} interleaved runs"))


def rebuild(work: Path, count: int, repeat: int) -> None:
    many = prepare_rebuild(work, count)

    def again() -> None:
        done = subprocess.run([sys.executable, "-m", "xzdoc", "bundle", "--all"], cwd=many, env=ENV,
                              capture_output=True, text=True, check=True)
        assert done.stdout.count("未变化，跳过") == count, done.stdout[:500]

    (runs,) = interleaved([again], repeat)
    r = median(runs)
    print(verdict(f"rebuild of {count} unchanged projects", r, TARGET_REBUILD,
                  f"xzdoc bundle --all, whole command, in git, median of {repeat} runs", unit=" s"))


if __name__ == "__main__":
    main()
