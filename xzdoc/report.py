"""Findings as text, JSON, GitHub annotations with a job summary, or SARIF."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from urllib.parse import quote

from xzdoc import __version__
from xzdoc.model import ERROR, LEVEL_ZH, WARNING, Finding

FORMATS = ("text", "json", "github", "sarif")


def text(findings: Sequence[Finding], projects: int) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.level} [{f.rule}] {f.message}" for f in findings]
    lines.append(summary_line(findings, projects))
    return "\n".join(lines)


def left_out(where: Sequence[tuple[str, int, str]], view: str) -> str:
    """Why projects are missing from a view: each as (file, line, why), then what to do."""
    lines = [f"{path}:{line}: 错误 {why}" for path, line, why in where]
    lines.append(f"错误：{len(where)} 个项目的 project.yaml 未能读取或不符合格式，未列入{view}；"
                 "修正后重新运行（xzdoc validate 列出全部问题）")
    return "\n".join(lines)


def summary_line(findings: Sequence[Finding], projects: int) -> str:
    counts = Counter(f.level for f in findings)
    if not findings:
        return f"已检查 {projects} 个项目，全部符合编制规范。"
    parts = [f"{counts[level]} 个{LEVEL_ZH[level]}" for level in (ERROR, WARNING, "info") if counts[level]]
    return f"已检查 {projects} 个项目：" + "，".join(parts) + "。"


def as_json(findings: Sequence[Finding]) -> str:
    rows = [{"path": f.path, "line": f.line, "column": f.column, "rule": f.rule, "article": f.article,
             "level": f.level, "message": f.message} for f in findings]
    return json.dumps(rows, ensure_ascii=False, indent=2)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding]) -> str:
    kinds = {ERROR: "error", WARNING: "warning"}
    return "\n".join(
        f"::{kinds.get(f.level, 'notice')} file={_escape_prop(f.path)},line={f.line},col={f.column},"
        f"title={_escape_prop(f.rule)}::{_escape_data(f.message)}"
        for f in findings
    )


def step_summary(findings: Sequence[Finding], projects: int) -> str:
    lines = ["## xzdoc 编制规范检查", "", summary_line(findings, projects), ""]
    if findings:
        lines += ["| 级别 | 位置 | 规则 | 说明 |", "|---|---|---|---|"]
        for f in findings:
            where = _cell(f"{f.path}:{f.line}").replace("`", "'")
            lines.append(f"| {LEVEL_ZH.get(f.level, f.level)} | `{where}` | `{f.rule}` | {_cell(f.message)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """One table cell: a line break in a key or folder name would end the row and let the rest of the text
    be Markdown of its own (a heading saying all is well, in the summary approvers read)."""
    return " ".join(text.split()).replace("|", "\\|")


def sarif(findings: Sequence[Finding], rules: Sequence[tuple[str, str, str]]) -> str:
    levels = {ERROR: "error", WARNING: "warning"}
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "xzdoc", "version": __version__, "rules": [
                {"id": rid, "shortDescription": {"text": desc}, "properties": {"article": art}}
                for rid, art, desc in rules]}},
            "results": [{
                "ruleId": f.rule, "level": levels.get(f.level, "note"), "message": {"text": f.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": quote(f.path, safe="/")},
                                                    "region": {"startLine": f.line, "startColumn": f.column}}}],
            } for f in findings],
        }],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
