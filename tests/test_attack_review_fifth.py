"""A fifth attacker's review, of the server guard, signatures and git output: a file named like a diff header,
a revoked key's signing subkey, a branch that locked the server, drift hiding drift at the guard, and merges
signed with an approver's listed key that were refused for the name git printed.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, real ssh and gpg keys.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.attacks import (
    ATTACKER,
    CENTER,
    DEV,
    FOLDER,
    PARTY,
    PARTY2,
    PID,
    YAML,
    art24_errors,
    bureau,
    caught,
    change,
    keygen,
    ledger_exit,
    policy,
    prepare,
    stage,
    submitted,
)
from tests.conftest import invoke
from tests.gitrepo import Person, Repo, env

# -- Git's output read by position -----------------------------------------------------------------------

BOGUS = "0" * 40 + " " + "1" * 40 + "\nx"     # a file name that reads as a `diff-tree --stdin` pair header


def _request_beside_a_bogus_name(repo: Repo, bogus: bool) -> None:
    submitted(repo)
    repo.edit(YAML, "total: 100.00", "total: 900.00")
    repo.commit("改预算", who=DEV)

    def request(r: Repo) -> None:
        r.write(f"{FOLDER}/!说明", "见附件\n")        # sorts first, so the bogus name comes after a real path
        if bogus:
            r.write(f"{FOLDER}/{BOGUS}", "\n")
        r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + "records:\n  changes:\n    - {date: 2026-03-01, "
                "fields: ['!说明'], reason: 补充说明, approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    change(repo, "request", PARTY, request)


def test_a_request_naming_another_file_leaves_the_drift(repo: Repo) -> None:
    _request_beside_a_bogus_name(repo, bogus=False)
    caught(repo, "art24.content-drift")


# WAS A HOLE: `git diff-tree --stdin -z` output was searched for pair headers, so a file named like one moved every
# path after it (project.yaml included) to an invented pair; a request naming one harmless file then covered
# the budget drift pushed before it.
def test_a_file_named_like_a_diff_header_hides_nothing(repo: Repo) -> None:
    _request_beside_a_bogus_name(repo, bogus=True)
    caught(repo, "art24.content-drift")
    assert "art24.content-drift" in art24_errors(repo)


# -- Signatures ------------------------------------------------------------------------------------------


def _gpg(*args: str) -> str:
    return subprocess.run(["gpg", "--batch", "--passphrase", "", "--pinentry-mode", "loopback", *args],
                          capture_output=True, text=True, check=True).stdout


def _fingerprints(uid: str) -> list[str]:
    out = _gpg("--with-colons", "--with-subkey-fingerprints", "--list-keys", uid)
    return [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")]


def _gpg_bureau(tmp_path: Path, fpr: str, extra: str = "") -> Repo:
    repo = Repo(tmp_path / "gpg", config=None)
    text = policy(repo, False).replace(f"email: {PARTY.email}}}", f"email: {PARTY.email}, keys: ['gpg:{fpr}']}}")
    repo.write("xzdoc.yaml", text + "require_signed: true\n" + extra)
    repo.project(PID, "draft")
    repo.commit("新建")
    return repo


def _gpg_merge(repo: Repo, branch: str, who: Person, key: str) -> None:
    repo.git("-c", "gpg.format=openpgp", "-c", f"user.signingkey={key}", "merge", "-q", "--no-ff", "-S",
             "-m", f"Merge branch '{branch}'", branch, who=who)


def _ssh_merge(repo: Repo, branch: str, who: Person, key_of: Person) -> None:
    key, _ = keygen(repo.home, key_of)
    repo.git("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "merge", "-q", "--no-ff", "-S",
             "-m", f"Merge branch '{branch}'", branch, who=who)


# WAS A HOLE: revocation was checked against the key that signed (%GF) only; a certify-only primary key listed and
# revoked in the policy left signatures by its signing subkey valid.
def test_a_revoked_keys_signing_subkey_does_not_approve(tmp_path: Path, gnupg: Path) -> None:
    _gpg("--quick-gen-key", PARTY.ident, "ed25519", "cert", "never")
    primary = _fingerprints(PARTY.email)[0]
    _gpg("--quick-add-key", primary, "ed25519", "sign", "never")
    sub = _fingerprints(PARTY.email)[1]
    repo = _gpg_bureau(tmp_path, primary, f"revoked_keys: ['gpg:{primary}']\n")
    prepare(repo, "submit", stage(PID, "submitted"))
    _gpg_merge(repo, "submit", PARTY, sub + "!")
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.unsigned-merge" in output, output


def test_a_signing_subkey_of_a_listed_key_approves(tmp_path: Path, gnupg: Path) -> None:
    _gpg("--quick-gen-key", PARTY.ident, "ed25519", "cert", "never")
    primary = _fingerprints(PARTY.email)[0]
    _gpg("--quick-add-key", primary, "ed25519", "sign", "never")
    repo = _gpg_bureau(tmp_path, primary)
    prepare(repo, "submit", stage(PID, "submitted"))
    _gpg_merge(repo, "submit", PARTY, _fingerprints(PARTY.email)[1] + "!")
    assert ledger_exit(repo)[0] == 0


# WAS A FALSE POSITIVE: the name git printed for a verified signature had to be the author's address. It is the
# first of an approver's addresses (ssh) or the key's primary user id (gpg), so an approver merging with a second
# address, a key shared by two approvers, or a gpg key made with another primary address was refused.
def test_a_gpg_key_whose_primary_user_id_is_another_address(tmp_path: Path, gnupg: Path) -> None:
    _gpg("--quick-gen-key", "王建国 <wjg@personal.example.com>", "ed25519", "sign", "never")
    fpr = _fingerprints("wjg@personal.example.com")[0]
    _gpg("--quick-add-uid", fpr, f"{PARTY.name} <{PARTY.email}>")
    _gpg("--quick-set-primary-uid", fpr, "王建国 <wjg@personal.example.com>")
    repo = _gpg_bureau(tmp_path, fpr)
    prepare(repo, "submit", stage(PID, "submitted"))
    _gpg_merge(repo, "submit", PARTY, fpr)
    code, output = ledger_exit(repo)
    assert code == 0, output


def _ssh_bureau(tmp_path: Path, second: str) -> Repo:
    repo = Repo(tmp_path / "b", config=None)
    _, mine = keygen(repo.home, PARTY)
    _, hers = keygen(repo.home, PARTY2)
    _, centre = keygen(repo.home, CENTER)
    repo.write("xzdoc.yaml", "organisation: 忻州市交通运输局\napprovers:\n  局党组:\n"
               f"    - {{name: 王建国, email: {PARTY.email}, keys: ['{mine}']}}\n"
               f"    - {{name: 李秀英, {second}, keys: ['{hers}']}}\n"
               f"  数据中心:\n    - {{name: 张伟, email: {CENTER.email}, keys: ['{centre}']}}\nrequire_signed: true\n")
    repo.project(PID, "draft")
    repo.commit("新建")
    return repo


def test_an_approvers_second_address_with_her_one_key(tmp_path: Path) -> None:
    repo = _ssh_bureau(tmp_path, f"emails: [{PARTY2.email}, lxy@xzjt.example.gov.cn]")
    prepare(repo, "submit", stage(PID, "submitted"))
    _ssh_merge(repo, "submit", Person("李秀英", "lxy@xzjt.example.gov.cn"), PARTY2)
    code, output = ledger_exit(repo)
    assert code == 0, output


def test_an_approvers_key_does_not_sign_for_another_approver(tmp_path: Path) -> None:
    repo = _ssh_bureau(tmp_path, f"email: {PARTY2.email}")
    prepare(repo, "submit", stage(PID, "submitted"))
    _ssh_merge(repo, "submit", PARTY2, PARTY)
    code, output = ledger_exit(repo)
    assert code == 1 and "art24.unsigned-merge" in output, output


# -- The server guard ------------------------------------------------------------------------------------


def _push(repo: Repo, *args: str) -> tuple[int, str]:
    done = subprocess.run(["git", "push", "-q", "origin", *args], cwd=repo.path, env=env(home=repo.home),
                          capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


def _server(tmp_path: Path, before: object = None) -> Repo:
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    repo = bureau(tmp_path / "bureau")
    repo.git("remote", "add", "origin", f"file://{bare}")
    if before:
        before(repo)  # type: ignore[operator]
    assert _push(repo, "main")[0] == 0
    assert invoke("guard", "--install", str(bare)).exit_code == 0
    return repo


# WAS A HOLE: with no `branch:` in the policy, a pushed branch named master (or a remote-tracking ref of that name)
# made the guard refuse every later push, the fix included: the server's own HEAD now says which is main.
@pytest.mark.parametrize("rogue", ["refs/heads/master", "refs/remotes/origin/master"])
def test_a_branch_named_master_does_not_lock_the_server(tmp_path: Path, rogue: str) -> None:
    repo = _server(tmp_path)
    assert _push(repo, f"main:{rogue}")[0] == 0
    change(repo, "submit", PARTY, stage(PID, "submitted"))
    code, err = _push(repo, "main")
    assert code == 0, err


# WAS A HOLE: the guard keyed a drift by its first drifted commit, so a folder already drifting when the guard was
# installed took any further unapproved change without a word.
def test_drift_already_on_main_does_not_hide_more_drift(tmp_path: Path) -> None:
    def before(r: Repo) -> None:
        submitted(r)
        r.edit(YAML, "total: 100.00", "total: 150.00")
        r.commit("调整预算", who=DEV)
    repo = _server(tmp_path, before)
    repo.branch("more")
    repo.edit(YAML, "total: 150.00", "total: 9000.00")
    repo.commit("再调预算", who=ATTACKER)
    repo.checkout("main")
    repo.merge("more", ATTACKER)
    code, err = _push(repo, "main")
    assert code != 0 and "art24.content-drift" in err, err
