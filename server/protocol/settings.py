"""Game settings (PURE apart from reading time-zone data): validation and deadline arithmetic.

Settings as a client sends them (every key optional)::

    {"deadlines": {"movement": {"after": 86400},            # a duration in seconds, or
                   "retreat": {"at": "18:00", "tz": "Europe/London"},  # a time of day
                   "adjustment": {"after": 3600}},
     "grace": 600,             # seconds added to a deadline while a nation has no orders in
     "early": true,            # process as soon as every nation that must act is ready
     "early_delay": 30,        # ... this many seconds after the last one became ready
     "civil_disorder_after": 3,  # missed movement phases before civil disorder (0: never)
     "start": "full" | {"at": 1767225600}}  # when all nations are claimed, or at a UTC time

:func:`normalise` returns the full form (every key present, ``start_at`` an int or None).

>>> s = normalise({"deadlines": {"movement": {"after": 60}}})
>>> s["deadlines"]["movement"], s["grace"], s["start_at"]
({'after': 60}, 0, None)
>>> next_deadline(s, "movement", 1000)
1060
>>> next_deadline(normalise({"deadlines": {"retreat": {"at": "18:00", "tz": "UTC"}}}), "retreat", 0)
64800
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ProtocolError

KINDS = ("movement", "retreat", "adjustment")
DEFAULT_DEADLINES = {"movement": {"after": 86400}, "retreat": {"after": 43200}, "adjustment": {"after": 43200}}
MAX_SECONDS = 366 * 86400


def _bad(field: str, message: str) -> ProtocolError:
    return ProtocolError("bad_settings", message, f"settings.{field}")


def _seconds(value: Any, field: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_SECONDS:
        raise _bad(field, f"must be an integer number of seconds in [{low}, {MAX_SECONDS}]")
    return value


def _deadline(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(field, 'must be {"after": SECONDS} or {"at": "HH:MM", "tz": ZONE}')
    if set(value) == {"after"}:
        return {"after": _seconds(value["after"], field + ".after", 1)}
    if set(value) in ({"at"}, {"at", "tz"}):
        at, tz = value["at"], value.get("tz", "UTC")
        try:
            hh, mm = (int(x) for x in str(at).split(":"))
            if not (0 <= hh < 24 and 0 <= mm < 60) or len(str(at)) != 5:
                raise ValueError
        except ValueError:
            raise _bad(field + ".at", "must be a time of day HH:MM") from None
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad(field + ".tz", f"unknown time zone {tz!r}") from None
        return {"at": str(at), "tz": str(tz)}
    raise _bad(field, 'must be {"after": SECONDS} or {"at": "HH:MM", "tz": ZONE}')


def normalise(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The full settings, every value checked.

    Raises:
        ProtocolError: ``bad_settings`` naming the field (``settings.deadlines.movement``).
    """
    raw = dict(raw or {})
    known = {"deadlines", "grace", "early", "early_delay", "civil_disorder_after", "start"}
    for key in raw:
        if key not in known:
            raise _bad(key, f"unknown setting; known: {', '.join(sorted(known))}")
    dls = raw.get("deadlines", {})
    if not isinstance(dls, dict) or set(dls) - set(KINDS):
        raise _bad("deadlines", f"must map some of {', '.join(KINDS)} to a deadline")
    deadlines = {k: _deadline(dls[k], f"deadlines.{k}") if k in dls else dict(DEFAULT_DEADLINES[k]) for k in KINDS}
    early = raw.get("early", True)
    if not isinstance(early, bool):
        raise _bad("early", "must be true or false")
    cd = raw.get("civil_disorder_after", 3)
    if not isinstance(cd, int) or isinstance(cd, bool) or not 0 <= cd <= 100:
        raise _bad("civil_disorder_after", "must be an integer in [0, 100]")
    start = raw.get("start", "full")
    if start == "full":
        start_at = None
    elif isinstance(start, dict) and set(start) == {"at"} and isinstance(start["at"], int) and not isinstance(start["at"], bool) and start["at"] >= 0:
        start_at = start["at"]
    else:
        raise _bad("start", 'must be "full" or {"at": UTC_SECONDS}')
    return {
        "deadlines": deadlines,
        "grace": _seconds(raw.get("grace", 0), "grace"),
        "early": early,
        "early_delay": _seconds(raw.get("early_delay", 0), "early_delay"),
        "civil_disorder_after": cd,
        "start_at": start_at,
    }


def next_deadline(settings: dict[str, Any], kind: str, now: float) -> int:
    """UTC seconds of the deadline of a ``kind`` phase that starts at ``now``.

    A duration counts from ``now``; a time of day is its next occurrence strictly after ``now``
    in the zone given (DST handled by the zone data).
    """
    spec = settings["deadlines"][kind]
    start = int(now)
    if "after" in spec:
        return start + int(spec["after"])
    zone = ZoneInfo(spec["tz"])
    hh, mm = (int(x) for x in spec["at"].split(":"))
    local = dt.datetime.fromtimestamp(start, zone)
    for days in range(0, 3):
        day = (local + dt.timedelta(days=days)).date()
        cand = dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=zone)
        ts = int(cand.timestamp())
        if ts > start:
            return ts
    raise AssertionError("no time of day within three days")  # pragma: no cover


__all__ = ["KINDS", "normalise", "next_deadline"]
