"""Connection limits: a message-rate bucket per connection, and connections counted per address.

Both are plain bookkeeping (no I/O, no clock of their own: callers pass "now", the event
loop's monotonic time), used by :mod:`server.net.handler` and by the ``process_request``
that :mod:`server.net.app` hands to ``websockets`` (see :func:`gated`).

>>> bucket = TokenBucket(rate=1, burst=2, flood=1, now=0.0)
>>> [bucket.take(0.0) for _ in range(3)], bucket.flooding
([True, True, False], False)
>>> bucket.take(0.0), bucket.flooding
(False, True)
>>> gate = AddressGate(cap=1)
>>> gate.acquire("10.0.0.1"), gate.acquire("10.0.0.1"), gate.acquire("10.0.0.2")
(True, False, True)
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable


class TokenBucket:
    """``rate`` messages a second sustained, ``burst`` at once.

    Each accepted message takes a token; tokens come back at ``rate`` a second up to
    ``burst``. A message that finds no token is refused (it takes none) and counts as
    *excess*; excess drains away at ``rate`` a second too. A connection whose excess exceeds
    ``flood`` is flooding: it keeps sending although every reply says ``rate_limited``.
    """

    __slots__ = ("rate", "burst", "flood", "tokens", "excess", "last")

    def __init__(self, rate: float, burst: float, flood: float, now: float) -> None:
        self.rate, self.burst, self.flood = rate, burst, flood
        self.tokens = float(burst)
        self.excess = 0.0
        self.last = now

    def take(self, now: float) -> bool:
        """Whether a message arriving at ``now`` may be served (True) or is refused."""
        gained = (now - self.last) * self.rate
        self.last = now
        if gained > 0:
            self.tokens = min(self.burst, self.tokens + gained)
            self.excess = max(0.0, self.excess - gained)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.excess += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.excess > self.flood


class AddressGate:
    """Open connections per remote address, at most ``cap`` each (``exempt`` addresses: any)."""

    def __init__(self, cap: int, exempt: tuple[str, ...] = ()) -> None:
        self.cap, self.exempt = cap, frozenset(exempt)
        self.counts: dict[str, int] = {}

    def full(self, address: str) -> bool:
        """Whether one more connection from ``address`` would be over the cap."""
        return address not in self.exempt and self.counts.get(address, 0) >= self.cap

    def acquire(self, address: str) -> bool:
        """Count a new connection from ``address``; False (and not counted) if over the cap."""
        if self.full(address):
            return False
        self.counts[address] = self.counts.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        left = self.counts.get(address, 0) - 1
        if left > 0:
            self.counts[address] = left
        else:
            self.counts.pop(address, None)


def peer_address(connection: Any) -> str:
    """The remote IP address of a websockets connection ("" if unknown)."""
    try:
        peer = connection.remote_address
    except Exception:  # the transport is already gone
        return ""
    return str(peer[0]) if isinstance(peer, (tuple, list)) and peer else ""


ProcessRequest = Callable[[Any, Any], Awaitable[Any]]


def gated(inner: ProcessRequest, gate: AddressGate) -> ProcessRequest:
    """A ``process_request`` that refuses a websocket handshake with HTTP 503 (and
    ``Retry-After``) when its address already has ``gate.cap`` connections, and otherwise
    defers to ``inner`` (the plain-HTTP routes of :mod:`server.net.http`)."""
    from .http import is_websocket, response

    async def process_request(connection: Any, request: Any) -> Any:
        if is_websocket(request) and gate.full(peer_address(connection)):
            refused = response(503, b"too many connections from your address; try again later\n")
            refused.headers["Retry-After"] = "10"
            return refused
        return await inner(connection, request)

    return process_request


__all__ = ["TokenBucket", "AddressGate", "gated", "peer_address"]
