"""systems.yaml -> the bureau's system register (全局政务信息系统目录, 第八条、第三十条).

The register lists the systems that exist before any project touches them:
id, name, owner, deployment, sharing, status and O&M funding. Projects are
judged against it: an 升级/整合/下线 must name a registered system, a 新建 a
new id, and the count of systems in use must not grow (第一条 总量只减不增).

This module reads and interprets the file; it never walks projects. Rules
(xzdoc/rules/art01.py) and portfolio views combine it with the projects'
compact system summaries (``uses``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from xzdoc.errors import XzdocError
from xzdoc.source.yamlio import YList, YMap, decode, load_file, loads

REGISTER_NAME = "systems.yaml"
ACTIVE = ("在用", "在建")
RETIRED = ("已下线", "已整合")
STATUSES = ACTIVE + RETIRED
CLOUD = "市级政务云"
EXISTING_ACTIONS = ("升级", "整合", "下线")     # actions that presuppose a registered system
RETIRING_ACTIONS = ("整合", "下线")
_FIELDS = {"id": "系统编号", "name": "系统名称", "owner": "责任单位", "cloud": "部署位置", "cloud_exemption": "不上云依据",
           "shares_with": "共享对象", "status": "状态", "om_funding": "年度运维经费（万元）", "project": "建设项目",
           "note": "备注"}
_REQUIRED = ("id", "name", "owner", "cloud", "status")
NO_OM_FUNDS = "不再拨付运维经费（第十条）"


@dataclass(frozen=True)
class System:
    id: str
    name: str
    owner: str
    cloud: str
    shares_with: tuple[str, ...]
    status: str
    om_funding: Decimal | None
    line: int
    cloud_exemption: str = ""
    project: str = ""            # the project that built it, once built (its 新建 is then no clash)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def on_cloud(self) -> bool:
        return self.cloud == CLOUD or bool(self.cloud_exemption)

    @property
    def shares(self) -> bool:
        return bool(self.shares_with)

    def shortfalls(self) -> tuple[str, ...]:
        """What 第十条 holds against a system in use: not on the government cloud, not sharing."""
        if not self.active:
            return ()
        out = []
        if not self.on_cloud:
            out.append(f"未上市级政务云（部署在{self.cloud or '未写明'}）")
        if not self.shares:
            out.append("未实现数据共享（shares_with 为空）")
        return tuple(out)

    def consequence(self) -> str:
        gaps = self.shortfalls()
        if not gaps:
            return ""
        money = f"，登记的运维经费 {self.om_funding:.2f}万元/年" if self.om_funding else ""
        return f"{'、'.join(gaps)}：{NO_OM_FUNDS}{money}"


@dataclass(frozen=True)
class Register:
    path: str
    systems: Mapping[str, System]

    def active_ids(self) -> set[str]:
        return {s.id for s in self.systems.values() if s.active}

    def retired_ids(self) -> set[str]:
        return {s.id for s in self.systems.values() if not s.active}

    def short(self) -> tuple[System, ...]:
        return tuple(s for s in self.systems.values() if s.shortfalls())


@dataclass(frozen=True)
class Use:
    """One system entry of one project, all the portfolio checks need."""

    project: str        # project id
    yaml_path: str
    stage: str
    id: str
    name: str
    action: str
    line: int
    column: int


def path_of(root: Path) -> Path:
    return root / REGISTER_NAME


def load(root: Path) -> Register | None:
    """The register at the repository root, or None when the repository has none (doctor says so)."""
    file = path_of(root)
    if not file.is_file():
        return None
    return parse(load_file(file, REGISTER_NAME))


def loads_register(raw: bytes) -> Register:
    """The register as stored in a commit (``xzdoc diff`` reads both sides)."""
    return parse(loads(decode(raw, REGISTER_NAME), REGISTER_NAME))


def parse(data: Any) -> Register:
    if data is None:
        return Register(REGISTER_NAME, {})
    entries = data.get("systems") if isinstance(data, YMap) else None
    if not isinstance(data, YMap) or set(data) - {"systems"} or not isinstance(entries, (YList, type(None))):
        raise XzdocError(f"{REGISTER_NAME} 的顶层应为 systems: 列表", REGISTER_NAME, 1,
                         hint="每个已有系统一项：systems:\n  - {id: XZJT-SYS-001, name: …, owner: …, cloud: 市级政务云, "
                              "shares_with: [市政务数据共享交换平台], status: 在用, om_funding: 10.00}")
    out: dict[str, System] = {}
    for i, entry in enumerate(entries or ()):
        system = _system(i, entry, entries.at(i)[0] if entries is not None else 1)
        if system.id in out:
            raise XzdocError(f"{REGISTER_NAME} 中系统编号 {system.id} 重复（第 {out[system.id].line} 行已登记）",
                             REGISTER_NAME, system.line, hint="每个系统只登记一次；同名的不同系统用不同编号")
        out[system.id] = system
    return Register(REGISTER_NAME, out)


def _system(index: int, entry: Any, line: int) -> System:
    where = f"{REGISTER_NAME} 第 {index + 1} 个系统"
    if not isinstance(entry, YMap):
        raise XzdocError(f"{where}应为映射（键: 值）", REGISTER_NAME, line)
    unknown = sorted(str(k) for k in entry if k not in _FIELDS)
    if unknown:
        raise XzdocError(f"{where}有未知字段“{unknown[0]}”", REGISTER_NAME, entry.at(unknown[0])[0],
                         hint="可用字段：" + "、".join(f"{k}（{v}）" for k, v in _FIELDS.items()))
    missing = [k for k in _REQUIRED if not _text(entry.get(k))]
    if missing:
        raise XzdocError(f"{where}缺少{_FIELDS[missing[0]]}（{missing[0]}）", REGISTER_NAME, line,
                         hint="每个系统写明 id、name、owner、cloud（部署位置）和 status（状态）")
    status = _text(entry.get("status"))
    if status not in STATUSES:
        raise XzdocError(f"{where}的状态“{status}”不在规定范围内", REGISTER_NAME, entry.at("status")[0],
                         hint="状态只能是：" + "、".join(STATUSES))
    shares = entry.get("shares_with") or []
    if not isinstance(shares, list):
        shares = [shares]
    return System(id=_text(entry["id"]), name=_text(entry["name"]), owner=_text(entry["owner"]),
                  cloud=_text(entry["cloud"]), shares_with=tuple(_text(s) or str(s) for s in shares),
                  status=status, om_funding=_money(entry, where), line=line,
                  cloud_exemption=_text(entry.get("cloud_exemption")), project=_text(entry.get("project")))


def _money(entry: YMap, where: str) -> Decimal | None:
    value = entry.get("om_funding")
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value).strip())
        # NaN does not compare and a huge amount does not quantize: both raise, both are not amounts.
        exact = amount.is_finite() and amount >= 0 and amount == amount.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        exact = False
    if not exact:
        raise XzdocError(f"{where}的运维经费“{value}”不是金额", REGISTER_NAME, entry.at("om_funding")[0],
                         hint="写万元数，最多两位小数，如 om_funding: 12.50；没有运维经费写 0")
    return amount


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


# -- the portfolio as the register sees it -------------------------------------------------------------


def uses(project_id: str, yaml_path: str, stage: str, systems: Any) -> Iterator[Use]:
    """The compact summary of one project's ``systems`` list."""
    for item in systems if isinstance(systems, list) else ():
        if isinstance(item, YMap) and _text(item.get("id")):
            line, column = item.pos
            yield Use(project_id, yaml_path, stage, _text(item.get("id")), _text(item.get("name")),
                      _text(item.get("action")), line, column)


