"""Game settings (PURE apart from reading time-zone data): validation and deadline arithmetic.

Settings as a client sends them (every key optional)::

    {"deadlines": {"movement": {"after": 86400},            # a duration in seconds, or
                   "retreat": {"at": "18:00", "tz": "Europe/London"},  # a time of day
                   "adjustment": {"after": 3600}},
     "grace": 600,             # seconds added to a deadline while a nation has no orders in
     "early": true,            # process as soon as every nation that must act is ready
     "early_delay": 30,        # ... this many seconds after the last one became ready
     "civil_disorder_after": 3,  # missed movement phases before civil disorder (0: never)
     "start": "full" | {"at": 1767225600},  # when all nations are claimed, or at a UTC time
     "press": "full" | "public" | "none",  # private and broadcast, broadcast only, or none
     "grey_press": false,      # anonymous press allowed
     "press_in_all_phases": false,  # false: no press during retreat and adjustment phases
     "release_press": false,   # publish all press to everyone when the game ends
     "reminders": [3600],      # seconds before the deadline to remind nations not yet complete
     "webhook": null,          # an http(s) URL: reminders (and results) posted as Discord JSON
     "max_extend": 172800,     # the most a host may extend one phase's deadline, in total
     "max_absence": 604800,    # the most one absence may move a deadline
     "resume_min": 3600,       # a resumed phase gets the time it had left, at least this
     "draw_votes": "secret" | "public",
     "tz": "UTC"}              # the host's zone, for times shown in posts and reminders

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


def _flag(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _bad(key, "must be true or false")
    return value


def _choice(raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = raw.get(key, allowed[0])
    if value not in allowed:
        raise _bad(key, f"must be one of {', '.join(repr(a) for a in allowed)}")
    return str(value)


def zone_ok(tz: str) -> bool:
    """Whether ``tz`` is a time zone the zone data knows (``Europe/London``).

    >>> zone_ok("Asia/Tokyo"), zone_ok("Mars/Olympus"), zone_ok("../etc")
    (True, False, False)
    """
    if not tz or len(tz) > 64 or not tz.isprintable():
        return False
    try:
        ZoneInfo(tz)
        return True
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False


def normalise(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The full settings, every value checked.

    Raises:
        ProtocolError: ``bad_settings`` naming the field (``settings.deadlines.movement``).
    """
    raw = dict(raw or {})
    known = {"deadlines", "grace", "early", "early_delay", "civil_disorder_after", "start", "press", "grey_press",
             "press_in_all_phases", "release_press", "reminders", "webhook", "max_extend", "max_absence",
             "resume_min", "draw_votes", "tz"}
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
    press = _choice(raw, "press", ("full", "public", "none"))
    draw_votes = _choice(raw, "draw_votes", ("secret", "public"))
    reminders = raw.get("reminders", [3600])
    if not isinstance(reminders, list) or len(reminders) > 8:
        raise _bad("reminders", "must be a list of at most 8 offsets in seconds before the deadline")
    reminders = sorted({_seconds(r, f"reminders[{i}]", 1) for i, r in enumerate(reminders)}, reverse=True)
    webhook = raw.get("webhook")
    if webhook is not None and (not isinstance(webhook, str) or len(webhook) > 500
                                or not webhook.startswith(("http://", "https://")) or not webhook.isprintable()):
        raise _bad("webhook", "must be an http:// or https:// URL of at most 500 characters, or null")
    tz = raw.get("tz", "UTC")
    if not isinstance(tz, str) or not zone_ok(tz):
        raise _bad("tz", f"unknown time zone {tz!r}")
    return {
        "press": press,
        "grey_press": _flag(raw, "grey_press", False),
        "press_in_all_phases": _flag(raw, "press_in_all_phases", False),
        "release_press": _flag(raw, "release_press", False),
        "reminders": reminders,
        "webhook": webhook,
        "max_extend": _seconds(raw.get("max_extend", 172800), "max_extend"),
        "max_absence": _seconds(raw.get("max_absence", 604800), "max_absence"),
        "resume_min": _seconds(raw.get("resume_min", 3600), "resume_min"),
        "draw_votes": draw_votes,
        "tz": tz,
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


def shift_for_absences(deadline: int, absences: list[tuple[int, int, int]], bound: int) -> int:
    """A deadline that falls inside a declared absence ``(user, start, end)`` moves to the
    absence's end, never more than ``bound`` seconds later than it was (absences that overlap
    or follow one another move it on; the bound holds for the total).

    >>> shift_for_absences(100, [(1, 50, 200)], 1000)
    200
    >>> shift_for_absences(100, [(1, 50, 200), (2, 150, 400)], 1000)
    400
    >>> shift_for_absences(100, [(1, 50, 5000)], 1000)
    1100
    >>> shift_for_absences(300, [(1, 50, 200)], 1000)
    300
    """
    limit = deadline + bound
    moved = deadline
    while True:
        ends = [end for _, start, end in absences if start <= moved < end]
        if not ends or moved >= limit:
            return min(moved, limit)
        moved = min(max(ends), limit)


__all__ = ["KINDS", "normalise", "next_deadline", "shift_for_absences", "zone_ok"]
