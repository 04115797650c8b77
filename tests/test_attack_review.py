"""Attacks on the approval ledger by someone with push access, each asserting the secure behaviour.

Each test builds a real repository and states what `xzdoc ledger` / `xzdoc validate` must conclude.
The comment above each test says whether the attack was always defended, was a hole that is now
closed, or is still open; an open hole is marked xfail(strict=True), so closing it fails the test until
the mark is removed. The attacks already covered by tests/test_attacks_history.py and
tests/test_attacks_policy.py are not repeated here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.attacks import (
    ATTACKER,
    CENTER,
    DEV,
    FOLDER,
    PARTY,
    PID,
    YAML,
    approved,
    art24_errors,
    bureau,
    caught,
    change,
    clean,
    keygen,
    ledger_exit,
    merge,
    policy,
    prepare,
    stage,
    submitted,
)
from tests.conftest import AS_OF, invoke
from tests.gitrepo import Person, Repo

# The attacker's own bureau: he is every role in it.
ROGUE = ("organisation: 忻州市交通运输局\napprovers:\n"
         f"  局党组:\n    - {{name: {ATTACKER.name}, email: {ATTACKER.email}}}\n"
         f"  数据中心:\n    - {{name: {ATTACKER.name}, email: {ATTACKER.email}}}\n"
         f"  财务科:\n    - {{name: {ATTACKER.name}, email: {ATTACKER.email}}}\n")


def _rogue_history(repo: Repo, branch: str, to: str = "approved") -> None:
    """An orphan branch whose first xzdoc.yaml names the attacker for every role, with his own merge to ``to``."""
    repo.git("checkout", "-q", "--orphan", branch)
    repo.git("rm", "-rq", "--cached", ".")
    repo.write("xzdoc.yaml", ROGUE)
    repo.project(PID, "draft")
    repo.commit("rogue root", who=ATTACKER)
    repo.branch(f"{branch}-pr")
    stage(PID, to)(repo)
    repo.commit("推进", who=ATTACKER)
    repo.checkout(branch)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge", f"{branch}-pr", who=ATTACKER)
    repo.git("branch", "-q", "-D", f"{branch}-pr")


def _in(folder: Path, *args: str) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(folder)
    try:
        result = invoke(*args)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


# -- Which branch is walked ---------------------------------------------------------------------------


# WAS A HOLE, now defended (hole): build() walks config.branch from the *working copy's* xzdoc.yaml (cli load_config), not
# from history; an unapproved push of `branch: rogue` makes ledger and validate judge the attacker's branch.
def test_working_copy_branch_setting_redirects_the_walk(repo: Repo) -> None:
    main_policy = repo.path.joinpath("xzdoc.yaml").read_text("utf-8")
    _rogue_history(repo, "rogue")
    repo.checkout("main")
    repo.write("xzdoc.yaml", main_policy + "branch: rogue\n")
    stage(PID, "approved")(repo)
    repo.commit("直接推进并改主分支", who=DEV)
    code, output = ledger_exit(repo)
    assert code == 1 and "不是同一段历史" in output, output
    assert art24_errors(repo), "validate must not pass when the ledger refuses the branch"


# WAS A HOLE, now defended (hole): with no `branch:` and no local heads (a CI checkout is detached, branches are only
# refs/remotes/origin/*), branch_ref() prefers origin/main, which the attacker can create in a `master` bureau.
def test_attacker_branch_named_main_in_a_master_bureau(repo: Repo) -> None:
    stage(PID, "approved")(repo)
    repo.commit("直接推进", who=DEV)
    repo.git("branch", "-m", "main", "master")
    _rogue_history(repo, "rogue")
    repo.git("update-ref", "refs/remotes/origin/main", "rogue")
    repo.git("update-ref", "refs/remotes/origin/master", "master")
    repo.git("checkout", "-q", "--detach", "master")
    repo.git("branch", "-q", "-D", "rogue", "master")
    code, output = ledger_exit(repo)
    assert code == 1 and "同时有 main 和 master" in output, output


# -- Crashes ------------------------------------------------------------------------------------------


# WAS A HOLE, now defended (hole, crash): facts.strict() json.dumps(sort_keys=True) of a records.changes entry whose keys are of
# mixed types (1 and "date") raises TypeError; one such blob anywhere on main breaks ledger and validate forever.
def test_adjustment_request_with_mixed_key_types_does_not_crash(repo: Repo) -> None:
    repo.write(YAML, repo.path.joinpath(YAML).read_text("utf-8")
               + "records:\n  changes:\n    - {1: x, date: 2026-03-01}\n")
    repo.commit("调整申请", who=DEV)
    code, _ = ledger_exit(repo)
    assert code in (0, 1)
    art24_errors(repo)


# WAS A HOLE, now defended (hole, crash): drift.uncovered() iterates `fields` of a request without checking it is a list; a
# drift pushed with `fields: 5` crashes the ledger at the next legitimate approving merge of that folder.
def test_adjustment_request_with_scalar_fields_does_not_crash(repo: Repo) -> None:
    submitted(repo)
    repo.write(YAML, repo.path.joinpath(YAML).read_text("utf-8").replace("total: 100.00", "total: 900.00")
               + "records:\n  changes:\n    - {date: 2026-03-01, fields: 5, approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    repo.commit("直接改预算", who=DEV)
    change(repo, "docs", PARTY, lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"))
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.content-drift" in output, output


# WAS A HOLE, now defended (hole, crash): ledger.evidence() joins `documents` of the baseline's project.yaml without checking
# it is a mapping; `documents: 5` in a pre-adoption commit crashes `xzdoc ledger`.
def test_baseline_project_with_scalar_documents_does_not_crash(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "adopted", config=None)
    repo.project(PID, text=f"id: {PID}\nname: x\nstage: submitted\ndocuments: 5\nbudget:\n  total: 1.00\n")
    first = repo.commit("迁入")
    repo.write("xzdoc.yaml", policy(repo, False, f'baseline: "{first}"\n'))
    repo.commit("采用")
    code, output = ledger_exit(repo)
    assert code in (0, 1), output


def _raw_commit(repo: Repo, author: bytes, message: bytes = b"x\n", when: int = 1772416800) -> str:
    """A commit of the index's tree on HEAD with a hand-written author line (bytes git does not check)."""
    repo.git("add", "-A")
    tree = repo.git("write-tree")
    parent = repo.head()
    body = (f"tree {tree}\nparent {parent}\n".encode() + b"author " + author + f" {when} +0800\n".encode()
            + b"committer " + author + f" {when} +0800\n\n".encode() + message)
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo.path, input=body,
                         capture_output=True, check=True).stdout.decode().strip()
    repo.git("update-ref", "HEAD", sha)
    return sha


