"""第一条 总量只减不增 and 第八条 目录: projects judged against the register systems.yaml.

Two parts, so the portfolio part never needs whole projects in memory:
``check_register`` looks at one project and the register; ``check_total``
runs once over the compact summaries (``register.Use``: system id, action,
project) of every project in the repository.

Only the bureau's own projects (those under projects_dir) are judged: a copy
kept elsewhere is not part of the portfolio the register describes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, bare, items, text
from xzdoc.rules.index import Index, summaries
from xzdoc.source import register as reg

_ADD_HINT = "在 systems.yaml 中登记该系统（id、name、owner、cloud、shares_with、status、om_funding）"


def register_of(ctx: Context) -> reg.Register | None:
    if "register" not in ctx.extras:
        ctx.extras["register"] = reg.load(ctx.config.root)
    found: reg.Register | None = ctx.extras["register"]
    return found


def in_portfolio(project: Project, ctx: Context) -> bool:
    return project.folder.resolve().parent == (ctx.config.root / ctx.config.projects_dir).resolve()


def check_register(project: Project, ctx: Context) -> Iterator[Hit]:
    register = register_of(ctx)
    if register is None or not in_portfolio(project, ctx):
        return
    for _, system in items(project.data.get("systems")):
        sid, action = text(system.get("id")), text(system.get("action"))
        if not sid:
            continue   # art08.system-catalog asks for the id
        name = text(system.get("name")) or sid
        known = register.systems.get(sid)
        if action in reg.EXISTING_ACTIONS and known is None:
            yield Hit(system.at("id"), f"信息系统 {sid}（{name}）未列入全局政务信息系统目录 systems.yaml，"
                                       f"不能{action}：{action}的必须是目录中已登记的系统；编号写错时改正编号，"
                                       f"确为已有系统的，{_ADD_HINT}")
        elif action == "升级" and known is not None and not known.active:
            yield Hit(system.at("action"), f"信息系统 {sid}（{known.name}）在 systems.yaml 中的状态为{known.status}，"
                                           "不能再升级；改为新建须说明理由，或升级仍在用的系统")
        elif action in reg.RETIRING_ACTIONS and known is not None and not known.active:
            yield Hit(system.at("action"), f"信息系统 {sid}（{known.name}）在 systems.yaml 中的状态已是{known.status}，"
                                           f"不能再{action}：核对编号，或删去这一项")
        elif action in reg.EXISTING_ACTIONS and known is not None and _other_name(name, known.name):
            yield Hit(system.at("name"), f"信息系统 {sid} 在 systems.yaml 第 {known.line} 行登记为“{known.name}”，"
                                         f"这里写作“{name}”：核对编号是否写错；名称确已改变的，同时更新目录", level="warning")
        elif action == "新建" and known is not None and known.project != text(project.data.get("id")):
            yield Hit(system.at("id"), f"系统编号 {sid} 已在 systems.yaml 第 {known.line} 行登记为“{known.name}”，"
                                       "新建系统须使用目录中没有的新编号；改造已有系统写 action: 升级")


def _other_name(written: str, registered: str) -> bool:
    """Whether two names of one system id read as two systems (not a shortening or a 升级 suffix)."""
    a, b = bare(written), bare(registered)
    return bool(a and b) and a not in b and b not in a and difflib.SequenceMatcher(None, a, b).ratio() < 0.5


def check_total(ctx: Context, uses: Sequence[reg.Use], asked: set[str]) -> Iterator[tuple[reg.Use, str]]:
    """总量只减不增: once every live project is carried out, no more systems are in use than the register lists.

    Reported at each 新建 of a new system in the projects asked for that add more systems than they retire.
    """
    register = register_of(ctx)
    if register is None:
        return
    prefix = ctx.config.projects_dir.strip("/") + "/"
    uses = [u for u in uses if u.yaml_path.startswith(prefix) and u.yaml_path.count("/") == prefix.count("/") + 1]
    result = reg.count(reg.existing(register, uses), uses)
    if not result.raised:
        return
    new = [u for u in reg.live(uses) if u.action == "新建" and u.id in result.added]
    # Blame the projects that add more systems than they retire; a project that merges two into one is not the cause.
    net: dict[str, int] = {}
    for u in reg.live(uses):
        net[u.yaml_path] = net.get(u.yaml_path, 0) + (u.action == "新建") - (u.action in reg.RETIRING_ACTIONS)
    new = [u for u in new if net[u.yaml_path] > 0] or new
    retired = sorted(result.removed)
    message = (f"政务信息系统总量只减不增（第一条）：systems.yaml 登记在用系统 {len(result.before)} 个，"
               f"全部项目实施后为 {len(result.after)} 个（新建 {len(result.added)} 个：{'、'.join(sorted(result.added))}；"
               f"下线或整合 {len(retired)} 个{'：' + '、'.join(retired) if retired else ''}）。"
               "新建系统须同时下线或整合同等数量的已登记系统，或改为升级已有系统")
    for use in new:
        if use.yaml_path in asked:
            yield use, message


def summarize_uses(project: Project, ctx: Context) -> list[list[object]]:
    """check_total's half that runs while the project is in memory: its systems as register uses.

    Project id and path are the entry's own, so each row keeps only what differs.
    """
    return [[u.stage, u.id, u.name, u.action, u.line, u.column]
            for u in reg.uses(project.id, project.yaml_path, project.stage, project.data.get("systems"))]


def portfolio_total(index: Index, ctx: Context) -> Iterator[Hit]:
    """check_total over the index; the engine keeps the hits on the projects asked for."""
    uses = [reg.Use(entry.id, entry.yaml_path, *row) for entry, part in summaries(index, "art01.system-total")
            for row in part]
    paths = {u.yaml_path for u in uses}
    for use, message in check_total(ctx, uses, paths):
        yield Hit((use.line, use.column), message, use.yaml_path)
