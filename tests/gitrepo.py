"""Real git repositories for tests: pinned identities and dates, no global config.

Every git call gets its author, committer and dates from the environment,
and ``HOME``/``GIT_CONFIG_NOSYSTEM`` keep the machine's own configuration
(signing, hooks, default branch) out of the result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_PROJECT = Path(__file__).resolve().parent / "resources" / "base_project"


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def ident(self) -> str:
        return f"{self.name} <{self.email}>"


PARTY = Person("王建国", "wangjianguo@xzjt.example.gov.cn")        # 局党组
PARTY2 = Person("李秀英", "lixiuying@xzjt.example.gov.cn")         # 局党组
CENTER = Person("张伟", "zhangwei@xzjt.example.gov.cn")            # 数据中心
FINANCE = Person("陈静", "chenjing@xzjt.example.gov.cn")           # 财务科
DEV = Person("赵工程师", "zhao@vendor.example.com")                # no role
FORGE = Person("GitHub", "noreply@github.com")

CONFIG = """\
organisation: 忻州市交通运输局
approvers:
  局党组:
    - {name: 王建国, email: wangjianguo@xzjt.example.gov.cn, github: wangjg}
    - {name: 李秀英, email: lixiuying@xzjt.example.gov.cn}
  数据中心:
    - {name: 张伟, email: zhangwei@xzjt.example.gov.cn, github: zhangw}
  财务科:
    - {name: 陈静, email: chenjing@xzjt.example.gov.cn}
"""

MINIMAL = """\
id: {id}
name: 测试项目{id}
stage: {stage}
budget:
  total: 100.00
"""


def env(who: Person = DEV, when: str = "2026-03-02T10:00:00+08:00", committer: Person | None = None,
        home: Path | None = None) -> dict[str, str]:
    by = committer or who
    out = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    out.update(GIT_AUTHOR_NAME=who.name, GIT_AUTHOR_EMAIL=who.email, GIT_AUTHOR_DATE=when,
               GIT_COMMITTER_NAME=by.name, GIT_COMMITTER_EMAIL=by.email, GIT_COMMITTER_DATE=when,
               GIT_CONFIG_NOSYSTEM="1", LC_ALL="C.UTF-8")
    if home is not None:
        out["HOME"] = str(home)
        out["XDG_CONFIG_HOME"] = str(home)
    return out


class Repo:
    """A repository under construction; each commit is a minute after the previous one."""

    def __init__(self, path: Path, config: str | None = CONFIG) -> None:
        self.path = path
        self.home = path.parent / f".home-{path.name}"
        self.home.mkdir(parents=True, exist_ok=True)
        self.minute = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")
        if config is not None:
            self.write("xzdoc.yaml", config)

    def when(self) -> str:
        self.minute += 1
        return f"2026-03-02T{10 + self.minute // 60:02d}:{self.minute % 60:02d}:00+08:00"

    def git(self, *args: str, who: Person = DEV, committer: Person | None = None, check: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, env=env(who, self.when(), committer, self.home),
                              capture_output=True, text=True, check=False)
        if check and done.returncode:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        file = self.path / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, "utf-8")
        return file

    def project(self, pid: str, stage: str = "draft", text: str | None = None) -> Path:
        return self.write(f"projects/{pid}/project.yaml", text if text is not None else MINIMAL.format(id=pid, stage=stage))

    def full_project(self, pid: str = "XZJT-2025-902") -> Path:
        """A copy of the fully valid test project (stage building) under projects/."""
        folder = self.path / "projects" / pid
        shutil.copytree(BASE_PROJECT, folder)
        return folder / "project.yaml"

    def set_stage(self, pid: str, stage: str) -> None:
        file = self.path / "projects" / pid / "project.yaml"
        lines = file.read_text("utf-8").split("\n")
        file.write_text("\n".join(f"stage: {stage}" if line.startswith("stage:") else line for line in lines), "utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        file = self.path / rel
        text = file.read_text("utf-8")
        assert old in text, (rel, old)
        file.write_text(text.replace(old, new, 1), "utf-8")

    def commit(self, message: str, who: Person = DEV, committer: Person | None = None) -> str:
        self.git("add", "-A", who=who)
        self.git("commit", "-q", "--allow-empty", "-m", message, who=who, committer=committer)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str) -> None:
        self.git("checkout", "-q", "-b", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(self, branch: str, who: Person, message: str | None = None, *extra: str) -> str:
        """A true merge commit on the current branch, authored and committed by ``who``."""
        self.git("merge", "-q", "--no-ff", *extra, "-m", message or f"Merge branch '{branch}'", branch, who=who)
        return self.head()

    def pull_request(self, name: str, who: Person, change: Callable[[Repo], None], message: str = "修改") -> str:
        """Branch off main, apply ``change(repo)``, commit as DEV, merge back as ``who``."""
        self.branch(name)
        change(self)
        self.commit(message)
        self.checkout("main")
        return self.merge(name, who)
