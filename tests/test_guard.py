"""`xzdoc guard` as a pre-receive hook in a real bare repository, tried with `git push` over file://."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.attacks import ATTACKER, FOLDER, PARTY, PID, bureau, change, keygen, stage
from tests.conftest import invoke
from tests.gitrepo import Repo, env
from xzdoc.cli import cli


@pytest.fixture
def pushed(tmp_path: Path) -> Repo:
    """A signed bureau repository, pushed to a bare repository that has the guard installed."""
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    result = invoke("guard", "--install", str(bare))
    assert result.exit_code == 0, result.output
    assert "receive.denyNonFastForwards=true" in result.output
    repo = bureau(tmp_path / "bureau", signed=True)
    repo.git("remote", "add", "origin", f"file://{bare}")
    code, err = push(repo, "main")
    assert code == 0, err
    return repo


def push(repo: Repo, *args: str) -> tuple[int, str]:
    done = subprocess.run(["git", "push", "-q", "origin", *args], cwd=repo.path, env=env(home=repo.home),
                          capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


def test_hook_and_settings_are_installed(pushed: Repo, tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    hook = bare / "hooks" / "pre-receive"
    assert hook.stat().st_mode & 0o111 and "xzdoc guard" in hook.read_text("utf-8")
    settings = subprocess.run(["git", "-C", str(bare), "config", "--get-regexp", "^receive\\."], capture_output=True,
                              text=True, check=True).stdout
    assert "receive.fsckobjects true" in settings and "receive.denydeletes true" in settings


def test_signed_approving_merge_is_accepted(pushed: Repo) -> None:
    change(pushed, "submit", PARTY, stage(PID, "submitted"), signed=True)
    change(pushed, "docs", PARTY, lambda r: r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n"), signed=True)
    code, err = push(pushed, "main")
    assert code == 0, err


def test_direct_push_is_refused(pushed: Repo) -> None:
    stage(PID, "submitted")(pushed)
    pushed.commit("直接申报")
    code, err = push(pushed, "main")
    assert code != 0 and "xzdoc guard" in err and "合并提交" in err


def test_spoofed_signature_is_refused(pushed: Repo) -> None:
    change(pushed, "submit", PARTY, stage(PID, "submitted"), signed=True, key_of=ATTACKER)
    code, err = push(pushed, "main")
    assert code != 0 and "art24.unsigned-merge" in err


def test_unsigned_merge_is_refused(pushed: Repo) -> None:
    change(pushed, "submit", PARTY, stage(PID, "submitted"))
    code, err = push(pushed, "main")
    assert code != 0 and "art24.unsigned-merge" in err


def test_non_fast_forward_is_refused(pushed: Repo) -> None:
    change(pushed, "docs", PARTY, lambda r: r.write("README.md", "说明\n"), signed=True)
    assert push(pushed, "main")[0] == 0
    pushed.git("reset", "-q", "--hard", "HEAD^")
    pushed.write("README.md", "改写的历史\n")
    pushed.commit("改写")
    code, err = push(pushed, "--force", "main")
    assert code != 0 and ("快进" in err or "non-fast-forward" in err)


def test_deleting_main_is_refused(pushed: Repo) -> None:
    code, _ = push(pushed, ":main")
    assert code != 0


def test_replace_ref_is_refused(pushed: Repo) -> None:
    head = pushed.head()
    fake = pushed.git("commit-tree", pushed.git("rev-parse", "HEAD^{tree}"), "-m", "伪造", who=PARTY)
    pushed.git("replace", head, fake)
    code, err = push(pushed, f"refs/replace/{head}")
    assert code != 0 and "替换" in err


def test_symlink_under_projects_is_refused(pushed: Repo) -> None:
    def link(r: Repo) -> None:
        (r.path / "projects" / "XZJT-2026-102").symlink_to("../elsewhere")
    change(pushed, "link", PARTY, link, signed=True)
    code, err = push(pushed, "main")
    assert code != 0 and "art24.repository-layout" in err


def test_keys_are_real_ssh_keys(pushed: Repo) -> None:
    key, public = keygen(pushed.home, PARTY)
    assert public.startswith("ssh-ed25519 AAAA") and key.exists()


def test_install_names_a_missing_or_non_bare_repository_as_a_usage_error(tmp_path: Path) -> None:
    # WAS: "无法运行 git … 安装 git" for a missing path (exit 1), and a working copy was accepted.
    missing = invoke("guard", "--install", str(tmp_path / "nowhere.git"))
    assert missing.exit_code == 2 and "路径不存在" in missing.output and "位置：命令行选项 --install" in missing.output
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    for target in (work, work / ".git"):
        refused = invoke("guard", "--install", str(target))
        assert refused.exit_code == 2 and "不是裸仓库" in refused.output
    assert not (work / ".git" / "hooks" / "pre-receive").exists()


def test_a_line_the_guard_cannot_read_refuses_the_push(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS A HOLE: a malformed stdin line was skipped and the push let through (exit 0).
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    monkeypatch.chdir(bare)
    result = CliRunner().invoke(cli, ["guard"], input="garbage\n")
    assert result.exit_code == 1 and "无法识别的推送信息" in result.output


def test_install_into_a_folder_that_is_no_repository_is_a_usage_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = invoke("guard", "--install", str(plain))
    assert result.exit_code == 2 and "不是 git 仓库" in result.output and "位置：命令行选项 --install" in result.output


def test_an_old_tip_the_repository_lacks_is_named_not_called_a_rewrite(pushed: Repo, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS WRONG: a push line whose old commit the server does not have was refused as "不是快进".
    monkeypatch.chdir(tmp_path / "server.git")
    head = pushed.head()
    result = CliRunner().invoke(cli, ["guard"], input=f"{'ab' * 20} {head} refs/heads/main\n")
    assert result.exit_code == 1
    assert "仓库中缺少提交 abababababab" in result.output and "不是快进" not in result.output
