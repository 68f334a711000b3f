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

    Connection limits (PROTOCOL.md, "Connection limits and close codes"): ``rate`` requests a
    second per connection sustained, ``burst`` at once (the excess is answered
    ``rate_limited``; a connection with more than ``flood`` refused requests outstanding is
    closed with 1008); more than ``max_bad_frames`` malformed frames close a connection with
    1007; output pending for a client that does not read closes it with 1013 past
    ``max_pending`` bytes; at most ``max_per_address`` connections per remote address
    (addresses in ``cap_exempt``, loopback by default, e.g. a local reverse proxy: no cap).
    """

    db: str = "kessen.db"
    host: str = "127.0.0.1"
    port: int = 8765
    demo: bool = False
    clock_file: str | None = None
    tick: float = 0.2
    auth_timeout: float = 5.0
    shutdown_timeout: float = 5.0
    close_timeout: float = 2.0
    max_pending: int = 4 * 1024 * 1024
    rate: float = 100.0
    burst: int = 200
    flood: int = 400
    max_bad_frames: int = 10
    max_per_address: int = 16
    cap_exempt: tuple[str, ...] = ("127.0.0.1", "::1")
    limits: Limits = DEFAULT_LIMITS
    crash_at: str = attrs.field(factory=lambda: os.environ.get("KESSEN_CRASH_AT", ""))
    games_dir: str | None = None
    render: bool = attrs.field(factory=lambda: os.environ.get("KESSEN_NO_RENDER", "") != "1")


__all__ = ["Config"]
