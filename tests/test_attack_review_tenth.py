"""A tenth attacker's review: status after drift or an unreadable history, dates past year 9999, revoked keys.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one case per test.
"""

from __future__ import annotations

import json
import subprocess

from tests.attacks import (
    APPROVAL,
    ATTACKER,
    PARTY,
    PID,
    YAML,
    caught,
    change,
    keygen,
    ledger_exit,
    merge,
    prepare,
    run_in,
    stage,
    submitted,
    text_of,
)
from tests.conftest import AS_OF
from tests.gitrepo import CENTER, DEV, PARTY2, Repo

CONFIG = "xzdoc.yaml"


def _status(repo: Repo) -> tuple[int, dict[str, object]]:
    result = run_in(repo, "status", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    return result.exit_code, next(p for p in data["projects"] if p["project"] == PID)


def _approved(repo: Repo) -> None:
    submitted(repo)
    change(repo, "review", PARTY, stage(PID, "reviewed"))
    change(repo, "approve", CENTER, stage(PID, "approved", APPROVAL))


# WAS A HOLE: status (and the dashboard) asked the ledger only for unapproved stage and filing changes. A
# direct push raising the budget of an approved project was art24.content-drift to the ledger, yet status
# showed the project fundable (可拨付), exit 0, without a word of the change.
def test_status_holds_funds_of_a_project_whose_approved_content_was_changed(repo: Repo) -> None:
    _approved(repo)
    code, row = _status(repo)
    assert row["funding"]["eligible"], row   # type: ignore[index]
    repo.edit(YAML, "total: 100.00", "total: 9999.00")
    repo.commit("直接改预算", who=DEV)
    code, row = _status(repo)
    assert code == 0 and not row["funding"]["eligible"], row   # type: ignore[index]
    texts = [r["text"] for r in row["funding"]["reasons"]]   # type: ignore[index]
    assert any("经审批的内容被改动" in t and "budget.total" in t for t in texts), texts
    assert any("budget.total" in u for u in row["unapproved"]), row   # type: ignore[union-attr]


# WAS A HOLE: when the ledger could not be built, status noted it and went on as if nothing were unapproved.
# Pushing a branch named master beside main (no branch: in the policy) turned a direct push to approved,
# held back a moment before, into 可拨付 with exit 0.
def test_status_fails_closed_when_the_approval_history_cannot_be_read(repo: Repo) -> None:
    submitted(repo)
    stage(PID, "approved", APPROVAL)(repo)
    repo.commit("直接推进到已批复", who=ATTACKER)
    code, row = _status(repo)
    assert not row["funding"]["eligible"] and row["unapproved"], row   # type: ignore[index]
    repo.git("branch", "master")
    code, row = _status(repo)
    assert code == 1 and not row["funding"]["eligible"], row   # type: ignore[index]
    assert any("无法核对审批记录" in r["text"] for r in row["funding"]["reasons"]), row   # type: ignore[index]
    text = run_in(repo, "status", "--as-of", AS_OF)
    assert text.exit_code == 1 and "暂停拨付" in text.output and "可拨付" not in text.output.replace("暂停拨付", "")


# WAS A CRASH: git takes a commit dated 253402300000 -1200 (the last second of 9999 west of UTC; fsck --strict
# passes it). Moved to Beijing time the date leaves the calendar: ledger, validate and status exited 3
# (OverflowError) on every run once the commit was on main.
def test_a_commit_dated_past_year_9999_in_beijing_is_no_crash(repo: Repo) -> None:
    submitted(repo)
    repo.write("README.md", "x\n")
    repo.git("add", "-A")
    tree, parent = repo.git("write-tree"), repo.head()
    body = (f"tree {tree}\nparent {parent}\nauthor a <a@b> 253402300000 -1200\n"
            "committer a <a@b> 253402300000 -1200\n\nx\n").encode()
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo.path, input=body,
                         capture_output=True, check=True).stdout.decode().strip()
    repo.git("update-ref", "refs/heads/main", sha)
    repo.git("reset", "-q", "--hard")
    code, output = ledger_exit(repo)
    assert code in (0, 1) and "内部错误" not in output, output
    for args in (("validate", "--as-of", AS_OF), ("status", "--as-of", AS_OF)):
        result = run_in(repo, *args)
        assert result.exit_code in (0, 1) and "内部错误" not in result.output, result.output


# WAS A HOLE: revoking a key voided the stage merges it signed but not the policy changes: a party-group key
# taken from its holder added the attacker as a party-group member, the attacker approved a stage with his own
# key, and after the bureau revoked the stolen key the policy change still read 签名有效 and the stage approved.
def test_a_revoked_key_voids_the_policy_changes_it_signed(signed: Repo) -> None:
    repo = signed
    _, attacker_key = keygen(repo.home, ATTACKER)
    _, stolen = keygen(repo.home, PARTY2)
    member = f"    - {{name: {ATTACKER.name}, email: {ATTACKER.email}, keys: ['{attacker_key}']}}\n  数据中心:"
    change(repo, "cfg", PARTY2, lambda r: r.write(CONFIG, text_of(r, CONFIG).replace("  数据中心:", member)), signed=True)
    prepare(repo, "submit", stage(PID, "submitted"))
    merge(repo, "submit", ATTACKER, signed=True)
    code, output = ledger_exit(repo)
    assert code == 0, output   # before the revocation the stolen key is as good as its holder's hand
    change(repo, "revoke", PARTY, lambda r: r.write(CONFIG, text_of(r, CONFIG) + f"revoked_keys: ['{stolen}']\n"),
           signed=True)
    errors = caught(repo, "art24.unapproved-stage-change")
    assert "art24.unsigned-merge" in errors or "art24.unapproved-config" in errors, errors
    code, output = ledger_exit(repo)
    assert "签名密钥已吊销" in output, output


# WAS A HOLE: a stage only on a branch (or uncommitted) showed 可拨付 with the gates merely listed as pending.
def test_status_holds_funds_of_a_stage_not_merged_yet(repo: Repo) -> None:
    submitted(repo)
    repo.git("switch", "-q", "-c", "feat")
    stage(PID, "approved", APPROVAL)(repo)
    repo.commit("推进到已批复")
    _, row = _status(repo)
    assert row["pending"] and not row["funding"]["eligible"], row   # type: ignore[index]
    texts = [r["text"] for r in row["funding"]["reasons"]]   # type: ignore[index]
    assert any("尚未经审批合并进入主分支" in t for t in texts), texts
