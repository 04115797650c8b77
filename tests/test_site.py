"""`xzdoc site`: the static dashboard, checked as text and, where Chromium is installed, in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AS_OF, invoke
from xzdoc import config
from xzdoc.portfolio import site, sitecache

DEMO = {"XZJT-2025-002": "忻州市城乡客运车辆动态监控系统升级改造项目",
        "XZJT-2026-001": "忻州市综合交通运输数据共享与运行监测平台建设项目",
        "XZJT-2026-003": "忻州市农村公路养护巡查智能化升级项目"}


def build(repo: Path) -> str:
    result = invoke("site", "--out", repo / "out", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return (repo / "out" / "index.html").read_text("utf-8")


def test_every_project_and_nothing_external(demo_repo: Path) -> None:
    html = build(demo_repo)
    for pid, name in DEMO.items():
        assert pid in html and name in html
    # Self-contained: no URL at all, so nothing can be fetched from a CDN or anywhere else.
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html)
    assert not re.search(r"(?i)<(script|link|img|iframe)\b", html)
    assert "<style>" in html and "<svg" in html and 'lang="zh-CN"' in html
    # No temp file left; the inputs' digest beside the page lets an unchanged rerun skip the work.
    assert sorted(p.name for p in (demo_repo / "out").iterdir()) == [sitecache.INPUTS, "index.html"]


def test_badges_deadlines_and_budget_by_year(demo_repo: Path) -> None:
    html = build(demo_repo)
    assert "暂停拨付" in html and "可拨付" in html
    assert "2026 年度自评价 2027-03-31" in html          # the building project's next deadline, as status shows it
    for year, total in (("2025年", "420.00"), ("2026年", "1380.00"), ("2027年", "1225.40")):
        assert re.search(rf"<td>{year}</td>.*?<td class=\"num\">{re.escape(total)}</td></tr>", html, re.S)
    assert "登记系统 6 个，其中在用 4 个" in html


def test_overdue_deadline_is_flagged(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2025-002/project.yaml"
    file.write_text(file.read_text("utf-8").replace("    signed: 2025-08-11\n    filed: 2025-08-15\n",
                                                    "    signed: 2026-09-28\n"), "utf-8")
    html = site.render(config.load(demo_repo), site.build(config.load(demo_repo), __import__("datetime").date(2026, 10, 13)))
    assert '<span class="badge bad" title="合同备案 2026-10-10 已逾期' in html
    assert 'class="overdue"' in html


def test_metadata_is_escaped(demo_repo: Path) -> None:
    file = demo_repo / "projects/XZJT-2026-003/project.yaml"
    text = file.read_text("utf-8").replace("name: 忻州市农村公路养护巡查智能化升级项目", 'name: "<script>alert(1)</script>养护"', 1)
    file.write_text(text, "utf-8")
    html = build(demo_repo)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;养护" in html


def test_repository_template_overrides_the_packaged_one(demo_repo: Path) -> None:
    (demo_repo / "templates/site").mkdir(parents=True)
    (demo_repo / "templates/site/index.html.j2").write_text("<p>{{ d.organisation }}：{{ d.projects|length }}</p>\n", "utf-8")
    assert build(demo_repo) == "<p>忻州市交通运输局：4</p>\n"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium 未安装（apt-get install -y chromium）")
def test_opens_in_headless_chromium(demo_repo: Path, tmp_path: Path) -> None:
    build(demo_repo)
    page = (demo_repo / "out" / "index.html").as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120, check=True)
    for name in DEMO.values():
        assert name in dom.stdout
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", *flags, "--window-size=1280,1600", f"--screenshot={shot}", page], capture_output=True,
                   timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
