"""Approval records from real git histories: who merged what, and what does not count."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import marshal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.gitrepo import CENTER, CONFIG, DEV, FORGE, PARTY, PARTY2, Person, Repo
from xzdoc import config
from xzdoc.errors import XzdocError
from xzdoc.history import ledger

PID = "XZJT-2026-101"


def build(repo: Repo, **kw: object) -> ledger.Ledger:
    book = ledger.build(config.load(repo.path), **kw)  # type: ignore[arg-type]
    assert book is not None
    return book


def stage_records(book: ledger.Ledger) -> list[ledger.ApprovalRecord]:
    return [r for r in book.records if r.change == "stage" and r.roles]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "bureau")
    r.project(PID, "draft")
    r.commit("新建项目", who=DEV)
    return r


def submit(r: Repo) -> None:
    r.set_stage(PID, "submitted")


def test_merge_by_party_group_member_is_an_approval(repo: Repo) -> None:
    merge = repo.pull_request("submit", PARTY, submit, "申报")
    book = build(repo)
    (record,) = stage_records(book)
    assert (record.from_stage, record.to_stage, record.status) == ("draft", "submitted", "approved")
    assert record.commit == merge and record.merged_by == PARTY.ident and record.roles == ("局党组",)
    assert record.current and record.date == repo.git("log", "-1", "--format=%cI", merge)
    # The tree hash binds the exact folder content that was approved.
    assert record.tree == repo.git("rev-parse", f"{merge}:projects/{PID}")
    assert record.blob == repo.git("rev-parse", f"{merge}:projects/{PID}/project.yaml")
    assert book.problems() == []


def test_any_member_of_the_role_may_approve(repo: Repo) -> None:
    repo.pull_request("submit", PARTY2, submit)
    assert stage_records(build(repo))[0].status == "approved"


def test_merge_by_someone_without_the_role(repo: Repo) -> None:
    repo.pull_request("submit", CENTER, submit)
    (record,) = build(repo).problems()
    assert record.problem == "non-approver-merge" and record.held == ("数据中心",)
    assert "合并人不是该角色的审批人" in record.explain() and "数据中心" in record.explain()


def test_direct_push(repo: Repo) -> None:
    submit(repo)
    repo.commit("直接改为已申报", who=PARTY)   # even an approver cannot approve by pushing
    (record,) = build(repo).problems()
    assert record.problem == "direct-push" and "直接推送" in record.explain()


def test_claim_only_in_a_trailer(repo: Repo) -> None:
    submit(repo)
    repo.commit(f"申报\n\nApproved-by: {PARTY.ident}", who=DEV)
    (record,) = build(repo).problems()
    assert record.problem == "trailer-claim"
    assert record.claim == f"Approved-by: {PARTY.ident}" and "尾注" in record.explain()


def test_forged_author_on_a_direct_push_is_still_a_direct_push(repo: Repo) -> None:
    submit(repo)
    repo.commit("冒用审批人身份", who=PARTY, committer=PARTY)
    assert build(repo).problems()[0].problem == "direct-push"


def test_squash_merge_on_the_forge(repo: Repo) -> None:
    # GitHub's "Squash and merge": one commit, authored by the contributor, committed by GitHub.
    submit(repo)
    repo.commit("申报材料 (#12)", who=DEV, committer=FORGE)
    (record,) = build(repo).problems()
    assert record.problem == "squash-or-rebase" and "squash" in record.explain()


def test_local_squash_merge_by_an_approver(repo: Repo) -> None:
    repo.branch("submit")
    submit(repo)
    repo.commit("申报")
    repo.checkout("main")
    repo.git("merge", "-q", "--squash", "submit", who=PARTY)
    repo.git("commit", "-q", "--no-edit", who=PARTY)
    (record,) = build(repo).problems()
    assert record.problem == "squash-or-rebase"


def test_rebase_merge_on_the_forge(repo: Repo) -> None:
    repo.branch("submit")
    submit(repo)
    repo.commit("申报", who=DEV)
    repo.checkout("main")
    repo.git("cherry-pick", "submit", who=DEV, committer=FORGE)
    assert build(repo).problems()[0].problem == "squash-or-rebase"


def test_skipping_stages_needs_every_role(repo: Repo) -> None:
    repo.pull_request("jump", PARTY, lambda r: r.set_stage(PID, "approved"))
    (record,) = build(repo).problems()
    assert record.gates == ("submitted", "reviewed", "approved") and set(record.roles) == {"局党组", "数据中心"}
    assert record.problem == "non-approver-merge"


def test_each_gate_by_its_role(repo: Repo) -> None:
    repo.pull_request("submit", PARTY, submit)
    repo.pull_request("review", PARTY, lambda r: r.set_stage(PID, "reviewed"))
    repo.pull_request("approve", CENTER, lambda r: r.set_stage(PID, "approved"))
    book = build(repo)
    assert [(r.to_stage, r.status, r.current) for r in stage_records(book)] == [
        ("submitted", "approved", True), ("reviewed", "approved", True), ("approved", "approved", True)]


def test_filing_gate_for_the_supervision_unit(repo: Repo) -> None:
    def file_supervision(r: Repo) -> None:
        r.write(f"projects/{PID}/project.yaml", r.path.joinpath(f"projects/{PID}/project.yaml").read_text("utf-8")
                + "records:\n  supervision: {unit: 监理公司, filed: 2026-03-01}\n")
    repo.pull_request("supervision", CENTER, file_supervision)
    (record,) = build(repo).problems()
    assert record.change == "records.supervision" and record.roles == ("局党组",)
    assert ledger.rule_of(record) == "art24.unapproved-filing"


def test_reverting_and_merging_properly_clears_the_finding(repo: Repo) -> None:
    submit(repo)
    repo.commit("直接改为已申报")
    repo.set_stage(PID, "draft")
    repo.commit("撤回")
    repo.pull_request("submit", PARTY, submit)
    book = build(repo)
    assert book.problems() == []
    assert [r.status for r in stage_records(book)] == ["unapproved", "approved"]


def test_baseline_adopts_earlier_stages_on_their_records(tmp_path: Path) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    folder = r.full_project()
    r.commit("迁入已在建设的项目", who=DEV)
    base = r.head()
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{base}"\n')
    r.commit("采用 xzdoc")
    pid = "XZJT-2025-902"
    r.set_stage(pid, "accepted")
    r.commit("直接改为已验收")
    book = build(r)
    adopted = [x for x in book.records if x.status == "adopted"]
    assert {x.change for x in adopted} == {"stage", "records.supervision"}
    assert [x.problem for x in book.problems()] == ["direct-push"]
    (record,) = [x for x in ledger.records_for(config.load(r.path), pid) if x.status == "adopted" and x.change == "stage"]
    assert "批复文号 忻政数函〔2025〕37号" in record.evidence and "监理备案 2025-09-02" in record.evidence
    assert "基线之前已达到" in record.explain()
    assert folder.exists()


def _adopted(path: Path) -> Repo:
    """A bureau that adopted xzdoc with one project already under construction: the baseline is its import."""
    r = Repo(path, config=None)
    r.full_project()
    r.commit("迁入已在建设的项目", who=DEV)
    r.write("xzdoc.yaml", CONFIG + f'baseline: "{r.head()}"\n')
    r.commit("采用 xzdoc")
    return r


def test_adopted_records_keep_the_baseline_evidence_after_an_approved_change(tmp_path: Path) -> None:
    # WAS WRONG: after an approving merge edited the project, the adopted stage's evidence was read
    # from nothing and said "缺少 records.review；缺少 records.approval…".
    r = _adopted(tmp_path / "bureau")
    pid = "XZJT-2025-902"
    rel = f"projects/{pid}/project.yaml"
    r.pull_request("progress", PARTY, lambda repo: repo.edit(rel, "  progress:\n",
                                                            "  progress:\n    - {date: 2026-11-02, summary: 完成二期接口联调测试}\n"))
    assert build(r).problems() == []
    (record,) = [x for x in ledger.records_for(config.load(r.path), pid) if x.status == "adopted" and x.change == "stage"]
    assert "批复文号 忻政数函〔2025〕37号" in record.evidence and "缺少" not in record.evidence


def test_baseline_must_be_on_the_main_line(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "bureau", config=None)
    repo.project(PID)
    repo.commit("新建")
    repo.write("xzdoc.yaml", CONFIG + 'baseline: "deadbeefdeadbeef"\n')
    repo.commit("配置")
    with pytest.raises(XzdocError, match="不在主分支 main 的第一父提交链上"):
        build(repo)


def test_shallow_clone_is_an_error_that_says_how_to_fix_it(repo: Repo, tmp_path: Path) -> None:
    repo.pull_request("submit", PARTY, submit)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    with pytest.raises(XzdocError) as caught:
        ledger.build(config.load(clone))
    assert "浅克隆" in caught.value.message
    assert "git fetch --unshallow" in (caught.value.hint or "") and "fetch-depth: 0" in (caught.value.hint or "")


def test_github_web_merge_with_a_noreply_address(repo: Repo) -> None:
    # A member with `github: wangjg` merging in the web UI with a private e-mail.
    web = Person("王建国", "1234567+wangjg@users.noreply.github.com")
    repo.pull_request("submit", web, submit)
    assert build(repo).problems() == []


def test_unsigned_merge_fails_require_signed(repo: Repo) -> None:
    repo.pull_request("submit", PARTY, submit)
    (record,) = build(repo, require_signed=True).problems()
    assert record.problem == "unsigned-merge" and ledger.rule_of(record) == "art24.unsigned-merge"


def test_stage_read_from_flow_style_or_quoted_yaml(repo: Repo) -> None:
    text = f'{{id: "{PID}", stage: "submitted", name: 测试}}\n'
    repo.pull_request("submit", PARTY, lambda r: r.project(PID, text=text))
    (record,) = stage_records(build(repo))
    assert record.to_stage == "submitted" and record.status == "approved"


def test_an_author_name_cannot_carry_an_approvers_address(repo: Repo) -> None:
    # Git takes any byte but a newline in a name; a field separator there must not shift the address after it.
    forged = Person(DEV.name + "\x1f" + PARTY.email, DEV.email)
    repo.pull_request("submit", forged, submit)
    (record,) = build(repo).problems()
    assert record.problem == "non-approver-merge" and record.merged_by.endswith(f"<{DEV.email}>")


def test_a_message_crafted_to_inject_a_record_does_not_approve(repo: Repo) -> None:
    submit(repo)
    fake = "\x1e" + "\x1f".join(["a" * 40, "b" * 40 + " " + "c" * 40, "d" * 40, PARTY.name, PARTY.email])
    repo.commit("申报" + fake + "\x1f" + "\n\nApproved-by: 王建国")
    assert [r.problem for r in build(repo).problems()] == ["trailer-claim"]


def test_records_for_the_bundle_page(repo: Repo) -> None:
    repo.pull_request("submit", PARTY, submit)
    records = ledger.records_for(config.load(repo.path), PID)
    assert [(r.from_stage, r.to_stage, r.status) for r in records] == [(None, "draft", "no-gate"),
                                                                       ("draft", "submitted", "approved")]
    with pytest.raises(dataclasses.FrozenInstanceError):
        records[0].status = "x"  # type: ignore[misc]


def test_empty_repository_has_an_empty_ledger(tmp_path: Path) -> None:
    r = Repo(tmp_path / "empty")
    assert ledger.build(config.load(r.path)) is None


def test_ledger_json_of_an_empty_repository_is_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS TEXT: --format json printed the Chinese sentence, which a script reading JSON cannot parse.
    import json

    r = Repo(tmp_path / "empty")
    monkeypatch.chdir(r.path)
    result = invoke("ledger", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)["records"] == [], result.output


# The command, as a user runs it.

def test_ledger_command_text_and_exit_code(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.pull_request("submit", DEV, submit)
    monkeypatch.chdir(repo.path)
    result = invoke("ledger")
    assert result.exit_code == 1
    assert "draft → submitted" in result.output and "合并人不是该角色的审批人" in result.output
    assert f"projects/{PID}/project.yaml: error [art24.unapproved-stage-change]" in result.output


def test_ledger_command_json_for_one_project(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.pull_request("submit", PARTY, submit)
    monkeypatch.chdir(repo.path)
    result = invoke("ledger", PID, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["records"][-1]["status"] == "approved" and data["records"][-1]["merged_by"] == PARTY.ident
    assert invoke("ledger", "XZJT-0000-000").exit_code == 2


def test_ledger_command_outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xzdoc.yaml").write_text(CONFIG, "utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("ledger")
    assert result.exit_code == 1 and "不在 git 仓库中" in result.output


def test_ledger_command_without_git_installed(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.path)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = invoke("ledger")
    assert result.exit_code == 1 and "找不到 git 命令" in result.output and "Traceback" not in result.output


def test_ledger_command_on_a_shallow_clone(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    result = invoke("ledger")
    assert result.exit_code == 1 and "git fetch --unshallow" in result.output


# What the ledger reads from each project.yaml version: the strict loader, cached by blob id.


def test_facts_are_cached_between_runs_and_checked(repo: Repo) -> None:
    repo.pull_request("submit", PARTY, submit)
    first = build(repo)
    cache = repo.path / ".git" / "xzdoc" / "facts.bin"
    assert cache.exists()
    assert build(repo).records == first.records
    # A tampered cache (a stage changed without its digest) is dropped, not trusted.
    cache.write_bytes(cache.read_bytes().replace(b"submitted", b"operating"))
    assert build(repo).records == first.records
    # So is a foreign one whose digest matches but whose entries are not facts; the next run rewrites it.
    header, _, body = cache.read_bytes().partition(b"\n")
    version = header.split(b" ")[0]
    for foreign in (marshal.dumps(((1, 2),)), marshal.dumps({"x": 1}), b"\x00garbage"):
        cache.write_bytes(version + b" " + hashlib.sha256(foreign).hexdigest().encode() + b"\n" + foreign)
        assert build(repo).records == first.records
        assert cache.read_bytes().partition(b"\n")[2] == body


def test_only_a_folders_own_project_yaml_makes_records(repo: Repo) -> None:
    repo.write("projects/README.md", "stage: approved\n")
    repo.write("projects/project.yaml", "id: X\nstage: approved\n")
    repo.write(f"projects/{PID}/sub/project.yaml", "id: X\nstage: approved\n")
    repo.commit("说明文件")
    repo.pull_request("submit", PARTY, submit)
    assert {r.folder for r in build(repo).records} == {f"projects/{PID}", "xzdoc.yaml"}




def test_a_pull_request_checkout_without_a_local_main_is_judged_by_the_remote_main(tmp_path: Path) -> None:
    # WAS WRONG: actions/checkout leaves a PR detached with only refs/remotes/origin/*; the ledger walked
    # refs/remotes/origin/main and refused it as "主分支 refs/remotes/origin/main 未经审批", failing every PR.
    r = _adopted(tmp_path / "bureau")
    r.branch("pr1")
    r.edit("projects/XZJT-2025-902/drafts/proposal.md", "\n", "\n补充说明。\n")
    r.commit("补充说明", who=DEV)
    r.checkout("main")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    r.git("push", "-q", str(origin), "main", "pr1")
    ci = tmp_path / "ci"
    for args in (["init", "-q", str(ci)], ["-C", str(ci), "remote", "add", "origin", str(origin)],
                 ["-C", str(ci), "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*"],
                 ["-C", str(ci), "checkout", "-q", "--detach", "origin/pr1"]):
        subprocess.run(["git", *args], check=True, capture_output=True)
    result = invoke("validate", str(ci), "--as-of", "2026-11-20")
    assert result.exit_code == 0 and "art24" not in result.output, result.output
