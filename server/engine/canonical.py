"""Canonical plain forms and digests.

The plain form of a value holds only dicts with string keys, lists, strings, integers,
booleans and None, so it encodes the same way everywhere. :func:`encode` writes it as msgpack
with keys sorted at every level; :func:`digest` is the SHA-256 of those bytes. Two equal
states have byte-identical encodings in any process under any ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgpack

from .outcome import OrderResult, Reason
from .state import Dislodged, GameState, Unit


def state_plain(state: GameState) -> dict[str, Any]:
    """The canonical plain form of a state."""
    return {
        "year": state.year,
        "season": state.season,
        "phase": state.phase,
        "units": [[u.nation, u.kind, u.loc] for u in state.units],
        "centres": [[c, n] for c, n in state.centres],
        "dislodged": [[d.unit.nation, d.unit.kind, d.unit.loc, d.attacker_from, d.convoyed] for d in state.dislodged],
        "standoffs": list(state.standoffs),
        "winner": state.winner,
    }


def state_from_plain(p: dict[str, Any]) -> GameState:
    """Inverse of :func:`state_plain` (raises KeyError/TypeError/ValueError on bad input)."""
    return GameState.build(
        int(p["year"]), str(p["season"]), str(p["phase"]),
        (Unit(str(n), str(k), str(loc)) for n, k, loc in p["units"]),
        [(str(c), str(n)) for c, n in p["centres"]],
        (Dislodged(Unit(str(n), str(k), str(loc)), str(frm), bool(cv)) for n, k, loc, frm, cv in p["dislodged"]),
        [str(s) for s in p["standoffs"]],
        None if p["winner"] is None else str(p["winner"]),
    )


def reason_plain(r: Reason | None) -> list[Any] | None:
    return None if r is None else [r.code, r.at, r.by, r.detail]


def reason_from_plain(p: list[Any] | None) -> Reason | None:
    return None if p is None else Reason(p[0], p[1], p[2], p[3])


def result_plain(r: OrderResult, order_text: str) -> list[Any]:
    """``[nation, canonical order text, result, reason]``."""
    return [r.nation, order_text, r.result, reason_plain(r.reason)]


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical data")
    return value


def encode(plain: Any) -> bytes:
    """Canonical msgpack bytes: maps with sorted keys, no floats, no extension types."""
    return msgpack.packb(_sorted(plain), use_bin_type=True, strict_types=False)


def digest(plain: Any) -> str:
    """SHA-256 hex digest of the canonical encoding."""
    return hashlib.sha256(encode(plain)).hexdigest()


def state_digest(state: GameState) -> str:
    """Digest of a state's canonical form."""
    return digest(state_plain(state))
