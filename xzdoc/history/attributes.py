""".gitattributes rules that would make the checked-out bytes differ from the committed ones.

The ledger reads what git holds; validate and the renderer read the working
copy. A filter, an EOL conversion, ``ident`` or a working-tree encoding on
the files they read would let the two disagree, so such rules are reported
when they can reach the projects folders, xzdoc.yaml or systems.yaml. Rules
confined to other top-level folders (``docs/*.pdf filter=lfs``) are fine.
"""

from __future__ import annotations

# Attributes that make the checked-out bytes differ from the committed ones, when set (a leading - or ! unsets).
_CONVERTING = {"filter", "ident", "text", "eol", "crlf", "working-tree-encoding", "encoding"}


def risky(data: bytes, guarded: set[str]) -> list[int]:
    """Line numbers of .gitattributes rules that may convert files the ledger and validate read."""
    macros: set[str] = set()
    out = []
    for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, rest = _quoted(line) if line.startswith('"') else [*line.split(None, 1), ""][:2]
        names = {a.split("=", 1)[0] for a in rest.split() if a[:1] not in ("-", "!")}
        converting = bool(names & _CONVERTING or names & macros)
        if pattern.startswith("[attr]"):
            if converting:
                macros.add(pattern[len("[attr]"):])
            continue
        if converting and _may_match(pattern, guarded):
            out.append(number)
    return out


def _quoted(line: str) -> list[str]:
    end = line.find('"', 1)
    return [line[1:end], line[end + 1:]] if end > 0 else [line, ""]


def _may_match(pattern: str, guarded: set[str]) -> bool:
    """Can a gitattributes pattern match a path under one of the ``guarded`` top-level names?"""
    body = pattern.rstrip("/")
    if "/" not in body:
        return True   # matched against the file name at every level
    first = body.lstrip("/").split("/", 1)[0]
    return any(c in first for c in "*?[\\") or first in guarded
