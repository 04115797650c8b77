"""`xzdoc new`: a project folder from templates/project/, every chapter in place."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from xzdoc.config import Config
from xzdoc.errors import UsageError, XzdocError
from xzdoc.render.templates import environment
from xzdoc.source.drafts import GUIDANCE
from xzdoc.source.fsio import write_all
from xzdoc.source.loader import PROJECT_FILE, declared_id
from xzdoc.standard import Standard

SCHEMA_FILE = ".vscode/xzdoc.schema.json"
_ID = re.compile(r"[A-Z][A-Z0-9]*-[0-9]{4}-[0-9]{3}")
DRAFT_FILES = {"项目建议书": "proposal.md", "可行性研究报告": "feasibility.md", "初步设计": "design.md",
               "投资概算": "estimate.md"}


def new_project(config: Config, target: Path, project_id: str, name: str, today: dt.date,
                force: bool = False) -> list[Path]:
    if not _ID.fullmatch(project_id):   # "$" alone would let a final line break through
        raise UsageError(f"项目编号“{project_id}”格式不对", "命令行选项 --id",
                         hint="编号写作 单位代码-年份-三位序号，例如 XZJT-2027-001")
    if not name.strip():
        raise UsageError("项目名称不能为空", "命令行选项 --name", hint='例如 --name "忻州市公路养护巡查智能化升级项目"')
    if not name.isprintable():
        raise UsageError("项目名称中有换行或控制字符", "命令行选项 --name",
                         hint='名称写在一行内，例如 --name "忻州市公路养护巡查智能化升级项目"')
    taken = _holder(config, project_id)
    if taken is not None:
        raise UsageError(f"项目编号 {project_id} 已被 {taken} 使用，编号须全库唯一（第八条）", "命令行选项 --id",
                         hint="换一个未用过的序号；已有编号见 xzdoc status")
    if target.name != project_id and not force:
        raise UsageError(f"目录名“{target.name}”与项目编号“{project_id}”不一致", "命令行参数 PATH",
                         hint=f"项目目录以编号命名：xzdoc new {(target.parent / project_id).as_posix()} --id {project_id} …；"
                              "确需不同的目录名时加 --force")
    if target.exists() and any(target.iterdir()):
        raise XzdocError(f"目录 {target} 已存在且不为空", str(target), hint="换一个目录，或先移走原有内容")
    env = environment(config)
    schema_rel = os.path.relpath(config.root / SCHEMA_FILE, target.resolve())
    # Quoted as YAML reads it back: a name such as yes, {{ … }} or 交通局: 信息科 stays the text it is.
    context = {"id": project_id, "name": json.dumps(name.strip(), ensure_ascii=False),
               "year": today.year + 1, "schema": Path(schema_rel).as_posix(),
               "organisation": config.organisation, "drafts": DRAFT_FILES}
    files = {target / "project.yaml": env.get_template("project/project.yaml.j2").render(context)}
    for kind, file in DRAFT_FILES.items():
        files[target / "drafts" / file] = outline_draft(config.standard, kind)
    files.update(schema_files(config))
    # All or none: a project folder half made would be mistaken for one to fill in.
    write_all(list(files.items()))
    return sorted(files)


def _holder(config: Config, project_id: str) -> str | None:
    """The project folder (repository-relative) that already declares ``project_id``."""
    root = config.root / config.projects_dir
    for file in sorted(root.glob(f"*/{PROJECT_FILE}")):
        if file.parent.name == project_id or declared_id(file) == project_id:
            return file.parent.relative_to(config.root).as_posix()
    return None


def outline_draft(standard: Standard, kind: str) -> str:
    return "\n".join(chapter_block(i, chapter.title) for i, chapter in enumerate(standard.outlines[kind]))


def chapter_block(index: int, title: str) -> str:
    """The ``index``-th (0-based) outline chapter as the scaffold writes it: numbered heading and guidance."""
    return f"{chapter_heading(index, title)}\n\n{GUIDANCE}在此撰写“{title}”。本行以“【编写提示】”开头，" \
           "不计入正文，也不会出现在成稿中；写好正文后删除本行。\n"


def chapter_heading(index: int, title: str) -> str:
    numerals = "一二三四五六七八九十"
    number = numerals[index] if index < 10 else "十" + numerals[index - 10] if index < 19 else str(index + 1)
    return f"# {number}、{title}"


def schema_files(config: Config) -> dict[Path, str]:
    return {config.root / SCHEMA_FILE: schema_text(config.standard)}


def schema_text(standard: Standard) -> str:
    return json.dumps(standard.schema, ensure_ascii=False, indent=2) + "\n"
