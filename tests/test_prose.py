"""Drafts against their metadata: a corpus of mutations of the demo projects, each caught at its draft line
with the project.yaml line named, and mutations that must stay clean."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke

A, B, C = "XZJT-2025-002", "XZJT-2026-001", "XZJT-2026-003"


@dataclass(frozen=True)
class Mutation:
    name: str
    project: str
    file: str
    old: str
    new: str
    rule: str
    yaml_line: int | None = None   # the project.yaml line the message must name (None: some line)


def _line(project: str, needle: str) -> int:
    text = (ROOT / "projects" / project / "project.yaml").read_text("utf-8")
    return text[: text.index(needle)].count("\n") + 1


CAUGHT = [
    # Amounts tied to known figures.
    Mutation("total-in-place", C, "proposal.md", "项目总投资估算为{{ budget.total }}万元，资金来源",
             "项目总投资估算为465.40万元，资金来源", "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("year-budget", C, "proposal.md", "2027年度预算为{{ budget.years[2027] }}万元。其中",
             "2027年度预算为375.40万元。其中", "art07.prose-amounts", _line(C, "2027: 365.40")),
    Mutation("group-subtotal", C, "proposal.md", "其中，硬件设备购置费152.00万元", "其中，硬件设备购置费162.00万元",
             "art07.prose-amounts", _line(C, "- {name: 车载智能巡查终端")),
    Mutation("estimate-item", B, "design.md", "监理费48.00万元", "监理费58.00万元", "art07.prose-amounts",
             _line(B, "{name: 监理费")),
    Mutation("funding-source", B, "feasibility.md", "市级财政资金1640.00万元", "市级财政资金1740.00万元",
             "art07.prose-amounts", _line(B, "市级财政资金: 1640.00")),
    Mutation("reserve", B, "estimate.md", "预备费47.00万元", "预备费37.00万元", "art07.prose-amounts",
             _line(B, "{name: 预备费")),
    Mutation("total-in-yuan", B, "proposal.md", "\n# 二、", "\n本项目总投资为21,400,000元。\n\n# 二、",
             "art07.prose-amounts", _line(B, "total: 2040.00")),
    Mutation("rounded-wrong", A, "estimate.md", "\n# 二、", "\n项目总投资约621万元。\n\n# 二、", "art07.prose-amounts",
             _line(A, "total:")),
    # Other ways of writing an amount.
    Mutation("chinese-numerals", C, "proposal.md", "\n# 二、", "\n本项目总投资为人民币肆佰万元整。\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("chinese-numerals-plain", C, "proposal.md", "\n# 二、", "\n项目总投资为三百八十万元。\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("full-width-digits", C, "proposal.md", "\n# 二、", "\n项目总投资为３６５．００万元。\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("yuan-with-separators", C, "proposal.md", "\n# 二、", "\n项目总投资为3,650,000元。\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("yi-yuan", C, "proposal.md", "\n# 二、", "\n项目总投资为1.2亿元。\n\n# 二、", "art07.prose-amounts",
             _line(C, "total: 365.40")),
    Mutation("remark-in-brackets", C, "proposal.md", "\n# 二、", "\n项目总投资（含预备费）为380.00万元。\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("renminbi", C, "proposal.md", "\n# 二、", "\n项目计划总投资人民币400万元整。\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("table-cell", C, "proposal.md", "\n# 二、", "\n| 项目 | 金额 |\n|---|---|\n| 项目总投资 | 400.00万元 |\n\n# 二、",
             "art07.prose-amounts", _line(C, "total: 365.40")),
    Mutation("mlps-floor", C, "proposal.md", "\n# 二、", "\n系统按照等保第四级以上要求建设。\n\n# 二、", "art31.prose-mlps"),
    Mutation("mlps-system-level", C, "proposal.md", "\n# 二、", "\n系统拟定为第三级信息系统。\n\n# 二、", "art31.prose-mlps"),
    Mutation("mlps-by-standard", C, "proposal.md", "\n# 二、", "\n系统按照GB/T 22239-2019第三级要求建设。\n\n# 二、",
             "art31.prose-mlps"),
    # 等保 levels.
    Mutation("mlps-third-for-second", C, "proposal.md", "按照网络安全等级保护第二级要求", "按照网络安全等级保护第三级要求",
             "art31.prose-mlps", _line(C, "security:") + 1),
    Mutation("mlps-short-form", A, "feasibility.md", "等保三级测评", "等保二级测评", "art31.prose-mlps"),
    Mutation("mlps-2.0", C, "proposal.md", "\n# 二、", "\n系统按等保2.0三级要求建设。\n\n# 二、", "art31.prose-mlps"),
    Mutation("mlps-level-first", C, "proposal.md", "\n# 二、", "\n系统拟按三级等保要求建设。\n\n# 二、", "art31.prose-mlps"),
    Mutation("mlps-of-named-system", B, "design.md", "\n# 二、", "\n出租汽车监管系统按照网络安全等级保护第三级运行。\n\n# 二、",
             "art31.prose-mlps", _line(B, "    mlps_level: 2")),
    # System and project ids, another project's name.
    Mutation("unknown-system", C, "proposal.md", "XZJT-SYS-007", "XZJT-SYS-099", "art08.prose-systems",
             _line(C, "  - id: XZJT-SYS-007")),
    Mutation("other-projects-system", C, "proposal.md", "\n# 二、", "\n本项目与XZJT-SYS-015共享数据。\n\n# 二、",
             "art08.prose-systems", _line(B, "  - id: XZJT-SYS-015")),
    Mutation("foreign-id", C, "proposal.md", "\n# 二、", "\n本项目编号为XZJT-2026-001。\n\n# 二、", "art08.foreign-project",
             _line(B, "id: XZJT-2026-001")),
    Mutation("foreign-name", C, "proposal.md", "\n# 二、", "\n本章内容同忻州市综合交通运输数据共享与运行监测平台建设项目。\n\n# 二、",
             "art08.foreign-project", _line(B, "name: 忻州市综合交通")),
    # Template references.
    Mutation("undefined-year", C, "proposal.md", "{{ budget.years[2027] }}", "{{ budget.years[2025] }}",
             "art07.draft-references", _line(C, "2027: 365.40")),
    Mutation("misspelt-field", B, "design.md", "{{ name }}", "{{ nmae }}", "art07.draft-references"),
    Mutation("python-internals", A, "proposal.md", "{{ budget.total }}", "{{ budget.__class__.__mro__ }}",
             "art07.draft-references"),
    Mutation("syntax", A, "feasibility.md", "{{ budget.total }}", "{{ budget.total }", "art07.draft-references"),
    # WAS A HOLE: each of these held validate for hours (nested loops, a Python-level filter over megabytes).
    Mutation("nested-loops", C, "proposal.md", "\n# 二、",
             "\n{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n\n# 二、",
             "art07.draft-references"),
    Mutation("huge-filter", B, "design.md", "{{ name }}", "{{ ('x' * 999999)|wordwrap(1) }}", "art07.draft-references"),
    # Prose tables against the appended ones.
    Mutation("goal-target", A, "feasibility.md", "| 车载终端在线率 | 不低于95% |", "| 车载终端在线率 | 不低于90% |",
             "art08.prose-tables", _line(A, "indicator: 车载终端在线率")),
    Mutation("extra-goal-row", A, "feasibility.md", "| 满意度指标 | 运输企业和监管人员满意度 | 不低于90% |",
             "| 满意度指标 | 运输企业和监管人员满意度 | 不低于90% |\n| 产出指标 | 报警处置闭环率 | 100% |",
             "art08.prose-tables", _line(A, "performance_goals:") + 1),
    Mutation("extra-database", A, "design.md", "| 城乡客运动态监控库 | 报警数据 |",
             "| 视频附件库 | 附件 | 报警图片 | 对象存储 | 3年 |\n| 城乡客运动态监控库 | 报警数据 |", "art08.prose-tables",
             _line(A, "databases:") + 1),
    Mutation("item-list", A, "design.md", "共享信息项包括车牌号码、定位时间、经度、纬度和速度",
             "共享信息项包括车牌号码、号牌颜色、定位时间、经度、纬度和速度", "art08.prose-tables"),
    Mutation("goal-in-prose", B, "feasibility.md", "接入数据源不少于30类", "接入数据源不少于40类", "art08.prose-tables",
             _line(B, "indicator: 接入数据源")),
    # 涉密 marks.
    Mutation("classified-mark", C, "proposal.md", "\n# 二、", "\n密级：秘密\n\n# 二、", "art03.classified"),
    Mutation("classified-star", C, "proposal.md", "\n# 二、", "\n机密★10年\n\n# 二、", "art03.classified"),
]

CLEAN = [
    Mutation("goal-baseline", A, "feasibility.md", "\n# 二、", "\n主动安全报警处置率由约70%提升至不低于98%。\n\n# 二、", ""),
    Mutation("yuan-equal", B, "proposal.md", "\n# 二、", "\n本项目总投资为20,400,000元。\n\n# 二、", ""),
    Mutation("rounded-right", A, "estimate.md", "\n# 二、", "\n项目总投资约620万元。\n\n# 二、", ""),
    Mutation("other-counties", C, "proposal.md", "\n# 二、", "\n全市二级以上客运站已全部联网。\n\n# 二、", ""),
    Mutation("crypto-level", C, "proposal.md", "\n# 二、", "\n商用密码应用按照GB/T 39786-2021第三级要求评估。\n\n# 二、", ""),
    Mutation("past-investment", B, "proposal.md", "\n# 二、", "\n一期工程总投资860万元已于2021年建成。\n\n# 二、", ""),
    Mutation("unit-price", B, "proposal.md", "\n# 二、", "\n视频汇聚网关单价约4.80万元/台。\n\n# 二、", ""),
    Mutation("not-classified", C, "proposal.md", "\n# 二、",
             "\n严格落实“涉密不上网、上网不涉密”，本系统不存储、处理涉密信息，终端不接入涉密网络。\n\n# 二、", ""),
    Mutation("chinese-numerals-rounded", C, "proposal.md", "\n# 二、", "\n项目总投资约三百六十五万元。\n\n# 二、", ""),
    Mutation("yuan-exact", C, "proposal.md", "\n# 二、", "\n本项目总投资3,654,000元。\n\n# 二、", ""),
    Mutation("threshold", C, "proposal.md", "\n# 二、",
             "\n按规定，项目总投资400万元以上的须报市政府审批，本项目总投资365.40万元。\n\n# 二、", ""),
    Mutation("connected-platform-amount", C, "proposal.md", "\n# 二、",
             "\n山西省公路养护管理平台总投资2000万元，本项目仅开展对接。\n\n# 二、", ""),
    Mutation("connected-platform-level", C, "proposal.md", "\n# 二、",
             "\n对接的山西省公路养护管理平台为等保第三级系统。\n\n# 二、", ""),
    Mutation("regulation-floor", C, "proposal.md", "\n# 二、", "\n第三级以上信息系统应当每年至少开展一次等级测评。\n\n# 二、", ""),
    Mutation("floor-met", C, "proposal.md", "\n# 二、", "\n系统按照等保第二级以上要求建设。\n\n# 二、", ""),
    Mutation("full-width-indent", C, "proposal.md", "\n# 二、", "\n　　本段落用全角空格缩进。\n\n# 二、", ""),
]


def _repo(tmp_path: Path, mutation: Mutation) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "projects", repo / "projects")
    shutil.copy(ROOT / "xzdoc.yaml", repo / "xzdoc.yaml")
    file = repo / "projects" / mutation.project / "drafts" / mutation.file
    text = file.read_text("utf-8")
    assert mutation.old in text, mutation.name
    file.write_text(text.replace(mutation.old, mutation.new, 1), "utf-8")
    return repo


def _findings(repo: Path) -> tuple[int, list[dict]]:  # type: ignore[type-arg]
    result = invoke("validate", repo / "projects", "--format", "json", "--as-of", AS_OF)
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("mutation", CAUGHT, ids=lambda m: m.name)
def test_mutation_is_caught_at_the_draft_line_naming_the_metadata_line(tmp_path: Path, mutation: Mutation,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path, mutation)
    monkeypatch.chdir(repo)
    code, found = _findings(repo)
    assert code == 1
    text = (repo / "projects" / mutation.project / "drafts" / mutation.file).read_text("utf-8")
    changed = text.index(mutation.new) + len(mutation.new) - len(mutation.new.lstrip("\n"))
    line = text.count("\n", 0, changed) + 1
    hits = [f for f in found if f["rule"] == mutation.rule and f["path"].endswith(f"{mutation.project}/drafts/{mutation.file}")]
    assert hits, found
    near = [f for f in hits if line <= f["line"] <= line + mutation.new.strip("\n").count("\n") + 1
            or mutation.rule == "art08.prose-tables"]
    assert near, (line, hits)
    if mutation.rule != "art03.classified" and mutation.name not in ("misspelt-field", "python-internals", "syntax",
                                                                                   "nested-loops", "huge-filter"):
        assert re.search(r"project\.yaml 第\d+行", near[0]["message"]), near[0]["message"]
    if mutation.yaml_line is not None:
        assert f"project.yaml 第{mutation.yaml_line}行" in near[0]["message"], near[0]["message"]


@pytest.mark.parametrize("mutation", CLEAN, ids=lambda m: m.name)
def test_ordinary_wording_stays_clean(tmp_path: Path, mutation: Mutation, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path, mutation)
    monkeypatch.chdir(repo)
    code, found = _findings(repo)
    # The demos' one standing finding: XZJT-2026-001 still 已申报 in its first budget year (第六条).
    assert [f for f in found if f["level"] != "info" and f["rule"] != "art06.stale-submitted"] == []
    assert code == 0


@pytest.mark.parametrize("spelling", ['>-\n  {name}', '|-\n  {name}', '"{name}"  # 项目全称', '!!str {name}'])
def test_another_projects_name_is_found_however_its_yaml_spells_it(spelling: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "projects", repo / "projects")
    shutil.copy(ROOT / "xzdoc.yaml", repo / "xzdoc.yaml")
    other = repo / "projects" / B / "project.yaml"
    text = other.read_text("utf-8")
    name = re.search(r"^name: (.+)$", text, re.M).group(1)  # type: ignore[union-attr]
    other.write_text(text.replace(f"name: {name}", "name: " + spelling.format(name=name), 1), "utf-8")
    draft = repo / "projects" / C / "drafts" / "proposal.md"
    draft.write_text(draft.read_text("utf-8").replace("\n# 二、", f"\n本章内容同{name}。\n\n# 二、", 1), "utf-8")
    monkeypatch.chdir(repo)
    result = invoke("validate", "--format", "json", "--as-of", AS_OF, "--no-cache")
    found = [f for f in json.loads(result.output) if f["rule"] == "art08.foreign-project"]
    assert [f["path"] for f in found] == [f"projects/{C}/drafts/proposal.md"], result.output
    assert name in found[0]["message"]
