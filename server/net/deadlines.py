"""Deadlines people can live with: reminders (pushed and to a webhook), absences, time zones."""

from __future__ import annotations


class DeadlineMixin:
    """``on_absence``, ``on_profile`` and :meth:`remind` for :class:`server.net.service.Service`."""

    def remind(self, now: float) -> None:
        """Send the reminders that are due (called by the scheduler's tick)."""
