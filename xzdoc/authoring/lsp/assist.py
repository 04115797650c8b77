"""Completion and hover from the standard: schema keys and enums, outline chapters, rules and articles.

The YAML path at the cursor is read from indentation, not from a parse: while someone types,
the file is usually not valid YAML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xzdoc import rules, standard
from xzdoc.config import Config
from xzdoc.source import drafts as md

_KEY = re.compile(r"^(\s*)(-\s+)?([^\s:#'\"{}\[\],][^:#]*?):(\s|$)")
_ITEM = re.compile(r"^(\s*)-(\s+|$)")
_RULE = re.compile(r"art\d+\.[a-z0-9-]+")
_ARTICLES = re.compile(r"第([一二三四五六七八九十]+(?:[、和][一二三四五六七八九十]+)*)条")
_WORD = re.compile(r"[A-Za-z0-9_\-.]+")
_CONFIG_KEYS = {"organisation": "单位名称", "projects_dir": "项目目录（默认 projects）",
                "approvers": "审批人：按角色列出成员和提交所用的邮箱", "gates": "每项变更需要哪个角色合并才生效",
                "baseline": "采用 xzdoc 时主分支上的提交", "branch": "主分支名称", "calendar": "补充的工作日历",
                "fonts": "各角色所用字体", "standard": "覆盖编制规范数据（提纲、取值范围、阶段、费率上限）"}
Path_ = list[Any]


@dataclass(frozen=True)
class Item:
    label: str
    detail: str
    insert: str
    kind: str   # "key", "value", "heading"


def yaml_path(lines: list[str], row: int, col: int) -> tuple[Path_, str | None]:
    """(path of the mapping the cursor is in, key whose value the cursor is on, if any)."""
    line = lines[row][:col] if row < len(lines) else ""
    path: Path_ = []
    key_here = None
    found = _KEY.match(line)
    flow = _flow_key(line)
    rest = line[found.end(3) + 1:].lstrip() if found else ""
    if flow:
        key_here = flow
    elif found and rest.startswith("[") and "]" not in rest:
        key_here = found.group(3).strip()   # inside "categories: [应用系统, ": the list's values
    elif found and line[found.end(3) + 1:].strip(" ") == line[found.end(3) + 1:].lstrip():
        key_here = found.group(3).strip() if found.end() <= len(line) else None
    indent = _indent_of(line)
    item = _ITEM.match(line)
    if item:
        path.append(0)
        indent = len(item.group(1))
    for above in range(row - 1, -1, -1):
        text = lines[above]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        own = len(text) - len(text.lstrip())
        entry = _ITEM.match(text)
        key = _KEY.match(text)
        key_col = len(key.group(1)) + len(key.group(2) or "") if key else own
        if key and key_col < indent and not text[key.end():].strip().startswith(("[", "{")) and \
                not text[key.end():].strip():
            path.insert(0, key.group(3).strip())
            indent = key_col
        if entry and len(entry.group(1)) < indent:
            path.insert(0, 0)
            indent = len(entry.group(1))
        if indent == 0:
            break
    return path, key_here


def _indent_of(line: str) -> int:
    item = _ITEM.match(line)
    return len(item.group(0)) if item else len(line) - len(line.lstrip())


def _flow_key(line: str) -> str | None:
    """Inside ``{name: x, group: |}`` the key whose value is being typed."""
    if line.count("{") <= line.count("}"):
        return None
    tail = line[line.rfind("{") + 1:].rsplit(",", 1)[-1]
    found = re.match(r"\s*([^:\s]+):\s*[^,]*$", tail)
    return found.group(1) if found else None


def node_at(schema: Mapping[str, Any], path: Path_) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] | None = _deref(schema, schema)
    for part in path:
        if node is None:
            return None
        if isinstance(part, int):
            node = _deref(schema, node.get("items") or {}) if "items" in node else None
            continue
        props = node.get("properties", {})
        if part in props:
            node = _deref(schema, props[part])
        elif any(re.match(p, str(part)) for p in node.get("patternProperties", {})):
            node = _deref(schema, next(v for p, v in node["patternProperties"].items() if re.match(p, str(part))))
        elif isinstance(node.get("additionalProperties"), Mapping):
            node = _deref(schema, node["additionalProperties"])
        else:
            return None
    return node


def _deref(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema["$defs"][ref.rsplit("/", 1)[1]]
    return {**_deref(schema, target), **{k: v for k, v in node.items() if k != "$ref"}}


def complete_yaml(config: Config, lines: list[str], row: int, col: int, is_config: bool = False) -> list[Item]:
    schema = config.standard.schema
    path, key = yaml_path(lines, row, col)
    if is_config:
        return [] if key or path else [Item(k, d, f"{k}: ", "key") for k, d in _CONFIG_KEYS.items()]
    if key is not None:
        node = node_at(schema, [*path, key])
        if node is None:
            return []
        if node.get("type") == "array":
            node = _deref(schema, node.get("items") or {})
        if "enum" in node:
            return [Item(str(v), node.get("description", ""), str(v), "value") for v in node["enum"]]
        if node.get("type") == "boolean":
            return [Item(v, "", v, "value") for v in ("true", "false")]
        return []
    node = node_at(schema, path)
    if node is None:
        return []
    props = dict(node.get("properties", {}))
    names = node.get("propertyNames")
    if names:
        for value in _deref(schema, names).get("enum", ()):
            props[value] = {"description": "文档类型"}
    present = _siblings(lines, row)
    return [Item(k, _deref(schema, v).get("description", ""), f"{k}: ", "key") for k, v in props.items() if k not in present]


def _siblings(lines: list[str], row: int) -> set[str]:
    """Keys already written at the cursor's indentation, in the same block."""
    indent = _indent_of(lines[row]) if row < len(lines) else 0
    out = set()
    for step in (-1, 1):
        at = row + step
        while 0 <= at < len(lines):
            text = lines[at]
            if text.strip() and not text.lstrip().startswith("#"):
                own = _indent_of(text)
                if own < indent:
                    break
                key = _KEY.match(text)
                if key and own == indent:
                    out.add(key.group(3).strip())
            at += step
    return out


