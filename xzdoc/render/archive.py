"""The approved version of a project: its folder as the approving merge left it, and what changed since.

A later stage's bundle files each application document as approved, so it
is rendered from the git tree of the merge that approved it, never from the
current text. The same tree is the 批复 side of the 调整申请 comparison and
of the 党组决策简报's "changed since the last approval". Git is read through
the git owner's public functions only (revision, tree_files, read_objects).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.model import Project
from xzdoc.render.reproducible import Stamp
from xzdoc.source import loader

APPROVED_GATE = "approved"      # the 批复: the application documents as the city approved them
_COUNTED = ("approved", "adopted")


@dataclass(frozen=True)
class Snapshot:
    """The project as one approval record saw it."""

    record: Any                 # ledger.ApprovalRecord
    project: Project

    @property
    def approver(self) -> str:
        return str(self.record.merged_by).split(" <", 1)[0]

    @property
    def day(self) -> str:
        return self.stamp().local.date().isoformat()  # the cover's date, in the bureau's time zone

    @property
    def mark(self) -> str:
        if self.record.status == "adopted":
            # Approved before xzdoc was adopted: the baseline commit stands for it, and nobody merged it.
            return f"{self.record.commit[:12]}（{self.day}，采用 xzdoc 时的基线，按项目记录采纳）"
        return f"{self.record.commit[:12]}（{self.day}，{self.approver} 合并批准）"

    def stamp(self) -> Stamp:
        when = dt.datetime.fromisoformat(str(self.record.date))
        return Stamp(int(when.timestamp()), self.record.commit, False, "git")


def approving(records: Iterable[Any], gate: str | None = APPROVED_GATE) -> Any | None:
    """The latest counted record that passed ``gate``; with gate None, the latest counted record of any kind."""
    found = None
    for r in records:
        if r.status in _COUNTED and (gate is None or gate in r.gates):
            found = r
    return found


def load(config: Config, record: Any, workdir: Path) -> Project:
    """The project folder at ``record.commit``, written to ``workdir`` and loaded like any other."""
    from xzdoc.history import gitlog, revisions

    rev = revisions.revision(config.root, record.commit, record.folder)
    files = revisions.tree_files(rev)
    blobs = gitlog.read_objects(rev.workdir, set(files.values()))
    folder = workdir / record.commit[:12] / Path(record.folder).name
    for rel, blob in files.items():
        target = (folder / rel).resolve()
        if not target.is_relative_to(folder.resolve()):
            continue  # a path that climbs out of the folder is not part of the project
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blobs.get(blob, b""))
    loaded = loader.load_project(config, folder)
    if loaded.project is None:
        raise XzdocError(f"无法读取合并提交 {record.commit[:12]} 中的 {record.folder}/project.yaml", record.folder)
    return loaded.project


def same_content(a: Project, b: Project) -> bool:
    """Whether two project folders hold the same files with the same bytes (hidden files aside)."""
    return _files(a.folder) == _files(b.folder)


def _files(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[rel.as_posix()] = path.read_bytes()
    return out


def snapshot(config: Config, records: Sequence[Any], workdir: Path, gate: str | None = APPROVED_GATE) -> Snapshot | None:
    record = approving(records, gate)
    if record is None or not record.commit:
        return None
    return Snapshot(record, load(config, record, workdir))


def scratch() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="xzdoc-approved-")


# -- comparison: 批复 against 调整 ------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    field: str
    before: str
    after: str
    delta: str = ""


def _amount(project: Project, *path: object) -> Decimal | None:
    return project.money.get(tuple(path))


def _lines(project: Project, key: str, name: str) -> dict[str, tuple[int, Mapping[str, Any]]]:
    value = project.data.get(key)
    out: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for i, item in enumerate(value if isinstance(value, list) else ()):
        if isinstance(item, Mapping):
            out[str(item.get(name) or item.get("name") or i)] = (i, item)
    return out


def _money_row(label: str, before: Decimal | None, after: Decimal | None) -> Row | None:
    if before == after:
        return None
    delta = (after or Decimal(0)) - (before or Decimal(0))
    return Row(label, "—" if before is None else f"{before:.2f}", "—" if after is None else f"{after:.2f}",
               f"{delta:+.2f}")


def _years(project: Project, part: str) -> dict[str, Decimal]:
    node = project.get("budget", part)
    return {str(k): v for k in (node or {}) if (v := _amount(project, "budget", part, k)) is not None} \
        if isinstance(node, Mapping) else {}


def compare(before: Project, after: Project) -> list[Row]:
    """Field by field and money by money: what the current project changes against the approved one."""
    rows: list[Row | None] = [_money_row("总预算（万元）", _amount(before, "budget", "total"), _amount(after, "budget", "total"))]
    for part, label in (("years", "年度预算"), ("sources", "资金来源")):
        old, new = _years(before, part), _years(after, part)
        rows += [_money_row(f"{label}：{k}", old.get(k), new.get(k)) for k in dict.fromkeys([*old, *new])]
    old_lines, new_lines = _lines(before, "estimate", "name"), _lines(after, "estimate", "name")
    for name in dict.fromkeys([*old_lines, *new_lines]):
        a = _amount(before, "estimate", old_lines[name][0], "amount") if name in old_lines else None
        b = _amount(after, "estimate", new_lines[name][0], "amount") if name in new_lines else None
        rows.append(_money_row(f"概算：{name}", a, b))
    for key, label in (("type", "项目类型"), ("categories", "项目类别")):
        old_text, new_text = _plain(before.data.get(key)), _plain(after.data.get(key))
        if old_text != new_text:
            rows.append(Row(label, old_text or "—", new_text or "—"))
    rows += list(_named(before, after, "systems", "id", "信息系统"))
    rows += list(_named(before, after, "resources", "code", "信息资源"))
    return [r for r in rows if r is not None]


def _named(before: Project, after: Project, key: str, ident: str, label: str) -> Iterator[Row]:
    old, new = _lines(before, key, ident), _lines(after, key, ident)
    for name in dict.fromkeys([*old, *new]):
        a = _plain(old[name][1].get("name")) if name in old else ""
        b = _plain(new[name][1].get("name")) if name in new else ""
        if name not in old:
            yield Row(f"{label}：{name}", "（无）", f"新增 {b}")
        elif name not in new:
            yield Row(f"{label}：{name}", a, "删除")
        elif dict(old[name][1]) != dict(new[name][1]):
            yield Row(f"{label}：{name}", a, f"{b}（属性有调整）")


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else " ".join(str(value).split())


def systems_delta(before: Project | None, after: Project) -> tuple[list[str], list[str]]:
    """Systems added and removed (by 目录编号) against ``before``; 下线 counts as removed."""
    def ids(project: Project | None) -> dict[str, str]:
        if project is None:
            return {}
        return {k: _plain(v.get("name")) for k, (_, v) in _lines(project, "systems", "id").items()
                if _plain(v.get("action")) != "下线"}
    old, new = ids(before), ids(after)
    return ([f"{new[k]}（{k}）" for k in new if k not in old], [f"{old[k]}（{k}）" for k in old if k not in new])
