"""Text for the terminal from the server's replies and pushes (PURE: no I/O, no clock).

Every function takes the plain maps of PROTOCOL.md and returns a string. Times are
rendered from the UTC seconds the server sends, in UTC and in a time zone the caller passes
(the app passes the local one). Order results print the engine's reasons
(:meth:`server.engine.outcome.Reason.text`), never re-derived here.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any, Iterable, Sequence

from server.engine.outcome import Reason


def when(t: float | None, local: tzinfo | None = None) -> str:
    """A UTC time, and the same time in ``local`` if given.

    >>> when(1_800_000_000)
    '2027-01-15 08:00 UTC'
    >>> from datetime import timedelta
    >>> when(1_800_000_000, timezone(timedelta(hours=1), "CET"))
    '2027-01-15 08:00 UTC (2027-01-15 09:00 CET local)'
    >>> when(None)
    'none'
    """
    if t is None:
        return "none"
    utc = datetime.fromtimestamp(t, timezone.utc)
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    loc = utc.astimezone(local) if local is not None else utc
    if loc.utcoffset() or (loc.tzname() or "UTC") != "UTC":
        text += f" ({loc.strftime('%Y-%m-%d %H:%M')} {loc.tzname() or ''} local)".replace("  ", " ")
    return text


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart, trailing blanks trimmed.

    >>> table([["a", "bb"], ["ccc", "d"]])
    ['a    bb', 'ccc  d']
    """
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def reason_text(reason: Sequence[Any] | None) -> str | None:
    """The engine's text for a plain reason ``[code, at, by, detail]``.

    >>> reason_text(["bounced", "bur", None, None]) is not None
    True
    >>> reason_text(None) is None
    True
    """
    if not reason:
        return None
    code, at, by, detail = (list(reason) + [None] * 4)[:4]
    return Reason(str(code), at, by, detail).text()


def _yn(b: Any) -> str:
    return "yes" if b else "-"


def render_games(games: Iterable[dict[str, Any]]) -> str:
    """The ``games`` reply: one line per game with its phase, your nation and free seats
    (and seats advertised to a standby player, who takes one with ``join GAME NATION``)."""
    rows = [["game", "title", "ruleset", "status", "phase", "you", "free"]]
    for g in games:
        rows.append([str(g.get("game")), str(g.get("title", "")), str(g.get("ruleset", "")),
                     str(g.get("status", "")), str(g.get("phase") or "-"), str(g.get("nation") or "-"),
                     ", ".join([*(g.get("free") or []), *(f"{n} (standby)" for n in g.get("advertised") or [])])
                     or "-"])
    if len(rows) == 1:
        return "no games"
    return "\n".join(table(rows))


def render_board(view: dict[str, Any], local: tzinfo | None = None) -> str:
    """The ``game`` view: phase and deadline, each nation's player, centres and units, and who
    has orders in and is ready; then your own orders if you have submitted some."""
    state = view.get("state") or {}
    lines = [(f"{view['game']}: {view.get('title', '')} ({view.get('ruleset', '')}), {view.get('status')}"
              f" at {view.get('phase') or '-'}")]
    lines.append(f"deadline: {when(view.get('deadline'), local)}")
    you = view.get("nation")
    lines.append(f"you: {you or 'observer'}{' (host)' if view.get('host') else ''}")
    centres: dict[str, list[str]] = {}
    for c, n in state.get("centres", []):
        centres.setdefault(n, []).append(c)
    units: dict[str, list[str]] = {}
    for n, kind, loc in state.get("units", []):
        units.setdefault(n, []).append(f"{kind} {loc}")
    acting = set(view.get("acting") or [])
    seats = {s["nation"]: s for s in view.get("seats", [])}
    rows = [["nation", "player", "centres", "units", "acts", "orders", "ready"]]
    for nation in sorted(set(seats) | set(centres) | set(units)):
        s = seats.get(nation, {})
        player = s.get("player") or "(free)"
        if s.get("civil_disorder"):
            player += " [civil disorder]"
        cs = sorted(centres.get(nation, []))
        rows.append([nation + (" *" if nation == you else ""), player, str(len(cs)),
                     ", ".join(sorted(units.get(nation, []))) or "-", _yn(nation in acting),
                     _yn(s.get("orders")), _yn(s.get("ready"))])
    lines += table(rows)
    if state.get("dislodged"):
        lines.append("dislodged: " + ", ".join(f"{n} {k} {loc} (by {frm})" for n, k, loc, frm, _ in state["dislodged"]))
    if state.get("winner"):
        lines.append(f"winner: {state['winner']}")
    if "orders" in view:
        lines.append("your orders:")
        lines += [f"  {o}" for o in view["orders"]] or ["  (none)"]
    return "\n".join(lines)