def complete_draft(config: Config, kind: str | None, lines: list[str], row: int) -> list[Item]:
    if kind is None or not (lines[row] if row < len(lines) else "").startswith("#"):
        return []
    from xzdoc.authoring.scaffold import chapter_heading

    chapters = config.standard.outlines.get(kind, ())
    present = {h.title for h in md.chapters("\n".join(lines))}
    return [Item(chapter_heading(i, c.title)[2:], f"《{kind}》提纲第 {i + 1} 章", chapter_heading(i, c.title), "heading")
            for i, c in enumerate(chapters) if chapter_heading(i, c.title)[2:] not in present]


def hover(config: Config, lines: list[str], row: int, col: int, yaml: bool, rule_ids: list[str]) -> str | None:
    """Markdown for the rule id or key under the cursor, and the diagnostics' rules on this line."""
    line = lines[row] if row < len(lines) else ""
    parts = []
    for found in _RULE.finditer(line):
        if found.start() <= col <= found.end():
            parts.append(rule_text(found.group(0)))
    if yaml and not parts:
        key = _KEY.match(line)
        if key and key.start(3) <= col <= key.end(3):
            path, _ = yaml_path(lines, row, key.start(3))
            parts.append(key_text(config, [*path, key.group(3).strip()]))
    parts += [rule_text(r) for r in dict.fromkeys(rule_ids)]
    text = "\n\n---\n\n".join(p for p in parts if p)
    return text or None


def rule_text(rule_id: str) -> str:
    rule = rules.BY_ID.get(rule_id)
    if rule is None:
        return ""
    return f"**{rule.id}**（{rule.article}，{rule.level}）：{rule.description}\n\n" + cited(rule.article)


def key_text(config: Config, path: Path_) -> str:
    node = node_at(config.standard.schema, path)
    if node is None:
        return ""
    name = ".".join(str(p) if not isinstance(p, int) else "[]" for p in path).replace(".[]", "[]")
    out = f"**{name}**：{node.get('description', '')}"
    if "enum" in node:
        out += "\n\n可选：" + "、".join(map(str, node["enum"]))
    return out + "\n\n" + cited(node.get("description", ""))


def cited(text: str) -> str:
    """The measures' text of every article ``text`` cites (第七、十一条 cites two)."""
    texts = standard.articles()
    out = []
    for found in _ARTICLES.finditer(text):
        for number in re.split("[、和]", found.group(1)):
            article = f"第{number}条"
            if article in texts:
                out.append(f"> **{article}** {texts[article]}")
    return "\n\n".join(dict.fromkeys(out))
