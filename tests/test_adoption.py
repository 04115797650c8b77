"""End to end, as a bureau adopts xzdoc: build the wheel, install it into a fresh virtual environment, lay out a
new repository with `xzdoc init`, write a project upgrading a registered system on a branch, have an approver
merge it with a signed --no-ff merge, then validate, ledger, status, diff and bundle.

The virtual environment reuses this machine's packages for xzdoc's dependencies (--system-site-packages), so
nothing is downloaded; xzdoc itself comes only from the wheel, which the test checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import AS_OF, RESOURCES, ROOT
from tests.gitrepo import DEV, PARTY, Person, env
from xzdoc import __version__

PID = "XZJT-2027-001"
SYSTEM = """\
systems:
  - id: XZJT-SYS-002
    name: 城乡客运车辆动态监控系统
    owner: 忻州市道路运输事业发展中心
    cloud: 市级政务云
    shares_with: [市政务数据共享交换平台]
    status: 在用
    om_funding: 18.00
"""

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="signed merges need ssh-keygen")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                           str(ROOT)], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("xzdoc-*.whl")
    assert built.name == f"xzdoc-{__version__}-py3-none-any.whl"
    return built


def test_the_wheel_carries_templates_standard_data_and_the_workflow(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("xzdoc/standard/outlines.yaml", "xzdoc/standard/project.schema.json", "xzdoc/_templates/typst/page.typ",
                 "xzdoc/_templates/init/xzdoc.yaml.j2", "xzdoc/_templates/project/project.yaml.j2",
                 "xzdoc/_workflows/proposals.yml"):
        assert name in names, name


class Bureau:
    """A fresh repository driven only through the installed console script and git."""

    def __init__(self, root: Path, venv: Path, home: Path) -> None:
        self.root, self.venv, self.home = root, venv, home
        self.minute = 0

    def env(self, who: Person) -> dict[str, str]:
        self.minute += 1
        out = env(who, f"2026-11-0{2 + self.minute // 60}T{9 + self.minute % 60 // 10:02d}:{self.minute % 10:02d}:00+08:00",
                  home=self.home)
        out.pop("PYTHONPATH", None)             # the installed wheel, not this checkout
        out["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{out.get('PATH', '')}"
        out["VIRTUAL_ENV"] = str(self.venv)
        return out

    def run(self, *args: str, who: Person = DEV, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(list(args), cwd=self.root, env=self.env(who), capture_output=True, text=True, check=False,
                              timeout=600)
        if ok:
            assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done

    def xzdoc(self, *args: str, who: Person = DEV) -> str:
        return self.run(str(self.venv / "bin" / "xzdoc"), *args, who=who).stdout


def test_a_bureau_adopts_xzdoc_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
                         capture_output=True, text=True, check=False, timeout=300)
    assert pip.returncode == 0, pip.stderr
    home = tmp_path / "home"
    home.mkdir()
    b = Bureau(tmp_path / "bureau", venv, home)
    b.root.mkdir()
    where = b.run(str(venv / "bin" / "python"), "-c", "import xzdoc; print(xzdoc.__file__)").stdout
    assert where.startswith(str(venv)), where

    # The approver's signing key, made as the README's one-time set-up says.
    key = home / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", PARTY.email, "-f", str(key)], check=True, timeout=60)
    b.run("git", "init", "-q", "-b", "main")
    b.run("git", "config", "gpg.format", "ssh")
    b.run("git", "config", "user.signingkey", str(key))
    assert "已写入 xzdoc.yaml" in b.xzdoc("init", "--org", "忻州市交通运输局")
    assert "未改动" in b.xzdoc("init", "--org", "忻州市交通运输局")
    pinned = (b.root / ".github" / "workflows" / "proposals.yml").read_text("utf-8")
    assert f"pip install xzdoc=={__version__}" in pinned and "pip install .\n" not in pinned

    # The bureau fills in its approvers and registers its existing system.
    config = b.root / "xzdoc.yaml"
    public = key.with_suffix(".pub").read_text("utf-8").strip()
    config.write_text(config.read_text("utf-8").replace(
        "  局党组: []\n  数据中心: []\n  财务科: []\n",
        f'  局党组:\n    - {{name: {PARTY.name}, email: {PARTY.email}, keys: ["{public}"]}}\n'
        "  数据中心:\n    - {name: 张伟, email: zhangwei@xzjt.example.gov.cn}\n"
        "  财务科:\n    - {name: 陈静, email: chenjing@xzjt.example.gov.cn}\n"), "utf-8")
    register = b.root / "systems.yaml"
    register.write_text(register.read_text("utf-8").replace("systems: []\n", SYSTEM), "utf-8")
    b.run("git", "add", "-A", who=PARTY)
    b.run("git", "commit", "-q", "-S", "-m", "采用 xzdoc", who=PARTY)

    # A vendor writes the project on a branch: scaffolded, then filled in.
    b.run("git", "switch", "-q", "-c", PID)
    b.xzdoc("new", f"projects/{PID}", "--id", PID, "--name", "忻州市城乡客运车辆动态监控系统升级改造项目")
    folder = b.root / "projects" / PID
    _fill(folder)
    pending = b.xzdoc("validate", f"projects/{PID}", "--as-of", AS_OF)      # exit 0: no errors
    assert "art24.pending-approval" in pending and "须由局党组成员合并" in pending and "错误" not in pending
    b.run("git", "add", "-A")
    b.run("git", "commit", "-q", "-m", f"{PID} 申报材料")
    review = b.xzdoc("diff", "main")
    assert "变更前 1 个，变更后 1 个" in review and "须由谁合并" in review and PARTY.name in review

    # The party-group member approves by merging, signed.
    b.run("git", "switch", "-q", "main", who=PARTY)
    b.run("git", "merge", "-q", "--no-ff", "-S", "-m", f"同意 {PID} 申报", PID, who=PARTY)
    assert "gpgsig" in b.run("git", "cat-file", "commit", "HEAD").stdout

    assert "全部符合编制规范" in b.xzdoc("validate", "--as-of", AS_OF)
    ledger = b.xzdoc("ledger")
    assert re.search(rf"✔ \d{{4}}-\d\d-\d\d  （新建） → submitted .*{PARTY.name}", ledger), ledger
    assert "现行的阶段和备案均经审批" in ledger
    assert PID in b.xzdoc("status", "--as-of", AS_OF)
    assert "符合系统总量只减不增" in b.xzdoc("diff", "HEAD~1")
    bundle = b.xzdoc("bundle", "--all")
    assert f"dist/{PID}/{PID}-submitted.zip" in bundle
    with zipfile.ZipFile(b.root / "dist" / PID / f"{PID}-submitted.zip") as made:
        assert any(n.endswith(".pdf") for n in made.namelist()) and "manifest.json" in made.namelist()


def _fill(folder: Path) -> None:
    """The finished proposal: the complete test project's metadata at stage submitted and its drafts."""
    text = (RESOURCES / "base_project" / "project.yaml").read_text("utf-8")
    text = text.split("\nrecords:", 1)[0] + "\n"
    text = text.replace("id: XZJT-2025-902", f"id: {PID}").replace("stage: building", "stage: submitted")
    head = (folder / "project.yaml").read_text("utf-8").split("\n", 1)[0]   # the schema line xzdoc new wrote
    (folder / "project.yaml").write_text(head + "\n" + text, "utf-8")
    for draft in (RESOURCES / "base_project" / "drafts").glob("*.md"):
        shutil.copy(draft, folder / "drafts" / draft.name)
