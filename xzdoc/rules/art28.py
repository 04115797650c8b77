"""第二十八、三十条: cloud first; staying off the municipal cloud needs a stated basis."""

from __future__ import annotations

from collections.abc import Iterator

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, items, text

MUNICIPAL_CLOUD = "市级政务云"


def check_cloud(project: Project, ctx: Context) -> Iterator[Hit]:
    for _, system in items(project.data.get("systems")):
        if system.get("action") == "下线" or system.get("cloud") in (None, MUNICIPAL_CLOUD):
            continue
        if not text(system.get("cloud_exemption")):
            yield Hit(system.at("cloud"), f"信息系统“{text(system.get('name'))}”部署在“{system.get('cloud')}”："
                                          "上云为常态，不上云须写明法律法规或保密要求依据（cloud_exemption）")
