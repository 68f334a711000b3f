"""Event-loop lag, measured inside the server (benchmarks only; off unless ``KESSEN_STATS=1``).

A task sleeps for a fixed interval and records how late it wakes: that lateness is how long
something held the event loop (a callback, a SQLite call, an adjudication). ``SIGUSR1``
prints one ``stats {json}`` line to stdout with the figures since the last one and starts a
new window, so ``kessen bench server`` can bracket exactly its measured stage.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys
import time
from typing import Any

INTERVAL = 0.005


def enabled() -> bool:
    return os.environ.get("KESSEN_STATS", "") not in ("", "0")


class LoopLag:
    """How late a ``sleep(INTERVAL)`` wakes up, in a window of samples."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self.started = time.perf_counter()
        self._task: asyncio.Task[None] | None = None
        self.extra: Any = None  # () -> dict of more figures (the writer's)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        try:
            loop.add_signal_handler(signal.SIGUSR1, self.dump)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not the main thread
            pass

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        interval = self.interval
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(interval)
            self.samples.append(time.perf_counter() - t0 - interval)

    def summary(self) -> dict[str, Any]:
        s = sorted(self.samples)

        def pct(p: float) -> float:
            return round(1e3 * s[min(len(s) - 1, int(p * len(s)))], 3) if s else 0.0

        return {"window_s": round(time.perf_counter() - self.started, 3), "samples": len(s),
                "lag_ms_p50": pct(0.50), "lag_ms_p99": pct(0.99), "lag_ms_max": round(1e3 * s[-1], 3) if s else 0.0,
                "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 3),
                **(self.extra() if self.extra is not None else {})}

    def dump(self) -> None:
        sys.stdout.write("stats " + json.dumps(self.summary()) + "\n")
        sys.stdout.flush()
        self.samples = []
        self.started = time.perf_counter()


__all__ = ["LoopLag", "enabled"]
