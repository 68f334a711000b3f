"""Frames: each binary websocket frame is one msgpack map. Decoding enforces limits first.

>>> decode(encode({"type": "ping", "id": 1}))
{'type': 'ping', 'id': 1}
>>> decode(b"\\x91\\x01")
Traceback (most recent call last):
...
server.protocol.errors.ProtocolError: bad_frame: a frame must be a msgpack map
"""

from __future__ import annotations

from typing import Any

import attrs
import msgpack

from .errors import ProtocolError


@attrs.frozen
class Limits:
    """What one incoming frame may hold."""

    max_frame: int = 64 * 1024
    max_depth: int = 6
    max_str: int = 16 * 1024
    max_bin: int = 1024
    max_array: int = 512
    max_map: int = 64


DEFAULT_LIMITS = Limits()


def _depth_ok(value: Any, left: int) -> bool:
    if isinstance(value, dict):
        return left > 0 and all(_depth_ok(v, left - 1) for v in value.values())
    if isinstance(value, list):
        return left > 0 and all(_depth_ok(v, left - 1) for v in value)
    return True


def decode(frame: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """One frame's map.

    Raises:
        ProtocolError: ``bad_frame`` for anything that is not one map within ``limits``
            (too big, too deep, too long, not msgpack, extension types, trailing bytes).
    """
    if not isinstance(frame, (bytes, bytearray)):
        raise ProtocolError("bad_frame", "frames must be binary, not text")
    if len(frame) > limits.max_frame:
        raise ProtocolError("bad_frame", f"frame of {len(frame)} bytes exceeds {limits.max_frame}")
    try:
        value = msgpack.unpackb(
            bytes(frame), raw=False, strict_map_key=True, use_list=True,
            max_str_len=limits.max_str,
            max_bin_len=limits.max_bin, max_array_len=limits.max_array,
            max_map_len=limits.max_map, max_ext_len=0,
        )
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError,
            UnicodeDecodeError) as e:
        raise ProtocolError("bad_frame", f"not a msgpack map within limits: {type(e).__name__}") from None
    if not isinstance(value, dict):
        raise ProtocolError("bad_frame", "a frame must be a msgpack map")
    if not _depth_ok(value, limits.max_depth):
        raise ProtocolError("bad_frame", f"nested deeper than {limits.max_depth}")
    return value


def encode(message: dict[str, Any]) -> bytes:
    """The frame for an outgoing message."""
    return msgpack.packb(message, use_bin_type=True)


__all__ = ["Limits", "DEFAULT_LIMITS", "decode", "encode"]
