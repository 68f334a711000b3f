"""The only source of time in the server: deadlines, timestamps, start times.

:class:`SystemClock` in production; :class:`FakeClock` for in-process tests (``advance``);
:class:`FileClock` for tests that drive a server subprocess: ``kessen serve --clock-file F``
reads "now" (UTC seconds, an integer or decimal number) from ``F`` whenever it needs the
time; the test rewrites the file to move time. Asyncio's own timers (the scheduler's tick,
the hello timeout) use real time; they never decide game outcomes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


class SystemClock:
    def now(self) -> float:
        return time.time()

    def fresh(self) -> float:
        """``now()``, never from a cache (the scheduler's tick)."""
        return time.time()


class FakeClock:
    def __init__(self, start: float = 1_800_000_000) -> None:
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def fresh(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FileClock:
    """Time read from a file; an unreadable file keeps the last good value.

    Requests read the file at most once per ``REREAD`` seconds (of real time), so that a
    busy server does not read it for every request; the scheduler's tick (:meth:`fresh`)
    reads it every time, so a deadline is seen at the first tick after the file passes it.
    """

    REREAD = 0.005  # requests; the scheduler's tick reads the file each time (fresh)

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.last = 0.0
        self.read_at = -1.0
        self.now()

    def now(self) -> float:
        t = time.monotonic()
        if t - self.read_at < self.REREAD:
            return self.last
        return self.fresh()

    def fresh(self) -> float:
        self.read_at = time.monotonic()
        try:  # os-level calls: Path.read_text costs several times more, 200 times a second
            fd = os.open(self.path, os.O_RDONLY)
            try:
                data = os.read(fd, 64)
            finally:
                os.close(fd)
            self.last = float(data.decode("ascii").strip())
        except (OSError, ValueError):
            pass
        return self.last


def set_file_clock(path: str | Path, value: float) -> None:
    """Atomically write ``value`` to a clock file (for tests)."""
    p = Path(path)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(repr(float(value)))
    tmp.replace(p)


__all__ = ["SystemClock", "FakeClock", "FileClock", "set_file_clock"]
