"""The bureau-wide catalogs (第八条): information systems and information resources.

Built from the register systems.yaml (the systems that exist) and every
project's metadata (what the projects do to them), so the catalog can never
disagree with either. Duplicate construction (重复建设) is flagged: one
system name under several ids, or one resource provided by several projects.
Registered systems in use that are not on the government cloud or do not
share carry the 第十条 consequence: no O&M funds.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from xzdoc.model import WARNING, Finding, Project
from xzdoc.rules.base import items, text
from xzdoc.source.register import RETIRING_ACTIONS, Register
from xzdoc.source.register import System as Registered
from xzdoc.source.yamlio import YMap


@dataclass(frozen=True)
class SystemEntry:
    id: str
    name: str
    owner: str
    projects: tuple[str, ...]
    actions: tuple[str, ...]     # "XZJT-2025-002：升级", one per project that touches it
    cloud: str
    network: str
    sharing: tuple[str, ...]
    mlps_level: int | None
    retiring: bool
    state: str = "在用"           # 在用 / 在建 / 已下线 / 已整合 / 拟新建 / 拟下线/整合
    registered: bool = False      # listed in systems.yaml
    consequence: str = ""         # 第十条: not on the cloud or not sharing -> no O&M funds


@dataclass(frozen=True)
class ResourceEntry:
    project: str
    code: str
    name: str
    provider: str
    summary: str
    format: str
    items: tuple[str, ...]
    share_type: str
    share_condition: str
    share_method: str
    open_type: str
    update_cycle: str
    source: str
    system: str


@dataclass(frozen=True)
class Catalog:
    systems: tuple[SystemEntry, ...]
    resources: tuple[ResourceEntry, ...]
    findings: tuple[Finding, ...]

    @property
    def active_systems(self) -> int:
        return sum(1 for s in self.systems if not s.retiring)

    @property
    def unfunded(self) -> tuple[SystemEntry, ...]:
        return tuple(s for s in self.systems if s.consequence)


SYSTEM_COLUMNS = ("系统编号", "系统名称", "责任单位", "涉及项目", "建设方式", "部署位置", "网络", "共享对象", "等保级别", "状态",
                  "运维经费")
RESOURCE_COLUMNS = ("资源代码", "资源名称", "提供方", "摘要", "格式", "信息项", "共享属性", "共享条件", "共享方式",
                    "开放属性", "更新周期", "数据来源", "所属系统", "所属项目")


def build(projects: Sequence[Project], register: Register | None = None) -> Catalog:
    by_id: dict[str, list[tuple[Project, YMap]]] = defaultdict(list)
    resources: list[ResourceEntry] = []
    for project in sorted(projects, key=lambda p: p.id):
        for _, system in items(project.data.get("systems")):
            if text(system.get("id")):
                by_id[text(system.get("id"))].append((project, system))
        for _, res in items(project.data.get("resources")):
            resources.append(_resource(project, res))
    known = register.systems if register is not None else {}
    systems = tuple(_system(sid, by_id[sid], known.get(sid)) if sid in by_id else _registered(known[sid])
                    for sid in sorted(set(by_id) | set(known)))
    findings = _duplicates(by_id, resources, {p.id: p.yaml_path for p in projects})
    return Catalog(systems, tuple(sorted(resources, key=lambda r: (r.code, r.project))), findings)


def _registered(entry: Registered) -> SystemEntry:
    return SystemEntry(id=entry.id, name=entry.name, owner=entry.owner, projects=(), actions=(), cloud=entry.cloud,
                       network="", sharing=entry.shares_with, mlps_level=None, retiring=not entry.active,
                       state=entry.status, registered=True, consequence=entry.consequence())


def _system(sid: str, uses: list[tuple[Project, YMap]], entry: Registered | None) -> SystemEntry:
    # The latest project (by id, which encodes the year) describes the system as it will be.
    project, latest = uses[-1]
    retiring = any(s.get("action") in RETIRING_ACTIONS for _, s in uses)
    if retiring:
        state = "拟下线/整合"
    elif entry is not None:
        state = entry.status
    else:
        state = "拟新建" if any(s.get("action") == "新建" for _, s in uses) else "未登记"
    consequence = entry.consequence() if entry is not None and not retiring else ""
    if consequence:
        consequence += f"（{'、'.join(p.id for p, _ in uses)} 涉及该系统）"
    sharing: list[str] = []
    for _, s in uses:
        sharing += [str(x) for x in s.get("shares_with") or () if str(x) not in sharing]
    level = latest.get("mlps_level")
    return SystemEntry(
        id=sid,
        name=text(latest.get("name")),
        owner=text(latest.get("owner")) or (entry.owner if entry else "") or text(project.data.get("proposer")),
        projects=tuple(p.id for p, _ in uses),
        actions=tuple(f"{p.id}：{text(s.get('action'))}" for p, s in uses),
        cloud=text(latest.get("cloud")),
        network=text(latest.get("network")),
        sharing=tuple(sharing),
        mlps_level=level if isinstance(level, int) and not isinstance(level, bool) else None,
        retiring=retiring or (entry is not None and not entry.active),
        state=state, registered=entry is not None, consequence=consequence,
    )


def _resource(project: Project, res: YMap) -> ResourceEntry:
    data_items = tuple(f"{text(i.get('name'))}（{text(i.get('type'))}）" for _, i in items(res.get("items")))
    return ResourceEntry(
        project=project.id, code=text(res.get("code")), name=text(res.get("name")), provider=text(res.get("provider")),
        summary=text(res.get("summary")), format=text(res.get("format")), items=data_items,
        share_type=text(res.get("share_type")), share_condition=text(res.get("share_condition")),
        share_method=text(res.get("share_method")), open_type=text(res.get("open_type")),
        update_cycle=text(res.get("update_cycle")), source=text(res.get("source")), system=text(res.get("system")),
    )


def _duplicates(by_id: dict[str, list[tuple[Project, YMap]]],
                resources: Sequence[ResourceEntry], paths: dict[str, str]) -> tuple[Finding, ...]:
    out: list[Finding] = []
    names: dict[str, set[str]] = defaultdict(set)
    for sid, uses in by_id.items():
        for _, system in uses:
            names[text(system.get("name"))].add(sid)
    for name, ids in sorted(names.items()):
        if len(ids) > 1:
            project, system = by_id[sorted(ids)[-1]][0]
            out.append(Finding(project.yaml_path, system.pos[0], system.pos[1], "art08.duplicate-construction",
                               WARNING, f"疑似重复建设：系统“{name}”以 {'、'.join(sorted(ids))} 多个编号出现在系统目录中"
                                        "（依据第八条）", "第八条"))
    providers: dict[str, list[ResourceEntry]] = defaultdict(list)
    for res in resources:
        providers[res.name].append(res)
    for name, entries in sorted(providers.items()):
        projects = sorted({r.project for r in entries})
        if len(projects) > 1:
            out.append(Finding(paths.get(projects[-1], ""), 1, 1, "art08.duplicate-construction", WARNING,
                               f"疑似重复建设：信息资源“{name}”由 {'、'.join(projects)} 多个项目同时提供（依据第八条）",
                               "第八条"))
    return tuple(out)


def system_rows(catalog: Catalog) -> list[tuple[object, ...]]:
    return [(s.id, s.name, s.owner, "、".join(s.projects), "；".join(s.actions), s.cloud, s.network,
             "、".join(s.sharing), s.mlps_level or "", s.state, s.consequence or "—") for s in catalog.systems]


def resource_rows(catalog: Catalog) -> list[tuple[object, ...]]:
    return [(r.code, r.name, r.provider, r.summary, r.format, "、".join(r.items), r.share_type, r.share_condition,
             r.share_method, r.open_type, r.update_cycle, r.source, r.system, r.project) for r in catalog.resources]


def as_markdown(catalog: Catalog, organisation: str) -> str:
    def table(columns: Sequence[str], rows: list[tuple[object, ...]]) -> list[str]:
        cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
                *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)]

    lines = [f"# {organisation}政务信息系统目录和信息资源目录", "",
             f"在用系统 {catalog.active_systems} 个，登记系统 {len(catalog.systems)} 个，"
             f"信息资源 {len(catalog.resources)} 项。", "", "## 政务信息系统目录", ""]
    lines += table(SYSTEM_COLUMNS, system_rows(catalog))
    if catalog.unfunded:
        lines += ["", "### 未上云或未共享的在用系统（第十条）", "",
                  "已有系统未按照要求进行上云和数据共享的，不再拨付运维经费：", ""]
        lines += [f"- {s.id} {s.name}：{s.consequence}" for s in catalog.unfunded]
    lines += ["", "## 信息资源目录", ""]
    lines += table(RESOURCE_COLUMNS, resource_rows(catalog))
    if catalog.findings:
        lines += ["", "## 提示", ""] + [f"- {f.message}" for f in catalog.findings]
    return "\n".join(lines) + "\n"


def as_csv(catalog: Catalog, table: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table == "systems":
        writer.writerow(SYSTEM_COLUMNS)
        writer.writerows(system_rows(catalog))
    else:
        writer.writerow(RESOURCE_COLUMNS)
        writer.writerows(resource_rows(catalog))
    # A BOM lets spreadsheet programs on Windows open the UTF-8 file with the right encoding.
    return "\ufeff" + out.getvalue()


def as_json(catalog: Catalog) -> str:
    return json.dumps({"systems": [asdict(s) for s in catalog.systems],
                       "unfunded": [{"id": s.id, "name": s.name, "consequence": s.consequence} for s in catalog.unfunded],
                       "resources": [asdict(r) for r in catalog.resources],
                       "warnings": [f.message for f in catalog.findings]}, ensure_ascii=False, indent=2)


def as_xlsx(catalog: Catalog) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheets = ((book.active, "信息系统目录", SYSTEM_COLUMNS, system_rows(catalog)),
              (book.create_sheet(), "信息资源目录", RESOURCE_COLUMNS, resource_rows(catalog)))
    for sheet, title, columns, rows in sheets:
        sheet.title = title
        sheet.append(list(columns))
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2))
            for c in column:
                c.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
