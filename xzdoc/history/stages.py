"""Which gates a change of stage or filings passes, and which roles those gates need, under one policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xzdoc.config import Config


def crossed(config: Config, old: str | None, new: str | None) -> tuple[str, ...]:
    """The stages a change from ``old`` to ``new`` enters, in lifecycle order; none when moving back."""
    if new is None or new == old:
        return ()
    if new == "terminated":
        return ("terminated",)
    order = _order(config)
    high = order.get(new, -1)
    if high < 0:
        return ()
    # A project that first appears, was terminated or had an unknown stage starts again from draft.
    low = max(order.get(old, 0), 0) if old and old != "terminated" else 0
    return tuple(name for name, i in order.items() if low < i <= high)


_ORDERS: dict[int, tuple[Any, dict[str, int]]] = {}


def _order(config: Config) -> dict[str, int]:
    """Lifecycle position of each stage (terminated excluded), cached per standard."""
    std = config.standard
    cached = _ORDERS.get(id(std))
    if cached is None or cached[0] is not std:
        cached = _ORDERS[id(std)] = (std, {s.name: std.stage_order(s.name) for s in std.stages if s.name != "terminated"})
    return cached[1]


def gates_in_force(config: Config, stage: str, records: Iterable[str]) -> tuple[str, ...]:
    """Every gate key whose approval the project's present state rests on."""
    keys = list(crossed(config, None, stage))
    keys += [f"records.{r}" for r in sorted(set(records))]
    return tuple(k for k in keys if k in config.gates)


def roles_for(config: Config, gates: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(config.gates[g] for g in gates if g in config.gates))
