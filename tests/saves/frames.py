"""Test helpers: cut a save into frames and put it back together (for surgery on files)."""

from __future__ import annotations

import struct
from typing import Any

import msgpack

from server.engine import canonical
from server.saves.format import PREFIX_LEN

_LEN = struct.Struct(">I")


def split(data: bytes) -> tuple[bytes, list[bytes]]:
    """``(magic + version, [frame payloads])`` of a well-formed save."""
    pos, out = PREFIX_LEN, []
    while pos < len(data):
        (n,) = _LEN.unpack_from(data, pos)
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    return data[:PREFIX_LEN], out


def spans(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` byte ranges of each frame, length prefix included."""
    pos, out = PREFIX_LEN, []
    while pos < len(data):
        (n,) = _LEN.unpack_from(data, pos)
        out.append((pos, pos + 4 + n))
        pos += 4 + n
    return out


def join(prefix: bytes, payloads: list[bytes]) -> bytes:
    return prefix + b"".join(_LEN.pack(len(p)) + p for p in payloads)


def decode(payload: bytes) -> dict[str, Any]:
    return msgpack.unpackb(payload, raw=False)


def encode(obj: dict[str, Any]) -> bytes:
    return canonical.encode(obj)


def _sort(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _sort(v[k]) for k in sorted(v)}
    if isinstance(v, (list, tuple)):
        return [_sort(x) for x in v]
    return v


def rechain(prefix: bytes, objs: list[dict[str, Any]]) -> bytes:
    """Encode frame objects with a freshly computed chain (a forger's rewrite), trailer last.

    Keys are sorted but value types are kept as given (floats too), unlike canonical.encode.
    """
    from server.saves.format import link

    prev = prefix
    payloads = []
    for obj in objs:
        body = _sort({k: v for k, v in obj.items() if k != "chain"})
        if obj.get("kind") != "end":
            prev = link(prev, msgpack.packb(body, use_bin_type=True))
        payloads.append(msgpack.packb(_sort({**body, "chain": prev}), use_bin_type=True))
    return join(prefix, payloads)
