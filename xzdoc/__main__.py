"""``python -m xzdoc`` and the ``xzdoc`` console script."""

from __future__ import annotations

import signal
import sys

EXIT_INTERRUPT = 130   # cli.base.EXIT_INTERRUPT, not imported: importing is what may be interrupted


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run() -> int:
    # Ctrl-C or SIGTERM while the modules are still being imported would end in Python's own
    # traceback (or a silent kill); cli.main takes over the signals once it runs.
    signal.signal(signal.SIGTERM, _interrupt)
    # Names git stores are bytes it never checks (an author, a folder); read back as surrogates they
    # must print as escapes, not end the command in UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        from xzdoc.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("已中断。\n")
        return EXIT_INTERRUPT
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