# WAS A HOLE, now defended (hole, crash): log.py decodes names with surrogateescape and ledger output is printed as is, so an
# author name that is not UTF-8 (git does not check) makes `xzdoc ledger` exit 3 with UnicodeEncodeError.
def test_author_name_that_is_not_utf8(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    _raw_commit(repo, b"\xff\xfe\xc0 <zhao@vendor.example.com>")
    for fmt in ("text", "json"):
        done = subprocess.run([sys.executable, "-m", "xzdoc", "ledger", "--format", fmt], cwd=repo.path,
                              capture_output=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent),
                                                        "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
        assert done.returncode == 1, done.stderr.decode("utf-8", "replace")
        assert b"Traceback" not in done.stderr


# WAS A HOLE, now defended (hole, crash): the same for a folder name that is not UTF-8 (projects/\xff): exit 3, UnicodeEncodeError.
def test_project_folder_name_that_is_not_utf8(repo: Repo) -> None:
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, capture_output=True, check=True,
                          input=b"id: XZJT-2026-777\nname: x\nstage: approved\n").stdout.decode().strip()
    subprocess.run([b"git", b"update-index", b"--add", b"--cacheinfo", f"100644,{blob},".encode() + b"projects/\xff/project.yaml"],
                   cwd=repo.path, check=True)
    repo.git("commit", "-q", "-m", "x")
    repo.git("checkout", "-q", "--", ".", check=False)
    done = subprocess.run([sys.executable, "-m", "xzdoc", "ledger"], cwd=repo.path, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent), "LC_ALL": "C.UTF-8",
                               "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr


