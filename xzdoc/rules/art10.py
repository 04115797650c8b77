"""第十条: intensive construction, sharing, dedicated networks, the review opinion."""

from __future__ import annotations

from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, items, mapping, text


def check_sharing(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, system in items(project.data.get("systems")):
        if system.get("action") == "下线":
            continue
        if not system.get("shares_with"):
            yield Hit(system.pos, f"信息系统“{text(system.get('name'))}”没有互联互通或数据共享对象（shares_with），"
                                  "不实现互联互通、信息共享的系统不再批准建设")


def check_new_system(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, system in items(project.data.get("systems")):
        if system.get("action") == "新建" and not text(system.get("justification")):
            yield Hit(system.at("action"), f"新建信息系统“{text(system.get('name'))}”须说明为何不能改造、整合已有系统"
                                           "（justification）；上级部门要求对接的，原则上改造对接而不新建")


def check_private_network(project: Project, ctx: Context) -> Iterator[Hit]:
    records = mapping(project.data.get("records"))
    for _, system in items(project.data.get("systems")):
        if system.get("network") != "业务专网" or system.get("action") not in ("新建", "升级"):
            continue
        if not records or not records.get("private_network_approval"):
            yield Hit(system.at("network"), f"信息系统“{text(system.get('name'))}”使用业务专网：新建业务专网须报市政务信息"
                                            "管理局并经市政府同意（records.private_network_approval）")


def check_review(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "reviewed"):
        return
    review = mapping(mapping(project.data.get("records")) and project.data["records"].get("review"))
    if review is None:
        return  # art07.stage-requirements reports the missing record
    opinion = mapping(review.get("opinion"))
    for dim in ctx.enum("review_dimensions"):
        if not opinion or not text(opinion.get(dim)):
            yield Hit(opinion.pos if opinion else review.pos, f"审核意见缺少“{dim}”方面的意见")
