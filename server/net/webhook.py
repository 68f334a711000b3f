"""Posting to a game's webhook (Discord-compatible JSON) without ever blocking the event loop.

:class:`Poster` owns a bounded queue and at most ``workers`` daemon threads; the event loop
only calls :meth:`Poster.post`, which enqueues and returns at once (a full queue drops the
post and logs it) and starts a worker while there are fewer than ``workers``. A worker sends
``{"content": TEXT, "username": "Kessen"}`` with ``urllib.request`` and a timeout, retries
once after ``retry_delay`` seconds, and logs a failure: a receiver that is down, slow or
answers an error never affects a game. Workers exit after ``idle`` seconds without work and
are started again on demand, so a server that never posts runs no thread.

>>> discord_body("x" * 3000)["content"][-3:], len(discord_body("x" * 3000)["content"])
('...', 2000)
>>> discord_body("hi")
{'content': 'hi', 'username': 'Kessen'}
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

log = logging.getLogger("kessen.webhook")

MAX_CONTENT = 2000
"""Discord's limit on a message's ``content``."""


def discord_body(text: str) -> dict[str, Any]:
    """The JSON body Discord (and compatible receivers) accept, ``content`` at most 2000 chars."""
    if len(text) > MAX_CONTENT:
        text = text[: MAX_CONTENT - 3] + "..."
    return {"content": text, "username": "Kessen"}


class Poster:
    """A bounded queue of posts and a few worker threads (see the module docstring)."""

    def __init__(self, workers: int = 2, capacity: int = 64, timeout: float = 5.0,
                 retry_delay: float = 1.0, idle: float = 10.0) -> None:
        self.max_workers, self.timeout, self.retry_delay, self.idle = workers, timeout, retry_delay, idle
        self.queue: queue.Queue[tuple[str, bytes]] = queue.Queue(capacity)
        self.lock = threading.Lock()
        self.workers = 0
        self.sent = self.failed = self.dropped = 0

    def post(self, url: str, text: str) -> bool:
        """Queue one message for ``url`` (never blocks); False if the queue was full."""
        if not url.startswith(("http://", "https://")):  # settings check this too
            log.warning("webhook: refusing a URL that is not http(s)")
            return False
        body = json.dumps(discord_body(text)).encode()
        try:
            self.queue.put_nowait((url, body))
        except queue.Full:
            with self.lock:
                self.dropped += 1
            log.warning("webhook: queue full; a post was dropped")
            return False
        with self.lock:
            if self.workers < self.max_workers:  # idle workers exit after ``idle`` s
                self.workers += 1
                threading.Thread(target=self._work, name="kessen-webhook", daemon=True).start()
        return True

    def _work(self) -> None:
        while True:
            try:
                url, body = self.queue.get(timeout=self.idle)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.workers -= 1
                        return
                continue
            try:
                self._send(url, body)
            except BaseException:  # pragma: no cover - a worker must never die with work queued
                log.exception("webhook: post failed")

    def _send(self, url: str, body: bytes) -> None:
        for attempt in (1, 2):
            try:
                req = urllib.request.Request(url, data=body, method="POST", headers={
                    "Content-Type": "application/json", "User-Agent": "Kessen (webhook)"})
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    resp.read(65536)
                with self.lock:
                    self.sent += 1
                return
            except (urllib.error.URLError, OSError, ValueError) as e:
                host = urllib.parse.urlparse(url).hostname
                log.warning("webhook: post to %s failed (attempt %d): %s", host, attempt, e)
                if attempt == 1:
                    time.sleep(self.retry_delay)
        with self.lock:
            self.failed += 1


__all__ = ["Poster", "discord_body", "MAX_CONTENT"]
