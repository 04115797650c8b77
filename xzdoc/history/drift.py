"""What changed between a project folder's approved content and a later one, and whether adjustment requests cover it.

Drift is state-based (xzdoc/history/walk.py keeps, per folder, the tree as
last approved); this module only names the difference, in files and
project.yaml fields, and decides whether adjustment requests (第十六条,
``records.changes``) cover all of it. A request covers something only when
it carries the 市政务信息管理局 opinion (``approved`` date and ``doc_no``)
and names the fields or files; the caller also requires that it entered
through an approving merge of gate ``records.changes``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from xzdoc.history import gitlog
from xzdoc.history.facts import Facts
from xzdoc.history.records import PROJECT_FILE

_NOT_CONTENT = ("stage", "records.changes")


def changed_files(workdir: Path, old_tree: str, new_tree: str) -> list[str]:
    return gitlog.diff_names(workdir, old_tree, new_tree)


def changed_fields(old: bytes, new: bytes) -> list[str]:
    """Dotted paths (two levels deep) where two project.yaml versions differ."""
    a, b = _plain(old), _plain(new)
    if not isinstance(a, dict) or not isinstance(b, dict):
        return ["（整个文件）"]
    out = []
    for key in dict.fromkeys([*a, *b]):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if isinstance(x, dict) or isinstance(y, dict):
            x, y = x if isinstance(x, dict) else {}, y if isinstance(y, dict) else {}
            out += [f"{key}.{k}" for k in dict.fromkeys([*x, *y]) if x.get(k) != y.get(k)]
        else:
            out.append(str(key))
    return out


def _plain(blob: bytes) -> Any:
    from xzdoc.config import plain
    from xzdoc.errors import XzdocError
    from xzdoc.source.yamlio import decode, loads

    try:
        return plain(loads(decode(blob, PROJECT_FILE), PROJECT_FILE))
    except XzdocError:
        return None


def valid_requests(approved: Facts | None, now: Facts) -> list[dict[str, Any]]:
    """Adjustment requests new since the approved version that carry the opinion and name what they cover."""
    before = set(approved.changes) if approved else set()
    out = []
    for text in now.changes:
        if text in before:
            continue
        entry = json.loads(text)
        if isinstance(entry, dict) and entry.get("approved") and entry.get("doc_no") and entry.get("fields"):
            out.append(entry)
    return out


def uncovered(workdir: Path, approved_tree: str, new_tree: str, blobs: Mapping[str, bytes], approved_blob: str,
              new_blob: str, requests: Iterable[dict[str, Any]], groups: Mapping[str, list[str]]) -> list[str]:
    """The files and fields changed since the approval that no request names; empty when all are covered."""
    names: set[str] = set()
    for entry in requests:
        for name in entry.get("fields") or []:
            names.update(str(n) for n in groups.get(str(name), [str(name)]))
            names.add(str(name))
    left = []
    for file in changed_files(workdir, approved_tree, new_tree):
        if file == PROJECT_FILE:
            fields = changed_fields(blobs.get(approved_blob, b""), blobs.get(new_blob, b""))
            left += [f for f in fields if not f.startswith(_NOT_CONTENT) and not _covers(names, f)]
        elif not _covers_file(names, file):
            left.append(file)
    return left


def _covers(names: set[str], path: str) -> bool:
    return any(n == path or path.startswith(n + ".") or n.startswith(path + ".") for n in names)


def _covers_file(names: set[str], file: str) -> bool:
    return any(n.rstrip("/") == file or file.startswith(n.rstrip("/") + "/") for n in names)
