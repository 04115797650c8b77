"""Building blocks for the approval attacks: a bureau repository with approvers' SSH keys and verdict helpers.

tests/conftest.py re-exports the ``repo`` and ``signed`` fixtures, so this module must not import it at the top.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.gitrepo import CENTER, DEV, FINANCE, PARTY, PARTY2, Person, Repo

PID = "XZJT-2026-101"
FOLDER = f"projects/{PID}"
YAML = f"{FOLDER}/project.yaml"
ATTACKER = Person("钱工程师", "qian@vendor.example.com")


def keygen(home: Path, who: Person) -> tuple[Path, str]:
    """A real ed25519 key pair made by ssh-keygen; returns the private key's path and the public key line."""
    key = home / f"key-{who.email.split('@')[0]}"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who.email, "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text("utf-8").strip()


def policy(repo: Repo, signed: bool, extra: str = "", members: tuple[Person, ...] = (PARTY, PARTY2)) -> str:
    """An xzdoc.yaml; with ``signed``, each approver lists the key made for them and signing is required."""
    def entry(who: Person) -> str:
        keys = f", keys: ['{keygen(repo.home, who)[1]}']" if signed else ""
        return f"    - {{name: {who.name}, email: {who.email}{keys}}}\n"

    text = "organisation: 忻州市交通运输局\napprovers:\n  局党组:\n" + "".join(entry(p) for p in members)
    text += "  数据中心:\n" + entry(CENTER) + "  财务科:\n" + entry(FINANCE)
    if signed:
        text += "require_signed: true\n"
    return text + extra


def bureau(path: Path, signed: bool = False, extra: str = "") -> Repo:
    """A repository whose first commit holds the policy and one draft project."""
    repo = Repo(path, config=None)
    repo.write("xzdoc.yaml", policy(repo, signed, extra))
    repo.project(PID, "draft")
    repo.commit("新建项目")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """The unsigned bureau (pytest fixture, imported by the attack modules)."""
    return bureau(tmp_path / "bureau")


@pytest.fixture
def gnupg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A gpg home for the test's keys, the one the machine would export public keys from; its agent is stopped after."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    yield home
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, check=False)


@pytest.fixture
def signed(tmp_path: Path) -> Repo:
    """The bureau whose approvers sign with their SSH keys and whose policy requires it."""
    return bureau(tmp_path / "signed", signed=True)


def submitted(repo: Repo, signed: bool = False) -> str:
    """The project approved at submitted by a party-group merge: its folder now has an approved tree."""
    return change(repo, "submit", PARTY, stage(PID, "submitted"), signed)


def merge(repo: Repo, branch: str, who: Person, signed: bool = False, key_of: Person | None = None,
          committer: Person | None = None, *extra: str) -> str:
    """``git merge --no-ff`` of ``branch`` into the current branch by ``who``, signed with ``key_of``'s key."""
    args: list[str] = []
    if signed:
        key, _ = keygen(repo.home, key_of or who)
        args = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    merge_args = ["merge", "-q", "--no-ff", *(["-S"] if signed else []), *extra, "-m", f"Merge branch '{branch}'", branch]
    repo.git(*args, *merge_args, who=who, committer=committer)
    return repo.head()


def prepare(repo: Repo, branch: str, edit: object, message: str = "修改") -> None:
    """Branch off main, apply ``edit(repo)``, commit as DEV, and go back to main."""
    repo.branch(branch)
    edit(repo)  # type: ignore[operator]
    repo.commit(message)
    repo.checkout("main")


def change(repo: Repo, branch: str, who: Person, edit: object, signed: bool = False, key_of: Person | None = None,
           message: str = "修改") -> str:
    """A pull request: ``prepare`` the branch, then merge it into main as ``who``."""
    prepare(repo, branch, edit, message)
    return merge(repo, branch, who, signed, key_of)


def text_of(repo: Repo, rel: str) -> str:
    """A file of the working copy as text."""
    return repo.path.joinpath(rel).read_text("utf-8")


