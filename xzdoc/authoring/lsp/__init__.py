"""`xzdoc lsp`: a language server for project.yaml, xzdoc.yaml and drafts/*.md.

``workspace`` keeps the editor's unsaved text and asks the rule engine (one project at a
time, against the repository's other projects) for findings; ``fixes`` and ``assist``
compute quick fixes, completion and hover from plain text; only ``server`` imports pygls.
None of them re-implements a rule: every diagnostic is a finding `xzdoc validate` would report.
"""

from __future__ import annotations


def serve() -> int:
    """Speak LSP on stdin/stdout until the client says exit; the exit code for the process."""
    from xzdoc.authoring.lsp.server import run

    return run()
