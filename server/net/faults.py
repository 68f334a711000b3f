"""Named crash points for the crash tests (test-only).

``KESSEN_CRASH_AT=after_commit_before_ack`` makes the server ``os._exit(9)`` (like kill -9:
no cleanup, no flush) the first time it reaches that point; ``NAME:3`` on the third time.
Points: ``after_decode``, ``after_commit_before_ack``, ``during_adjudication`` (inside the
adjudication transaction, before commit), ``after_adjudication_before_broadcast``.
"""

from __future__ import annotations

import os
import sys

POINTS = ("after_decode", "after_commit_before_ack", "during_adjudication",
          "after_adjudication_before_broadcast")

_target = ""
_left = 0


def arm(spec: str) -> None:
    """Arm from ``NAME`` or ``NAME:N``; an empty spec disarms."""
    global _target, _left
    name, _, count = spec.partition(":")
    if name and name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}; known: {', '.join(POINTS)}")
    _target, _left = name, int(count or 1)


def crash_point(name: str) -> None:
    """Die here if armed for ``name``."""
    global _left
    if _target != name:
        return
    _left -= 1
    if _left <= 0:
        sys.stderr.write(f"kessen: crash point {name}\n")
        sys.stderr.flush()
        os._exit(9)


__all__ = ["POINTS", "arm", "crash_point"]
