"""The review summary of a change as Markdown, for the pull request and the CI job summary.

Presentation only: it formats the frozen records ``diff.review`` returns and computes nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from xzdoc.portfolio.diff import ADDED, CHANGED, REMOVED, STATUS_ZH, SYSTEM_STATUS_ZH, ProjectChange, Review
from xzdoc.source import register as reg


def as_markdown(result: Review) -> str:
    lines = ["## xzdoc 变更审查摘要", "", f"比较 `{result.base}` → `{result.head}`。", ""]
    if result.errors:
        lines += [f"> **错误**：{e}" for e in result.errors] + [""]
    lines += _shared(result) + _projects(result) + _stages(result) + _budgets(result) + _catalog_changes(result)
    lines += _count_lines(result)
    if result.warnings:
        lines += ["### 提示", "", *(f"- {w}" for w in result.warnings), ""]
    text = "\n".join(lines).rstrip("\n") + "\n"
    # A file name git holds in bytes that are not UTF-8 arrives as surrogates, which no output can encode.
    return text.encode("utf-8", "replace").decode("utf-8")


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows), ""]


def _shared(result: Review) -> list[str]:
    if not result.shared:
        return []
    return ["### 影响全部材料包的文件", "",
            "以下文件决定每个项目材料包的内容和版式（模板还决定审批记录页），改动会影响全部项目，请逐行审阅：", "",
            *(f"- `{name}`" for name in result.shared), ""]


def _projects(result: Review) -> list[str]:
    if not result.projects:
        return ["本次变更没有涉及任何项目。", ""]
    counts = "，".join(f"{STATUS_ZH[s]} {n} 个" for s in (ADDED, CHANGED, REMOVED)
                      if (n := sum(1 for p in result.projects if p.status == s)))
    rows = [(STATUS_ZH[p.status], p.project, p.name, _files(p)) for p in result.projects]
    return ["### 项目", "", f"共涉及 {len(result.projects)} 个项目：{counts}。", "",
            *_table(("变更", "项目编号", "项目名称", "改动的文件"), rows)]


def _files(change: ProjectChange) -> str:
    if not change.files:
        return "—"
    shown = "、".join(change.files[:6])
    return shown + (f" 等 {len(change.files)} 个" if len(change.files) > 6 else "")


def _stages(result: Review) -> list[str]:
    rows = []
    for p in result.projects:
        s = p.stage
        if s is None:
            continue
        if s.roles:
            who, members = "、".join(s.roles), "、".join(s.approvers) or "（未配置成员）"
        else:
            who, members = "无需审批" + ("（阶段回退）" if s.old else ""), "—"
        rows.append((p.project, f"{s.old or ''} {s.old_label} → {s.new} {s.new_label}".strip(), who, members,
                     "、".join(s.articles) or "—"))
    if not rows:
        return []
    return ["### 阶段变更", "", "阶段变更须由下列角色的成员合并本拉取请求才生效（第二十四条）。", "",
            *_table(("项目编号", "阶段变化", "须由谁合并", "审批人", "依据"), rows)]


def _budgets(result: Review) -> list[str]:
    rows = []
    for p in result.projects:
        for a in p.budget:
            rows.append((p.project, a.label, _money(a.before), _money(a.after), _signed(a.delta)))
    if not rows:
        return []
    return ["### 预算变化（万元）", "", *_table(("项目编号", "年度/来源", "变更前", "变更后", "增减"), rows)]


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _signed(value: Decimal) -> str:
    return f"{value:+.2f}" if value else "0.00"


def _catalog_changes(result: Review) -> list[str]:
    lines = []
    for p in result.projects:
        for item in p.items:
            # A project listing a system is not a new system: the action in brackets says what happens to it.
            what, status = ("系统", SYSTEM_STATUS_ZH[item.status]) if item.kind == "system" else ("信息资源", STATUS_ZH[item.status])
            head = f"- {p.project}：{status}{what} {item.key} {item.name}".rstrip()
            if item.action and item.status != CHANGED:
                head += f"（{item.action}）"
            lines.append(head)
            lines += [f"  - {f.label}（`{f.key}`）：{f.before or '（空）'} → {f.after or '（空）'}" for f in item.fields]
        if p.other:
            lines.append(f"- {p.project}：其他改动的字段：{'、'.join(p.other)}")
    return ["### 信息系统和信息资源", "", *lines, ""] if lines else []


def _count_lines(result: Review) -> list[str]:
    c = result.systems
    registered = f"；{reg.REGISTER_NAME} 登记在用 {c.registered} 个" if c.registered is not None else ""
    lines = ["### 政务信息系统总量", "", f"全部项目实施后的在用系统：变更前 {c.before} 个，变更后 {c.after} 个{registered}"
             f"（按 {reg.REGISTER_NAME} 登记的系统和各项目的建设方式计算，不含拟下线、整合的系统）。", ""]
    if c.added:
        lines.append(f"- 新增在用：{'、'.join(c.added)}")
    if c.retired:
        lines.append(f"- 下线或整合：{'、'.join(c.retired)}")
    if c.added or c.retired:
        lines.append("")
    if result.register:
        lines += [f"- {reg.REGISTER_NAME}：{'；'.join(result.register)}（目录的改动同样须经审核）", ""]
    if c.raised:
        lines += ["**不通过**：系统总量只减不增（第一条）。新增系统须同时下线或整合同等数量的已有系统，"
                  "或改为升级、整合已有系统（第十条）。", ""]
    elif c.grew and c.listed_only:
        lines += [f"符合系统总量只减不增（第一条）：新增的在用系统是 {reg.REGISTER_NAME} 新登记的已有系统，不是项目新建；"
                  "目录的改动须经 xzdoc.yaml 中 gates.systems 所定角色的成员合并审批。", ""]
    elif c.grew:
        lines += [f"符合系统总量只减不增（第一条）：新增的系统由已列入项目的整合、下线抵消，"
                  f"实施后不多于登记的 {c.registered} 个。", ""]
    else:
        lines += ["符合系统总量只减不增（第一条）。", ""]
    return lines


def write_summary(result: Review, path: Path) -> None:
    """Append to the job summary file (GITHUB_STEP_SUMMARY), as GitHub and Gitea read it."""
    text = as_markdown(result) + "\n"     # made first: a failure leaves the summary file as it was
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
