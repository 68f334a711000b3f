"""Host tools: pause, resume, extend, process now, preview, rollback, replace, enter orders,
advertise a seat. Every use is logged in the game's event history."""

from __future__ import annotations


class HostMixin:
    """The host's requests for :class:`server.net.service.Service`."""
