"""A sixth attacker's review, of approved content: keys that read alike, an old adjustment request touched up,
quoted dates, and commit times on another clock.

Same conventions as tests/test_attack_review.py: real repositories with pinned dates, one case per test.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.attacks import ATTACKER, FOLDER, PID, YAML, approved, art24_errors, caught, change, clean, stage, submitted
from tests.gitrepo import DEV, PARTY, Repo, env


def _append(r: Repo, text: str) -> None:
    r.write(YAML, r.path.joinpath(YAML).read_text("utf-8") + text)


# WAS A HOLE: 2025 and '2025' are two keys to YAML; the field digest merged them, so `years: {2025: 0.00, 2026:
# 50.00, '2025': 50.00}` digested like the approved years, and a later request for drafts alone covered it.
# Such keys are now duplicates to the strict loader: validate refuses the file, the ledger does not count it.
def test_a_year_written_twice_as_number_and_text_is_a_duplicate_key(repo: Repo) -> None:
    change(repo, "submit", PARTY, stage(PID, "submitted", "  years: {2025: 50.00, 2026: 50.00}\n"))
    clean(repo)
    repo.edit(YAML, "years: {2025: 50.00, 2026: 50.00}", "years: {2025: 0.00, 2026: 50.00, '2025': 50.00}")
    repo.commit("直接推送", who=ATTACKER)
    caught(repo, "art24.content-drift", "art24.unreadable-project", ledger_only=True)

    def request(r: Repo) -> None:
        r.write(f"{FOLDER}/drafts/proposal.md", "# 一、项目概述\n")
        _append(r, "records:\n  changes:\n    - {date: 2026-03-01, fields: [drafts], reason: 补充申报材料, "
                   "approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    change(repo, "req", PARTY, request)
    caught(repo, "art24.content-drift", ledger_only=True)


def test_the_loader_names_both_spellings(tmp_path: object) -> None:
    from xzdoc.errors import XzdocError
    from xzdoc.source import yamlio

    with pytest.raises(XzdocError, match="一处写成数字或日期，一处写成文字") as caught_error:
        yamlio.loads("budget:\n  years:\n    2025: 1.00\n    '2025': 2.00\n", "project.yaml")
    assert caught_error.value.line == 4


# WAS A HOLE: a request counted as new when its text was; one already used, with a full stop added to its reason,
# covered the budget drift pushed after it. A request whose 文号 an earlier version holds is not new.
def test_an_old_request_touched_up_covers_nothing(repo: Repo) -> None:
    submitted(repo)

    def legit(r: Repo) -> None:
        r.edit(YAML, "total: 100.00", "total: 200.00")
        _append(r, "records:\n  changes:\n    - {date: 2026-03-01, fields: [budget], reason: 调整总预算, "
                   "approved: 2026-03-01, doc_no: 忻政数函〔2026〕9号}\n")
    change(repo, "req1", PARTY, legit)
    clean(repo)
    repo.edit(YAML, "total: 200.00", "total: 900.00")
    repo.commit("直接改预算", who=ATTACKER)
    caught(repo, "art24.content-drift")
    change(repo, "typo", PARTY, lambda r: r.edit(YAML, "reason: 调整总预算", "reason: 调整总预算。"))
    caught(repo, "art24.content-drift")


# WAS A HOLE: the schema takes a quoted date ('2027-06-01') for a date, but the future checks only saw values YAML
# had typed as dates, so quoting one hid a filing dated ahead from the ledger and from validate's --as-of check.
def test_a_quoted_future_date_is_still_a_future_date(repo: Repo) -> None:
    approved(repo)
    change(repo, "file", PARTY, lambda r: _append(
        r, "  supervision: {unit: 某监理公司, consent: '2027-06-01', filed: '2027-06-01'}\n"))
    caught(repo, "art24.future-filing")
    assert "art24.future-filing" in art24_errors(repo)


def _git_at(repo: Repo, when: str, who: object, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo.path, env=env(who, when, None, repo.home), check=True, capture_output=True)  # type: ignore[arg-type]


# WAS A FALSE POSITIVE: a commit's day was read in its committer's own zone; a filing made at 00:30 Beijing time and
# merged half an hour later on a machine keeping UTC (still the day before there) was reported as future-dated.
def test_a_merge_recorded_on_a_utc_clock_is_read_on_beijing_time(repo: Repo) -> None:
    approved(repo)
    repo.branch("file")
    _append(repo, "  supervision: {unit: 某监理公司, consent: 2026-03-03, filed: 2026-03-03}\n")
    _git_at(repo, "2026-03-03T00:30:00+08:00", DEV, "add", "-A")
    _git_at(repo, "2026-03-03T00:30:00+08:00", DEV, "commit", "-q", "-m", "监理备案")
    repo.checkout("main")
    _git_at(repo, "2026-03-02T17:00:00+00:00", PARTY, "merge", "-q", "--no-ff", "-m", "Merge branch 'file'", "file")
    clean(repo)
