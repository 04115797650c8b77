"""systems.yaml, the system register, changes on main only through a data-centre merge (gate ``systems``).

Real repositories with pinned dates; each test states what `xzdoc ledger` and `xzdoc validate` conclude.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.attacks import CENTER, DEV, PARTY, caught, change, clean, ledger_exit, policy, repo  # noqa: F401
from tests.gitrepo import Repo

REGISTER = ("systems:\n  - {id: XZJT-SYS-001, name: 公路养护管理系统, owner: 忻州市公路事业发展中心, cloud: 市级政务云,"
            " shares_with: [], status: 在用}\n")
ADDED = REGISTER + ("  - {id: XZJT-SYS-009, name: 冒充的在用系统, owner: 某公司, cloud: 市级政务云, shares_with: [],"
                    " status: 在用}\n")


def registered(tmp_path: Path, extra: str = "") -> Repo:
    """A bureau whose first commit holds the policy, the register and a draft project."""
    r = Repo(tmp_path / "registered", config=None)
    r.write("xzdoc.yaml", policy(r, False, extra))
    r.write("systems.yaml", REGISTER)
    r.project("XZJT-2026-101", "draft")
    r.commit("新建")
    return r


def test_the_first_register_with_the_first_policy_is_clean(tmp_path: Path) -> None:
    clean(registered(tmp_path))


def test_a_pushed_system_is_an_unapproved_register(tmp_path: Path) -> None:
    r = registered(tmp_path)
    r.write("systems.yaml", ADDED)
    pushed = r.commit("登记系统", who=DEV)
    caught(r, "art24.unapproved-register")
    _, output = ledger_exit(r)
    assert f"systems.yaml 自提交 {pushed[:10]} 起的修改未经审批" in output and "数据中心" in output, output


def test_a_party_group_merge_is_the_wrong_role(tmp_path: Path) -> None:
    r = registered(tmp_path)
    change(r, "register", PARTY, lambda x: x.write("systems.yaml", ADDED))
    caught(r, "art24.unapproved-register")


def test_a_data_centre_merge_approves_it_and_a_revert_cleans_a_push(tmp_path: Path) -> None:
    r = registered(tmp_path)
    change(r, "register", CENTER, lambda x: x.write("systems.yaml", ADDED))
    clean(r)
    r.write("systems.yaml", REGISTER)
    r.commit("删掉一个系统", who=DEV)
    caught(r, "art24.unapproved-register")
    r.write("systems.yaml", ADDED)
    r.commit("恢复", who=DEV)
    clean(r)


def test_an_approval_over_a_pushed_edit_does_not_adopt_the_push(tmp_path: Path) -> None:
    # The merge's diff shows only its own change; the push before it stays unapproved.
    r = registered(tmp_path)
    r.write("systems.yaml", ADDED)
    r.commit("登记系统", who=DEV)
    change(r, "more", CENTER, lambda x: x.write("systems.yaml", ADDED + "# 注释\n"))
    caught(r, "art24.unapproved-register")


def test_a_symlinked_register_is_refused_even_from_the_data_centre(tmp_path: Path) -> None:
    r = registered(tmp_path)
    r.write("elsewhere.yaml", ADDED)

    def link(x: Repo) -> None:
        (x.path / "systems.yaml").unlink()
        os.symlink("elsewhere.yaml", x.path / "systems.yaml")
    change(r, "link", CENTER, link)
    caught(r, "art24.unapproved-register")


def test_a_first_register_added_later_needs_no_approval(repo: Repo) -> None:  # noqa: F811
    # Without a register the checks it feeds do not run, so a first one can only add checks.
    repo.write("systems.yaml", REGISTER)
    repo.commit("建立系统目录", who=DEV)
    clean(repo)
    repo.write("systems.yaml", ADDED)
    repo.commit("登记系统", who=DEV)
    caught(repo, "art24.unapproved-register")


def test_the_gate_can_be_lifted(tmp_path: Path) -> None:
    r = registered(tmp_path, "gates:\n  systems: null\n")
    r.write("systems.yaml", ADDED)
    r.commit("登记系统", who=DEV)
    clean(r)
