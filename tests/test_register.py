"""The system register systems.yaml: projects' system ids judged against it, 总量只减不增 in validate and diff,
and the 第十条 consequence for systems in use that are not on the cloud or do not share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke
from tests.gitrepo import DEV, PARTY, Repo
from xzdoc.errors import XzdocError
from xzdoc.source import register
from xzdoc.source.yamlio import loads

REGISTER = """\
systems:
  - {id: XZJT-SYS-201, name: 公交调度系统, owner: 公交公司, cloud: 本地机房, shares_with: [共享交换平台], status: 在用,
     om_funding: 10.00}
  - {id: XZJT-SYS-202, name: 出租汽车监管系统, owner: 运输中心, cloud: 市级政务云, shares_with: [市政务数据共享交换平台], status: 在用}
  - {id: XZJT-SYS-203, name: 网约车监管系统, owner: 运输中心, cloud: 市级政务云, shares_with: [], status: 在用, om_funding: 5.00}
  - {id: XZJT-SYS-204, name: 旧售票系统, owner: 运输中心, cloud: 市级政务云, shares_with: [平台], status: 已下线}
"""

PROJECT = """\
id: {pid}
name: 测试项目{pid}
stage: draft
budget:
  total: 100.00
systems:
{systems}
"""


NAMES = {"XZJT-SYS-201": "公交调度系统", "XZJT-SYS-202": "出租汽车监管系统", "XZJT-SYS-203": "网约车监管系统",
         "XZJT-SYS-204": "旧售票系统"}


def system(sid: str, action: str, name: str | None = None) -> str:
    # A registered system keeps its registered name unless a case says otherwise (a new name is a warning).
    name = name or NAMES.get(sid, "某系统")
    extra = ", justification: 现有系统不能改造" if action == "新建" else ""
    return (f"  - {{id: {sid}, name: {name}, action: {action}, cloud: 市级政务云, network: 电子政务外网, "
            f"shares_with: [市政务数据共享交换平台]{extra}}}\n")


@pytest.fixture
def bureau(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "bureau"
    root.mkdir()
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    (root / "systems.yaml").write_text(REGISTER, "utf-8")
    monkeypatch.chdir(root)
    return root


def put(root: Path, pid: str, *systems: str) -> None:
    folder = root / "projects" / pid
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.yaml").write_text(PROJECT.format(pid=pid, systems="".join(systems).rstrip("\n")), "utf-8")


def findings(*args: str) -> list[dict[str, object]]:
    result = invoke("validate", *args, "--format", "json", "--as-of", AS_OF)
    return [f for f in json.loads(result.output) if f["rule"] in ("art08.system-register", "art01.system-total")]


# -- reading the register --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected", "line"), [
    ("systems:\n  - {id: A, name: 甲, owner: 乙, cloud: 市级政务云, status: 在用, colour: red}\n", "未知字段“colour”", 2),
    ("systems:\n  - {id: A, name: 甲, owner: 乙, cloud: 市级政务云, status: 运行中}\n", "状态“运行中”", 2),
    ("systems:\n  - {id: A, name: 甲, cloud: 市级政务云, status: 在用}\n", "缺少责任单位（owner）", 2),
    ("systems:\n  - {id: A, name: 甲, owner: 乙, cloud: 本地机房, status: 在用}\n"
     "  - {id: A, name: 丙, owner: 乙, cloud: 本地机房, status: 在用}\n", "系统编号 A 重复", 3),
    ("systems:\n  - {id: A, name: 甲, owner: 乙, cloud: 本地机房, status: 在用, om_funding: 十万}\n", "运维经费“十万”", 2),
    ("- {id: A}\n", "顶层应为 systems: 列表", 1),
])
def test_a_bad_register_names_file_line_and_fix(text: str, expected: str, line: int) -> None:
    with pytest.raises(XzdocError) as caught:
        register.parse(loads(text, "systems.yaml"))
    assert expected in caught.value.message and caught.value.path == "systems.yaml" and caught.value.line == line
    assert caught.value.hint


def test_validate_reports_a_broken_register_as_an_error(bureau: Path) -> None:
    (bureau / "systems.yaml").write_text("systems:\n  - {id: A, status: 在用}\n", "utf-8")
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-201", "升级"))
    result = invoke("validate", "--as-of", AS_OF)
    assert result.exit_code == 1 and "systems.yaml" in result.output and "缺少系统名称" in result.output


def test_shortfalls_carry_the_article_ten_consequence() -> None:
    found = register.parse(loads(REGISTER, "systems.yaml"))
    assert [s.id for s in found.short()] == ["XZJT-SYS-201", "XZJT-SYS-203"]
    assert found.systems["XZJT-SYS-201"].consequence() == \
        "未上市级政务云（部署在本地机房）：不再拨付运维经费（第十条），登记的运维经费 10.00万元/年"
    assert "未实现数据共享" in found.systems["XZJT-SYS-203"].consequence()
    assert found.systems["XZJT-SYS-204"].consequence() == ""       # retired systems cost nothing


# -- validate: ids looked up, the total judged -----------------------------------------------------------


def test_upgrading_merging_and_new_ids_are_looked_up(bureau: Path) -> None:
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-201", "升级"), system("XZJT-SYS-299", "整合"),
        system("XZJT-SYS-204", "升级"), system("XZJT-SYS-202", "新建"))
    hits = findings()
    messages = [str(f["message"]) for f in hits]
    assert {f["rule"] for f in hits} == {"art08.system-register"}, hits
    assert len(hits) == 3
    assert any("XZJT-SYS-299" in m and "未列入全局政务信息系统目录 systems.yaml" in m for m in messages)
    assert any("XZJT-SYS-204" in m and "已下线" in m for m in messages)
    assert any("XZJT-SYS-202 已在 systems.yaml 第 4 行登记" in m for m in messages)


def test_a_registered_system_may_name_the_project_that_built_it(bureau: Path) -> None:
    with (bureau / "systems.yaml").open("a", encoding="utf-8") as handle:
        handle.write("  - {id: XZJT-SYS-210, name: 新平台, owner: 数据中心, cloud: 市级政务云, shares_with: [平台], "
                     "status: 在用, project: XZJT-2027-001}\n")
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-210", "新建"), system("XZJT-SYS-202", "下线"))
    assert findings() == []
    put(bureau, "XZJT-2027-002", system("XZJT-SYS-210", "新建"))
    assert [f["path"] for f in findings()] == ["projects/XZJT-2027-002/project.yaml"]


def test_total_only_falls_judged_against_the_register(bureau: Path) -> None:
    # Merging two registered systems into one new one: 3 in use -> 2.
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-220", "新建"), system("XZJT-SYS-202", "整合"),
        system("XZJT-SYS-203", "整合"))
    assert findings() == []
    # Two more new systems: 3 registered, 4 once everything is carried out.
    put(bureau, "XZJT-2027-002", system("XZJT-SYS-221", "新建"), system("XZJT-SYS-201", "升级"))
    assert findings() == []                                     # the merge above makes room for one
    put(bureau, "XZJT-2027-003", system("XZJT-SYS-222", "新建"))
    hits = findings()
    assert {f["rule"] for f in hits} == {"art01.system-total"}
    # Reported on the projects that add more than they retire, not on the one merging two into one.
    assert sorted(str(f["path"]) for f in hits) == ["projects/XZJT-2027-002/project.yaml",
                                                    "projects/XZJT-2027-003/project.yaml"]
    assert "登记在用系统 3 个，全部项目实施后为 4 个" in str(hits[0]["message"])
    # Asking for one project reports only on it, still judged over the whole portfolio.
    only = findings("projects/XZJT-2027-003")
    assert [f["path"] for f in only] == ["projects/XZJT-2027-003/project.yaml"]


def test_terminated_projects_change_nothing(bureau: Path) -> None:
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-230", "新建"))
    assert findings()
    path = bureau / "projects" / "XZJT-2027-001" / "project.yaml"
    path.write_text(path.read_text("utf-8").replace("stage: draft", "stage: terminated"), "utf-8")
    assert not [f for f in findings() if f["rule"] == "art01.system-total"]


def test_without_a_register_or_outside_the_portfolio_nothing_is_judged(bureau: Path, tmp_path: Path) -> None:
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-299", "升级"), system("XZJT-SYS-231", "新建"),
        system("XZJT-SYS-232", "新建"))
    assert len(findings()) == 3
    (bureau / "systems.yaml").unlink()
    assert findings() == []   # doctor reports the missing register
    (bureau / "systems.yaml").write_text(REGISTER, "utf-8")
    scratch = bureau / "scratch" / "XZJT-2027-001"
    scratch.parent.mkdir()
    (bureau / "projects" / "XZJT-2027-001").rename(scratch)
    assert findings(str(scratch)) == []


def test_the_demo_register_agrees_with_the_demo_projects() -> None:
    result = invoke("validate", str(ROOT / "projects"), "--format", "json", "--as-of", AS_OF)
    assert not [f for f in json.loads(result.output) if f["rule"].startswith(("art01", "art08.system-register"))]
    found = register.load(ROOT)
    assert found is not None
    ids = {str(s["id"]) for p in (ROOT / "projects").glob("*/project.yaml")
           for s in (loads(p.read_text("utf-8"), str(p)).get("systems") or [])
           if s.get("action") in register.EXISTING_ACTIONS}
    assert ids <= set(found.systems), ids - set(found.systems)


# -- catalog and status -----------------------------------------------------------------------------------


def test_catalog_and_status_show_unfunded_systems(bureau: Path) -> None:
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-201", "升级", "公交调度系统"))
    catalog = invoke("catalog")
    assert catalog.exit_code == 0, catalog.output
    assert "### 未上云或未共享的在用系统（第十条）" in catalog.output
    assert "- XZJT-SYS-201 公交调度系统：未上市级政务云（部署在本地机房）：不再拨付运维经费（第十条）" in catalog.output
    assert "XZJT-SYS-203 网约车监管系统：未实现数据共享" in catalog.output
    assert "| XZJT-SYS-204 | 旧售票系统 |" in catalog.output and "| 已下线 |" in catalog.output
    data = json.loads(invoke("catalog", "--format", "json").stdout)
    assert [s["id"] for s in data["unfunded"]] == ["XZJT-SYS-201", "XZJT-SYS-203"]
    status = invoke("status", "--as-of", AS_OF)
    assert "系统目录中未上云或未共享的在用系统（第十条：不再拨付运维经费）" in status.output
    assert "XZJT-SYS-201 公交调度系统" in status.output and "XZJT-2027-001 涉及该系统" in status.output
    as_json = json.loads(invoke("status", "--as-of", AS_OF, "--format", "json").stdout)
    assert [s["id"] for s in as_json["unfunded_systems"]] == ["XZJT-SYS-201", "XZJT-SYS-203"]


# -- diff counts from the register ------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    r = Repo(tmp_path / "bureau")
    r.write("systems.yaml", REGISTER)
    r.write("projects/.gitkeep", "")
    r.commit("采用 xzdoc", who=PARTY)
    monkeypatch.chdir(r.path)
    return r


def review(repo: Repo) -> tuple[int, str]:
    result = invoke("diff", "main")
    return result.exit_code, result.output


def test_an_upgrade_is_not_a_new_system(repo: Repo) -> None:
    repo.branch("upgrade")
    put(repo.path, "XZJT-2027-001", system("XZJT-SYS-201", "升级"))
    code, out = review(repo)
    assert code == 0, out
    assert "变更前 3 个，变更后 3 个；systems.yaml 登记在用 3 个" in out
    assert "新列入系统 XZJT-SYS-201 公交调度系统（升级）" in out


def test_merging_two_into_one_counts_down_even_without_a_register(repo: Repo) -> None:
    (repo.path / "systems.yaml").unlink()
    repo.commit("去掉目录", who=PARTY)
    repo.branch("merge")
    put(repo.path, "XZJT-2027-001", system("XZJT-SYS-240", "新建"), system("XZJT-SYS-202", "整合"),
        system("XZJT-SYS-203", "整合"))
    code, out = review(repo)
    assert code == 0, out
    assert "变更前 2 个，变更后 1 个" in out


def test_a_new_system_fails_the_gate_unless_a_merge_made_room(repo: Repo) -> None:
    repo.branch("new")
    put(repo.path, "XZJT-2027-001", system("XZJT-SYS-250", "新建"))
    code, out = review(repo)
    assert code == 1 and "**不通过**" in out
    assert "在用系统由 3 个增至 4 个，多于 systems.yaml 登记的在用系统 3 个" in out
    repo.commit("新建")
    repo.checkout("main")
    repo.pull_request("merge", PARTY, lambda r: put(r.path, "XZJT-2027-002", system("XZJT-SYS-202", "整合"),
                                                     system("XZJT-SYS-203", "整合"), system("XZJT-SYS-251", "新建")))
    repo.checkout("new")
    repo.git("merge", "-q", "main", who=DEV)
    code, out = invoke("diff", "main").exit_code, invoke("diff", "main").output
    assert code == 0, out
    assert "新增的系统由已列入项目的整合、下线抵消" in out


def test_register_changes_are_listed_for_review(repo: Repo) -> None:
    repo.branch("register")
    repo.edit("systems.yaml", "cloud: 本地机房", "cloud: 市级政务云")
    with (repo.path / "systems.yaml").open("a", encoding="utf-8") as handle:
        handle.write("  - {id: XZJT-SYS-260, name: 新登记系统, owner: 乙, cloud: 市级政务云, shares_with: [甲], status: 在用}\n")
    code, out = review(repo)
    assert code == 0, out
    assert "systems.yaml：新登记 XZJT-SYS-260 新登记系统；修改登记 XZJT-SYS-201 公交调度系统" in out
    assert "变更前 3 个，变更后 4 个；systems.yaml 登记在用 4 个" in out
    # WAS WRONG: the verdict said the new system was "由已列入项目的整合、下线抵消"; no project did anything.
    assert "新增的在用系统是 systems.yaml 新登记的已有系统，不是项目新建" in out


def test_retiring_an_unregistered_system_makes_no_room(repo: Repo) -> None:
    # WAS A HOLE: diff counted the unregistered XZJT-SYS-298 as existing, so 新建 + 下线 of it read 3 → 3 and
    # the gate passed what validate refuses (art01.system-total, art08.system-register).
    repo.branch("fake")
    put(repo.path, "XZJT-2027-001", system("XZJT-SYS-270", "新建"), system("XZJT-SYS-298", "下线", "虚构系统"))
    code, out = review(repo)
    assert code == 1 and "**不通过**" in out
    assert "变更前 3 个，变更后 4 个；systems.yaml 登记在用 3 个" in out


def test_retiring_a_retired_system_and_a_renamed_upgrade(bureau: Path) -> None:
    # WAS SILENT: 下线 of a system already 已下线, and 升级 of a registered id under another system's name.
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-204", "下线"), system("XZJT-SYS-201", "升级", "完全不同的名字"))
    found = [f for f in findings() if f["rule"] == "art08.system-register"]
    retired = next(f for f in found if "XZJT-SYS-204" in str(f["message"]))
    renamed = next(f for f in found if "XZJT-SYS-201" in str(f["message"]))
    assert "已是已下线" in str(retired["message"]) and retired["level"] == "error"
    assert "登记为“公交调度系统”" in str(renamed["message"]) and renamed["level"] == "warning"
    put(bureau, "XZJT-2027-001", system("XZJT-SYS-201", "升级", "公交调度系统（二期）"))
    assert not [f for f in findings() if f["rule"] == "art08.system-register"]
