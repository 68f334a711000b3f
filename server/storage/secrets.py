"""Secrets (tokens, invite codes): random, shown once, stored only as a salted scrypt hash.

A secret reads ``u12.XXXX`` (token of user 12) or ``i7.XXXX`` (invite 7): the id finds the
row, the hash of the random part ``XXXX`` is checked against it. Hashing costs tens of milliseconds on purpose, so the server
calls :func:`check` in an executor, never on the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _secrets

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def new_secret() -> str:
    """A fresh random part: 32 url-safe characters (192 bits)."""
    return _secrets.token_urlsafe(24)


def join(prefix: str, row_id: int, secret: str) -> str:
    """The secret as shown to people: ``join("u", 12, "abc")`` -> ``"u12.abc"``."""
    return f"{prefix}{row_id}.{secret}"


def split(text: str, prefix: str) -> tuple[int, str] | None:
    """``("u12.abc", "u")`` -> ``(12, "abc")``; None when it cannot be one of ours.

    >>> split("u12.abc", "u"), split("i12.abc", "u"), split("u.abc", "u")
    ((12, 'abc'), None, None)
    """
    head, dot, rest = text.partition(".")
    if not dot or not rest or len(text) > 200 or not head.startswith(prefix) or not head[len(prefix):].isdigit():
        return None
    return int(head[len(prefix):]), rest


def make_hash(secret: str) -> bytes:
    """``salt + scrypt(secret, salt)`` (48 bytes)."""
    salt = os.urandom(16)
    return salt + hashlib.scrypt(secret.encode(), salt=salt, **SCRYPT)  # type: ignore[arg-type]


def check(secret: str, stored: bytes) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time comparison)."""
    salt, want = stored[:16], stored[16:]
    got = hashlib.scrypt(secret.encode(), salt=salt, **SCRYPT)  # type: ignore[arg-type]
    return hmac.compare_digest(got, want)


__all__ = ["new_secret", "join", "split", "make_hash", "check"]
