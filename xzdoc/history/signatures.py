"""Signatures bound to people: a merge's signature counts only with a key the policy lists for its author.

Verification never uses the machine's trust. An allowed-signers file is
written to a temporary folder from the keys in the policies read from
history (one line per e-mail and key), gpg gets a home of its own holding
only the public keys the policies name by fingerprint (this module is the
one gpg user, for that export),
and git runs without its global or system configuration
(``gitlog.signatures``). What git reports is then checked against the
policy as of the merge's first parent: the fingerprint must be one of the
author's keys there, not revoked, and the principal it verified as must be
the author's e-mail, which must also be the committer's.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xzdoc.config import Config
from xzdoc.history import gitlog
from xzdoc.keys import Key

VERIFIED, UNSIGNED, BAD, UNKNOWN_KEY, REVOKED, WRONG_SIGNER, NOT_CHECKED = (
    "verified", "unsigned", "bad-signature", "unknown-key", "revoked-key", "wrong-signer", "")
SIGNATURE_ZH = {
    VERIFIED: "签名有效", UNSIGNED: "未签名", BAD: "签名无效", UNKNOWN_KEY: "签名密钥不是审批人在配置中登记的密钥",
    REVOKED: "签名密钥已吊销", WRONG_SIGNER: "签名人与合并人不是同一人", NOT_CHECKED: "未要求签名",
}


@dataclass(frozen=True)
class Signature:
    status: str
    key: str = ""         # fingerprint of the signing key, as git reports it


def allowed_signers(policies: Iterable[Config]) -> str:
    """An allowed-signers file for every ssh key of every approver in ``policies``."""
    lines = []
    for policy in policies:
        for person in policy.approvers:
            for key in person.keys:
                if key.kind == "ssh":
                    lines += [f'{email} namespaces="git" {key.text}' for email in person.emails]
    return "".join(f"{line}\n" for line in dict.fromkeys(lines))


def read(workdir: Path, shas: Sequence[str], policies: Iterable[Config]) -> dict[str, tuple[str, ...]]:
    """What git says of each commit's signature, against the policies' keys only."""
    if not shas:
        return {}
    policies = list(policies)
    with tempfile.TemporaryDirectory(prefix="xzdoc-signers-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(allowed_signers(policies), "utf-8")
        home = Path(tmp) / "gnupg"
        home.mkdir(mode=0o700)
        _keyring(home, sorted({k.fingerprint for p in policies for a in p.approvers for k in a.keys
                               if k.kind == "gpg"}))
        return gitlog.signatures(workdir, shas, signers, home)


def _keyring(home: Path, fingerprints: list[str]) -> None:
    """A keyring of its own holding only the public keys the policies name by fingerprint.

    The key material may come from the machine's keyring (that is where an
    approver's public key is usually imported); its trust settings never
    do, and the fingerprint in the policy pins which key counts.
    """
    gpg = shutil.which("gpg")
    if not fingerprints or gpg is None:
        return
    exported = subprocess.run([gpg, "--batch", "--export", *fingerprints], capture_output=True, check=False).stdout
    if exported:
        subprocess.run([gpg, "--batch", "--quiet", "--homedir", str(home), "--import"], input=exported,
                       capture_output=True, check=False)


def judge(raw: tuple[str, ...] | None, policy: Config, author: str, revoked: Iterable[Key]) -> Signature:
    """The verdict on one merge authored by ``author`` (an e-mail) under ``policy`` (as of its first parent)."""
    if raw is None:
        return Signature(UNSIGNED)
    code, fingerprint = raw[0], raw[2] or raw[3]
    if code == "N":
        return Signature(UNSIGNED)
    primary = raw[3] if len(raw) > 3 else ""
    # A gpg signing subkey (%GF) belongs to the primary key (%GP) the policy lists and revokes.
    revoked_prints = {k.fingerprint for k in (*policy.revoked_keys, *revoked)}
    if {fingerprint, primary} & revoked_prints - {""}:
        return Signature(REVOKED, fingerprint)
    people = policy.entries_of(author)
    mine = {k.fingerprint: k.kind for person in people for k in person.keys}
    listed = mine.get(fingerprint) or mine.get(primary)
    # A gpg key in a keyring of its own has no trust ("U"); the fingerprint listed in the policy stands for it.
    if code != "G" and not (code == "U" and listed == "gpg"):
        # E (key unknown: not in the allowed signers or keyring), U for ssh, B, X, Y, R
        return Signature(UNKNOWN_KEY if code in "UE" else BAD, fingerprint)
    if listed is None:
        others = {k.fingerprint for person in policy.approvers for k in person.keys}
        return Signature(WRONG_SIGNER if {fingerprint, primary} & others - {""} else UNKNOWN_KEY, fingerprint)
    # The key the policy lists for the author verified the merge. Which name git prints for it (the first of
    # an approver's addresses, a gpg key's primary user id) does not matter: the key is the binding.
    return Signature(VERIFIED, fingerprint)
