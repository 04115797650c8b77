"""click's own usage errors are told as every xzdoc error is: 错误, 位置 and 提示 in Chinese, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke


@pytest.mark.parametrize(("args", "error", "where"), [
    (["validate", "--format", "nope"], "--format 的值不在可选范围内（可选：text、json、github、sarif）", "命令行选项 --format"),
    (["validate", "--as-of", "2026-13-01"], "--as-of 的值不对：“2026-13-01”不是日历上存在的日期", "命令行选项 --as-of"),
    (["validate", "--as-of", "20261120"], "--as-of 的值不对：“20261120”不是日期", "命令行选项 --as-of"),
    (["validate", "--shard", "3/2"], "--shard 的值不对：分片“3/2”格式不对", "命令行选项 --shard"),
    (["ledger", "--project", "X"], "没有选项 --project", "命令行选项 --project"),
    (["import"], "缺少参数 FILE", "命令行参数 FILE"),
    (["--bogus"], "没有选项 --bogus", "命令行选项 --bogus"),
    (["vaidate"], "没有命令“vaidate”，你是不是想写“validate”？", "命令行的命令名"),
    (["validate", "--join", "nope.json"], "--join 给出的路径“nope.json”不存在", "命令行选项 --join"),
    (["validate", "--as-of"], "选项 --as-of 后面要写一个值", "命令行选项 --as-of"),
    (["validate", "--strict=1"], "选项 --strict 不接受值", "命令行选项 --strict"),
    (["validate", "--as-of", "2025-02-30"], "--as-of 的值不对：“2025-02-30”不是日历上存在的日期", "命令行选项 --as-of"),
    # WAS English: "'abc' is not a valid integer.", "0 is not in the range x>=1.", "Missing command."
    (["plan", "--year", "abc"], "--year 的值“abc”不是整数", "命令行选项 --year"),
    (["bundle", "--all", "-j", "0"], "--jobs 的值不在允许的范围内（不小于 1）", "命令行选项 --jobs"),
    (["--debug"], "缺少命令（如 validate、bundle、status）", "命令行"),
])
def test_usage_errors_are_told_in_chinese_with_their_place(demo_repo: object, args: list[str], error: str,
                                                           where: str) -> None:
    # WAS English ("Error: Invalid value for '--format'") and without 位置.
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert f"错误：{error}" in result.output and f"位置：{where}\n" in result.output and "提示：运行 xzdoc" in result.output
    assert "Error:" not in result.output and "Usage:" not in result.output
    if args[0] == "validate":
        assert "提示：运行 xzdoc validate --help" in result.output   # the command's own help, not the group's


def test_paths_the_system_refuses_are_errors_not_internal_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS A CRASH: a path too long for the system, or with a file where a folder must be, reached the user as
    # "内部错误（OSError）" with exit 3.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xzdoc.yaml").write_text("organisation: 某局\n", "utf-8")
    (tmp_path / "afile").write_text("x", "utf-8")
    for args in (["validate", "a" * 5000], ["new", "projects/" + "b" * 300, "--id", "XZJT-2027-009", "--name", "x", "--force"],
                 ["new", "afile/XZJT-2027-010", "--id", "XZJT-2027-010", "--name", "x"]):
        result = invoke(*args)
        assert result.exit_code == 1 and "内部错误" not in result.output, (args, result.output)
        assert result.output.startswith("错误：") and "提示：" in result.output
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if not p.is_dir())
    assert files == ["afile", "xzdoc.yaml"]                                              # nothing written


def test_an_argument_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    # WAS A CRASH: bytes that are not UTF-8 (a lone surrogate to Python) made writing the project fail with
    # UnicodeEncodeError, exit 3.
    result = invoke("new", str(tmp_path / "XZJT-2027-008"), "--id", "XZJT-2027-008", "--name", "\udcff")
    assert result.exit_code == 2 and "不是 UTF-8 编码的字节" in result.output and "内部错误" not in result.output
    assert not (tmp_path / "XZJT-2027-008").exists()


def test_names_from_the_command_line_stay_the_text_they_are_in_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS AN INJECTION: --org and --name went into xzdoc.yaml and project.yaml as written: a newline added keys
    # ("stage: approved"), "交通局: 信息科" broke every later command, "yes" became a boolean.
    from xzdoc import config
    from xzdoc.source import loader

    assert invoke("init", str(tmp_path), "--org", "交通局: 信息科").exit_code == 0
    assert config.load(tmp_path).organisation == "交通局: 信息科"
    monkeypatch.chdir(tmp_path)
    loaded = config.load(tmp_path)
    for i, name in enumerate(("yes", "{{ 7*7 }}", "'\"&<>#: - [x]", "交通局: 信息科")):
        pid = f"XZJT-2027-{i + 1:03d}"
        assert invoke("new", f"projects/{pid}", "--id", pid, "--name", name).exit_code == 0
        project = loader.load_project(loaded, tmp_path / "projects" / pid).project
        assert project is not None and project.name == name
    for args in (["new", "projects/XZJT-2027-009", "--id", "XZJT-2027-009", "--name", "x\nstage: approved"],
                 ["init", str(tmp_path / "other"), "--org", "x\nrequire_signed: true"]):
        refused = invoke(*args)
        assert refused.exit_code in (1, 2) and "换行或控制字符" in refused.output, refused.output
    assert not (tmp_path / "projects" / "XZJT-2027-009").exists() and not (tmp_path / "other").exists()


def test_a_draft_that_is_a_fifo_is_a_finding_not_a_hang(tmp_path: Path) -> None:
    # WAS A HANG: a draft was read after a size check only, and a FIFO blocks the read for ever.
    import os
    import shutil

    from tests.conftest import RESOURCES

    root = tmp_path / "repo"
    shutil.copytree(RESOURCES / "base_project", root / "projects" / "XZJT-2025-902")
    (root / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    draft = root / "projects" / "XZJT-2025-902" / "drafts" / "proposal.md"
    draft.unlink()
    os.mkfifo(draft)
    result = invoke("validate", str(root), "--no-cache")
    assert result.exit_code == 1 and "不是普通文件" in result.output, result.output


def test_the_guard_refuses_a_push_line_that_is_not_utf8_with_its_own_message(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS A CRASH: stdin was read as text, and bytes that are not UTF-8 raised UnicodeDecodeError (exit 3).
    import subprocess

    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "g.git")], check=True)
    monkeypatch.chdir(tmp_path / "g.git")
    from click.testing import CliRunner

    from xzdoc.cli import cli

    result = CliRunner().invoke(cli, ["guard"], input=b"\xff\n")
    assert result.exit_code == 1 and "无法识别的推送信息" in result.output and "内部错误" not in result.output


def test_every_help_page_is_chinese() -> None:
    # WAS English: "Usage:", "Options:", "Show this message and exit.", "[default: …]", "Show the version and exit."
    from xzdoc.cli.base import COMMANDS

    for args in [[], *([name] for name in sorted(COMMANDS))]:
        result = invoke(*args, "--help")
        assert result.exit_code == 0, (args, result.output)
        assert result.output.startswith("用法："), (args, result.output[:80])
        for english in ("Usage:", "Options:", "Commands:", "Show this message", "Show the version", "[default:",
                        "[required]"):
            assert english not in result.output, (args, english)



@pytest.mark.parametrize("args", [
    ["catalog", "--out", "systems.yaml"],
    ["catalog", "--format", "json", "--out", "xzdoc.yaml"],
    ["catalog", "--out", "projects/XZJT-2026-003/project.yaml"],
    ["schema", "--out", "projects/XZJT-2026-003/drafts/proposal.md"],
    ["site", "--out", "projects"],
    ["bundle", "XZJT-2026-003", "--out", "projects/XZJT-2026-003"],
    ["render", "XZJT-2026-003", "--out", ".git/x"],
])
def test_out_never_writes_over_the_repositorys_sources(demo_repo: Path, args: list[str]) -> None:
    # WAS DATA LOSS: catalog --out systems.yaml replaced the system register with Markdown (exit 0), and every
    # later command failed on it; --out onto a project.yaml replaced the project's metadata the same way.
    def snapshot() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(demo_repo.rglob("*")) if p.is_file() and ".git/" not in str(p)}

    before = snapshot()
    result = invoke(*args)
    assert result.exit_code == 2 and "仓库自己的源文件" in result.output, result.output
    assert snapshot() == before
