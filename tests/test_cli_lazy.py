"""The group imports a command module only when one of its commands is wanted; nothing a user sees changes.

A fresh interpreter is the only place where no command module is loaded yet, so
the checks of what `xzdoc --help` and an unknown command print run one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.utils import make_default_short_help

from tests.conftest import ROOT
from xzdoc.cli import cli
from xzdoc.cli.base import COMMANDS, load_commands

COMMAND_MODULES = [f"xzdoc.cli.{m}" for m in sorted({m for m, _ in COMMANDS.values()})]


def _fresh(*code: str) -> subprocess.CompletedProcess[str]:
    # CliRunner formats help 80 columns wide whatever the terminal; so does this interpreter.
    setup = ("import click.formatting", "click.formatting.FORCED_WIDTH = 80")
    return subprocess.run([sys.executable, "-c", "\n".join((*setup, *code))], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)


def _loaded_help(*args: str) -> str:
    load_commands()
    return CliRunner().invoke(cli, list(args), prog_name="xzdoc").output


def test_table_says_what_the_commands_say() -> None:
    load_commands()
    assert sorted(cli.commands) == sorted(COMMANDS)
    for name, (module, first) in COMMANDS.items():
        command = cli.commands[name]
        assert command.callback is not None and command.callback.__module__ == f"xzdoc.cli.{module}", name
        assert not command.short_help and not command.hidden and not command.deprecated, name
        for limit in range(10, 200):
            assert make_default_short_help(first, limit) == command.get_short_help_str(limit), (name, limit)


def test_help_lists_every_command_without_importing_one() -> None:
    done = _fresh("import sys", "from xzdoc.cli import main",
                  "code = main(['--help'])",
                  f"print(sorted(m for m in {COMMAND_MODULES!r} if m in sys.modules), code, file=sys.stderr)")
    assert done.stderr.strip() == "[] 0"
    assert done.stdout == _loaded_help("--help")
    assert all(f"  {name} " in done.stdout for name in COMMANDS)


def test_a_command_loads_only_its_own_module() -> None:
    done = _fresh("import sys", "from xzdoc.cli import main",
                  "code = main(['rules'])",
                  f"print(sorted(m for m in {COMMAND_MODULES!r} if m in sys.modules), code, file=sys.stderr)")
    assert done.stderr.strip() == "['xzdoc.cli.check'] 0"


@pytest.mark.parametrize("wrong, said", [("vaidate", "没有命令“vaidate”，你是不是想写“validate”？\n位置："),
                                         ("rule", "你是不是想写“rules”"),
                                         ("xyz", "错误：没有命令“xyz”\n位置：命令行的命令名\n")])
def test_unknown_command_suggests_from_every_command(wrong: str, said: str) -> None:
    done = _fresh("from xzdoc.cli import main", f"raise SystemExit(main([{wrong!r}]))")
    assert done.returncode == 2
    assert said in done.stderr
    assert done.stderr == CliRunner().invoke(cli, [wrong], prog_name="xzdoc").stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_its_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"], prog_name="xzdoc")
    assert result.exit_code == 0, result.output
    assert f"用法：xzdoc {name} " in result.output


def test_shell_completion_offers_every_command() -> None:
    env = {"_XZDOC_COMPLETE": "bash_complete", "COMP_WORDS": "xzdoc r", "COMP_CWORD": "1"}
    done = _fresh("import os", *(f"os.environ[{k!r}] = {v!r}" for k, v in env.items()),
                  "from xzdoc.cli import cli", "cli.main(prog_name='xzdoc')")
    assert done.stdout == "plain,render\nplain,rules\n"
    env["COMP_WORDS"], env["COMP_CWORD"] = "xzdoc validate --f", "2"
    assert CliRunner().invoke(cli, [], prog_name="xzdoc", env=env).output == "plain,--format\n"


def test_validate_outside_git_loads_no_template_engine_ledger_or_subprocess(tmp_path: Path) -> None:
    """What start-up does not need on a clean check of one project copied out of git (bench/startup.py)."""
    shutil.copytree(ROOT / "projects" / "XZJT-2025-002", tmp_path / "projects" / "XZJT-2025-002")
    (tmp_path / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")
    # hashlib is needed: the result cache addresses each project by the digest of its files.
    heavy = ["jinja2", "xzdoc.history.ledger", "subprocess", "xzdoc.cli.render", "xzdoc.render"]
    done = subprocess.run([sys.executable, "-c", "\n".join((
        "import sys", "from xzdoc.cli import main", "code = main(['validate', '--as-of', '2026-11-20'])",
        f"print(sorted(m for m in {heavy!r} if m in sys.modules), code, file=sys.stderr)"))],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, capture_output=True, text=True, check=False,
        timeout=120)
    assert done.stderr.strip() == "[] 0", done.stderr


@pytest.mark.parametrize("entry", [["-m", "xzdoc"], ["-c", "from xzdoc.__main__ import run; raise SystemExit(run())"]])
def test_ctrl_c_while_the_modules_load_ends_quietly(entry: list[str], tmp_path: Path) -> None:
    """A Ctrl-C that lands while xzdoc is still importing (here: as cli.base loads) exits 130 without a traceback."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'xzdoc.cli.base':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n", "utf-8")
    done = subprocess.run([sys.executable, *entry, "--help"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}, check=False)
    assert (done.returncode, done.stdout) == (130, ""), done.stderr
    assert done.stderr == "已中断。\n"
