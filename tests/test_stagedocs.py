"""Later-stage documents in the demo bundles, the 党组决策简报, and application documents archived as approved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke
from tests.gitrepo import CENTER, PARTY, Repo
from tests.test_bundle import NEEDS_POPPLER, entries, pdftext

BASE = ROOT / "tests" / "resources" / "base_project"
PID = "XZJT-2025-902"
APPLICATION = ("项目建议书", "可行性研究报告", "初步设计", "投资概算")


def bundle(root: Path, pid: str, stage: str) -> dict[str, bytes]:
    result = invoke("bundle", f"projects/{pid}")
    assert result.exit_code == 0, result.output
    return entries(root / "dist" / pid / f"{pid}-{stage}.zip")


def pdfs(files: dict[str, bytes]) -> set[str]:
    return {name.removesuffix(".pdf") for name in files if name.endswith(".pdf")}


@NEEDS_POPPLER
def test_building_bundle_files_contract_and_supervision_with_their_records(demo_repo: Path) -> None:
    files = bundle(demo_repo, "XZJT-2025-002", "building")
    assert pdfs(files) >= {*APPLICATION, "合同备案表", "监理单位备案表", "2025年度自评价报告", "党组决策简报", "审批记录"}
    assert not pdfs(files) & {"竣工验收报告", "验收报告备案表", "调整申请"}
    contract = pdftext(files["合同备案表.pdf"])
    assert "2025-08-11" in contract and "548.00" in contract and "2025-08-15" in contract and "山西智联交通科技有限公司" in contract
    supervision = pdftext(files["监理单位备案表.pdf"])
    assert "山西诚信工程监理有限公司" in supervision and "2025-08-26" in supervision and "2025-09-02" in supervision
    assert _pages(files["合同备案表.pdf"]) == _pages(files["监理单位备案表.pdf"]) == _pages(files["党组决策简报.pdf"]) == 1
    evaluation = pdftext(files["2025年度自评价报告.pdf"])
    assert "96.2" in evaluation and "386.40" in evaluation and "92.00%" in evaluation  # actual, spent, 386.40/420.00
    assert "车载终端在线率" in evaluation and "质量指标" in evaluation


@NEEDS_POPPLER
def test_operating_bundle_files_every_later_document(demo_repo: Path) -> None:
    files = bundle(demo_repo, "XZJT-2023-004", "operating")
    years = {f"{y}年度自评价报告" for y in (2023, 2024, 2025)}
    assert pdfs(files) >= {*APPLICATION, "合同备案表", "监理单位备案表", "调整申请", "竣工验收申请", "竣工验收报告",
                           "验收报告备案表", "党组决策简报", *years}
    assert {f"{k}.docx" for k in ("竣工验收报告", "验收报告备案表", "调整申请")} <= set(files)
    report = pdftext(files["竣工验收报告.pdf"])
    for item in ("试运行", "第三方测评", "等保测评", "密评", "安全可控", "资源目录登记", "监理意见", "档案资料",
                 "2024-05-16", "2024-04-22", "服务器密码机"):
        assert item in report, item
    # WAS WRONG: the checklist listed the 2025 and 2026 security tests of an acceptance held on 2024-05-16.
    assert "2024-04-10" in report and "2025-04-09" not in report and "2026-04-16" not in report
    assert _pages(files["合同备案表.pdf"]) == _pages(files["验收报告备案表.pdf"]) == _pages(files["党组决策简报.pdf"]) == 1
    filing = pdftext(files["验收报告备案表.pdf"])
    assert "2024-06-14" in filing and "2024-06-11" in filing and "忻政数验备〔2024〕12号" in filing
    om_year = pdftext(files["2025年度自评价报告.pdf"])
    assert "99.1" in om_year and "36.00" in om_year and "97.8" in om_year and "94.74%" in om_year  # O&M budget 38.00
    adjustment = pdftext(files["调整申请.pdf"])
    assert "投资概算明细" in adjustment and "忻政数函〔2024〕5号" in adjustment
    assert "未能读取批复版本" in adjustment  # outside git there is no approved tree to compare with


@NEEDS_POPPLER
def test_submitted_bundle_has_the_brief_and_no_later_documents(demo_repo: Path) -> None:
    files = bundle(demo_repo, "XZJT-2026-001", "submitted")
    assert pdfs(files) == {*APPLICATION, "整体方案", "党组决策简报", "审批记录"}
    brief = pdftext(files["党组决策简报.pdf"])
    assert "已申报→审核通过" in brief and "2040.00" in brief and "首个预算年度2026年已开始" in brief


@NEEDS_POPPLER
def test_brief_command_writes_a_one_page_pdf(demo_repo: Path) -> None:
    result = invoke("brief", "projects/XZJT-2025-002")
    assert result.exit_code == 0, result.output
    pdf = (demo_repo / "dist" / "XZJT-2025-002" / "党组决策简报.pdf").read_bytes()
    assert _pages(pdf) == 1
    text = pdftext(pdf)
    assert "建设中→已验收" in text and "620.00" in text and "548.00" in text and "可拨付" in text
    assert "全局在用信息系统" in text and (demo_repo / "dist" / "XZJT-2025-002" / "党组决策简报.docx").is_file()


def _pages(pdf: bytes) -> int:
    import subprocess

    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def approved_repo(path: Path) -> tuple[Repo, str]:
    """The base project taken through 申报, 审核 and 批复, each merged by its approver; the 批复 merge's id."""
    repo = Repo(path)
    repo.write(".gitignore", "/dist/\n")
    shutil.copytree(BASE, repo.path / "projects" / PID)
    repo.set_stage(PID, "draft")
    repo.commit("新建项目")
    repo.pull_request("submit", PARTY, lambda r: r.set_stage(PID, "submitted"), "申报")
    repo.pull_request("review", PARTY, lambda r: r.set_stage(PID, "reviewed"), "审核")
    return repo, repo.pull_request("approve", CENTER, lambda r: r.set_stage(PID, "approved"), "登记批复")


