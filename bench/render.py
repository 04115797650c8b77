"""Rendering cost: a full building-stage bundle against the bare pandoc + Typst steps, and a rebuild of 100 unchanged projects.

    python bench/render.py [--repeat 3] [--projects 100]

1. Bundle: the demo project XZJT-2025-002 (项目建议书, 可行性研究报告, 初步设计,
   投资概算, and what building files: 合同备案表, 监理单位备案表, 自评价报告,
   党组决策简报). The baseline takes the same Markdown documents (xzdoc's
   Jinja output) and runs only the bare steps: ``pandoc`` to DOCX, ``pandoc``
   to Typst and ``typst.compile`` to PDF, one document after another. xzdoc
   does everything a bundle needs on top: metadata, sandboxed drafts,
   reference.docx, link and image checks, the cover, the workbook, the
   approval page, the manifest and the zip. Each side runs in a fresh Python
   process (Typst memoises within a process), timed from process start to
   the end of the work; the median of ``--repeat`` runs is reported, xzdoc
   both with its default worker threads and with one.
2. Rebuild: ``xzdoc bundle --all`` over a git repository of 100 projects that
   were all bundled before and have not changed, timed as the whole command
   (interpreter start included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO, TARGET_REBUILD = 1.3, 1.0
DEMO = "XZJT-2025-002"
FORMAT = "markdown+east_asian_line_breaks-smart-raw_attribute-raw_html-raw_tex"
TINY = "# 一、项目概述\n\n{{ name }}（{{ id }}）总投资{{ budget.total }}万元。\n"


def child_bare(folder: Path) -> None:
    """The bare steps on the prepared Markdown, sequentially."""
    import pypandoc
    import typst

    pandoc = pypandoc.get_pandoc_path()
    for md in sorted(folder.glob("*.md")):
        subprocess.run([pandoc, "-f", FORMAT, "-t", "docx", "-o", str(md.with_suffix(".docx")), str(md)], check=True)
        subprocess.run([pandoc, "-f", FORMAT, "-t", "typst", "--standalone", "-V", "mainfont=Noto Serif CJK SC",
                        "-o", str(md.with_suffix(".typ")), str(md)], check=True)
        typst.compile(str(md.with_suffix(".typ")), output=str(md.with_suffix(".pdf")), root=str(folder))


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


def prepare_bundle(work: Path) -> tuple[Path, Path]:
    repo = work / "repo"
    shutil.copytree(ROOT / "projects" / DEMO, repo / "projects" / DEMO)
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    sys.path.insert(0, str(ROOT))
    from xzdoc import config
    from xzdoc.render import briefing, bundle, context, stagedocs

    cfg = config.load(repo)
    project = bundle.load(cfg, repo / "projects" / DEMO)
    the_stamp = bundle.Builder(cfg).stamp(project)
    ctx = context.build(cfg, project, the_stamp)
    markdown = work / "markdown"
    markdown.mkdir()
    # The same documents the bundle converts: the application, the filings of its stage and the brief.
    brief = stagedocs.render_brief(cfg, ctx, briefing.facts(cfg, project, None, work, the_stamp))
    for job in stagedocs.plan(cfg, project, ctx, None, work, brief):
        (markdown / f"{job.doc.kind}.md").write_text(job.doc.markdown, "utf-8")
    return repo, markdown


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
    subprocess.run([sys.executable, "-m", "xzdoc", "bundle", "--all"], cwd=repo, check=True, capture_output=True)
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, target, *rest = args.child
        if kind == "bare":
            child_bare(Path(target))
        else:
            sys.path.insert(0, str(ROOT))
            child_xzdoc(Path(target), int(rest[0]))
        print(f"{time.perf_counter() - START:.4f}")
        return
    with tempfile.TemporaryDirectory(prefix="xzdoc-bench-") as tmp:
        work = Path(tmp)
        repo, markdown = prepare_bundle(work)
        bare, ours, single = [], [], []
        for _ in range(args.repeat):
            bare.append(timed_child("bare", str(markdown)))
            ours.append(timed_child("xzdoc", str(repo), "0"))
            single.append(timed_child("xzdoc", str(repo), "1"))
        b, o, s = statistics.median(bare), statistics.median(ours), statistics.median(single)
        print(f"building-stage bundle ({DEMO}), median of {args.repeat} fresh processes:")
        print(f"  bare pandoc + typst steps   {b:6.2f} s")
        # The baseline runs its steps one after another, so the judged figure is xzdoc with one worker.
        print(f"  xzdoc bundle (threads)      {o:6.2f} s   ({o / b:.2f}x of the one-worker baseline)")
        ok = "OK" if s / b <= TARGET_RATIO else "MISSED"
        print(f"  xzdoc bundle (one thread)   {s:6.2f} s   ratio {s / b:.2f}x (target <= {TARGET_RATIO}x) {ok}")
        many = prepare_rebuild(work, args.projects)
        runs = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "xzdoc", "bundle", "--all"], cwd=many, capture_output=True,
                                  text=True, check=True)
            runs.append(time.perf_counter() - began)
            assert done.stdout.count("未变化，跳过") == args.projects, done.stdout[:500]
        r = statistics.median(runs)
        print(f"rebuild of {args.projects} unchanged projects (xzdoc bundle --all, whole command, in git):")
        print(f"  {r:6.2f} s   (target < {TARGET_REBUILD} s) {'OK' if r < TARGET_REBUILD else 'MISSED'}")


if __name__ == "__main__":
    main()
