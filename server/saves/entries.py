"""The stored form of an order entry and its outcome (PURE), shared by the file format and
the in-memory records.

An entry is ``[order text, result code, reason, by]`` with trailing defaults (``null``
reason, ``""`` by) left out, so a success entered by the nation's own player is just
``["A par - bur", 0]``. Result and reason codes are indexes into the format v1 tables below;
a reason code missing from the table is stored by name.
"""

from __future__ import annotations

from typing import Any

from ..engine.outcome import Reason

# Format v1 code tables. These tuples never change for v1.
RESULT_CODES = ("succeeds", "fails", "illegal", "void")
REASON_CODES = (
    "no_unit", "not_your_unit", "wrong_unit_type", "not_adjacent", "army_to_sea",
    "fleet_inland", "coast_needed", "coast_unreachable", "own_province", "no_convoy_route",
    "convoy_not_army", "convoy_from_coast", "cannot_support_self", "cannot_reach",
    "wrong_phase", "not_dislodged", "retreat_blocked", "not_home_centre", "not_owned",
    "occupied", "no_builds", "no_removals", "duplicate", "no_rail", "rail_not_allowed",
    "rail_capacity", "frozen", "no_permission", "bounced", "dislodged", "cut",
    "convoy_disrupted", "paradox", "too_many", "standoff", "rail_blocked", "unmatched",
)
RESULT_INDEX = {c: i for i, c in enumerate(RESULT_CODES)}
REASON_INDEX = {c: i for i, c in enumerate(REASON_CODES)}
SEQ = (list, tuple)


class Bad(ValueError):
    """A plain form does not fit the schema; ``field`` names where (dotted path)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message, self.field = message, field
        super().__init__(f"{field}: {message}" if field else message)


def reason_plain(r: Reason | None) -> list[Any] | None:
    """``Reason("bounced", at="bur")`` -> ``[28, "bur"]`` (code index, trailing nulls dropped).

    >>> reason_plain(Reason("bounced", at="bur")), reason_plain(Reason("new_code"))
    ([28, 'bur'], ['new_code'])
    """
    if r is None:
        return None
    for f in (r.at, r.by, r.detail):
        if f is not None and not isinstance(f, str):
            raise Bad(f"reason field {f!r} is not text", "reason")
    out: list[Any] = [REASON_INDEX.get(r.code, r.code), r.at, r.by, r.detail]
    while out[-1] is None:
        out.pop()
    return out


_REASONS: dict[tuple[Any, ...], Reason] = {}


def reason_from_plain(p: Any, field: str) -> Reason | None:
    """Inverse of :func:`reason_plain`; raises :class:`Bad` naming ``field``."""
    if p is None:
        return None
    if type(p) is tuple and p and type(p[0]) in (int, str):  # exact keys: 28.0 == 28
        found = _REASONS.get(p)
        if found is not None:
            return found
    if not isinstance(p, SEQ) or not 1 <= len(p) <= 4 or (p[-1] is None and len(p) > 1):
        raise Bad("expected [code, at, by, detail] without trailing nulls", field)
    code = p[0]
    if type(code) is int:
        if not 0 <= code < len(REASON_CODES):
            raise Bad(f"unknown reason code {code}", field)
        code = REASON_CODES[code]
    elif type(code) is not str or code in REASON_INDEX:
        raise Bad("reason code must be a table index or an unlisted name", field)
    rest = list(p[1:]) + [None] * (4 - len(p))
    if any(v is not None and type(v) is not str for v in rest):
        raise Bad("reason fields must be text or null", field)
    r = Reason(code, rest[0], rest[1], rest[2])
    if type(p) is tuple and len(_REASONS) < 50_000:
        _REASONS[p] = r
    return r


def entry_plain(text: str, result: str, reason: Reason | None, by: str) -> list[Any]:
    """The stored form of one entry.

    >>> entry_plain("A par - bur", "fails", Reason("bounced", at="bur"), "")
    ['A par - bur', 1, [28, 'bur']]
    """
    if result not in RESULT_INDEX:
        raise Bad(f"unknown result {result!r}", "result")
    if not isinstance(text, str) or not isinstance(by, str):
        raise Bad("order text and 'by' must be text", "orders")
    out: list[Any] = [text, RESULT_INDEX[result], reason_plain(reason), by]
    if by == "":
        out.pop()
        if reason is None:
            out.pop()
    return out


def check_entry(p: Any, field: str) -> None:
    """Raise :class:`Bad` unless ``p`` is an entry in canonical stored form."""
    if type(p) is tuple and type(p[0]) is str and type(p[1]) is int and 0 <= p[1] < 4:
        n = len(p)
        if n == 2:
            return  # the common case: success or failure without reason, own player
        if n == 3 and type(p[2]) is tuple and type(p[2][0]) in (int, str) and p[2] in _REASONS:
            return  # a reason seen before (exact-typed key)
    entry_values(p, field)


def entry_values(p: Any, field: str) -> tuple[str, str, Reason | None, str]:
    """``(text, result, reason, by)`` of a stored entry; raises :class:`Bad` naming ``field``."""
    if not isinstance(p, SEQ) or not 2 <= len(p) <= 4 or type(p[0]) is not str:
        raise Bad("expected [order text, result, reason, by]", field)
    res = p[1]
    if type(res) is not int or not 0 <= res < len(RESULT_CODES):
        raise Bad(f"unknown result code {res!r}", field)
    reason = reason_from_plain(p[2], field) if len(p) > 2 else None
    by = p[3] if len(p) > 3 else ""
    if type(by) is not str or (len(p) == 4 and by == "") or (len(p) == 3 and reason is None):
        raise Bad("not canonical: trailing default values must be left out", field)
    return p[0], RESULT_CODES[res], reason, by


__all__ = [
    "RESULT_CODES", "REASON_CODES", "Bad", "reason_plain", "reason_from_plain", "entry_plain",
    "check_entry", "entry_values",
]