def live(all_uses: Iterable[Use]) -> list[Use]:
    """Terminated projects change nothing in the portfolio."""
    return [u for u in all_uses if u.stage != "terminated"]


@dataclass(frozen=True)
class Count:
    before: frozenset[str]       # systems in use before the projects
    after: frozenset[str]        # ... once every project is carried out

    @property
    def added(self) -> frozenset[str]:
        return self.after - self.before

    @property
    def removed(self) -> frozenset[str]:
        return self.before - self.after

    @property
    def raised(self) -> bool:
        return len(self.after) > len(self.before)


def existing(register: Register | None, all_uses: Iterable[Use]) -> set[str]:
    """Systems in use before the projects: the register's, plus (when there is none) whatever projects upgrade or retire."""
    found = register.active_ids() if register is not None else set()
    retired = register.retired_ids() if register is not None else set()
    if register is None:
        found |= {u.id for u in all_uses if u.action in EXISTING_ACTIONS}
    return found - retired


def count(before: set[str], all_uses: Iterable[Use]) -> Count:
    """Systems in use once the projects are carried out: 新建 adds, 整合/下线 removes, 升级 keeps."""
    kept = live(all_uses)
    after = (before | {u.id for u in kept if u.action == "新建"}) - {u.id for u in kept if u.action in RETIRING_ACTIONS}
    return Count(frozenset(before), frozenset(after))