def render_orders_reply(reply: dict[str, Any]) -> str:
    """The ``orders`` reply: the normalised orders, what is still missing, rejected lines.

    >>> print(render_orders_reply({"phase": "S1901M", "nation": "france", "orders": ["A par - bur"],
    ...     "missing": ["F bre"], "rejected": [{"line": 2, "text": "A xx", "reason": "no such place"}]}))
    france S1901M: 1 order accepted
      A par - bur
    missing: F bre
    rejected:
      line 2: A xx: no such place
    """
    orders = reply.get("orders", [])
    lines = [f"{reply.get('nation')} {reply.get('phase')}: {len(orders)} order{'s' * (len(orders) != 1)} accepted"]
    lines += [f"  {o}" for o in orders]
    missing = reply.get("missing")
    if isinstance(missing, list):
        lines.append("missing: " + (", ".join(missing) if missing else "none"))
    elif missing:
        lines.append(f"missing: {missing}")
    if reply.get("due"):
        lines.append(f"due: {reply['due']:+d}")
    rejected = reply.get("rejected") or []
    if rejected:
        lines.append("rejected:")
        lines += [f"  line {r['line']}: {r['text']}: {r['reason']}" for r in rejected]
    return "\n".join(lines)


def _outcome_lines(msg: dict[str, Any]) -> list[str]:
    """Each nation's orders with result and reason, then the events (results and previews)."""
    lines: list[str] = []
    by_nation: dict[str, list[list[str]]] = {}
    for nation, text, result, reason in msg.get("results", []):
        why = reason_text(reason)
        by_nation.setdefault(nation, []).append([f"  {text}", result + (f": {why}" if why else "")])
    for nation in sorted(by_nation):
        lines.append(nation)
        lines += table(by_nation[nation])
    events = msg.get("events") or []
    if events:
        lines.append("events:")
        for ev in events:
            code, nation, at, detail = (list(ev) + [None] * 4)[:4]
            lines.append("  " + " ".join(str(x) for x in (code, nation, at, detail) if x))
    return lines


def render_results(push: dict[str, Any], local: tzinfo | None = None) -> str:
    """An ``adjudicated`` push: each nation's orders with result and reason, then the events,
    missed nations and the next phase."""
    lines = [f"results of {push.get('phase')}"]
    lines += _outcome_lines(push)
    for unit, nation, options in push.get("retreat_options") or []:
        lines.append(f"retreat options: {nation} {unit}: {', '.join(options) or 'none (disbands)'}")
    for nation, unit in push.get("removed") or []:
        lines.append(f"removed (civil disorder): {nation} {unit}")
    if push.get("missed"):
        lines.append("missed: " + ", ".join(push["missed"]))
    if push.get("civil_disorder"):
        lines.append("civil disorder: " + ", ".join(push["civil_disorder"]))
    if push.get("winner"):
        lines.append(f"winner: {push['winner']}")
    elif push.get("next"):
        lines.append(f"next: {push['next']}, deadline {when(push.get('deadline'), local)}")
    return "\n".join(lines)


def render_welcome(welcome: dict[str, Any]) -> str:
    """The ``hello`` reply: who you are and your games."""
    lines = [f"signed in as {welcome.get('name')} (user {welcome.get('user')}, {welcome.get('role')})"]
    for g in welcome.get("games", []):
        lines.append(f"  {g['game']}: {g.get('title', '')} at {g.get('phase') or '-'}"
                     f"{', you play ' + g['nation'] if g.get('nation') else ''}{' (host)' if g.get('host') else ''}")
    return "\n".join(lines)


