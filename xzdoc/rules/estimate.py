"""第七条 投资概算: exact arithmetic, totals that agree, and configurable caps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, items, mapping, money, text, yuan
from xzdoc.source.yamlio import YMap

HARDWARE, SOFTWARE, OTHER, RESERVE = "硬件设备购置", "软件购置开发与系统集成", "工程建设其他费用", "预备费"
CENT = Decimal("0.01")


def group_totals(project: Project) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for i, item in items(project.data.get("estimate")):
        amount = money(project, "estimate", i, "amount")
        if amount is not None:
            group = text(item.get("group"))
            totals[group] = totals.get(group, Decimal(0)) + amount
    return totals


def kind_total(project: Project, kind: str, names: Sequence[str] = ()) -> Decimal:
    """The lines of a fee: by ``kind`` or, for lines without a kind, by one of ``names`` in the line's name."""
    def fee(item: YMap) -> bool:
        if item.get("kind") is not None:
            return item.get("kind") == kind
        return any(n in text(item.get("name")) for n in names)
    return sum((money(project, "estimate", i, "amount") or Decimal(0)
                for i, item in items(project.data.get("estimate")) if fee(item)), Decimal(0))


def check_amounts(project: Project, ctx: Context) -> Iterator[Hit]:
    for i, item in items(project.data.get("estimate")):
        price, amount = money(project, "estimate", i, "unit_price"), money(project, "estimate", i, "amount")
        qty = item.get("quantity")
        if price is None or amount is None or not isinstance(qty, (int, Decimal)) or isinstance(qty, bool):
            continue
        if not Decimal(qty).is_finite():
            continue  # reported by the schema check
        try:
            expected = (Decimal(qty) * price).quantize(CENT)
        except InvalidOperation:  # more digits than decimal keeps: no written amount equals it
            expected = Decimal(qty) * price
        if expected != amount or Decimal(qty) * price != expected:
            yield Hit(item.at("amount"), f"概算项“{text(item.get('name'))}”金额 {yuan(amount)} ≠ 数量 {qty} × 单价 "
                                         f"{yuan(price)} = {Decimal(qty) * price:,f}万元")
        hit_group = item.get("group")
        if hit_group is not None and str(hit_group) not in ctx.enum("cost_group"):
            yield Hit(item.at("group"), f"概算项“{text(item.get('name'))}”的费用类别“{hit_group}”不在规定范围内"
                                        f"（可选：{'、'.join(ctx.enum('cost_group'))}）")
        kind = item.get("kind")
        if kind is not None and str(kind) not in ctx.enum("cost_kind"):
            yield Hit(item.at("kind"), f"概算项“{text(item.get('name'))}”的费用细类“{kind}”不在规定范围内")


def check_total(project: Project, ctx: Context) -> Iterator[Hit]:
    estimate = project.data.get("estimate")
    total = money(project, "budget", "total")
    if not estimate or total is None:
        return
    grand = sum(group_totals(project).values(), Decimal(0))
    if grand != total:
        yield Hit(estimate.pos, f"投资概算合计 {yuan(grand)}，与总预算 budget.total {yuan(total)} 不一致"
                                f"（相差 {yuan(grand - total)}）")


def check_caps(project: Project, ctx: Context) -> Iterator[Hit]:
    estimate = project.data.get("estimate")
    if not estimate:
        return
    caps, groups = ctx.std.caps, group_totals(project)
    names = caps.get("fee_names", {})

    def fee(kind: str) -> Decimal:
        return kind_total(project, kind, names.get(kind, ()))

    base_1_3 = sum((v for k, v in groups.items() if k not in (OTHER, RESERVE)), Decimal(0))
    base_1_4 = base_1_3 + groups.get(OTHER, Decimal(0))
    checks = [
        ("系统集成费", fee("系统集成费"),
         groups.get(HARDWARE, Decimal(0)) + fee("系统软件"), caps["integration_fee"],
         "硬件设备与系统软件之和"),
        ("建设单位管理费", fee("建设单位管理费"), base_1_3, caps["management_fee"], "第一至三部分之和"),
        ("预备费", groups.get(RESERVE, Decimal(0)), base_1_4, _reserve_cap(project, ctx), "第一至四部分之和"),
    ]
    for label, amount, base, rate, base_name in checks:
        limit = (base * Decimal(str(rate))).quantize(CENT)
        if amount > limit:
            yield Hit(estimate.pos, f"{label} {yuan(amount)} 超过{base_name}的 {Decimal(str(rate)) * 100:.0f}%"
                                    f"（上限 {yuan(limit)}），请核减或在编制说明中说明理由")


def _reserve_cap(project: Project, ctx: Context) -> object:
    docs = mapping(project.data.get("documents"))
    at_feasibility = docs is not None and "可行性研究报告" in docs and "初步设计" not in docs
    return ctx.std.caps["reserve_feasibility" if at_feasibility else "reserve"]
