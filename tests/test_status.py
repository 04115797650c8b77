"""`xzdoc status` and `xzdoc codeowners`, and the approvals part of xzdoc.yaml they rest on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import AS_OF, RESOURCES, invoke
from tests.gitrepo import CONFIG, DEV, PARTY, Repo
from xzdoc import config
from xzdoc.cli import cli
from xzdoc.errors import XzdocError

PID = "XZJT-2025-902"


def status_json(*args: str) -> dict[str, object]:
    result = invoke("status", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def row(data: dict[str, object], pid: str) -> dict[str, object]:
    return next(r for r in data["projects"] if r["project"] == pid)  # type: ignore[attr-defined,index]


def test_demo_portfolio_as_json(demo_repo: Path) -> None:
    data = status_json("--as-of", AS_OF)
    assert data["as_of"] == AS_OF and len(data["projects"]) == 4  # type: ignore[arg-type]
    building = row(data, "XZJT-2025-002")
    assert building["stage"] == "building" and building["funding"] == {"eligible": True, "reasons": []}
    gate = building["next_gate"]
    assert gate["stage"] == "accepted" and gate["role"] == "局党组" and gate["article"] == "第二十一条"  # type: ignore[index]
    draft = row(data, "XZJT-2026-003")
    assert draft["funding"]["eligible"] is False  # type: ignore[index]
    assert draft["next_gate"]["stage"] == "submitted"  # type: ignore[index]


def test_deadline_across_national_day_in_working_days(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2025-002/project.yaml"
    text = file.read_text("utf-8").replace("    signed: 2025-08-11\n    filed: 2025-08-15\n", "    signed: 2026-09-28\n")
    file.write_text(text, "utf-8")
    dues = {d["label"]: d for d in row(status_json("--as-of", "2026-09-30"), "XZJT-2025-002")["deadlines"]}  # type: ignore[index]
    # (30 Sep, 10 Oct] holds 8 Oct, 9 Oct and the make-up Saturday 10 Oct.
    assert dues["合同备案"] == {"label": "合同备案", "article": "第十四条", "due": "2026-10-10", "left": 3, "unit": "工作日",
                             "overdue": False, "note": None}
    overdue = {d["label"]: d for d in row(status_json("--as-of", "2026-10-13"), "XZJT-2025-002")["deadlines"]}  # type: ignore[index]
    assert overdue["合同备案"]["overdue"] is True and overdue["合同备案"]["left"] == -2
    text = invoke("status", "--as-of", "2026-10-13").output
    assert "合同备案 2026-10-10 已逾期，逾期 2 个工作日" in text


def test_uncovered_year_is_shown_not_guessed(demo_repo: Path) -> None:
    dues = row(status_json("--as-of", AS_OF), "XZJT-2025-002")["deadlines"]
    evaluation = next(d for d in dues if d["label"] == "2026 年度自评价")  # type: ignore[index]
    # chinesecalendar has no 2027 yet: the count is in calendar days and says so.
    assert evaluation["due"] == "2027-03-31" and evaluation["unit"] == "天" and "无工作日历" in evaluation["note"]


def test_table_is_plain_off_a_terminal_and_coloured_on_one(demo_repo: Path) -> None:
    plain = invoke("status", "--as-of", AS_OF)
    assert plain.exit_code == 0 and "\x1b[" not in plain.output
    assert "XZJT-2026-001" in plain.output and "局党组：王建国、李秀英（第十条）" in plain.output
    assert "尚未批复立项" in plain.output and "可拨付" in plain.output
    coloured = CliRunner().invoke(cli, ["status", "--as-of", AS_OF], color=True)
    assert "\x1b[32m可拨付" in coloured.output and "\x1b[31m暂停拨付" in coloured.output


def test_status_shows_unapproved_and_pending_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    r.full_project(PID)
    r.commit("迁入")
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用")
    r.project("XZJT-2026-101", "draft")
    r.commit("新项目")
    r.set_stage("XZJT-2026-101", "submitted")
    r.commit("直接申报", who=DEV)
    r.set_stage("XZJT-2026-101", "reviewed")
    monkeypatch.chdir(r.path)
    data = status_json("--as-of", AS_OF)
    new = row(data, "XZJT-2026-101")
    assert new["unapproved"] == ["阶段变更“draft → submitted”未经审批"] and new["pending"] == ["reviewed（需局党组）"]
    assert row(data, PID)["unapproved"] == []
    text = invoke("status", "--as-of", AS_OF).output
    assert "阶段变更“draft → submitted”未经审批" in text and "待审批合并：reviewed（需局党组）" in text


def test_status_on_a_shallow_clone_says_approvals_were_not_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    r = Repo(tmp_path / "bureau")
    r.project("XZJT-2026-101", "draft")
    r.commit("一")
    r.commit("二")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{r.path}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    assert "无法核对审批记录" in invoke("status", "--as-of", AS_OF).output


# xzdoc codeowners

def test_codeowners_follow_the_next_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "bureau"
    shutil.copytree(RESOURCES / "base_project", root / "projects" / PID)
    (root / "projects" / "XZJT-2026-101").mkdir()
    (root / "projects" / "XZJT-2026-101" / "project.yaml").write_text("id: XZJT-2026-101\nname: 草稿\nstage: reviewed\n", "utf-8")
    (root / "xzdoc.yaml").write_text(CONFIG, "utf-8")
    monkeypatch.chdir(root)
    result = invoke("codeowners")
    assert result.exit_code == 0 and "已写入" in result.output
    assert "李秀英 没有填写 github" in result.output
    text = (root / ".github" / "CODEOWNERS").read_text("utf-8")
    assert "/xzdoc.yaml @wangjg\n" in text
    assert "/systems.yaml @zhangw\n" in text                 # the register: 数据中心, as the ledger gates it
    assert f"/projects/{PID}/ @wangjg\n" in text            # building → accepted: 局党组
    assert "/projects/XZJT-2026-101/ @zhangw\n" in text       # reviewed → approved: 数据中心
    assert invoke("codeowners", "--check").exit_code == 0
    (root / "projects" / "XZJT-2026-101" / "project.yaml").write_text("id: XZJT-2026-101\nname: 草稿\nstage: approved\n",
                                                                      "utf-8")
    stale = invoke("codeowners", "--check")
    assert stale.exit_code == 1 and "需要更新" in stale.output


def test_codeowners_skips_approvers_without_forge_usernames(demo_repo: Path) -> None:
    # The demo approvers have no forge usernames: each is named as skipped, and no line gets an empty owner list.
    result = invoke("codeowners")
    assert result.exit_code == 0, result.output
    assert "局党组 王建国 没有填写 github 用户名" in result.output and "github: <用户名>" in result.output
    text = (demo_repo / ".github" / "CODEOWNERS").read_text("utf-8")
    owned = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert owned == []
    assert "# /projects/XZJT-2026-001/：局党组（王建国、李秀英）没有填写 github 用户名，未指定审核人" in text


# The approvals part of xzdoc.yaml.

def load(tmp_path: Path, text: str) -> config.Config:
    (tmp_path / "xzdoc.yaml").write_text(text, "utf-8")
    return config.load(tmp_path)


def test_default_gates_follow_the_measures(tmp_path: Path) -> None:
    gates = load(tmp_path, CONFIG).gates
    assert gates["submitted"] == gates["reviewed"] == gates["accepted"] == gates["records.supervision"] == "局党组"
    assert gates["approved"] == gates["contracted"] == "数据中心"


def test_repository_config_loads() -> None:
    cfg = config.load(Path(__file__).resolve().parent.parent)
    assert cfg.baseline and len(cfg.baseline) == 40 and {a.role for a in cfg.approvers} == {"局党组", "数据中心", "财务科"}
    assert all(e.endswith("@xzjt.example.gov.cn") for a in cfg.approvers for e in a.emails)


def test_gate_overrides_and_lifting(tmp_path: Path) -> None:
    gates = load(tmp_path, CONFIG + "gates:\n  approved: 财务科\n  contracted: null\n").gates
    assert gates["approved"] == "财务科" and "contracted" not in gates


@pytest.mark.parametrize(("extra", "message"), [
    ("gates:\n  submitted: 办公室\n", "不是审批角色"),
    ("gates:\n  finished: 局党组\n", "不是可审批的阶段"),
    ("gates:\n  records.minutes: 局党组\n", "不是已知的备案记录"),
    ("baseline: 1234567\n", "加引号"),
    ("baseline: main\n", "提交哈希"),
    ("branch: '-x'\n", "主分支名称"),
])
def test_bad_approvals_config(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(XzdocError, match=message) as caught:
        load(tmp_path, CONFIG + extra)
    assert caught.value.path == "xzdoc.yaml" and caught.value.line


def test_gate_role_without_members(tmp_path: Path) -> None:
    only_party = "approvers:\n  局党组:\n    - {name: 王建国, email: wangjianguo@xzjt.example.gov.cn}\ngates:\n  approved: 数据中心\n"
    with pytest.raises(XzdocError, match="没有“数据中心”的成员"):
        load(tmp_path, only_party)


def test_unknown_member_field(tmp_path: Path) -> None:
    with pytest.raises(XzdocError, match="未知字段“mail”"):
        load(tmp_path, "approvers:\n  局党组:\n    - {name: 王建国, mail: w@x}\n")


def test_member_identity_matching(tmp_path: Path) -> None:
    cfg = load(tmp_path, CONFIG)
    assert cfg.role_of("WangJianGuo@XZJT.example.gov.cn") == {"局党组"}
    assert cfg.role_of("98765+WangJG@users.noreply.github.com") == {"局党组"}
    assert cfg.role_of("wangjg@users.noreply.github.com") == {"局党组"}
    assert cfg.role_of("someone@users.noreply.github.com") == set()
    assert cfg.role_of(PARTY.email.replace("wang", "wong")) == set()


def test_codeowners_lines_cannot_be_written_by_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS A HOLE: a name holding line breaks wrote "/xzdoc.yaml @attacker" below the real owner line (the last
    # match wins on the forge), and a folder with a space or "#" gave a line no forge reads.
    root = tmp_path / "bureau"
    root.mkdir()
    (root / "xzdoc.yaml").write_text(CONFIG, "utf-8")
    for folder, name in [("XZJT-2026-101", '"农村公路\\n/xzdoc.yaml @attacker\\n/projects/ @attacker"'),
                         ("XZJT 2026 #102*", "草稿")]:
        (root / "projects" / folder).mkdir(parents=True)
        (root / "projects" / folder / "project.yaml").write_text(f"id: XZJT-2026-101\nname: {name}\nstage: reviewed\n",
                                                                 "utf-8")
    monkeypatch.chdir(root)
    assert invoke("codeowners").exit_code == 0
    lines = (root / ".github" / "CODEOWNERS").read_text("utf-8").splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules == ["/xzdoc.yaml @wangjg", "/systems.yaml @zhangw", "/projects/XZJT\\ 2026\\ \\#102\\*/ @zhangw",
                     "/projects/XZJT-2026-101/ @zhangw"], rules