def render_legal(options: dict[str, list[str]]) -> str:
    """The ``legal`` reply: each location's legal orders."""
    lines = []
    for loc in sorted(options):
        lines.append(f"{loc}:")
        lines += [f"  {o}" for o in options[loc]]
    return "\n".join(lines) or "nothing to order"


def duration(seconds: float) -> str:
    """A span of time for people.

    >>> duration(5400), duration(59), duration(2 * 86400 + 3600), duration(86400)
    ('1 h 30 min', '59 s', '2 d 1 h', '1 d')
    """
    s = int(seconds)
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d:
        return f"{d} d" + (f" {h} h" if h else "")
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {sec:02d} s" if m else f"{sec} s"


def _names(xs: Iterable[Any] | None) -> str:
    return ", ".join(str(x) for x in xs or []) or "-"


def render_message(m: dict[str, Any], local: tzinfo | None = None) -> str:
    """One press message: number, phase, time, sender, recipients, then the text (indented
    if it has several lines).

    >>> print(render_message({"id": 3, "phase": "S1901M", "from": "france", "to": ["england"],
    ...                       "text": "Hello", "time": 1_800_000_000}))
    #3 S1901M 2027-01-15 08:00 UTC  france -> england: Hello
    >>> print(render_message({"id": 4, "phase": "S1901M", "from": None, "to": ["all"], "text": "a\\nb"}))
    #4 S1901M  (anonymous) -> all: a
        b
    """
    stamp = f" {when(m['time'], local)}" if m.get("time") is not None else ""
    text = str(m.get("text", "")).replace("\n", "\n    ")
    who = f"{m.get('from') or '(anonymous)'} -> {_names(m.get('to'))}"
    return f"#{m.get('id')} {m.get('phase') or '-'}{stamp}  {who}: {text}"


def render_inbox(messages: Sequence[dict[str, Any]], local: tzinfo | None = None) -> str:
    """The ``inbox`` reply, oldest first, one message per line."""
    return "\n".join(render_message(m, local) for m in messages) or "no press"


def render_threads(threads: Sequence[tuple[tuple[str, ...], list[dict[str, Any]]]],
                   local: tzinfo | None = None) -> str:
    """Press grouped into conversations (:func:`client_cli.commands.threads`): a header naming
    the correspondents and the count, then the messages."""
    if not threads:
        return "no press"
    out = []
    for who, msgs in threads:
        out.append(f"with {', '.join(who)} ({len(msgs)} message{'s' * (len(msgs) != 1)}):")
        out += ["  " + render_message(m, local) for m in msgs]
    return "\n".join(out)


def render_event(e: dict[str, Any], local: tzinfo | None = None) -> str:
    """One entry of the game's history (host actions and other events).

    >>> render_event({"n": 2, "phase": "S1901M", "kind": "pause", "by": "boss", "reason": "holiday",
    ...               "time": 1_800_000_000, "data": {"left": 3600}})
    '2  S1901M  2027-01-15 08:00 UTC  pause by boss: holiday (left: 3600)'
    """
    stamp = f"  {when(e['time'], local)}" if e.get("time") is not None else ""
    text = f"{e.get('n')}  {e.get('phase') or '-'}{stamp}  {e.get('kind')}"
    if e.get("by") is not None:
        text += f" by {e['by']}"
    if e.get("reason"):
        text += f": {e['reason']}"
    data = e.get("data")
    if isinstance(data, dict) and data:
        text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(data.items())) + ")"
    elif data not in (None, {}, []):
        text += f" ({data})"
    return text


def render_history(events: Sequence[dict[str, Any]], local: tzinfo | None = None) -> str:
    """The ``history`` reply, one event per line."""
    return "\n".join(render_event(e, local) for e in events) or "no events yet"


