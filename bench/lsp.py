"""Diagnostic latency of `xzdoc lsp` after an edit, on a copy of the demo repository.

    python bench/lsp.py [--edits 40] [--projects N]

A client starts the real server process, opens a demo project.yaml and alternates an edit
that breaks a rule (an amount written "365.40万元") with one that fixes it, timing each
didChange until the matching publishDiagnostics arrives. The figure includes the server's
debounce. Baseline, in this process: the engine's own check of the same project, so the
ratio shows what the protocol, the debounce and the re-check of neighbours add.
With --projects N the repository holds N generated projects instead (bench/validate.py's
generator) and one of them is edited: the repository-wide rules then see N projects.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import BaseLanguageClient

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0
PROJECT = "projects/XZJT-2026-003/project.yaml"


async def measure(repo: Path, edits: int, target: str) -> list[float]:
    client = BaseLanguageClient("bench", "1")
    arrived: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        arrived.put_nowait((time.perf_counter(), params))

    await client.start_io(sys.executable, "-m", "xzdoc", "lsp", cwd=str(repo))
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=repo.as_uri()))
    client.initialized(lsp.InitializedParams())
    file = repo / target
    uri, text = file.resolve().as_uri(), file.read_text("utf-8")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    await _until(arrived, uri, lambda d: not d)
    broken = _broken(text)
    times = []
    for n in range(edits):
        wrong = n % 2 == 0
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=n + 2),
            content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=broken if wrong else text)]))
        end = await _until(arrived, uri, (lambda d: bool(d)) if wrong else (lambda d: not d))
        times.append((end - start) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


async def _until(queue: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]], uri: str, test) -> float:  # type: ignore[no-untyped-def]
    while True:
        when, params = await asyncio.wait_for(queue.get(), 60)
        if params.uri == uri and test(params.diagnostics):
            return when


def _broken(text: str) -> str:
    total = next(line for line in text.split("\n") if line.startswith("  total:"))
    return text.replace(total, total.rstrip() + "万元", 1)


def baseline(repo: Path, edits: int, target: str) -> list[float]:
    from xzdoc import config
    from xzdoc.rules import engine
    from xzdoc.source import loader

    conf = config.load(repo)
    others = loader.load_projects(conf)
    file = (repo / target).resolve()
    text = file.read_text("utf-8")
    broken = _broken(text)
    durable: dict[str, object] = {}
    times = []
    for n in range(edits):
        start = time.perf_counter()
        engine.check_project(conf, file.parent, {file: broken if n % 2 == 0 else text}, others, durable=durable)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--projects", type=int, default=0, help="generated projects instead of the demo ones")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        target = PROJECT
        if args.projects:
            sys.path.insert(0, str(Path(__file__).parent))
            from validate import generate

            target = generate(repo, args.projects)[args.projects // 2].relative_to(repo).as_posix()
        else:
            shutil.copytree(ROOT / "projects", repo / "projects")
            shutil.copy(ROOT / "xzdoc.yaml", repo / "xzdoc.yaml")
        latency = asyncio.run(measure(repo, args.edits, target))
        base = baseline(repo, args.edits, target)
    median, base_median = statistics.median(latency), statistics.median(base)
    p90 = sorted(latency)[int(len(latency) * 0.9) - 1]
    print(f"lsp: {args.edits} edits of {target}, diagnostics after edit median {median:.1f} ms, p90 {p90:.1f} ms, "
          f"max {max(latency):.1f} ms; engine check of the same project in-process {base_median:.1f} ms; "
          f"ratio {median / base_median:.1f}x")
    print(f"lsp: median diagnostic latency {median:.1f} ms (target < {TARGET_MS:.0f} ms) "
          f"{'OK' if median < TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
