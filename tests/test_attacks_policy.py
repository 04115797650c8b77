"""Attacks on policy and signatures, each on a real repository: every one must fail `validate` (art24) and `ledger`.

And the legitimate lifecycles next to them must stay clean: merges by the
right roles, signed merges with the approvers' own keys, an approver
removed later, an approved policy change, an approved adjustment request.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.attacks import (
    ATTACKER,
    CENTER,
    FOLDER,
    PARTY,
    PARTY2,
    PID,
    YAML,
    adjustment_request,
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
from tests.gitrepo import FORGE, Repo

# -- Legitimate lifecycles --------------------------------------------------------------------------


def test_full_lifecycle_by_the_right_roles_is_clean(repo: Repo) -> None:
    submitted(repo)
    change(repo, "review", PARTY2, stage(PID, "reviewed", "records:\n  review: {date: 2026-02-01}\n"))
    change(repo, "approve", CENTER, stage(PID, "approved", "records:\n  review: {date: 2026-02-01}\n"
                                          "  approval: {date: 2026-02-10, doc_no: 忻政数函〔2026〕1号}\n"))
    repo.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n")
    repo.commit("直接修改已批复项目的正文")
    caught(repo, "art24.content-drift")
    repo.git("revert", "--no-edit", "HEAD")
    clean(repo)


def test_signed_lifecycle_is_clean(signed: Repo) -> None:
    submitted(signed, signed=True)
    change(signed, "review", PARTY2, stage(PID, "reviewed"), signed=True)
    change(signed, "approve", CENTER, stage(PID, "approved"), signed=True)
    clean(signed)
    _, output = ledger_exit(signed)
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(keygen(signed.home, CENTER)[0]) + ".pub"], check=True,
                                 capture_output=True, text=True).stdout.split()[1]
    assert f"签名有效（密钥 {fingerprint}）" in output
    shown = invoke("validate", str(signed.path), "--format", "json", "--as-of", AS_OF).output
    assert f"签名有效（密钥 {fingerprint}）" in shown and "art24.signed-approval" in shown
    # The bundle's 审批记录 page reads the same fields off the record.
    from xzdoc import config
    from xzdoc.history import ledger
    from xzdoc.render import records

    cfg = config.load(signed.path)
    (approval,) = [r for r in ledger.records_for(cfg, PID) if r.to_stage == "approved"]
    row = records.row(cfg, approval, ledger.STATUS_ZH)
    assert row["signature"] == "有效" and row["fingerprint"] == approval.key == fingerprint
    assert approval.merge_commit == approval.commit and approval.tree == signed.git("rev-parse",
                                                                                    f"{approval.commit}:projects/{PID}")


def test_approver_removed_later_keeps_his_approvals(repo: Repo) -> None:
    change(repo, "submit", PARTY2, stage(PID, "submitted"))
    change(repo, "policy", PARTY, lambda r: r.write("xzdoc.yaml", policy(r, False, members=(PARTY,))))
    clean(repo)


def test_approved_policy_change_takes_effect(repo: Repo) -> None:
    new = policy(repo, False, members=(PARTY, PARTY2, ATTACKER))
    change(repo, "policy", PARTY, lambda r: r.write("xzdoc.yaml", new))
    change(repo, "submit", ATTACKER, stage(PID, "submitted"))   # now a listed member of 局党组
    clean(repo)


def test_forge_web_merge_named_in_the_policy_is_clean(tmp_path: Path) -> None:
    repo = bureau(tmp_path / "forge", extra="forge_committers: [noreply@github.com]\n")
    prepare(repo, "submit", stage(PID, "submitted"))
    merge(repo, "submit", PARTY, committer=FORGE)
    clean(repo)


def test_approved_adjustment_request_covers_drift(repo: Repo) -> None:
    submitted(repo)
    repo.edit(YAML, "total: 100.00", "total: 120.00")
    repo.commit("直接调整预算")
    caught(repo, "art24.content-drift")
    change(repo, "request", PARTY, adjustment_request(True))
    clean(repo)


# -- Policy pushed instead of approved --------------------------------------------------------------


def test_config_push_naming_oneself_approver(repo: Repo) -> None:
    repo.write("xzdoc.yaml", policy(repo, False, members=(PARTY, ATTACKER)))
    repo.commit("增加审批人")
    change(repo, "submit", ATTACKER, stage(PID, "submitted"))
    errors = caught(repo, "art24.unapproved-config", "art24.unapproved-stage-change")
    assert errors


def test_config_push_lifting_gates(repo: Repo) -> None:
    repo.write("xzdoc.yaml", policy(repo, False, "gates:\n  submitted: null\n  reviewed: null\n"))
    repo.commit("取消关口")
    stage(PID, "reviewed")(repo)
    repo.commit("直接推进")
    caught(repo, "art24.unapproved-config", "art24.unapproved-stage-change")


def test_config_push_moving_the_projects_folder(repo: Repo) -> None:
    repo.write("xzdoc.yaml", policy(repo, False, "projects_dir: elsewhere\n"))
    repo.commit("换目录")
    stage(PID, "approved")(repo)
    repo.commit("直接推进")
    caught(repo, "art24.unapproved-config", "art24.unapproved-stage-change", ledger_only=True)


def test_config_deleted(repo: Repo) -> None:
    repo.git("rm", "-q", "xzdoc.yaml")
    repo.commit("删除配置")
    caught(repo, "art24.unapproved-config")


def test_config_change_merged_by_the_wrong_role(repo: Repo) -> None:
    change(repo, "policy", CENTER, lambda r: r.write("xzdoc.yaml", policy(r, False, members=(PARTY, ATTACKER))))
    caught(repo, "art24.unapproved-config")


def test_config_change_already_on_main_before_the_merge(repo: Repo) -> None:
    repo.write("xzdoc.yaml", policy(repo, False, members=(PARTY, ATTACKER)))
    repo.commit("先推送配置")
    change(repo, "other", PARTY, lambda r: r.write("README.md", "说明\n"))
    caught(repo, "art24.unapproved-config")


def test_baseline_rewritten_even_by_an_approver(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "adopted", config=None)
    repo.project(PID, "draft")
    first = repo.commit("迁入")
    repo.write("xzdoc.yaml", policy(repo, False, f'baseline: "{first}"\n'))
    repo.commit("采用")
    stage(PID, "approved")(repo)
    pushed = repo.commit("直接推进")
    change(repo, "baseline", PARTY, lambda r: r.write("xzdoc.yaml", policy(r, False, f'baseline: "{pushed}"\n')))
    caught(repo, "art24.unapproved-config", "art24.unapproved-stage-change")


def test_signing_requirement_dropped_by_a_push(signed: Repo) -> None:
    signed.write("xzdoc.yaml", policy(signed, True).replace("require_signed: true\n", ""))
    signed.commit("不再要求签名")
    change(signed, "submit", PARTY, stage(PID, "submitted"))   # unsigned
    caught(signed, "art24.unapproved-config", "art24.unsigned-merge")


# -- Signatures that are not the approver's ---------------------------------------------------------


def test_unsigned_merge_under_require_signed(signed: Repo) -> None:
    change(signed, "submit", PARTY, stage(PID, "submitted"))
    caught(signed, "art24.unsigned-merge")


def test_merge_spoofed_and_signed_with_the_attackers_own_key(signed: Repo) -> None:
    change(signed, "submit", PARTY, stage(PID, "submitted"), signed=True, key_of=ATTACKER)
    caught(signed, "art24.unsigned-merge")


def test_data_center_member_signs_a_party_gate_with_his_own_key(signed: Repo) -> None:
    change(signed, "submit", CENTER, stage(PID, "submitted"), signed=True)
    caught(signed, "art24.unapproved-stage-change")


def test_one_approvers_key_signing_as_another_approver(signed: Repo) -> None:
    change(signed, "submit", PARTY2, stage(PID, "submitted"), signed=True, key_of=PARTY)
    caught(signed, "art24.unsigned-merge")


def test_revoked_key(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "revoked", config=None)
    _, public = keygen(repo.home, PARTY)
    repo.write("xzdoc.yaml", policy(repo, True, f"revoked_keys: ['{public}']\n"))
    repo.project(PID, "draft")
    repo.commit("新建")
    change(repo, "submit", PARTY, stage(PID, "submitted"), signed=True)
    caught(repo, "art24.unsigned-merge")


def test_machine_trust_is_not_used(signed: Repo) -> None:
    # The verifying machine trusts the attacker's key for the approver's address: that must not count.
    _, public = keygen(signed.home, ATTACKER)
    allowed = signed.home / "allowed_signers"
    allowed.write_text(f"{PARTY.email} {public}\n", "utf-8")
    gitconfig = Path.home() / ".gitconfig"
    signed.git("config", "gpg.ssh.allowedSignersFile", str(allowed))
    change(signed, "submit", PARTY, stage(PID, "submitted"), signed=True, key_of=ATTACKER)
    caught(signed, "art24.unsigned-merge")
    assert not gitconfig.exists() or "allowed" not in gitconfig.read_text("utf-8", "replace")


def test_key_added_in_the_merged_branch_does_not_verify_that_merge(signed: Repo) -> None:
    _, public = keygen(signed.home, ATTACKER)

    def edit(r: Repo) -> None:
        r.write("xzdoc.yaml", policy(r, True).replace(f"email: {PARTY.email}, keys: [",
                                                      f"email: {PARTY.email}, keys: ['{public}', "))
        stage(PID, "submitted")(r)
    change(signed, "submit", PARTY, edit, signed=True, key_of=ATTACKER)
    caught(signed, "art24.unsigned-merge")


def test_amended_signed_merge(signed: Repo) -> None:
    submitted(signed, signed=True)
    stage(PID, "reviewed")(signed)
    signed.git("add", "-A")
    signed.git("commit", "-q", "--amend", "--no-edit", who=PARTY, committer=PARTY)   # identity copied, key not
    code, output = ledger_exit(signed)
    assert code == 1 and "未签名" in output
    caught(signed, "art24.unapproved-stage-change")



# -- Policy, keys and gpg --------------------------------------------------------------------------


def test_policy_change_and_the_gate_it_would_open_in_one_merge(repo: Repo) -> None:
    # A party-group member names himself to the data center and passes its gate in the same merge:
    # the merge is judged by the policy before it.
    def edit(r: Repo) -> None:
        r.write("xzdoc.yaml", policy(r, False).replace("  数据中心:\n", f"  数据中心:\n    - {{name: {PARTY.name}, "
                                                                     f"email: {PARTY.email}}}\n"))
        stage(PID, "approved")(r)
    change(repo, "all", PARTY, edit)
    caught(repo, "art24.unapproved-stage-change")


def test_config_push_renaming_the_main_branch(repo: Repo) -> None:
    repo.write("xzdoc.yaml", policy(repo, False, "branch: main\nforge_committers: [zhao@vendor.example.com]\n"))
    repo.commit("配置")
    caught(repo, "art24.unapproved-config")


def test_key_rotation_through_an_approved_policy_change(signed: Repo) -> None:
    submitted(signed, signed=True)
    new = keygen(signed.home, ATTACKER)   # the member's new key pair (made under another file name)
    rotated = policy(signed, True).replace(keygen(signed.home, PARTY2)[1], new[1])
    change(signed, "rotate", PARTY, lambda r: r.write("xzdoc.yaml", rotated), signed=True)
    change(signed, "review", PARTY2, stage(PID, "reviewed"), signed=True, key_of=ATTACKER)
    clean(signed)


def _gpg_key(home: Path, who: object) -> str:
    """A real gpg key pair (ed25519, no passphrase) in ``home``; returns its fingerprint."""
    import os

    env = {**os.environ, "GNUPGHOME": str(home)}
    ident = f"{who.name} <{who.email}>"  # type: ignore[attr-defined]
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", ident, "ed25519", "sign", "never"],
                   env=env, capture_output=True, check=True)
    out = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys", who.email],  # type: ignore[attr-defined]
                         env=env, capture_output=True, text=True, check=True).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


@pytest.mark.parametrize("listed", [True, False])
def test_gpg_signed_merge_counts_only_with_the_listed_fingerprint(tmp_path: Path, gnupg: Path, listed: bool) -> None:
    mine = _gpg_key(gnupg, PARTY)
    other = _gpg_key(gnupg, ATTACKER)
    repo = Repo(tmp_path / "gpg", config=None)
    text = policy(repo, False).replace(f"email: {PARTY.email}}}", f"email: {PARTY.email}, keys: ['gpg:{mine}']}}")
    repo.write("xzdoc.yaml", text + "require_signed: true\n")
    repo.project(PID, "draft")
    repo.commit("新建")
    prepare(repo, "submit", stage(PID, "submitted"))
    repo.git("-c", "gpg.format=openpgp", "-c", f"user.signingkey={mine if listed else other}", "merge", "-q",
             "--no-ff", "-S", "-m", "Merge branch 'submit'", "submit", who=PARTY)
    if listed:
        clean(repo)
    else:
        caught(repo, "art24.unsigned-merge")
