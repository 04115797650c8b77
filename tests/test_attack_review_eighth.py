"""An eighth attacker's review: the working copy's branch, policy laundering, transient projects folders, linked policies.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, signed where the attack
needs signatures, one case per test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.attacks import (
    ATTACKER,
    DEV,
    PARTY,
    PID,
    YAML,
    art24_errors,
    caught,
    change,
    keygen,
    ledger_exit,
    merge,
    policy,
    prepare,
    run_in,
    stage,
    submitted,
    text_of,
)
from tests.conftest import invoke
from tests.gitrepo import Repo, env

CONFIG = "xzdoc.yaml"


# WAS A HOLE: `branch:` is read from the working copy. A push naming an older branch that shares main's root had
# the ledger judge that branch, so the same push could also take the project to approved with no merge at all.
def test_a_pushed_branch_setting_cannot_point_the_ledger_away_from_main(signed: Repo) -> None:
    submitted(signed, signed=True)
    signed.git("branch", "snapshot")
    signed.write(YAML, text_of(signed, YAML).replace("stage: submitted", "stage: approved")
                 + "records:\n  approval: {date: 2026-02-10, doc_no: 忻政数函〔2026〕1号}\n")
    signed.write(CONFIG, text_of(signed, CONFIG) + "branch: snapshot\n")
    signed.commit("直接推进")
    code, output = ledger_exit(signed)
    assert code == 1 and "主分支 snapshot 未经审批" in output, output
    assert "art24.approval-history" in art24_errors(signed)


def test_a_branch_the_approved_policy_names_is_walked(signed: Repo) -> None:
    # The same setting, brought in by a party-group merge on main, is the bureau's own: the ledger walks it.
    change(signed, "cfg", PARTY, lambda r: r.write(CONFIG, text_of(r, CONFIG) + "branch: main\n"), signed=True)
    code, output = ledger_exit(signed)
    assert code == 0, output


# WAS A HOLE: a config merge was approved when it brought the version its branch held. A branch cut after an
# unapproved push already held that push, so the approver's one-line diff laundered the attacker into the policy,
# and the attacker's own signed merges then counted as the party group's.
def test_an_approved_config_merge_over_an_unapproved_push_does_not_launder_it(signed: Repo) -> None:
    _, key = keygen(signed.home, ATTACKER)
    signed.write(CONFIG, text_of(signed, CONFIG).replace(
        "  数据中心:", f"    - {{name: {ATTACKER.name}, email: {ATTACKER.email}, keys: ['{key}']}}\n  数据中心:"))
    signed.commit("chore: tidy config")
    change(signed, "cfg", PARTY, lambda r: r.write(CONFIG, text_of(r, CONFIG) + "forge_committers: [noreply@github.com]\n"),
           signed=True)
    prepare(signed, "submit", stage(PID, "submitted"))
    merge(signed, "submit", ATTACKER, signed=True)
    errors = caught(signed, "art24.unapproved-config", "art24.unapproved-stage-change")
    assert {"art24.unapproved-config", "art24.unapproved-stage-change"} <= errors


def test_restoring_the_policy_then_merging_the_change_takes_effect(signed: Repo) -> None:
    approved_text = text_of(signed, CONFIG)
    signed.write(CONFIG, approved_text + "# 直接推送的修改\n")
    signed.commit("直接修改")
    signed.write(CONFIG, approved_text)
    signed.commit("恢复")
    merged = change(signed, "cfg", PARTY,
                    lambda r: r.write(CONFIG, approved_text + "forge_committers: [noreply@github.com]\n"), signed=True)
    code, output = ledger_exit(signed)
    # The direct push and its revert stay in the record; the change merged over the restored policy is in force.
    assert code == 0, output
    book = json.loads(run_in(signed, "ledger", "--format", "json").output)
    current = [r for r in book["records"] if r["folder"] == CONFIG and r["current"]]
    assert [(r["commit"], r["status"]) for r in current] == [(merged, "approved")], current


# WAS A HOLE: every projects_dir any parsed xzdoc.yaml named became a folder of projects, even one pushed and
# reverted without approval. Named for a moment as an approved project's own folder, it made a project.yaml
# nested there (approved as an attachment) a project of its own, whose copy then took over its approval.
def test_a_reverted_unapproved_projects_dir_lends_no_approval(signed: Repo) -> None:
    def submit(r: Repo) -> None:
        stage(PID, "submitted")(r)  # type: ignore[operator]
        r.write(f"projects/{PID}/XZJT-2026-666/project.yaml",
                "id: XZJT-2026-666\nname: 附件示例\nstage: submitted\nbudget:\n  total: 900.00\n")
    change(signed, "submit", PARTY, submit, signed=True)
    kept = text_of(signed, CONFIG)
    signed.write(CONFIG, kept + f"projects_dir: projects/{PID}\n")
    signed.commit("试验")
    signed.write(CONFIG, kept)
    signed.commit("还原")
    signed.write("projects/XZJT-2026-666/project.yaml", text_of(signed, f"projects/{PID}/XZJT-2026-666/project.yaml"))
    signed.commit("新项目")
    caught(signed, "art24.unapproved-stage-change")


def _linkable(path: Path) -> Repo:
    """A bureau whose policy lines each end in a comment holding a slash: its text splits into short path parts,
    so a symlink with that text as its target can resolve to a file an attacker commits."""
    repo = Repo(path, config=None)
    repo.write(CONFIG, "".join(f"{line}  # /\n" for line in policy(repo, False).splitlines()))
    repo.project(PID, "draft")
    repo.commit("新建项目")
    return repo


def _link_to_approved_text(repo: Repo, evil: bool) -> None:
    """Replace xzdoc.yaml by a symlink whose target text is the approved policy (git stores exactly that text)."""
    text = text_of(repo, CONFIG)
    (repo.path / CONFIG).unlink()
    if evil:
        # Folders named after the policy's lines, so the link resolves to a file of the attacker's.
        target = repo.path / text
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("  数据中心:", f"    - {{name: {ATTACKER.name}, email: {ATTACKER.email}}}\n  数据中心:"),
                          "utf-8")
    os.symlink(text, repo.path / CONFIG)


# WAS A HOLE: git keeps a symlink as its target's text, so a link whose text is the approved policy had the same
# blob id, and the policy timeline saw no change; the checkout followed the link to the attacker's own policy.
def test_a_policy_replaced_by_a_link_reading_as_the_approved_text_is_refused(tmp_path: Path) -> None:
    repo = _linkable(tmp_path / "bureau")
    submitted(repo)
    _link_to_approved_text(repo, evil=True)
    repo.commit("整理配置")
    before, after = (repo.git("rev-parse", f"HEAD{s}:{CONFIG}") for s in ("~1", ""))
    assert before == after  # the attack's premise: same blob, only the mode differs ...
    assert ATTACKER.name in text_of(repo, CONFIG)  # ... and the checkout reads the attacker's policy through it
    code = subprocess.run(["git", "-C", str(repo.path), "ls-tree", "HEAD", CONFIG], capture_output=True, text=True,
                          check=True).stdout.split()[0]
    assert code == "120000"
    caught(repo, "符号链接", ledger_only=True)


# WAS A HOLE: a link whose text is longer than a file name may be made every run crash with ENAMETOOLONG (exit 3).
def test_a_policy_link_too_long_to_follow_is_an_error_not_a_crash(repo: Repo) -> None:
    text = "organisation: 忻州市交通运输局\n# " + "长" * 200 + "\n"
    (repo.path / CONFIG).unlink()
    os.symlink(text, repo.path / CONFIG)
    repo.commit("link", who=DEV)
    for args in (("ledger",), ("validate",), ("status",)):
        result = run_in(repo, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "符号链接" in result.output and "Traceback" not in result.output


def test_the_guard_refuses_a_policy_link(tmp_path: Path) -> None:
    repo = _linkable(tmp_path / "bureau")
    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(server)], check=True)
    assert invoke("guard", "--install", str(server)).exit_code == 0
    repo.git("remote", "add", "origin", str(server))
    repo.git("push", "-q", "origin", "main")
    repo.branch("tidy")
    _link_to_approved_text(repo, evil=True)
    repo.commit("整理配置")
    repo.checkout("main")
    repo.merge("tidy", DEV)
    pushed = subprocess.run(["git", "-C", str(repo.path), "push", "-q", "origin", "main"], capture_output=True,
                            text=True, env=env(DEV, home=repo.home))
    assert pushed.returncode != 0 and "xzdoc guard" in pushed.stderr, pushed.stderr
