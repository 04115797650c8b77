"""A ledger approval record as one printable row of the 审批记录 page; each fact once, every date in Beijing time.

The row is plain strings (it also goes into manifest.json). Fields a record
may or may not carry, such as a merge signature's verification result and the
signing key's fingerprint, are read with defaults, so the page works with
records that have them and records that do not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from xzdoc.config import Config
from xzdoc.history.calendar import beijing_date

ADOPTED_ZH = "基线采纳"
# Names a signature result and a key fingerprint may have on a record, in order of preference.
SIGNATURE_FIELDS = ("signature", "signature_status", "signature_result", "signature_verified", "verified", "gpg_status")
FINGERPRINT_FIELDS = ("fingerprint", "key_fingerprint", "key", "signing_key", "signer_fingerprint",
                      "signing_key_fingerprint")
# git's %G? codes, and the words a result may come as.
SIGNATURE_ZH = {
    "G": "有效", "U": "有效（密钥可信度未知）", "X": "有效但签名已过期", "Y": "有效但密钥已过期", "R": "密钥已吊销",
    "B": "无效", "E": "无法验证（缺少公钥）", "N": "未签名",
    "good": "有效", "valid": "有效", "verified": "有效", "bad": "无效", "invalid": "无效", "unsigned": "未签名",
    "none": "未签名", "missing": "未签名", "unknown": "无法验证", "expired": "签名已过期", "revoked": "密钥已吊销",
    # the ledger's own words (xzdoc/history/signatures.py)
    "bad-signature": "无效", "unknown-key": "不是审批人登记的密钥", "revoked-key": "密钥已吊销",
    "wrong-signer": "签名人与合并人不是同一人",
}
_LONG_RUN = re.compile(r"[!-~]{12,}")


def row(config: Config, record: Any, status: Mapping[str, str]) -> dict[str, str]:
    """Table cells and the one-line note for a record; approver is 基线采纳 for adopted records."""
    def get(name: str) -> str:
        value = getattr(record, name, None)
        if isinstance(value, (tuple, list)):
            return "、".join(str(v) for v in value)
        return "" if value is None else str(value)

    adopted = get("status") == "adopted"
    change = get("change")
    return {
        "change": f"{_stage(config, get('from_stage'))} → {_stage(config, get('to_stage'))}"
                  if change in ("", "stage") else _filing(config, change),
        "status": status.get(get("status"), get("status")),
        "role": get("roles"),
        "approver": ADOPTED_ZH if adopted else get("merged_by").split(" <", 1)[0],
        "date": beijing_date(get("date")),
        "commit": get("commit"),
        "tree": get("tree"),
        "note": _note(record, get),
        "signature": signature(record),
        "fingerprint": fingerprint(record),
    }


def signature(record: Any) -> str:
    for name in SIGNATURE_FIELDS:
        value = getattr(record, name, None)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            return "有效" if value else "无效"
        text = str(value).strip()
        return SIGNATURE_ZH.get(text, SIGNATURE_ZH.get(text.lower(), text))
    return ""


def fingerprint(record: Any) -> str:
    """The key fingerprint in groups of four, so it wraps at a group boundary instead of running out of the page."""
    for name in FINGERPRINT_FIELDS:
        value = getattr(record, name, None)
        if value:
            text = re.sub(r"\s+", "", str(value))
            if not re.fullmatch(r"[0-9A-Fa-f]+", text):
                return text   # an SSH fingerprint (SHA256:…, base64): its case matters
            text = text.upper()
            return " ".join(text[i:i + 4] for i in range(0, len(text), 4))
    return ""


def breakable(value: str) -> str:
    """Long runs without spaces (addresses, identifiers) get break opportunities every eight characters."""
    return _LONG_RUN.sub(lambda m: "\u200b".join(m.group(0)[i:i + 8] for i in range(0, len(m.group(0)), 8)), value)


def _note(record: Any, get: Any) -> str:
    """What the table does not say: why the record counts (or does not), without repeating its cells."""
    status = get("status")
    if status == "adopted":
        evidence = get("evidence")
        return f"采用 xzdoc 之前已达到，按项目记录认定（{evidence}）" if evidence else "采用 xzdoc 之前已达到，项目中无记录可引"
    if status == "no-gate":
        return "无需审批：" + ("新建项目" if not get("from_stage") else "阶段回退或无审批关口")
    if status == "approved":
        return "已审批：经所需角色的审批人合并进入主干"
    from xzdoc.history.ledger import PROBLEM_ZH

    text = "未经审批：" + PROBLEM_ZH.get(get("problem"), get("problem") or "原因不明")
    held = get("held")
    if held:
        text += f"（合并人的角色：{held}）"
    claim = get("claim")
    return text + (f"；尾注“{claim}”" if claim else "")


def _stage(config: Config, stage: str) -> str:
    found = config.standard.stage(stage) if stage else None
    return found.label if found else (stage or "（新建）")


def _filing(config: Config, change: str) -> str:
    key = change.removeprefix("records.")
    what = next((r.what for s in config.standard.stages for r in s.records if r.key == key), _OTHER_FILINGS.get(key))
    return f"{what}（{key}）" if what else key


# Gated filings that belong to no stage's requirements.
_OTHER_FILINGS = {"changes": "调整申请", "termination": "终止", "pre_review": "前置审查", "payments": "资金拨付",
                  "private_network_approval": "专网审批"}
