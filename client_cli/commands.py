"""Decisions the client makes on the server's data (PURE: no I/O).

>>> pushes = [{"event": "seat"}, {"event": "adjudicated", "phase": "S1901M"},
...           {"event": "adjudicated", "phase": "F1901M"}]
>>> pick_results(pushes, None)["phase"]
'F1901M'
>>> pick_results(pushes, "s1901m")["phase"]
'S1901M'
>>> pick_results(pushes, "S1905M") is None
True
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from server.engine.notation import format_order, parse_orders
from server.engine.orders import Order
from server.engine.ruleset import Ruleset

SHELL_COMMANDS: dict[str, str] = {
    "help": "this list",
    "games": "the server's games",
    "use": "use GAME: the game the other commands act on",
    "board": "the current game's board",
    "legal": "your legal orders this phase",
    "draft": "the orders typed so far (type an order line to add it)",
    "del": "del N: remove draft line N",
    "clear": "empty the draft",
    "submit": "send the draft as your whole set of orders",
    "ready": "mark yourself ready",
    "unready": "withdraw the ready flag",
    "results": "results [PHASE]: a phase's results (default the last)",
    "quit": "leave (also Ctrl-D)",
}


def results_pushes(pushes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``adjudicated`` pushes, in order."""
    return [p for p in pushes if p.get("event") == "adjudicated"]


def pick_results(pushes: Iterable[dict[str, Any]], phase: str | None) -> dict[str, Any] | None:
    """The ``adjudicated`` push of ``phase`` (any case), or the latest if ``phase`` is None."""
    done = results_pushes(pushes)
    if phase is None:
        return done[-1] if done else None
    for p in done:
        if str(p.get("phase", "")).upper() == phase.upper():
            return p
    return None


def phases_done(pushes: Iterable[dict[str, Any]]) -> list[str]:
    """The phases already adjudicated.

    >>> phases_done([{"event": "adjudicated", "phase": "S1901M"}, {"event": "seat"}])
    ['S1901M']
    """
    return [str(p.get("phase")) for p in results_pushes(pushes)]


def orders_exit_code(reply: dict[str, Any]) -> int:
    """0 if every line of an ``orders`` submission was accepted, 1 if any was rejected.

    >>> orders_exit_code({"rejected": []}), orders_exit_code({"rejected": [{"line": 1}]})
    (0, 1)
    """
    return 1 if reply.get("rejected") else 0


def check_order_line(text: str, ruleset: Ruleset, units: Mapping[str, tuple[str, str]] | None = None
                     ) -> tuple[Order | None, str]:
    """Read one typed order with the server's parser: ``(order, canonical text)`` or
    ``(None, why not)``. The server still decides whether it is legal.
    """
    got = parse_orders(text, ruleset, units=units)
    if len(got) != 1:
        return None, "type one order per line"
    _, _, order = got[0]
    if isinstance(order, Exception):
        return None, str(order)
    return order, format_order(order)


def board_units(state: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``{province: (kind, location)}`` from a plain state, to fill in omitted unit letters.

    >>> board_units({"units": [["russia", "F", "stp/sc"], ["france", "A", "par"]]})
    {'stp': ('F', 'stp/sc'), 'par': ('A', 'par')}
    """
    return {loc.split("/")[0]: (kind, loc) for _, kind, loc in state.get("units", [])}


def complete(before: str, *, games: Sequence[str] = (), legal: Iterable[str] = (),
             places: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Completions for the text before the cursor in the shell: ``(text, start)`` pairs,
    ``start`` being how many characters back the completion replaces (prompt_toolkit's
    ``start_position`` is its negative).

    The first word completes to a shell command or to a legal order; after ``use`` a game id;
    in an order, the whole line to a legal order, else its last word to a place name.

    >>> complete("sub")
    [('submit', 3)]
    >>> complete("use g", games=["g1", "h2"])
    [('g1', 1)]
    >>> complete("A par - b", legal=["A par - bur", "A par - gas", "A par H"], places=["bur", "bre"])
    [('A par - bur', 9)]
    >>> complete("A par - b", places=["bur", "bre", "gas"])
    [('bre', 1), ('bur', 1)]
    """
    words = before.split()
    last = "" if before.endswith(" ") or not words else words[-1]
    low = before.lower()
    if len(words) <= 1 and not before.endswith(" "):
        out = [(c, len(last)) for c in sorted(SHELL_COMMANDS) if c.startswith(last.lower())]
        out += [(o, len(before)) for o in legal if o.lower().startswith(low)]
        return out
    if words[0].lower() in ("use",) and len(words) <= 2:
        return [(g, len(last)) for g in games if g.startswith(last)]
    if words[0].lower() in SHELL_COMMANDS:
        return []
    whole = [(o, len(before)) for o in legal if o.lower().startswith(low)]
    if whole:
        return whole
    return [(p, len(last)) for p in sorted(set(places)) if last and p.lower().startswith(last.lower())]


__all__ = ["SHELL_COMMANDS", "board_units", "check_order_line", "complete", "orders_exit_code", "phases_done",
           "pick_results", "results_pushes"]