@NEEDS_POPPLER
def test_later_bundle_carries_application_documents_as_approved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, approving = approved_repo(tmp_path / "git")
    monkeypatch.chdir(repo.path)
    at_approval = bundle(repo.path, PID, "approved")

    def later(r: Repo) -> None:
        r.set_stage(PID, "contracted")
        r.edit(f"projects/{PID}/drafts/proposal.md", "# 二、", "批复后改写的段落。\n\n# 二、")
    repo.pull_request("contract", CENTER, later, "签订合同")
    files = bundle(repo.path, PID, "contracted")
    for kind in APPLICATION:
        assert files[f"{kind}.pdf"] == at_approval[f"{kind}.pdf"], kind
        assert files[f"{kind}.docx"] == at_approval[f"{kind}.docx"], kind
    proposal = pdftext(files["项目建议书.pdf"])
    assert "批复后改写的段落" not in proposal and "已批复" in proposal and "已签约" not in proposal
    assert approving[:12] in proposal and "张伟" in proposal   # marked with the merge and its approver
    assert "合同备案表" in pdfs(files)
    # Rendering at the approving merge itself gives the approved version too: the content is what was approved.
    repo.git("checkout", "-q", approving)
    assert invoke("render", f"projects/{PID}", "--format", "pdf,docx", "--out", "then").exit_code == 0
    for kind in APPLICATION:
        assert (repo.path / "then" / f"{kind}.pdf").read_bytes() == files[f"{kind}.pdf"], kind
    repo.git("checkout", "-q", "main")
    assert invoke("render", f"projects/{PID}", "--format", "pdf", "--out", "now").exit_code == 0
    assert "批复后改写的段落" in pdftext((repo.path / "now" / "项目建议书.pdf").read_bytes())  # render shows the draft


def adjust_estimate(r: Repo) -> None:
    """An approved adjustment that moves 19 万元 between two estimate lines, the total unchanged."""
    meta = f"projects/{PID}/project.yaml"
    r.edit(meta, "quantity: 260, unit: 套, unit_price: 0.95, amount: 247.00",
           "quantity: 240, unit: 套, unit_price: 0.95, amount: 228.00")
    r.edit(meta, "unit_price: 168.00, amount: 168.00", "unit_price: 187.00, amount: 187.00")
    change = ("  changes:\n    - {date: 2026-02-01, fields: [estimate], reason: 终端减少20套，节余资金用于平台功能完善, "
              "approved: 2026-02-20, doc_no: 忻政数函〔2026〕9号}\n  fund_analysis:")
    r.edit(meta, "  fund_analysis:", change)