# -- Projects folder and repository layout ------------------------------------------------------------


# WAS A HOLE, now defended (hole): the walk compares git paths with projects_dir.strip("/") + "/"; a legitimate (first) policy
# spelling it `./projects` makes every commit miss the prefix, so direct pushes are never seen.
def test_projects_dir_spelled_with_a_leading_dot(tmp_path: Path) -> None:
    repo = bureau(tmp_path / "dotted", extra="projects_dir: ./projects\n")
    stage(PID, "approved")(repo)
    repo.commit("直接推进", who=DEV)
    caught(repo, "art24.unapproved-stage-change")


# WAS A HOLE, now defended (hole): art24._folder() matches project.display against the working copy's projects_dir; an
# unapproved push of `projects_dir: ./projects` silences every art24 finding in `xzdoc validate`.
def test_unapproved_projects_dir_respelling_silences_validate(repo: Repo) -> None:
    repo.write("xzdoc.yaml", repo.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: ./projects\n")
    stage(PID, "approved")(repo)
    repo.commit("直接推进", who=DEV)
    caught(repo, "art24.unapproved-config", "art24.unapproved-stage-change")


# WAS A HOLE, now defended (hole): a merge is walked with the policy before it, and later commits only see changes; folders
# already under the new projects_dir when an approved change moved it were never read (silently skipped).
def test_projects_dir_moved_onto_a_prestaged_folder(repo: Repo) -> None:
    repo.write("p2/XZJT-2026-666/project.yaml", "id: XZJT-2026-666\nname: 暗中项目\nstage: approved\n"
                                                "budget:\n  total: 900.00\n")
    repo.commit("与项目无关的目录", who=DEV)

    def move(r: Repo) -> None:
        r.write("xzdoc.yaml", r.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p2\n")
        r.git("mv", FOLDER, f"p2/{PID}")
    change(repo, "move", PARTY, move, message="项目目录改名")
    code, output = ledger_exit(repo)
    assert code == 1 and "XZJT-2026-666" in output, output


def test_projects_dir_moved_with_its_projects_is_clean(repo: Repo) -> None:
    def move(r: Repo) -> None:
        r.write("xzdoc.yaml", r.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p2\n")
        r.git("mv", "projects", "p2")
    change(repo, "move", PARTY, move, message="项目目录改名")
    code, output = ledger_exit(repo)
    assert code == 0 and f"p2/{PID}" in output, output


def test_folders_under_a_projects_dir_never_in_force_are_not_reported(repo: Repo) -> None:
    repo.write("p3/XZJT-2026-667/project.yaml", "id: XZJT-2026-667\nname: 草稿\nstage: approved\n")
    repo.commit("与项目无关的目录", who=DEV)
    # A policy naming p3 that never takes effect: p3's folders stay outside the ledger, only the policy is reported.
    repo.write("xzdoc.yaml", repo.path.joinpath("xzdoc.yaml").read_text("utf-8") + "projects_dir: p3\n")
    repo.commit("改配置", who=DEV)
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.unapproved-config" in output and "XZJT-2026-667" not in output, output


# WAS A HOLE, now defended (hole): policy.config_blobs() only knows a root xzdoc.yaml and paths are repository-relative, so a
# bureau kept in a sub-folder of its repository gets an empty ledger: nothing is ever judged.
def test_bureau_in_a_sub_folder_of_the_repository(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "mono", config=None)
    repo.write("bureau/xzdoc.yaml", policy(repo, False))
    repo.write(f"bureau/{YAML}", f"id: {PID}\nname: x\nstage: draft\nbudget:\n  total: 1.00\n")
    repo.commit("新建")
    repo.edit(f"bureau/{YAML}", "stage: draft", "stage: approved")
    repo.commit("直接推进", who=DEV)
    code, output = _in(repo.path / "bureau", "ledger")
    assert code == 1 and "不在 git 仓库的根目录" in output, output


# WAS A HOLE, now defended (hole): layout_issues() looks for filter/ident/encoding/eol/text in .gitattributes but not for the
# legacy `crlf` attribute, which converts line endings on checkout just as `text` does.
def test_legacy_crlf_attribute_at_the_root(repo: Repo) -> None:
    repo.write(".gitattributes", "projects/** crlf\n")
    repo.commit("属性", who=DEV)
    caught(repo, "art24.repository-layout")


# PASSES (defended): a case-only rename of an approved folder is a new project plus a deleted one.
def test_case_only_rename_of_an_approved_folder(repo: Repo) -> None:
    submitted(repo)
    repo.git("mv", FOLDER, "projects/tmp")
    repo.git("mv", "projects/tmp", FOLDER.lower())
    repo.commit("改大小写", who=DEV)
    caught(repo, "art24.deleted-project", "art24.unapproved-stage-change")


# -- Merges crafted by hand ---------------------------------------------------------------------------


# PASSES (defended): an evil merge of a harmless branch that also advances another project.
def test_evil_merge_advancing_another_folder(repo: Repo) -> None:
    prepare(repo, "docs", lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"))
    repo.git("merge", "-q", "--no-ff", "--no-commit", "docs", who=PARTY)
    repo.project("XZJT-2026-102", "submitted")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Merge branch 'docs'", who=PARTY)
    code, output = ledger_exit(repo)
    assert code == 1 and "XZJT-2026-102" in output, output


# PASSES (defended): a merge commit written with commit-tree whose two parents are the same commit.
def test_merge_with_the_same_parent_twice(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    repo.git("add", "-A")
    tree = repo.git("write-tree")
    parent = repo.head()
    body = (f"tree {tree}\nparent {parent}\nparent {parent}\nauthor {PARTY.ident} 1772416800 +0800\n"
            f"committer {PARTY.ident} 1772416800 +0800\n\nMerge\n").encode()
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"], cwd=repo.path,
                         input=body, capture_output=True, check=True).stdout.decode().strip()
    repo.git("update-ref", "HEAD", sha)
    caught(repo, "art24.unapproved-stage-change")


# PASSES (defended): a merge whose second parent does not exist in the repository.
def test_merge_with_a_missing_second_parent(repo: Repo) -> None:
    stage(PID, "submitted")(repo)
    repo.git("add", "-A")
    tree = repo.git("write-tree")
    body = (f"tree {tree}\nparent {repo.head()}\nparent {'ab' * 20}\nauthor {PARTY.ident} 1772416800 +0800\n"
            f"committer {PARTY.ident} 1772416800 +0800\n\nMerge\n").encode()
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"], cwd=repo.path,
                         input=body, capture_output=True, check=True).stdout.decode().strip()
    repo.git("update-ref", "HEAD", sha)
    code, output = ledger_exit(repo)
    assert code == 1 and "not-from-second-parent" not in output and "未经审批" in output, output


# PASSES (defended): .mailmap cannot turn a merger without a role into an approver.
def test_mailmap_maps_the_merger_onto_an_approver(repo: Repo) -> None:
    repo.write(".mailmap", f"{PARTY.name} <{PARTY.email}> <{DEV.email}>\n")
    repo.commit("mailmap", who=DEV)
    change(repo, "submit", DEV, stage(PID, "submitted"))
    assert repo.git("log", "-1", "--use-mailmap", "--format=%aE") == PARTY.email
    caught(repo, "art24.unapproved-stage-change")


# PASSES (defended): a terminated project revived by a direct push must pass every gate again.
def test_terminated_project_revived_by_a_push(repo: Repo) -> None:
    submitted(repo)
    change(repo, "stop", PARTY, stage(PID, "terminated", "records:\n  termination: {date: 2026-02-01, doc_no: 忻交发〔2026〕1号}\n"))
    stage(PID, "operating")(repo)
    repo.commit("复活", who=DEV)
    caught(repo, "art24.unapproved-stage-change")


# PASSES (defended): the approved content re-applied after it was superseded is drift, not approval.
def test_superseded_approved_content_pushed_back(repo: Repo) -> None:
    submitted(repo)
    old = repo.path.joinpath(YAML).read_text("utf-8")
    change(repo, "review", PARTY, stage(PID, "reviewed", "records:\n  review: {date: 2026-02-01}\n"))
    repo.write(YAML, old.replace("stage: submitted", "stage: reviewed"))
    repo.commit("退回旧内容", who=DEV)
    caught(repo, "art24.content-drift")


# PASSES (defended): an approver's signed merge into a side branch, fast-forwarded onto main, does not carry
# the direct commits of that side branch.
def test_signed_merge_on_a_side_branch_fast_forwarded(signed: Repo) -> None:
    signed.branch("staging")
    stage(PID, "submitted")(signed)
    signed.commit("侧分支上的直接修改", who=DEV)
    signed.branch("docs")
    signed.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n")
    signed.commit("正文", who=DEV)
    signed.checkout("staging")
    merge(signed, "docs", PARTY, True)
    signed.checkout("main")
    signed.git("merge", "-q", "--ff-only", "staging")
    caught(signed, "art24.unapproved-stage-change")


# -- Approved content and adjustment requests ---------------------------------------------------------


# WAS A HOLE, now defended (hole): field digests stop at two levels (budget.years), and drift._covers() lets a request naming a
# deeper path (budget.years.2026) cover the whole budget.years, so the 2027 change rides along unapproved.
def test_adjustment_request_naming_one_year_covers_every_year(repo: Repo) -> None:
    years = "budget:\n  total: 100.00\n  years:\n    2026: 50.00\n    2027: 50.00\n"
    text = f"id: {PID}\nname: 测试项目\nstage: submitted\n{years}"
    change(repo, "submit", PARTY, lambda r: r.project(PID, text=text))
    repo.project(PID, text=text.replace("2026: 50.00", "2026: 10.00").replace("2027: 50.00", "2027: 90.00"))
    repo.commit("直接调整年度预算", who=DEV)

    def request(r: Repo) -> None:
        r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + "records:\n  changes:\n    - {date: 2026-03-01, "
                "fields: [budget.years.2026], reason: 调整2026年度, approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    change(repo, "request", PARTY, request)
    caught(repo, "art24.content-drift")


# WAS A HOLE, now defended (hole, design): a baseline added by a later approved policy change adopted every commit up to
# it, so findings the ledger had already reported (a direct push to `approved`) turned into 基线采纳.
def test_baseline_added_later_launders_earlier_findings(repo: Repo) -> None:
    stage(PID, "approved")(repo)
    pushed = repo.commit("直接推进", who=DEV)
    caught(repo, "art24.unapproved-stage-change")
    change(repo, "adopt", PARTY, lambda r: r.write("xzdoc.yaml", policy(r, False, f'baseline: "{pushed}"\n')))
    caught(repo, "art24.unapproved-stage-change")


def test_baseline_added_later_still_adopts_history_from_before_the_first_policy(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "late", config=None)
    repo.project(PID, "draft")
    repo.commit("迁入")
    stage(PID, "approved")(repo)
    before = repo.commit("xzdoc 之前已批复", who=DEV)
    repo.write("README.md", "说明\n")
    repo.write("xzdoc.yaml", policy(repo, False))
    repo.commit("采用 xzdoc")
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.unapproved-stage-change" in output, output
    change(repo, "adopt", PARTY, lambda r: r.write("xzdoc.yaml", policy(r, False, f'baseline: "{before}"\n')))
    clean(repo)


# WAS A HOLE, now defended (hole): ledger.of_project() (the bundle's approval page) selects records by 项目编号, so a folder that
# copies another project's id gets that project's approvals printed on its own page.
def test_copied_id_does_not_borrow_another_folders_approvals(repo: Repo) -> None:
    from xzdoc import config
    from xzdoc.render import bundle
    from xzdoc.source import loader

    submitted(repo)
    repo.project("XZJT-2026-999", text=f"id: {PID}\nname: 仿冒项目\nstage: draft\nbudget:\n  total: 900.00\n")
    repo.commit("复制编号", who=DEV)
    cfg = config.load(repo.path)
    fake = loader.load_project(cfg, repo.path / "projects" / "XZJT-2026-999").project
    assert fake is not None and fake.id == PID
    page = bundle.Approvals(cfg, True).records(fake) or []
    assert [r.folder for r in page if r.folder != "projects/XZJT-2026-999"] == []


# -- Signatures -----------------------------------------------------------------------------------------


# WAS A HOLE, now defended (hole): approver addresses went into the allowed-signers file unchecked; a line break in one
# started a signer line of its own, and `*` or a comma there is a principal pattern that matches other addresses.
@pytest.mark.parametrize("address", ["wang@xzjt.gov.cn\n* ssh-ed25519 AAAA", "*@xzjt.gov.cn", "wang@xzjt.gov.cn,x@y.cn",
                                     "wang xzjt.gov.cn", "王建国"])
def test_approver_address_that_is_not_one_plain_address(tmp_path: Path, address: str) -> None:
    from xzdoc import config
    from xzdoc.errors import XzdocError

    (tmp_path / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\napprovers:\n  局党组:\n"
                                         f"    - name: 王建国\n      email: {json.dumps(address, ensure_ascii=False)}\n", "utf-8")
    with pytest.raises(XzdocError, match="不是有效的邮箱地址") as caught:
        config.load(tmp_path)
    assert caught.value.line == 4 and "\n" not in caught.value.message


# PASSES (defended, but latent): member e-mails are not validated, so an unapproved policy version (later
# reverted) injects lines ("*", "cert-authority …") into the allowed-signers file built from every version in
# history; ssh-keygen skips the bad lines and judge() pins the fingerprint to the policy as of M^1.
def test_allowed_signers_injection_from_an_unapproved_policy(signed: Repo) -> None:
    good = signed.path.joinpath("xzdoc.yaml").read_text("utf-8")
    _, public = keygen(signed.home, ATTACKER)
    evil = good.replace("  数据中心:\n", f"    - {{name: 钱, email: \"*\\n* cert-authority {public}\\nx\", "
                                          f"keys: ['{public}']}}\n  数据中心:\n")
    signed.write("xzdoc.yaml", evil)
    signed.commit("临时配置", who=DEV)
    signed.write("xzdoc.yaml", good)
    signed.commit("恢复配置", who=DEV)
    submitted(signed, signed=True)
    code, output = ledger_exit(signed)
    assert code == 0, output
    # and the attacker's key signing as the approver still does not count
    change(signed, "review", PARTY, stage(PID, "reviewed"), signed=True, key_of=ATTACKER)
    caught(signed, "art24.unsigned-merge")


# PASSES (defended): a merge signed by a 数据中心 member's registered key, authored as a 局党组 member.
def test_signed_with_a_registered_key_of_another_role(signed: Repo) -> None:
    change(signed, "submit", PARTY, stage(PID, "submitted"), signed=True, key_of=CENTER)
    caught(signed, "art24.unsigned-merge")


# PASSES (defended): an author e-mail that differs from the approver's only in case and spaces still
# must verify with that approver's key.
def test_approver_email_in_other_case_signed_by_the_attacker(signed: Repo) -> None:
    shouting = Person(PARTY.name, PARTY.email.upper())
    change(signed, "submit", shouting, stage(PID, "submitted"), signed=True, key_of=ATTACKER)
    caught(signed, "art24.unsigned-merge")


# -- More drift and dates ---------------------------------------------------------------------------


# PASSES (defended): a mode-only change (a draft made executable) of an approved folder is drift.
def test_mode_only_change_of_an_approved_folder(repo: Repo) -> None:
    submitted(repo)
    repo.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n")
    change(repo, "docs", PARTY, lambda r: None)
    repo.path.joinpath(FOLDER, "drafts", "proposal.md").chmod(0o755)
    repo.commit("改权限", who=DEV)
    caught(repo, "art24.content-drift")


# WAS A HOLE, now defended (hole): in walk._drift() a merge that passed any gate skipped the edit role of the stage; the
# first records.changes entry is itself a (局党组) gate, so a party-group member covered the drift of a project whose
# `approved` stage (批复文号, budget) belongs to 数据中心. A second request needed 数据中心 too.
def test_first_adjustment_request_skips_the_stage_role(repo: Repo) -> None:
    approval = "records:\n  approval: {date: 2026-02-10, doc_no: 忻政数函〔2026〕1号}\n"
    submitted(repo)
    change(repo, "review", PARTY, stage(PID, "reviewed"))
    change(repo, "approve", CENTER, stage(PID, "approved", approval))
    repo.edit(YAML, "〔2026〕1号", "〔2026〕8号")
    repo.edit(YAML, "total: 100.00", "total: 900.00")
    repo.commit("改批复文号和预算", who=DEV)

    def request(r: Repo) -> None:
        r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + "  changes:\n    - {date: 2026-03-01, fields: "
                "[budget.total, records.approval], reason: 调整, approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    change(repo, "request", PARTY, request)
    caught(repo, "art24.content-drift")


def test_request_and_edit_in_one_merge_need_the_stage_role_too(repo: Repo) -> None:
    # The same attack in one pull request: the request and the budget change arrive together, merged by 局党组.
    approved(repo)

    def request(r: Repo) -> None:
        r.edit(YAML, "total: 100.00", "total: 900.00")
        r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + "  changes:\n    - {date: 2026-03-01, fields: "
                "[budget.total], reason: 调整, approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    change(repo, "request", PARTY, request)
    caught(repo, "art24.content-drift")


def test_a_filing_alone_needs_only_the_filings_role(repo: Repo) -> None:
    # 监理备案 (gate 局党组) on a project whose stage belongs to 数据中心: the filing is all that changed.
    approved(repo)
    change(repo, "file", PARTY, lambda r: r.write(YAML, r.path.joinpath(YAML).read_text("utf-8")
                                                  + "  supervision: {date: 2026-03-01, unit: 某监理公司}\n"))
    code, output = ledger_exit(repo)
    assert "art24.content-drift" not in output and code == 0, output


def test_a_filing_does_not_carry_other_edits_past_the_stage_role(repo: Repo) -> None:
    approved(repo)

    def file(r: Repo) -> None:
        r.edit(YAML, "total: 100.00", "total: 900.00")
        r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + "  supervision: {date: 2026-03-01, unit: 某监理公司}\n")
    content = repo.path.joinpath(YAML).read_text("utf-8")
    change(repo, "file", PARTY, file)
    caught(repo, "art24.content-drift")
    # The way out: back to the approved content, then the filing on its own.
    change(repo, "revert", CENTER, lambda r: r.write(YAML, content))
    change(repo, "refile", PARTY, lambda r: r.write(YAML, content + "  supervision: {date: 2026-03-01, unit: 某监理公司}\n"))
    code, output = ledger_exit(repo)
    assert "art24.content-drift" not in output and code == 0, output


# WAS A HOLE, now defended (hole): walk._future() trusts the committer date of the commit that entered a filing; a push dated
# in the future (2026-12-01, followed by commits of 2026-03-02) hides a filing registered before it happened.
def test_future_filing_hidden_by_a_forged_commit_date(repo: Repo) -> None:
    repo.write(YAML, repo.path.joinpath(YAML).read_text("utf-8") + "records:\n  review: {date: 2026-06-01}\n")
    _raw_commit(repo, DEV.ident.encode(), "登记审核意见\n".encode(), when=1796090400)   # 2026-12-01 10:00 +08:00
    repo.write("README.md", "后续提交\n")
    repo.commit("其他", who=DEV)
    assert "art24.future-filing" in art24_errors(repo, "--as-of", "2026-11-20")


_ = (AS_OF, pytest)
