"""`bundle --all -j N`: projects bundled in a pool of worker processes, results reported in input order.

Each worker holds one Builder for its life (ledger, portfolio, fonts and
reference.docx are looked up once per worker), and writes each zip exactly
as a serial run does, so the bytes are the same. Results come back in the
order of the folders whatever finishes first, so progress lines do not
depend on scheduling. A signal reaches the parent only: each worker runs
in a process group of its own, so Ctrl-C or a SIGTERM to the command's
group does not kill an idle worker while it holds the pool's task-queue
lock (Pool.terminate would then wait for that lock for ever). The parent
notes the signal, stops the pool from its own loop and sends the workers
SIGTERM, which a busy worker turns into an interrupt so its temp files are
removed; the previous bundles stay as they were. Workers are spawned, not forked: a fork
would copy a Typst thread pool the parent may already hold, without its threads.
Each worker loads the configuration from the repository root itself.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator, Sequence
from multiprocessing import util
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import XzdocError

_state: dict[str, Any] = {}


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def shared_out(config: Config, folders: Sequence[Path], out: Path, force: bool, workers: int) -> Iterator[Any]:
    """Unchanged projects (and those that do not load) answered here; only the rest go to the worker processes.

    Starting workers costs each one an interpreter, the imports and a walk of history; a rerun over an
    unchanged portfolio needs none of it.
    """
    from xzdoc.render.bundle import Builder, Result, bundle, bundle_path, is_current, load

    known: dict[Path, Any] = {}
    if not force:
        with Builder(config) as builder:
            for folder in folders:
                try:
                    project = load(config, folder)
                    path = bundle_path(out, project)
                    key = builder.inputs_hash(project, builder.approvals.rows(project))
                except XzdocError as exc:
                    known[folder] = exc
                    continue
                if is_current(path, path.with_name(f".{path.stem}.hash"), key):
                    known[folder] = Result(project.id, path, skipped=True)
    rest = [f for f in folders if f not in known]
    outcomes = run(config, rest, out, force, workers) if len(rest) > 1 else bundle(config, rest, out, force)
    for folder in folders:
        yield known[folder] if folder in known else next(outcomes)
    for _ in outcomes:
        pass  # runs the pool to its end, so it is closed rather than terminated


def run(config: Config, folders: Sequence[Path], out: Path, force: bool, workers: int) -> Iterator[Any]:
    """Yield a Result or XzdocError per folder, in order, from ``workers`` processes."""
    context = multiprocessing.get_context("spawn")
    signals: list[int] = []
    # Noted, not raised: an interrupt raised inside the pool's own code can leave its locks held.
    def note(signum: int, frame: object) -> None:
        signals.append(signum)

    previous = {s: signal.signal(s, note) for s in _SIGNALS}
    spawn = util.spawnv_passfds
    try:
        util.spawnv_passfds = _spawn_apart  # for the life of the pool: a worker that dies is replaced the same way
        pool = context.Pool(min(workers, len(folders)), _start, (config.root,))
        try:
            results = pool.imap(_one, [(folder, out, force) for folder in folders])
            for _ in folders:
                outcome = _next(results, signals)
                yield _error(outcome) if isinstance(outcome, tuple) else outcome
            pool.close()
        except BaseException:
            pool.terminate()  # SIGTERM: each busy worker removes its temp files before it ends
            raise
        finally:
            pool.join()
    finally:
        util.spawnv_passfds = spawn
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if signals:
        raise KeyboardInterrupt  # came after the last result: the run still ends as interrupted


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _spawn_apart(path: str | bytes, args: Sequence[Any], passfds: Sequence[int]) -> int:
    """multiprocessing's own spawn, except that the worker is in a process group of its own from birth.

    Moving there from the worker's own code came too late: a Ctrl-C to the command's group while a
    worker's interpreter still imported printed that worker's traceback.
    """
    fds = sorted(set(map(int, passfds)))
    for fd in fds:
        os.set_inheritable(fd, True)
    try:
        return os.posix_spawn(path, list(args), os.environ, setpgroup=0)
    finally:
        for fd in fds:
            os.set_inheritable(fd, False)


def _next(results: Any, signals: list[int]) -> Any:
    """The next result in order; KeyboardInterrupt once a signal has come (checked a few times a second)."""
    while not signals:
        try:
            return results.next(timeout=0.2)
        except multiprocessing.TimeoutError:
            continue
    raise KeyboardInterrupt


def _start(root: Path) -> None:
    from xzdoc import config

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    # A worker that is stopped ends with os._exit, so no library's atexit clean-up runs (openpyxl leaves
    # its sheet files behind): every temp file of the worker and of its children goes in one folder,
    # removed whole when the worker ends.
    private = tempfile.mkdtemp(prefix="xzdoc-worker-")
    tempfile.tempdir = private
    os.environ["TMPDIR"] = private
    _state.update(config=config.load(root), busy=False, builders={}, tmp=private)
    util.Finalize(None, _close, exitpriority=10)


def _builder(out: Path, force: bool) -> Any:
    from xzdoc.render import bundle, cache

    builders = _state["builders"]
    if out not in builders:
        builders[out] = bundle.Builder(_state["config"], jobs=1,
                                       documents=cache.DocumentCache(out / cache.FOLDER, reuse=not force))
    return builders[out]


def _one(task: tuple[Path, Path, bool]) -> Any:
    from xzdoc.render import bundle

    folder, out, force = task
    _state["busy"] = True
    try:
        return bundle.bundle_one(_builder(out, force), folder, out, force)
    except XzdocError as exc:
        # Sent as plain values: an exception with keyword fields does not survive pickling intact.
        return (exc.message, exc.path, exc.line, exc.hint, exc.column)
    except KeyboardInterrupt:
        _exit()
    finally:
        _state["busy"] = False
        if _state.get("stopping"):
            _exit()  # the interrupt was swallowed on the way: the parent still wants this worker gone


def _stop(signum: int, frame: object) -> None:
    if _state.get("stopping"):
        return  # already unwinding: a second interrupt inside the cleanup would leave temp files behind
    _state["stopping"] = True
    if _state.get("busy"):
        raise KeyboardInterrupt  # unwinds through write_atomic, which removes its temp file
    _exit()


def _exit() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _close()
    os._exit(130)


def _close() -> None:
    try:
        for builder in _state.get("builders", {}).values():
            builder.__exit__(None, None, None)
        _state["builders"] = {}
    finally:
        private = _state.pop("tmp", None)
        if private:
            shutil.rmtree(private, ignore_errors=True)


def _error(values: tuple[Any, ...]) -> XzdocError:
    message, path, line, hint, column = values
    return XzdocError(message, path, line, hint, column)