def stage(pid: str, value: str, records: str = "") -> object:
    def edit(repo: Repo) -> None:
        repo.project(pid, text=f"id: {pid}\nname: 测试项目{pid}\nstage: {value}\nbudget:\n  total: 100.00\n{records}")
    return edit


def ledger_exit(repo: Repo, *args: str) -> tuple[int, str]:
    import os

    from tests.conftest import invoke

    old = os.getcwd()
    os.chdir(repo.path)
    try:
        result = invoke("ledger", *args)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def run_in(repo: Repo, *args: str) -> Result:
    """An xzdoc command run with the repository as the working directory, as a user runs it there."""
    import os

    from tests.conftest import invoke

    old = os.getcwd()
    os.chdir(repo.path)
    try:
        return invoke(*args)
    finally:
        os.chdir(old)


def art24_errors(repo: Repo, *args: str) -> set[str]:
    from tests.conftest import AS_OF, invoke

    result = invoke("validate", str(repo.path), "--format", "json", "--as-of", AS_OF, *args)
    assert result.exit_code in (0, 1), result.output
    return {f["rule"] for f in json.loads(result.output) if f["level"] == "error" and f["rule"].startswith("art24.")}


def caught(repo: Repo, *rules: str, ledger_only: bool = False) -> set[str]:
    """Assert that the ledger exits 1 and validate reports art24 errors (including ``rules``); returns them.

    ``ledger_only`` where validate has no project left to attach an art24 finding to (the project file no longer
    loads, or the folder is gone): validate then fails on that, and the ledger names the attack.
    """
    from tests.conftest import AS_OF, invoke

    code, output = ledger_exit(repo)
    assert code == 1, output
    assert all(rule in output for rule in rules), output
    if ledger_only:
        result = invoke("validate", str(repo.path), "--as-of", AS_OF)
        assert result.exit_code == 1, result.output
        return set()
    errors = art24_errors(repo)
    assert errors and set(rules) <= errors, (errors, output)
    return errors


def clean(repo: Repo) -> None:
    code, output = ledger_exit(repo)
    assert code == 0, output
    assert art24_errors(repo) == set()


def adjustment_request(opinion: bool) -> object:
    """An edit appending a records.changes entry for budget.total, with or without the 市政务信息管理局 opinion."""
    extra = ", approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号" if opinion else ""

    def edit(r: Repo) -> None:
        r.write(YAML, r.path.joinpath(YAML).read_text("utf-8")
                + f"records:\n  changes:\n    - {{date: 2026-03-01, fields: [budget.total], reason: 调整{extra}}}\n")
    return edit


__all__ = [
    "ATTACKER",
    "CENTER",
    "DEV",
    "FINANCE",
    "FOLDER",
    "PARTY",
    "PARTY2",
    "PID",
    "YAML",
    "adjustment_request",
    "bureau",
    "caught",
    "change",
    "clean",
    "keygen",
    "merge",
    "policy",
    "prepare",
    "run_in",
    "stage",
    "text_of",
]


APPROVAL = "records:\n  approval: {date: 2026-02-10, doc_no: 忻政数函〔2026〕1号}\n"


def approved(repo: Repo) -> str:
    """The project through submitted and reviewed (局党组) to approved (数据中心), each by its role's merge."""
    submitted(repo)
    change(repo, "review", PARTY, stage(PID, "reviewed"))
    return change(repo, "approve", CENTER, stage(PID, "approved", APPROVAL))


def validate_errors(repo: Repo, *args: str) -> tuple[int, list[tuple[str, str]]]:
    """``xzdoc validate`` run as CI runs it (from the repository's top): exit code and errors as (rule, path)."""
    import os

    from tests.conftest import AS_OF, invoke

    old = os.getcwd()
    os.chdir(repo.path)
    try:
        result = invoke("validate", *args, "--format", "json", "--as-of", AS_OF)
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, [(f["rule"], f["path"]) for f in json.loads(result.output) if f["level"] == "error"]
