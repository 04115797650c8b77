"""Signing keys as xzdoc.yaml names them: an OpenSSH public key or a gpg fingerprint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from xzdoc.errors import XzdocError

_SSH_KEY = re.compile(r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|"
                      r"sk-ecdsa-sha2-nistp256@openssh\.com)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?")
_GPG_KEY = re.compile(r"gpg:([0-9A-Fa-f]{40})")


@dataclass(frozen=True)
class Key:
    """A signing key named in xzdoc.yaml: an OpenSSH public key or a gpg fingerprint."""

    kind: str            # "ssh" or "gpg"
    text: str            # "ssh-ed25519 AAAA…" (no comment), or the 40-hex fingerprint in upper case
    fingerprint: str     # SHA256:… as ssh-keygen and git print it, or the gpg fingerprint


def parse_key(value: str) -> Key | None:
    """A key as written in xzdoc.yaml; None when it is neither form."""
    import base64
    import hashlib

    value = value.strip()
    found = _SSH_KEY.fullmatch(value)
    if found:
        try:
            blob = base64.b64decode(found[2], validate=True)
        except ValueError:
            return None
        digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
        return Key("ssh", f"{found[1]} {found[2]}", f"SHA256:{digest}")
    found = _GPG_KEY.fullmatch(value)
    if found:
        return Key("gpg", found[1].upper(), found[1].upper())
    return None


def keys_in(value: Any, what: str, line: int | None, where: str = "xzdoc.yaml") -> list[Key]:
    """The keys of one xzdoc.yaml entry (a key or a list of them); anything else is refused at ``line``."""
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    out = []
    for item in value:
        key = parse_key(item) if isinstance(item, str) else None
        if key is None:
            raise XzdocError(f"{what} 中的“{str(item)[:40]}”不是公钥", where, line,
                             hint="写 OpenSSH 公钥（ssh-ed25519 AAAA… 注释，即 ~/.ssh/id_ed25519.pub 的内容）"
                                  "或 gpg:<40 位指纹>")
        out.append(key)
    return out
