"""The command line: parse options, call one core function, print, return an exit code.

The only package that imports click. Heavy modules (pandoc, typst, git) are imported inside
the commands that need them, so `xzdoc --help` and `xzdoc validate` start fast.
Each module registers one group of commands on the shared ``cli`` group when the group
first needs one of them (see ``base.COMMANDS``).
"""

from __future__ import annotations

import signal

import click

from xzdoc.cli.base import EXIT_INTERRUPT, cli

__all__ = ["cli", "main"]


def _terminate(signum: int, frame: object) -> None:
    # A plain SIGTERM would end the process without running cleanup; turn it into Ctrl-C so
    # temp files are removed and the previous outputs stay as they were.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        # Without standalone mode click returns the exit code of ctx.exit instead of raising.
        code = cli.main(args=argv, prog_name="xzdoc", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中断。", err=True)
        return EXIT_INTERRUPT
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return code if isinstance(code, int) else 0
