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
from typing import Any

from xzdoc.history.facts import Facts
from xzdoc.history.records import PROJECT_FILE

_NOT_CONTENT = ("stage", "records.changes")


def changed_fields(old: Facts | None, new: Facts | None) -> list[str]:
    """Dotted paths (two levels deep) where two project.yaml versions differ, from their field digests."""
    a, b = (old.digests, new.digests) if old and new and not old.error and not new.error else (None, None)
    if a is None or b is None:
        return ["（整个文件）"]   # unknown counts as all changed: never as "nothing changed"
    return [path for path in dict.fromkeys([*a, *b]) if a.get(path) != b.get(path)]


def valid_requests(approved: Facts | None, now: Facts, parent: Facts | None = None) -> list[dict[str, Any]]:
    """Adjustment requests that carry the opinion and name what they cover, new since the approved version and
    new in this commit (absent from ``parent``, the first parent's version): a request pushed to main before
    an approving merge did not come through that merge, and its approver never saw it."""
    before = (set(approved.changes) if approved else set()) | (set(parent.changes) if parent else set())
    # An opinion already used (its 文号 in an earlier version) is not new for a touched-up reason or date.
    used = {_doc_no(json.loads(text)) for text in before} - {""}
    out = []
    for text in now.changes:
        if text in before:
            continue
        entry = json.loads(text)
        fields = entry.get("fields") if isinstance(entry, dict) else None
        if fields and isinstance(fields, list) and entry.get("approved") and entry.get("doc_no") \
                and _doc_no(entry) not in used:
            out.append(entry)
    return out


def _doc_no(entry: Any) -> str:
    return "".join(str(entry.get("doc_no") or "").split()) if isinstance(entry, dict) else ""


def uncovered(files: list[str], approved: Facts | None, now: Facts, requests: Iterable[dict[str, Any]],
              groups: Mapping[str, list[str]]) -> list[str]:
    """The ``files`` and fields changed since the approval that no request names; empty when all are covered."""
    names: set[str] = set()
    for entry in requests:
        fields = entry.get("fields")
        for name in fields if isinstance(fields, list) else []:
            names.update(str(n) for n in groups.get(str(name), [str(name)]))
            names.add(str(name))
    left = []
    for file in files:
        if file == PROJECT_FILE:
            fields = changed_fields(approved, now)
            left += [f for f in fields if not _not_content(f) and not _covers(names, f)]
        elif not _covers_file(names, file):
            left.append(file)
    return left


def fields_only(files: list[str], approved: Facts | None, now: Facts, names: Iterable[str]) -> bool:
    """Is every change since the approval a project.yaml field among ``names`` (a filing's own record)?"""
    if any(file != PROJECT_FILE for file in files):
        return False
    wanted = set(names)
    return all(_covers(wanted, f) for f in changed_fields(approved, now) if not _not_content(f))


def _not_content(path: str) -> bool:
    return any(path == n or path.startswith(n + ".") for n in _NOT_CONTENT)


def _covers(names: set[str], path: str) -> bool:
    # A name below a tracked field (budget.years.2026 under budget.years) covers nothing: the digest of
    # budget.years cannot tell that year from the others, so naming one year must not pass them all.
    return any(n == path or path.startswith(n + ".") for n in names)


def _covers_file(names: set[str], file: str) -> bool:
    return any(n.rstrip("/") == file or file.startswith(n.rstrip("/") + "/") for n in names)
