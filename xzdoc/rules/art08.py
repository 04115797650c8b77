"""第八条: the information-resource catalog, the database catalog, the system catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, bad_enum, items, text
from xzdoc.rules.index import Index, summaries
from xzdoc.source.yamlio import YMap

ATTRIBUTES = {  # key -> what 第八条 calls it
    "source": "数据来源", "format": "格式", "update_cycle": "更新周期",
    "share_type": "共享属性", "open_type": "开放属性",
    "provider": "提供方", "code": "资源代码", "summary": "摘要", "items": "信息项",
}
ENUMS = {"format": ("resource_format", "格式"), "update_cycle": ("update_cycle", "更新周期"),
         "share_type": ("share_type", "共享属性"), "open_type": ("open_type", "开放属性"),
         "share_method": ("share_method", "共享方式")}
SYSTEM_ENUMS = {"action": ("system_action", "建设方式"), "cloud": ("cloud", "部署位置"), "network": ("network", "网络")}


def _resources(project: Project) -> Iterator[tuple[int, YMap]]:
    return items(project.data.get("resources"))


def check_attributes(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, res in _resources(project):
        name = text(res.get("name")) or "（未命名）"
        for key, label in ATTRIBUTES.items():
            if res.get(key) in (None, "", []):
                yield Hit(res.pos, f"信息资源“{name}”缺少{label}（{key}）")


def check_enums(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, res in _resources(project):
        for key, (enum, label) in ENUMS.items():
            hit = bad_enum(res, key, ctx.enum(enum), f"信息资源“{text(res.get('name'))}”的{label}")
            if hit:
                yield hit


def check_share_rules(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, res in _resources(project):
        name = text(res.get("name"))
        share = res.get("share_type")
        if share in ("有条件共享", "不予共享") and not text(res.get("share_condition")):
            yield Hit(res.at("share_type"), f"信息资源“{name}”为{share}，须写明共享条件（share_condition）")
        if share == "不予共享" and not text(res.get("share_basis")):
            yield Hit(res.at("share_type"), f"信息资源“{name}”不予共享，须写明法律法规或政策依据（share_basis）")
        if share in ("无条件共享", "有条件共享") and not res.get("share_method"):
            yield Hit(res.at("share_type"), f"信息资源“{name}”须写明共享方式（share_method）")
        # 有条件开放 needs its own open_condition: art08.open-condition.


def check_database_catalog(project: Project, ctx: Context) -> Iterator[Hit]:
    resources = list(_resources(project))
    needs = [res for _, res in resources if res.get("format") == "数据库类"]
    if needs and not project.data.get("databases"):
        yield Hit(needs[0].at("format"), f"信息资源“{text(needs[0].get('name'))}”为数据库类，"
                                          "须梳理数据库目录（databases）")
    known = {text(s.get("id")) for _, s in items(project.data.get("systems"))}
    for _, db in items(project.data.get("databases")):
        system = text(db.get("system"))
        if system and system not in known:
            yield Hit(db.at("system"), f"数据库“{text(db.get('name'))}”所属系统 {system} 不在本项目的 systems 中")


def check_system_catalog(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, system in items(project.data.get("systems")):
        name = text(system.get("name")) or "（未命名）"
        if not text(system.get("id")):
            yield Hit(system.pos, f"信息系统“{name}”没有政务信息系统目录编号（id），未列入目录的不予审批")
        # Without these the later articles have nothing to judge: 上云 (第二十八条), 新建 or 整合 (第十条).
        if system.get("action") in (None, ""):
            yield Hit(system.pos, f"信息系统“{name}”没有写明建设方式（action：{'、'.join(ctx.enum('system_action'))}）")
        elif system.get("action") != "下线" and system.get("cloud") in (None, ""):
            yield Hit(system.pos, f"信息系统“{name}”没有写明部署位置（cloud：{'、'.join(ctx.enum('cloud'))}）")
        for key, (enum, label) in SYSTEM_ENUMS.items():
            hit = bad_enum(system, key, ctx.enum(enum), f"信息系统“{name}”的{label}")
            if hit:
                yield hit


def check_unique_ids(project: Project, ctx: Context) -> Iterator[Hit]:
    """Within the project: a system id or a resource code listed twice. Across projects: see portfolio_unique_ids."""
    systems: set[str] = set()
    for _, system in items(project.data.get("systems")):
        sid = text(system.get("id"))
        if sid in systems:
            yield Hit(system.at("id"), f"系统编号 {sid} 在本项目中重复：同一个系统只写一项（升级、整合、新建只能选一种）")
        elif sid:
            systems.add(sid)
    seen: set[str] = set()
    for _, res in _resources(project):
        code = text(res.get("code"))
        if code in seen:
            yield Hit(res.at("code"), f"资源代码 {code} 在本项目中重复")
        elif code:
            seen.add(code)


def summarize_ids(project: Project, ctx: Context) -> dict[str, Any]:
    """The ids this project claims, each with where it is written."""
    systems = [[text(s.get("id")), text(s.get("name")), *s.at("id")] for _, s in items(project.data.get("systems"))]
    codes: dict[str, list[int]] = {}
    for _, res in _resources(project):
        code = text(res.get("code"))
        if code and code not in codes:
            codes[code] = list(res.at("code"))
    return {"id": [text(project.data.get("id")), *project.data.at("id")], "systems": systems,
            "resources": [[code, *pos] for code, pos in codes.items()]}


def portfolio_unique_ids(index: Index, ctx: Context) -> Iterator[Hit]:
    """Project ids, system ids and resource codes mean one thing across the whole repository."""
    rule = "art08.unique-ids"
    # Pass 1 marks, in fixed-size bit tables, keys possibly claimed twice; pass 2 records the
    # holders of those few exactly; pass 3 reports. Memory stays flat in the number of projects.
    maybe = _Twice(), _Twice(), _Twice()
    for _, part in summaries(index, rule):
        maybe[0].add(part["id"][0])
        for sid, *_ in part["systems"]:
            maybe[1].add(sid)
        for code, *_ in part["resources"]:
            maybe[2].add(code)
    projects: dict[str, list[str]] = defaultdict(list)
    systems: dict[str, set[str]] = defaultdict(set)
    resources: dict[str, list[str]] = defaultdict(list)
    for entry, part in summaries(index, rule):
        if maybe[0].hit(part["id"][0]):
            projects[part["id"][0]].append(entry.display)
        for sid, name, *_ in part["systems"]:
            if maybe[1].hit(sid):
                systems[sid].add(name)
        for code, *_ in part["resources"]:
            if maybe[2].hit(code):
                resources[code].append(entry.display)
    for entry, part in summaries(index, rule):
        pid, line, col = part["id"]
        others = [p for p in projects.get(pid, ()) if p != entry.display]
        if others:
            yield Hit((line, col), f"项目编号 {pid} 与 {'、'.join(others)} 重复，编号须全库唯一", entry.yaml_path)
        for sid, name, line, col in part["systems"]:
            clash = sorted(n for n in systems.get(sid, ()) if n != name)
            if sid and clash:
                yield Hit((line, col), f"系统编号 {sid} 在其他项目中对应“{'、'.join(clash)}”，同一编号不能指两个系统",
                          entry.yaml_path)
        for code, line, col in part["resources"]:
            holders = [p for p in resources.get(code, ()) if p != entry.display]
            if holders:
                yield Hit((line, col), f"资源代码 {code} 已被 {'、'.join(holders)} 使用，资源代码须全库唯一",
                          entry.yaml_path)


class _Twice:
    """Keys seen more than once, by hash into fixed bit tables: false alarms possible, misses not."""

    BITS = 1 << 20

    def __init__(self) -> None:
        self.once = bytearray(self.BITS // 8)
        self.twice = bytearray(self.BITS // 8)

    def add(self, key: str) -> None:
        h = hash(key) & (self.BITS - 1)
        byte, bit = h >> 3, 1 << (h & 7)
        if self.once[byte] & bit:
            self.twice[byte] |= bit
        else:
            self.once[byte] |= bit

    def hit(self, key: str) -> bool:
        h = hash(key) & (self.BITS - 1)
        return bool(self.twice[h >> 3] & (1 << (h & 7)))
