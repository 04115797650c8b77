"""Sharded validation: the join of the shards' indexes reports exactly what one run reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, ROOT, invoke

TEMPLATE = ROOT / "projects" / "XZJT-2025-002"
NAMED = "忻州市第{}号综合交通示范应用项目"


def _portfolio(repo: Path, count: int) -> None:
    """Copies of a demo project; some share an id, a resource code or a system id under another name."""
    text = (TEMPLATE / "project.yaml").read_text("utf-8")
    for i in range(count):
        pid = f"XZJT-2032-{i:03d}"
        body = text.replace("XZJT-2025-002", "XZJT-2032-007" if i % 9 == 8 else pid)
        body = body.replace("130204-000", f"13{i:04d}-000" if i % 7 else "139999-000")
        body = body.replace("XZJT-SYS-002", f"XZJT-SYS-{i:03d}" if i % 5 else "XZJT-SYS-900")
        if i % 10 == 5:
            body = body.replace("城乡客运车辆动态监控系统\n", f"另一个系统{i}\n", 1)
        if i % 4 == 1:
            body = body.replace("stage: building", "stage: nowhere")
        if i % 11 == 3:   # a name of its own, which the next project's drafts repeat
            body = body.replace("\nname: 忻州市城乡客运车辆动态监控系统升级改造项目\n", f"\nname: {NAMED.format(i)}\n")
        shutil.copytree(TEMPLATE / "drafts", repo / "projects" / pid / "drafts")
        if i % 11 == 4 or i % 6 == 1:   # another project's name, id and system id in the prose
            with (repo / "projects" / pid / "drafts" / "proposal.md").open("a", encoding="utf-8") as f:
                f.write(f"\n本项目借鉴{NAMED.format(i - 1)}的经验，参照XZJT-2032-{i - 1:03d}，对接XZJT-SYS-{i - 1:03d}。\n")
        (repo / "projects" / pid / "project.yaml").write_text(body, "utf-8")
    (repo / "xzdoc.yaml").write_text("organisation: 忻州市交通运输局\n", "utf-8")


def _findings(*args: str | Path) -> list[dict[str, object]]:
    result = invoke("validate", "--format", "json", "--as-of", AS_OF, *args)
    assert result.exit_code in (0, 1), result.output
    return list(json.loads(result.output))


@pytest.mark.parametrize("count", [3, 4])
def test_joined_shards_equal_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    repo = tmp_path / "repo"
    _portfolio(repo, 40)
    monkeypatch.chdir(repo)
    whole = _findings()
    rules = {f["rule"] for f in whole}
    # The portfolio must exercise both kinds: per-project findings and cross-project ones.
    assert "art08.unique-ids" in rules and "art07.stage" in rules
    assert {"art08.chapter-reuse", "art08.foreign-project", "art08.prose-systems"} <= rules
    indexes = []
    for i in range(1, count + 1):
        out = tmp_path / f"shard{i}.json"
        part = _findings("--shard", f"{i}/{count}", "--index-out", out)
        # A shard alone cannot see the other shards' ids: it leaves them to the join.
        assert all(f["rule"] != "art08.unique-ids" for f in part)
        indexes += ["--join", str(out)]
    assert _findings(*indexes) == whole


def test_shards_split_every_project_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _portfolio(repo, 12)
    monkeypatch.chdir(repo)
    seen: list[str] = []
    for i in (1, 2, 3):
        invoke("validate", "--shard", f"{i}/3", "--index-out", tmp_path / f"{i}.json")
        seen += [row[0] for row in json.loads((tmp_path / f"{i}.json").read_text("utf-8"))["entries"]]
    assert sorted(seen) == sorted(f"projects/XZJT-2032-{i:03d}" for i in range(12))
    twice = invoke("validate", "--join", tmp_path / "1.json", "--join", tmp_path / "1.json")
    assert twice.exit_code == 1 and "分片 1/3 的索引给了多次" in twice.output
    # WAS SILENT: a join missing a shard printed the findings of the rest and passed.
    short = invoke("validate", "--join", tmp_path / "2.json", "--join", tmp_path / "3.json")
    assert short.exit_code == 1 and "缺少分片 1/3" in short.output, short.output
    invoke("validate", "--shard", "1/2", "--index-out", tmp_path / "other.json")
    mixed = invoke("validate", "--join", tmp_path / "other.json", "--join", tmp_path / "2.json", "--join", tmp_path / "3.json")
    assert mixed.exit_code == 1 and "不同的分片划分" in mixed.output, mixed.output
    invoke("validate", "projects/XZJT-2032-001", "--index-out", tmp_path / "some.json")
    some = invoke("validate", "--join", tmp_path / "some.json")
    assert some.exit_code == 1 and "只检查部分项目" in some.output, some.output
    # WAS A CRASH (exit 3, TypeError): an index edited by hand, a summary of the wrong shape.
    edited = json.loads((tmp_path / "1.json").read_text("utf-8"))
    edited["entries"][0][4] = {"art08.unique-ids": "garbage"}
    (tmp_path / "edited.json").write_text(json.dumps(edited), "utf-8")
    bad = invoke("validate", "--join", tmp_path / "edited.json", "--join", tmp_path / "2.json", "--join", tmp_path / "3.json")
    assert bad.exit_code == 1 and "索引文件" in bad.output and "内部错误" not in bad.output, bad.output


def test_bad_shard_and_index_are_user_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _portfolio(repo, 2)
    monkeypatch.chdir(repo)
    assert invoke("validate", "--shard", "4/3").exit_code == 2     # a bad option value: usage
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}", "utf-8")
    result = invoke("validate", "--join", bogus)
    assert result.exit_code == 1 and "索引文件" in result.output
    for top in ("[]", "null", '"x"', "1"):   # WAS A CRASH (AttributeError): a top level that is not an object
        bogus.write_text(top, "utf-8")
        result = invoke("validate", "--join", bogus)
        assert result.exit_code == 1 and "索引文件" in result.output, result.output
    assert invoke("validate", "--join", bogus, "--shard", "1/2").exit_code == 2


@pytest.mark.parametrize("value", ["x", "0/2", "3/2", "1/0", "1/2/3"])
def test_a_bad_shard_is_a_usage_error_naming_the_option(demo_repo: Path, value: str) -> None:
    # WAS exit 1 without naming the option: a bad option value is a usage error (exit 2).
    result = invoke("validate", "--shard", value)
    assert result.exit_code == 2 and "--shard" in result.output and "i/n" in result.output
