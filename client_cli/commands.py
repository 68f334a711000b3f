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

import difflib
from datetime import datetime, tzinfo
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
    "press": "press TO[,TO] TEXT: send press to nations, 'all' (broadcast) or 'host'",
    "inbox": "inbox [NATION]: your press as conversations (only those with NATION)",
    "history": "the game's history: host actions and other events",
    "vote": "vote draw|concede yes|no: your vote this phase",
    "quit": "leave (also Ctrl-D)",
}

YES = ("yes", "y", "true", "on", "1")
NO = ("no", "n", "false", "off", "0")


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


def parse_recipients(text: str) -> list[str]:
    """``--to`` / the shell's first word: nations separated by commas, ``all`` or ``host``.

    >>> parse_recipients("France, germany")
    ['france', 'germany']
    >>> parse_recipients("ALL")
    ['all']
    >>> parse_recipients(" , ")
    Traceback (most recent call last):
    ...
    ValueError: name at least one recipient: NATION[,NATION], all or host
    """
    got = [t.strip().lower() for t in text.split(",") if t.strip()]
    if not got:
        raise ValueError("name at least one recipient: NATION[,NATION], all or host")
    return list(dict.fromkeys(got))


def parse_flag(text: str) -> bool:
    """``yes``/``no`` (and y/n, true/false, on/off) as a bool.

    >>> parse_flag("Yes"), parse_flag("n")
    (True, False)
    """
    low = text.strip().lower()
    if low in YES:
        return True
    if low in NO:
        return False
    raise ValueError(f"expected yes or no, not {text!r}")


def parse_when(text: str, local: tzinfo) -> int:
    """An ISO 8601 date or time as UTC seconds; without an offset it is read in ``local``.

    >>> from datetime import timezone
    >>> parse_when("2027-01-15T08:00Z", timezone.utc), parse_when("2027-01-15", timezone.utc)
    (1800000000, 1799971200)
    >>> parse_when("next week", timezone.utc)
    Traceback (most recent call last):
    ...
    ValueError: not an ISO 8601 time: 'next week' (e.g. 2027-01-15 or 2027-01-15T18:00)
    """
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r} (e.g. 2027-01-15 or 2027-01-15T18:00)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=local)
    return int(t.timestamp())


def threads(messages: Iterable[dict[str, Any]], me: str | None) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Press grouped into conversations: each message goes to the set of the other people in it
    (sender and recipients but ``me``); broadcasts form the conversation ``("all",)``.
    Conversations are ordered by their latest message, messages by id.

    >>> ms = [{"id": 1, "from": "france", "to": ["austria"]}, {"id": 2, "from": "austria", "to": ["france"]},
    ...       {"id": 3, "from": "italy", "to": ["all"]}, {"id": 4, "from": None, "to": ["austria", "turkey"]}]
    >>> [(who, [m["id"] for m in msgs]) for who, msgs in threads(ms, "austria")]
    [(('france',), [1, 2]), (('all',), [3]), (('(anonymous)', 'turkey'), [4])]
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for m in sorted(messages, key=lambda m: (m.get("id") or 0)):
        to = [str(t) for t in m.get("to") or []]
        if "all" in to:
            key: tuple[str, ...] = ("all",)
        else:
            people = set(to) | {str(m.get("from") or "(anonymous)")}
            key = tuple(sorted(people - {me or ""})) or (me or "yourself",)
        groups.setdefault(key, []).append(m)
    return sorted(groups.items(), key=lambda kv: kv[1][-1].get("id") or 0)


def suggest(text: str, legal: Iterable[str]) -> str | None:
    """The legal order closest to a mistyped line, if one is close enough.

    >>> suggest("A Vie - Bdu", ["A vie - bud", "A vie - boh", "A vie - gal", "A vie H"])
    'A vie - bud'
    >>> suggest("F xyz", ["A vie - bud"]) is None
    True

    When the line starts with a unit that has legal orders, only that unit's are offered:

    >>> suggest("A mar - pic", ["A mar - pie", "A mar - spa", "A par - pic"])
    'A mar - pie'
    """
    by_low: dict[str, str] = {}
    for o in legal:
        by_low.setdefault(o.lower(), o)
    typed = " ".join(text.lower().split())
    unit = " ".join(typed.split()[:2]) + " "
    same = [o for o in by_low if o.startswith(unit)]
    got = difflib.get_close_matches(typed, same or list(by_low), n=1, cutoff=0.75)
    return by_low[got[0]] if got else None


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
             places: Iterable[str] = (), nations: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Completions for the text before the cursor in the shell: ``(text, start)`` pairs,
    ``start`` being how many characters back the completion replaces (prompt_toolkit's
    ``start_position`` is its negative).

    The first word completes to a shell command or to a legal order; after ``use`` a game id;
    after ``press`` and ``inbox`` a nation (``all``, ``host``), after ``vote`` its words; in an
    order, the whole line to a legal order, else its last word to a place name.

    >>> complete("sub")
    [('submit', 3)]
    >>> complete("use g", games=["g1", "h2"])
    [('g1', 1)]
    >>> complete("A par - b", legal=["A par - bur", "A par - gas", "A par H"], places=["bur", "bre"])
    [('A par - bur', 9)]
    >>> complete("A par - b", places=["bur", "bre", "gas"])
    [('bre', 1), ('bur', 1)]
    >>> complete("press england,fr", nations=["england", "france"])
    [('france', 2)]
    >>> complete("vote d")
    [('draw', 1)]
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
    if words[0].lower() in ("press", "inbox") and len(words) <= 2:
        part = last.rsplit(",", 1)[-1]
        names = [*sorted(nations), "all"] + (["host"] if words[0].lower() == "press" else [])
        return [(n, len(part)) for n in names if n.startswith(part.lower())]
    if words[0].lower() == "vote" and len(words) <= 3:
        choices = ("draw", "concede") if len(words) == 1 or (len(words) == 2 and last) else ("yes", "no")
        return [(c, len(last)) for c in choices if c.startswith(last.lower())]
    if words[0].lower() in SHELL_COMMANDS:
        return []
    whole = [(o, len(before)) for o in legal if o.lower().startswith(low)]
    if whole:
        return whole
    return [(p, len(last)) for p in sorted(set(places)) if last and p.lower().startswith(last.lower())]


__all__ = ["SHELL_COMMANDS", "board_units", "check_order_line", "complete", "orders_exit_code",
           "parse_flag", "parse_recipients", "parse_when", "phases_done", "pick_results", "results_pushes",
           "suggest", "threads"]
