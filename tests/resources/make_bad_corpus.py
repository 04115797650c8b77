"""Regenerate tests/resources/bad/: malformed and hostile inputs, one repository per case.

Each case folder is a small bureau repository (xzdoc.yaml + one project built
from base_project) with one fault, plus ``case.yaml`` saying which command to
run and what the user must be told: exit code, the file, the line and a
phrase. tests/test_bad_input.py runs every case through the CLI. Faults that
cannot live in git (50 MB files, escaping symlinks, shallow clones) are built
at test time instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

HERE = Path(__file__).parent
BASE = HERE / "base_project"
OUT = HERE / "bad"
PROJECT = "projects/XZJT-2025-902"
YAML = f"{PROJECT}/project.yaml"

Fault = Callable[[Path], None]


def replace(rel: str, old: str, new: str, encoding: str = "utf-8") -> Fault:
    def apply(repo: Path) -> None:
        file = repo / PROJECT / rel
        text = file.read_text("utf-8")
        assert old in text, (rel, old)
        file.write_bytes(text.replace(old, new, 1).encode(encoding))
    return apply


def write_bytes(rel: str, data: bytes) -> Fault:
    def apply(repo: Path) -> None:
        (repo / PROJECT / rel).write_bytes(data)
    return apply


def reencode(encoding: str, prefix: bytes = b"", newline: str = "\n") -> Fault:
    def apply(repo: Path) -> None:
        file = repo / PROJECT / "project.yaml"
        file.write_bytes(prefix + file.read_text("utf-8").replace("\n", newline).encode(encoding))
    return apply


ALIAS_BOMB = "\n".join(["lol0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]) + "\n"

# name: (faults, command, expected exit, file named, line (or None), phrase)
CASES: dict[str, tuple[list[Fault], list[str], int, str, int | None, str]] = {
    "malformed-yaml": ([replace("project.yaml", "plan_year: 2025", "plan_year: [2025")],
                       ["validate"], 1, YAML, None, "YAML 语法错误"),
    "tab-indentation": ([replace("project.yaml", "  total: 620.00", "\ttotal: 620.00")],
                        ["validate"], 1, YAML, 12, "制表符"),
    "gbk-encoding": ([reencode("gbk")], ["validate"], 1, YAML, None, "GBK"),
    "gb18030-encoding": ([reencode("gb18030")], ["validate"], 1, YAML, None, "GB18030"),
    "utf16-encoding": ([reencode("utf-16")], ["validate"], 1, YAML, 1, "UTF-16"),
    "bom-and-crlf-accepted": ([reencode("utf-8", b"\xef\xbb\xbf", "\r\n")], ["validate"], 0, "", None, "全部符合"),
    "duplicate-key": ([replace("project.yaml", "plan_year: 2025\n", "plan_year: 2025\nplan_year: 2026\n")],
                      ["validate"], 1, YAML, 9, "重复的键“plan_year”"),
    "alias-bomb": ([replace("project.yaml", "planned: true\n", "planned: true\n" + ALIAS_BOMB.replace("lol", "x_lol"))],
                   ["validate"], 1, YAML, None, "别名展开炸弹"),
    "merge-key": ([replace("project.yaml", "planned: true\n", "planned: true\nextra: &e {a: 1}\nmore:\n  <<: *e\n")],
                  ["validate"], 1, YAML, 12, "合并键"),
    "top-level-list": ([write_bytes("project.yaml", b"- id: XZJT-2025-902\n- stage: draft\n")],
                       ["validate"], 1, YAML, 1, "顶层应为映射"),
    "impossible-date": ([replace("project.yaml", "date: 2025-04-18", "date: 2025-02-30")],
                        ["validate"], 1, YAML, None, "不是有效日期"),
    "fullwidth-digits": ([replace("project.yaml", "total: 620.00\n", "total: \"６２０.００\"\n")],
                         ["validate"], 1, YAML, 12, "全角"),
    "wan-suffix": ([replace("project.yaml", "total: 620.00\n", "total: 620万元\n")],
                   ["validate"], 1, YAML, 12, "不要带单位"),
    "thousands-separator": ([replace("project.yaml", "total: 620.00\n", "total: \"6,200.00\"\n")],
                            ["validate"], 1, YAML, 12, "千分位"),
    "negative-amount": ([replace("project.yaml", "total: 620.00\n", "total: -620.00\n")],
                        ["validate"], 1, YAML, 12, "负数"),
    "nan-amount": ([replace("project.yaml", "total: 620.00\n", "total: .nan\n")],
                   ["validate"], 1, YAML, 12, "有限数值"),
    "three-decimals": ([replace("project.yaml", "total: 620.00\n", "total: 620.005\n")],
                       ["validate"], 1, YAML, 12, "最多两位小数"),
    "unknown-stage": ([replace("project.yaml", "stage: building", "stage: finished")],
                      ["validate"], 1, YAML, 5, "未知的阶段“finished”"),
    "unknown-enum": ([replace("project.yaml", "share_type: 有条件共享", "share_type: 部分共享")],
                     ["validate"], 1, YAML, None, "部分共享"),
    "unknown-field": ([replace("project.yaml", "planned: true\n", "planned: true\nbudegt: {}\n")],
                      ["validate"], 1, YAML, 10, "不是已知字段"),
    "missing-draft": ([replace("project.yaml", "drafts/design.md", "drafts/nope.md")],
                      ["validate"], 1, YAML, None, "不存在"),
    "empty-chapter": ([replace("drafts/feasibility.md", "本章说明{{ name }}的方案比选，总投资{{ budget.total }}万元。\n", "")],
                      ["validate"], 1, f"{PROJECT}/drafts/feasibility.md", 25, "没有正文内容"),
    "binary-draft": ([write_bytes("drafts/design.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))],
                     ["validate"], 1, f"{PROJECT}/drafts/design.md", None, "UTF-8"),
    "classified-marker": ([replace("drafts/proposal.md", "# 二、", "机密★1年\n\n# 二、")],
                          ["validate"], 1, f"{PROJECT}/drafts/proposal.md", 5, "涉密标识"),
    "image-outside-project": ([replace("drafts/proposal.md", "# 二、", "![图](../../../outside.png)\n\n# 二、")],
                              ["render", PROJECT], 1, f"{PROJECT}/drafts/proposal.md", 5, "项目目录"),
    "link-outside-project": ([replace("drafts/proposal.md", "# 二、", "见[附件](../../other/secret.md)。\n\n# 二、")],
                             ["render", PROJECT], 1, f"{PROJECT}/drafts/proposal.md", 5, "项目目录"),
    "absolute-image-path": ([replace("drafts/proposal.md", "# 二、", "![图](/etc/hostname)\n\n# 二、")],
                            ["render", PROJECT], 1, f"{PROJECT}/drafts/proposal.md", 5, "项目目录"),
    "jinja-ssti": ([replace("drafts/proposal.md", "# 二、", "{{ ''.__class__.__mro__[1].__subclasses__() }}\n\n# 二、")],
                   ["render", PROJECT], 1, f"{PROJECT}/drafts/proposal.md", 5, "文稿"),
    "jinja-unknown-field": ([replace("drafts/proposal.md", "# 二、", "{{ budget.totl }}\n\n# 二、")],
                            ["render", PROJECT], 1, f"{PROJECT}/drafts/proposal.md", 5, "totl"),
    "uncovered-calendar-year": ([replace("project.yaml", "    signed: 2025-08-11\n    filed: 2025-08-15\n",
                                         "    signed: 2027-01-04\n")],
                                ["validate", "--as-of", "2027-02-01"], 1, YAML, None, "calendar.years"),
    "broken-config": ([], ["validate"], 1, "xzdoc.yaml", 2, "未知的配置项"),
}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for name, (faults, command, code, path, line, phrase) in CASES.items():
        repo = OUT / name
        shutil.copytree(BASE, repo / PROJECT)
        config = "organisation: 忻州市交通运输局\n"
        if name == "broken-config":
            config += "approver:\n  局党组: []\n"
        (repo / "xzdoc.yaml").write_text(config, "utf-8")
        for fault in faults:
            fault(repo)
        case = {"command": command, "exit": code, "path": path, "line": line, "phrase": phrase}
        (repo / "case.yaml").write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False), "utf-8")
    print(f"wrote {len(CASES)} cases to {OUT}")


if __name__ == "__main__":
    main()
