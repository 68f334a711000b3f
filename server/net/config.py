"""Server configuration, built once from the command line (or by tests) and never changed."""

from __future__ import annotations

import os

import attrs

from ..protocol.codec import DEFAULT_LIMITS, Limits


@attrs.frozen
class Config:
    """Everything the server needs to start.

    ``clock_file`` (test-only) makes the server read "now" from a file holding UTC seconds
    (see :class:`server.net.clock.FileClock`). ``crash_at`` (test-only, from the environment
    variable ``KESSEN_CRASH_AT``) names a point where the process kills itself, see
    :mod:`server.net.faults`.

    ``games_dir`` is where each adjudicated phase's posts and maps are published and served
    from (default: ``games`` next to the database, see :mod:`server.net.publish`); ``render``
    false (``--no-render``, or the environment variable ``KESSEN_NO_RENDER=1``) publishes
    nothing.
    """

    db: str = "kessen.db"
    host: str = "127.0.0.1"
    port: int = 8765
    demo: bool = False
    clock_file: str | None = None
    tick: float = 0.2
    auth_timeout: float = 5.0
    shutdown_timeout: float = 5.0
    max_queue: int = 1024
    limits: Limits = DEFAULT_LIMITS
    crash_at: str = attrs.field(factory=lambda: os.environ.get("KESSEN_CRASH_AT", ""))
    games_dir: str | None = None
    render: bool = attrs.field(factory=lambda: os.environ.get("KESSEN_NO_RENDER", "") != "1")


__all__ = ["Config"]
