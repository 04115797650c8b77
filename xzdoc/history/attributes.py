""".gitattributes rules that would make the checked-out bytes differ from the committed ones.

The ledger reads what git holds; validate and the renderer read the working
copy. A filter, an EOL conversion, ``ident`` or a working-tree encoding on
the files they read would let the two disagree, so such rules are reported
when they can reach the projects folders, xzdoc.yaml or systems.yaml. Rules
confined to other top-level folders (``docs/*.pdf filter=lfs``) are fine.
"""

from __future__ import annotations

import re

# Attributes that make the checked-out bytes differ from the committed ones, when set (a leading - or ! unsets).
_CONVERTING = {"filter", "ident", "text", "eol", "crlf", "working-tree-encoding", "encoding"}
_BLANKS = re.compile(r"[ \t\r]+")


def risky(data: bytes, guarded: set[str]) -> list[int]:
    """Line numbers of .gitattributes rules that may convert files the ledger and validate read.

    Read as git reads it: a leading BOM skipped, lines split at LF only (a CR is a blank inside a line),
    and macros (``[attr]name ...``) resolved wherever in the file they are defined, chains included.
    """
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    rules: list[tuple[int, str, set[str]]] = []
    macros: dict[str, set[str]] = {}
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r")
        if not line or line.startswith("#"):
            continue
        pattern, rest = _quoted(line) if line.startswith('"') else [*_BLANKS.split(line, 1), ""][:2]
        names = {a.split("=", 1)[0] for a in _BLANKS.split(rest) if a and a[:1] not in ("-", "!")}
        if pattern.startswith("[attr]"):
            macros[pattern[len("[attr]"):]] = names
        else:
            rules.append((number, pattern, names))
    converting = set(_CONVERTING)
    while True:   # a macro converts when anything it sets does
        more = {name for name, sets in macros.items() if sets & converting} - converting
        if not more:
            break
        converting |= more
    return [number for number, pattern, names in rules if names & converting and _may_match(pattern, guarded)]


def _quoted(line: str) -> list[str]:
    end = line.find('"', 1)
    return [line[1:end], line[end + 1:]] if end > 0 else [line, ""]


def _may_match(pattern: str, guarded: set[str]) -> bool:
    """Can a gitattributes pattern match a path under one of the ``guarded`` top-level names?"""
    body = pattern.rstrip("/")
    if "/" not in body:
        return True   # matched against the file name at every level
    first = body.lstrip("/").split("/", 1)[0]
    # Case folded: on a checkout that ignores case (core.ignorecase), Projects/ reaches projects/.
    return any(c in first for c in "*?[\\") or first.lower() in {g.lower() for g in guarded}
