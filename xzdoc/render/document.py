"""A project's documents as Markdown: each draft through the sandbox, then the trusted template of its kind.

Drafts are untrusted prose: their ``{{ … }}`` run in Jinja's immutable
sandbox and any failure becomes an error at the draft's file and line.
Templates come from the loader chain (the repository's templates/ first),
so a bureau overrides one document kind without copying the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from xzdoc.config import Config
from xzdoc.errors import XzdocError
from xzdoc.model import Draft, Project
from xzdoc.render import records, templates
from xzdoc.render.context import Cover, RenderContext
from xzdoc.rules import nesting, typeset
from xzdoc.source import sandbox, textio
from xzdoc.source.drafts import ALLOW_MARK, ALLOW_TEXT, GUIDANCE

SLUGS = {"项目建议书": "proposal", "可行性研究报告": "feasibility", "初步设计": "design", "投资概算": "estimate",
         "整体方案": "overall"}
FALLBACK = "document"
APPROVAL = "审批记录"
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark; pandoc lets each be escaped


@dataclass(frozen=True)
class Document:
    kind: str
    markdown: str
    cover: Cover | None
    source: str | None = None  # the draft as shown to users, where errors point
    draft: str | None = None   # the draft's own text, to find the line of a bad link

    @property
    def where(self) -> str:
        return self.source or f"templates/{SLUGS.get(self.kind, FALLBACK)}"


def kinds(config: Config, project: Project) -> list[str]:
    """The documents to render: those the stage requires, then any others the project registers."""
    required = config.standard.required_documents(project.stage)
    missing = [k for k in required if k not in project.drafts]
    if missing:
        stage = config.standard.stage(project.stage)
        raise XzdocError(f"阶段“{stage.label if stage else project.stage}”需要的文稿未登记：{'、'.join(missing)}",
                         project.yaml_path, hint=f"在 project.yaml 的 documents 下登记，例如 {missing[0]}: drafts/xxx.md")
    for draft in project.drafts.values():
        if draft.text is None:
            raise XzdocError(f"文稿 {draft.path} 不存在或无法读取", draft.path,
                             hint="先运行 xzdoc validate 查看原因，或修改 project.yaml 的 documents")
    return [*required, *[k for k in project.drafts if k not in required]]


def documents(config: Config, ctx: RenderContext, wanted: Iterable[str]) -> list[Document]:
    env = environment(config)
    out = []
    for kind in wanted:
        draft = ctx.project.drafts[kind]
        body = render_draft(draft, ctx.variables)
        markdown = templates.render(env, [f"{SLUGS.get(kind, FALLBACK)}/document.md.j2", f"{FALLBACK}/document.md.j2"],
                           {**ctx.template_vars(), "kind": kind, "body": body})
        bad = textio.control_character(markdown, ctx.project.yaml_path)
        if bad is not None:  # not in the draft (render_draft looked): a YAML escape such as "\a" in the metadata
            raise XzdocError("项目元数据中有控制字符（例如 YAML 双引号字符串里的 \\a、\\x1b 转义），PDF 和 DOCX 都无法容纳",
                             ctx.project.yaml_path, hint="删去元数据中的这类转义字符")
        unfit = textio.first_unfit(markdown)
        if unfit is not None:  # the draft was looked at: it comes from the metadata, through the cover or title
            raise XzdocError(f"项目元数据中有 U+{ord(unfit):04X}（{textio.unfit_kind(unfit)}），PDF 无法生成",
                             ctx.project.yaml_path, hint="删去它（xzdoc validate 指出所在行）")
        out.append(Document(kind, markdown, ctx.cover(kind), draft.path, draft.text))
    return out


def approval_document(config: Config, ctx: RenderContext, records: Sequence[Mapping[str, str]]) -> Document:
    markdown = templates.render(environment(config), ["approval/document.md.j2"],
                       {**ctx.template_vars(), "kind": APPROVAL, "records": records})
    return Document(APPROVAL, markdown, None)


def environment(config: Config) -> jinja2.Environment:
    env = templates.environment(config)
    env.filters["md"] = escape_md
    env.filters["breakable"] = records.breakable
    return env


def escape_md(value: Any) -> str:
    """Metadata as literal Markdown text: one line, every punctuation mark escaped, so a name cannot become markup."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def strip_guidance(text: str) -> str:
    """Scaffold guidance lines become blank lines, so line numbers in errors still match the file."""
    if GUIDANCE not in text:
        return text
    return "\n".join("" if line.startswith(GUIDANCE) else line for line in text.split("\n"))


_INDENT = re.compile(r"^\u3000+", re.M)


def prepare(text: str) -> str:
    """What the reader never sees: scaffold guidance, scanners' allow marks, Word's full-width indents.

    The layout indents every body paragraph by two characters already; lines
    keep their numbers so errors still point into the file.
    """
    text = strip_guidance(text)
    if ALLOW_MARK.split(":")[0] in text:
        text = ALLOW_TEXT.sub("", text)
    if "\u3000" in text:
        text = _INDENT.sub("", text)
    return text


def render_draft(draft: Draft, variables: Mapping[str, Any]) -> str:
    """The draft's Markdown with its references filled in; refused at its line when it cannot be typeset."""
    text = prepare(draft.text or "")
    for problem in (textio.control_character(text, draft.path), textio.unfit_character(text, draft.path),
                    nesting.too_deep(text, draft.path, draft.kind), typeset.too_many(text, draft.path, draft.kind)):
        if problem is not None:
            raise problem
    body = sandbox.render(text, draft.path, variables)
    bad = textio.control_character(body, draft.path)
    if bad is not None:  # made by an expression, from the metadata: the line is that of the filled-in text
        raise XzdocError(f"文稿第{bad.line}行的 {{{{ … }}}} 引用的元数据含有控制字符，PDF 和 DOCX 都无法容纳", draft.path, bad.line,
                         hint="删去 project.yaml 中对应值里的 \\a、\\x1b 等转义字符（xzdoc validate 会指出所在行）")
    unfit = textio.unfit_character(body, draft.path)
    if unfit is not None:
        raise XzdocError(f"文稿第{unfit.line}行的 {{{{ … }}}} 引用的元数据含有公文无法显示的字符：{unfit.message}", draft.path,
                         unfit.line, hint="删去 project.yaml 中对应值里的这个字符（xzdoc validate 会指出所在行）")
    if body != text:
        # What the expressions wrote can nest or number a list too ({{ '' }} before a number hides it from a
        # reading of the draft as written): told at its line, not by Typst against the page template.
        deep = nesting.too_deep(body, draft.path, draft.kind)
        if deep is not None:
            raise XzdocError(f"{deep.message}（模板展开后）", draft.path, deep.line, hint=deep.hint)
    return body