@NEEDS_POPPLER
def test_adjustment_compares_the_approved_tree_with_the_current_one(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _ = approved_repo(tmp_path / "git")
    repo.pull_request("adjust", CENTER, adjust_estimate, "调整申请")
    monkeypatch.chdir(repo.path)
    text = pdftext(bundle(repo.path, PID, "approved")["调整申请.pdf"])
    assert "概算：国产化车载视频监控终端247.00228.00\u221219.00" in text
    assert "概算：动态监控平台升级开发168.00187.00+19.00" in text
    assert "未能读取批复版本" not in text
    # WAS WRONG: `xzdoc render` (not a bundle) dropped the approved version whenever the content had
    # changed since, which an adjustment always has, so 调整申请 said "未能读取批复版本".
    result = invoke("render", f"projects/{PID}", "--format", "pdf", "--out", "now")
    assert result.exit_code == 0, result.output
    rendered = pdftext((repo.path / "now" / "调整申请.pdf").read_bytes())
    assert "未能读取批复版本" not in rendered and "概算：国产化车载视频监控终端247.00228.00\u221219.00" in rendered


def test_cost_groups_keep_their_fixed_numerals(demo_repo: Path) -> None:
    from xzdoc.config import load
    from xzdoc.render import context
    from xzdoc.render.reproducible import Stamp
    from xzdoc.source import loader

    config = load(demo_repo)
    project = loader.load_project(config, demo_repo / "projects" / "XZJT-2025-002").project
    assert project is not None
    groups = context.build(config, project, Stamp(0)).estimate
    # No 建筑工程 in this estimate: hardware is still (二), not (一).
    assert [(g.numeral, g.group) for g in groups] == [("二", "硬件设备购置"), ("三", "软件购置开发与系统集成"),
                                                      ("四", "工程建设其他费用"), ("五", "预备费")]


def test_a_baseline_adoption_is_not_called_a_merge() -> None:
    # WAS WRONG: archived covers and briefs said "（…，<author of the baseline commit> 合并批准）".
    from types import SimpleNamespace

    from xzdoc.render.archive import Snapshot

    record = SimpleNamespace(status="adopted", commit="8223ea10a42b5a00", date="2026-11-26T19:39:17+00:00",
                             merged_by="Seed maintainers <m@example.com>")
    mark = Snapshot(record, None).mark  # type: ignore[arg-type]
    assert "基线" in mark and "合并批准" not in mark and "Seed" not in mark and "2026-11-27" in mark
    merged = Snapshot(SimpleNamespace(**{**vars(record), "status": "approved"}), None).mark  # type: ignore[arg-type]
    assert "Seed maintainers 合并批准" in merged


def test_filings_outside_the_stage_lists_have_chinese_names(demo_repo: Path) -> None:
    # WAS WRONG: the 审批记录 page printed "changes（changes）".
    from xzdoc import config
    from xzdoc.render import records

    assert records._filing(config.load(demo_repo), "records.changes") == "调整申请（changes）"


@NEEDS_POPPLER
def test_an_acceptance_application_without_a_date_says_so(demo_repo: Path) -> None:
    # WAS WRONG: without records.acceptance.applied the form printed the acceptance date as the application's.
    rel = demo_repo / "projects/XZJT-2023-004/project.yaml"
    rel.write_text(rel.read_text("utf-8").replace("    applied: 2024-05-06\n", ""), "utf-8")
    files = bundle(demo_repo, "XZJT-2023-004", "operating")
    assert "申请日期：—" in pdftext(files["竣工验收申请.pdf"])


def test_a_form_without_a_cover_opens_with_its_title_in_word_too(demo_repo: Path) -> None:
    # WAS MISSING: the PDF printed "合同备案表" first, the DOCX started with the table caption.
    import io

    import docx

    files = bundle(demo_repo, "XZJT-2023-004", "operating")
    for kind in ("合同备案表", "监理单位备案表", "竣工验收申请", "验收报告备案表", "党组决策简报"):
        first = docx.Document(io.BytesIO(files[f"{kind}.docx"])).paragraphs[0]
        assert (first.text, first.style.name) == (kind, "Banner"), kind
    cover = docx.Document(io.BytesIO(files["项目建议书.docx"])).paragraphs[0]
    assert cover.style.name == "Title"          # a document with a cover keeps its cover first


def test_forms_quote_the_total_at_approval_and_what_an_approved_adjustment_made_of_it(demo_repo: Path) -> None:
    # WAS WRONG: 批复总预算 on the filing forms printed whatever budget.total said now.
    from types import SimpleNamespace

    from xzdoc import config
    from xzdoc.render.archive import Snapshot
    from xzdoc.render.stagedocs import approved_total
    from xzdoc.source import loader

    loaded = config.load(demo_repo)
    folder = demo_repo / "projects" / "XZJT-2023-004"
    meta = folder / "project.yaml"
    original = loader.load_project(loaded, folder).project
    assert original is not None and approved_total(original, None) == "486.00"
    text = meta.read_text("utf-8").replace("  changes:\n", "  changes:\n    - {date: 2024-03-01, fields: [budget.total], "
                                            "reason: 增加一处检测站, approved: 2024-03-10, amount: 512.50}\n", 1)
    adjusted = loader.load_project(loaded, folder, {meta: text}).project
    assert adjusted is not None
    at_approval = Snapshot(SimpleNamespace(), original)
    assert approved_total(adjusted, at_approval) == "486.00（经批准调整为 512.50）"
    assert approved_total(adjusted, None) == "486.00（经批准调整为 512.50）"
    unapproved = loader.load_project(loaded, folder, {meta: text.replace("approved: 2024-03-10, ", "")}).project
    assert unapproved is not None and approved_total(unapproved, at_approval) == "486.00"
    # An edit of budget.total itself is not what was approved: the form keeps the approved version's figure.
    edited = loader.load_project(loaded, folder, {meta: meta.read_text("utf-8").replace("total: 486.00", "total: 999.00")})
    assert edited.project is not None and approved_total(edited.project, at_approval) == "486.00"
