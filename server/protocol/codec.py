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


def _shape_error(value: dict[Any, Any], max_depth: int) -> str | None:
    """Why a decoded map is refused: a key that is not a string, or containers nesting more
    than ``max_depth`` levels (the frame's map is level 1). None if it is fine.

    Iterative, stopping at the first fault: its cost is bounded by the number of items in
    the frame (at most one per byte), never by recursion.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            for k in node:
                if type(k) is not str:
                    return "map keys must be strings"
            items = node.values()
        else:
            items = node
        for v in items:
            if type(v) is dict or type(v) is list:
                if depth >= max_depth:
                    return f"nested deeper than {max_depth}"
                stack.append((v, depth + 1))
    return None


def decode(frame: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """One frame's map.

    Depth: ``msgpack`` itself refuses nesting beyond its fixed stack (1024 levels, with
    ``StackError``) without recursing in Python; anything shallower is then checked
    against ``limits.max_depth`` by :func:`_shape_error`.

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
            UnicodeDecodeError, RecursionError, OverflowError) as e:  # Recursion: the pure-Python fallback
        raise ProtocolError("bad_frame", f"not a msgpack map within limits: {type(e).__name__}") from None
    if not isinstance(value, dict):
        raise ProtocolError("bad_frame", "a frame must be a msgpack map")
    fault = _shape_error(value, limits.max_depth)
    if fault is not None:
        raise ProtocolError("bad_frame", fault)
    return value


def encode(message: dict[str, Any]) -> bytes:
    """The frame for an outgoing message."""
    return msgpack.packb(message, use_bin_type=True)


__all__ = ["Limits", "DEFAULT_LIMITS", "decode", "encode"]