def render_preview(reply: dict[str, Any]) -> str:
    """The ``preview`` reply: what processing the phase now would give (nothing is stored)."""
    lines = [f"preview of {reply.get('phase')} (not processed; nothing was stored)"]
    lines += _outcome_lines(reply)
    missing = reply.get("missing")
    if missing:
        lines.append("without orders: " + (_names(missing) if isinstance(missing, list) else str(missing)))
    if reply.get("next"):
        lines.append(f"next: {reply['next']}")
    return "\n".join(lines)


def render_push(push: dict[str, Any], local: tzinfo | None = None) -> str:
    """One line announcing a push in the interactive shell.

    >>> render_push({"game": "g1", "seq": 4, "event": "status", "phase": "S1901M", "nation": "france",
    ...              "orders": True, "ready": False})
    '* g1 S1901M: france has orders in, not ready'
    >>> render_push({"game": "g1", "seq": 9, "event": "adjudicated", "phase": "S1901M", "next": "F1901M"})
    "* g1 S1901M adjudicated; now F1901M ('results' shows them)"
    """
    g, ev = push.get("game"), push.get("event")
    if ev == "status":
        orders = "has orders in" if push.get("orders") else "has no orders in"
        return f"* {g} {push.get('phase')}: {push.get('nation')} {orders}, {'ready' if push.get('ready') else 'not ready'}"
    if ev == "seat":
        return f"* {g}: {push.get('player')} plays {push.get('nation')}"
    if ev == "started":
        return f"* {g} started at {push.get('phase')}"
    if ev == "adjudicated":
        return f"* {g} {push.get('phase')} adjudicated; now {push.get('next')} ('results' shows them)"
    if ev == "ended":
        result, winner = push.get("result") or "victory", push.get("winner")
        text = f"* {g} ended{' at ' + push['phase'] if push.get('phase') else ''}: "
        if result == "victory":
            return text + f"{winner or 'no winner'} wins"
        text += result + (f", {winner} wins" if winner else "")
        return text + (f" (survivors: {_names(push.get('survivors'))})" if push.get("survivors") else "")
    if ev == "press":
        return f"* {g} press {render_message(push, local)}"
    if ev == "press_released":
        return f"* {g}: the game's press is released to everyone ('inbox' shows it)"
    if ev == "event":
        return f"* {g} {render_event(push, local)}"
    if ev == "reminder":
        missing = push.get("missing")
        left = push.get("seconds_left")
        soon = f" in {duration(left)}" if isinstance(left, (int, float)) else ""
        return (f"* {g} {push.get('phase')}: reminder: the deadline is{soon}, {when(push.get('deadline'), local)}"
                + (f"; still missing: {_names(missing) if isinstance(missing, list) else missing}" if missing else ""))
    if ev == "deadline":
        return (f"* {g} {push.get('phase')}: deadline now {when(push.get('deadline'), local)}"
                + (f" ({push['reason']})" if push.get("reason") else ""))
    if ev == "orders_entered":
        return f"* {g} {push.get('phase')}: {push.get('by') or 'the host'} entered orders for {push.get('nation')}"
    if ev == "rolled_back":
        return f"* {g} rolled back to {push.get('phase')}; deadline {when(push.get('deadline'), local)}"
    if ev == "vote":
        who = f"{push['nation']} votes " if push.get("nation") else "a vote "
        value = {True: "yes ", False: "no "}.get(push.get("value"), "")
        what = "to concede" if push.get("kind") == "concede" else f"on a {push.get('kind') or 'draw'}"
        return f"* {g} {push.get('phase') or '-'}: {who}{value}{what}"
    if ev == "summary":
        return f"* {g}: the game's summary is ready"
    if ev == "civil_disorder":
        return f"* {g}: {push.get('nation')} {'is' if push.get('value') else 'is no longer'} in civil disorder"
    if ev == "quarantined":
        return f"* {g} quarantined at {push.get('phase')}: {push.get('error')}"
    return f"* {g}: {ev}"


__all__ = ["duration", "render_event", "render_history", "render_inbox", "render_message", "render_preview",
           "render_push", "render_threads", "reason_text", "render_board", "render_games", "render_legal", "render_orders_reply",
           "render_results", "render_welcome", "table", "when"]
