"""`xzdoc bundle`: reproducible, atomic, incremental zips with a manifest; real git, pandoc and Typst."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import BASE_PID as PID
from tests.conftest import BASE_PROJECT as BASE
from tests.conftest import ROOT, invoke
from tests.gitrepo import PARTY, Repo

ZIP = f"dist/{PID}/{PID}-building.zip"
NEEDS_POPPLER = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def pdftext(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True).stdout
    return re.sub(r"[\s\u200b]+", "", out.decode("utf-8"))   # U+200B: a draft's own zero-width spaces


def test_bundle_holds_documents_workbook_approvals_and_manifest(project_repo: Path) -> None:
    result = invoke("bundle", f"projects/{PID}")
    assert result.exit_code == 0, result.output
    assert f"{PID}：已生成 {ZIP}" in result.output
    files = entries(project_repo / ZIP)
    kinds = ("项目建议书", "可行性研究报告", "初步设计", "投资概算",  # the application, then what building has filed
             "合同备案表", "监理单位备案表", "2025年度自评价报告", "党组决策简报")
    assert set(files) == {f"{k}.{ext}" for k in kinds for ext in ("docx", "pdf")} | {
        "投资概算表.xlsx", "审批记录.pdf", "manifest.json"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["project"] == {"id": PID, "name": "规则测试用城乡客运动态监控升级项目", "stage": "building"}
    assert manifest["toolkit"]["name"] == "xzdoc" and manifest["toolkit"]["version"]
    assert manifest["git"] == {"commit": None, "dirty": False} and manifest["date_source"] == "mtime"
    outputs = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert outputs == {n: hashlib.sha256(d).hexdigest() for n, d in files.items() if n != "manifest.json"}
    sources = {s["path"]: s["sha256"] for s in manifest["sources"]}
    for file in (project_repo / "projects" / PID).rglob("*.*"):
        rel = file.relative_to(project_repo).as_posix()
        assert sources[rel] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert "xzdoc.yaml" in sources and "xzdoc:templates/typst/page.typ" in sources


def test_two_runs_give_the_same_bytes(project_repo: Path) -> None:
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    first = (project_repo / ZIP).read_bytes()
    assert invoke("bundle", "--force", f"projects/{PID}").exit_code == 0
    assert (project_repo / ZIP).read_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert len({i.date_time for i in infos}) == 1 and {i.external_attr >> 16 for i in infos} == {0o100644}


def test_docx_and_xlsx_inside_have_fixed_timestamps(project_repo: Path) -> None:
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    files = entries(project_repo / ZIP)
    for name in ("项目建议书.docx", "投资概算表.xlsx"):
        with zipfile.ZipFile(io.BytesIO(files[name])) as inner:
            assert len({i.date_time for i in inner.infolist()}) == 1, name
            core = inner.read("docProps/core.xml").decode()
        assert len(set(re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core))) == 1, name


def test_unchanged_project_is_skipped_and_changes_rebuild(project_repo: Path) -> None:
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    before = (project_repo / ZIP).stat().st_mtime_ns
    again = invoke("bundle", f"projects/{PID}")
    assert again.exit_code == 0 and "未变化，跳过" in again.output
    assert (project_repo / ZIP).stat().st_mtime_ns == before
    draft = project_repo / "projects" / PID / "drafts" / "proposal.md"
    draft.write_text(draft.read_text("utf-8") + "\n补充说明。\n", "utf-8")
    changed = invoke("bundle", f"projects/{PID}")
    assert "已生成" in changed.output
    assert "补充说明。" in pdftext(entries(project_repo / ZIP)["项目建议书.pdf"]) if shutil.which("pdftotext") else True


@NEEDS_POPPLER
def test_a_repository_template_overrides_one_kind(project_repo: Path) -> None:
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    override = project_repo / "templates" / "proposal" / "document.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("{{ body }}\n\n本局自定义的建议书模板。\n", "utf-8")
    result = invoke("bundle", f"projects/{PID}")
    assert "已生成" in result.output  # a template change is an input change
    files = entries(project_repo / ZIP)
    assert "本局自定义的建议书模板。" in pdftext(files["项目建议书.pdf"])
    assert "本局自定义的建议书模板。" not in pdftext(files["可行性研究报告.pdf"])
    assert "附表" in pdftext(files["可行性研究报告.pdf"])


def test_failed_render_keeps_the_previous_bundle_and_leaves_no_temp_file(project_repo: Path) -> None:
    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    good = (project_repo / ZIP).read_bytes()
    draft = project_repo / "projects" / PID / "drafts" / "design.md"
    draft.write_text(draft.read_text("utf-8") + "\n{{ ''.__class__.__mro__ }}\n", "utf-8")
    result = invoke("bundle", f"projects/{PID}")
    assert result.exit_code == 1
    assert "内部属性" in result.output and "design.md" in result.output
    assert (project_repo / ZIP).read_bytes() == good
    assert sorted(p.name for p in (project_repo / "dist" / PID).iterdir()) == [f".{PID}-building.hash", f"{PID}-building.zip"]


def test_one_failing_project_does_not_stop_the_others(project_repo: Path) -> None:
    other = project_repo / "projects" / "XZJT-2025-903"
    shutil.copytree(project_repo / "projects" / PID, other)
    meta = other / "project.yaml"
    meta.write_text(meta.read_text("utf-8").replace(PID, "XZJT-2025-903"), "utf-8")
    (other / "drafts" / "proposal.md").write_text("# 一、项目概述\n\n{{ undefined_thing }}\n", "utf-8")
    result = invoke("bundle", "--all")
    assert result.exit_code == 1
    assert "不存在的元数据" in result.output and "1 个项目未能生成材料包" in result.output
    assert (project_repo / ZIP).is_file() and not (project_repo / "dist" / "XZJT-2025-903").exists()


def test_bundle_needs_projects_or_all(project_repo: Path) -> None:
    result = invoke("bundle")
    assert result.exit_code == 2 and "--all" in result.output


def test_all_without_a_terminal_prints_lines_not_a_bar(project_repo: Path) -> None:
    result = invoke("bundle", "--all", "--out", "elsewhere")
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{PID}：已生成 elsewhere/{PID}/{PID}-building.zip"]


def test_missing_cjk_fonts_are_an_error_with_the_fix(project_repo: Path) -> None:
    (project_repo / "xzdoc.yaml").write_text("fonts:\n  body: [不存在的仿宋甲, NoSuchSerif]\n", "utf-8")
    result = invoke("bundle", f"projects/{PID}")
    assert result.exit_code == 1
    assert "没有安装正文（仿宋）所需的任何字体" in result.output
    assert "apt-get install -y fonts-noto-cjk" in result.output


def test_typst_unknown_font_warning_becomes_an_error(project_repo: Path) -> None:
    page = project_repo / "templates" / "typst" / "page.typ"
    page.parent.mkdir(parents=True)
    page.write_text((ROOT / "templates" / "typst" / "page.typ").read_text("utf-8").replace(
        "  body\n}", '  text(font: "NoSuchFontAnywhere")[缺字]\n  body\n}'), "utf-8")
    result = invoke("bundle", f"projects/{PID}")
    assert result.exit_code == 1
    assert "unknown font family" in result.output and "apt-get install -y fonts-noto-cjk" in result.output
    assert not (project_repo / ZIP).exists()


@NEEDS_POPPLER
def test_in_git_dates_come_from_the_commit_and_approvals_from_the_ledger(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "git")
    repo.write(".gitignore", "/dist/\n")
    shutil.copytree(BASE, repo.path / "projects" / PID)
    repo.set_stage(PID, "draft")
    repo.commit("新建项目")
    repo.pull_request("submit", PARTY, lambda r: r.set_stage(PID, "submitted"), "申报")
    monkeypatch.chdir(repo.path)
    result = invoke("bundle", f"projects/{PID}")
    assert result.exit_code == 0, result.output
    path = repo.path / "dist" / PID / f"{PID}-submitted.zip"
    files = entries(path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["git"] == {"commit": repo.head(), "dirty": False} and manifest["date_source"] == "git"
    with zipfile.ZipFile(path) as archive:
        stamp = archive.infolist()[0].date_time
    merged = repo.git("log", "-1", "--format=%cI")
    assert stamp == tuple(int(x) for x in re.split(r"[-T:+]", merged)[:6])  # committed at +08:00, kept in CST
    assert "2026年3月2日" in pdftext(files["项目建议书.pdf"])
    approvals = pdftext(files["审批记录.pdf"])
    assert "编制中→已申报" in approvals and "王建国" in approvals and "局党组" in approvals
    again = invoke("bundle", f"projects/{PID}")
    assert "未变化，跳过" in again.output


def test_changed_toolkit_code_renders_again_with_the_same_manifest(project_repo: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # WAS STALE: the skip marker and the document cache were keyed by the version number alone, so a
    # development checkout whose code changed kept serving bundles rendered by the older code.
    from xzdoc.rules import cache as code

    assert invoke("bundle", f"projects/{PID}").exit_code == 0
    first = (project_repo / ZIP).read_bytes()
    assert "未变化" in invoke("bundle", f"projects/{PID}").output
    monkeypatch.setattr(code, "_code", "another-checkout")
    again = invoke("bundle", f"projects/{PID}")
    assert again.exit_code == 0 and "已生成" in again.output
    # Where the toolkit lives is no input of the bundle: the manifest and every file are the same bytes.
    assert (project_repo / ZIP).read_bytes() == first
