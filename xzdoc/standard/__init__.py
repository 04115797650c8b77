"""The compilation standard as data: outlines, enums, stages, caps, schema.

Defaults ship as files beside this module; a repository overrides any part in
``xzdoc.yaml`` under ``standard:`` (mappings merge, lists replace).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import yaml

_FILES = ("outlines", "enums", "stages", "caps")


@dataclass(frozen=True)
class Chapter:
    title: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class StageRecord:
    key: str
    article: str
    what: str


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    documents: tuple[str, ...]
    records: tuple[StageRecord, ...]
    sections: tuple[str, ...]


@dataclass(frozen=True)
class Standard:
    outlines: Mapping[str, tuple[Chapter, ...]]
    enums: Mapping[str, tuple[str, ...]]
    stages: tuple[Stage, ...]
    caps: Mapping[str, Any]
    raw_schema: Mapping[str, Any]

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def stage_order(self, name: str) -> int:
        """Position in the lifecycle; unknown and terminated sort before draft."""
        for i, s in enumerate(self.stages):
            if s.name == name:
                return -1 if name == "terminated" else i
        return -1

    def reached(self, stage: str, milestone: str) -> bool:
        return self.stage_order(stage) >= self.stage_order(milestone) >= 0

    def cumulative(self, stage: str) -> list[Stage]:
        if stage == "terminated":
            return [s for s in self.stages if s.name == "terminated"]
        order = self.stage_order(stage)
        return [s for s in self.stages[: order + 1] if s.name != "terminated"]

    def required_documents(self, stage: str) -> tuple[str, ...]:
        docs: list[str] = []
        for s in self.cumulative(stage):
            docs += [d for d in s.documents if d not in docs]
        return tuple(docs)

    def required_records(self, stage: str) -> tuple[StageRecord, ...]:
        return tuple(r for s in self.cumulative(stage) for r in s.records)

    def required_sections(self, stage: str) -> tuple[str, ...]:
        return tuple(k for s in self.cumulative(stage) for k in s.sections)

    @cached_property
    def schema(self) -> dict[str, Any]:
        """The JSON Schema with this repository's enums filled in, for IDEs."""
        out = copy.deepcopy(dict(self.raw_schema))
        for name, values in self.enums.items():
            if name in out["$defs"]:
                out["$defs"][name] = {"type": "string", "enum": list(values)}
        return out


def _read(name: str) -> Any:
    return yaml.load(resources.files(__name__).joinpath(f"{name}.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


@functools.cache
def defaults() -> dict[str, Any]:
    """The packaged data files, read once per process; callers merge into copies and never mutate them."""
    return {name: _read(name) for name in _FILES}


@functools.cache
def _raw_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath("project.schema.json").read_text("utf-8"))
    return data


@functools.cache
def articles() -> dict[str, str]:
    """Article number (第七条) -> its text in the measures, as shipped beside this module."""
    data = json.loads(resources.files(__name__).joinpath("articles.json").read_text("utf-8"))
    return dict(data["articles"])


def build(overrides: Mapping[str, Any] | None = None) -> Standard:
    data = _merge(defaults(), dict(overrides or {}))
    schema = _raw_schema()
    return Standard(
        outlines={k: tuple(Chapter(c["title"], tuple(c.get("aliases") or ())) for c in v)
                  for k, v in data["outlines"].items()},
        enums={k: tuple(str(x) for x in v) for k, v in data["enums"].items()},
        stages=tuple(_stage(name, spec) for name, spec in data["stages"].items()),
        caps=data["caps"],
        raw_schema=schema,
    )


def _stage(name: str, spec: Mapping[str, Any]) -> Stage:
    return Stage(
        name=name,
        label=spec.get("label", name),
        documents=tuple(spec.get("documents") or ()),
        records=tuple(StageRecord(r["key"], r["article"], r["what"]) for r in spec.get("records") or ()),
        sections=tuple(spec.get("sections") or ()),
    )
