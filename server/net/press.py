"""Press: private, broadcast and host messages under each game's press policy.

A message goes to some nations (private), to ``all`` (broadcast: every nation and the host)
or to the ``host`` (alone or with nations). The sender is the caller's seated nation, or
``host`` for the game's host (a host who also plays a nation sends as that nation); it never
comes from a field. Recipients are stored as ``*`` or a sorted comma list (``france,host``).

The policy (game settings, :func:`refusal`):

- ``press``: ``full`` (private and broadcast), ``public`` (broadcast only), ``none`` (nothing
  between players);
- ``grey_press``: anonymous (grey) messages allowed or not (for everyone, the host too);
- ``press_in_all_phases`` false: no press between players during retreat and adjustment
  phases.

Messages from the host, and messages to the host alone, are always allowed whatever
``press`` and the phase say: players must always be able to reach their game master. A
message to the host *and* nations is judged as press to those nations. Once a game has
finished, the press and phase rules no longer apply (nothing is left to hide); the grey rule
still does. A game's status never blocks press otherwise (forming, paused, quarantined).

Storage and delivery: one write stores the row and its pushes (committed before the reply).
A push ``press`` goes to the recipients and to the sender's own nation (or host), so their
other connections see it; for grey press the recipients' frame has ``from: null`` and the
sender gets a separate frame with ``from`` set. Audiences name nations, never all
subscribers, so observers (``watch``) never see press, live or on resync. Press is never
logged, never put in the game view or the event history, and never reaches the published
files, until it is released at the end of a game whose ``release_press`` is on
(:func:`release_press`, called by :meth:`VoteMixin.game_ended`).
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from ..protocol.errors import ProtocolError
from ..protocol.messages import Request
from .room import Batch, Room

MAX_TEXT = 8000
"""The longest press message, in characters."""
MAX_PER_MINUTE = 30
"""Press messages one sender may send in one game in any 60 seconds."""
MAX_PAGE = 200
"""At most this many messages in one ``inbox`` reply or ``press_released`` push ..."""
MAX_PAGE_TEXT = 256 * 1024
"""... and at most about this many characters of text (at least one message)."""


def refusal(settings: dict[str, Any], status: str, phase_kind: str, sender: str, to: list[str],
            grey: bool) -> ProtocolError | None:
    """Why the game's press policy refuses this message (``press_refused``), or None.

    ``to`` is ``["all"]`` or the recipients (nations and/or ``host``) without the sender.

    >>> s = {"press": "public", "grey_press": False, "press_in_all_phases": False}
    >>> refusal(s, "active", "movement", "france", ["italy"], False).message
    "this game's press rule is 'public': private press is not allowed (send to 'all' or to the host)"
    >>> refusal(s, "active", "movement", "france", ["all"], False) is None
    True
    >>> refusal(s, "active", "retreat", "france", ["host"], False) is None
    True
    """
    if grey and not settings.get("grey_press", False):
        return ProtocolError("press_refused", "this game's press rule 'grey_press' is off: "
                             "anonymous (grey) press is not allowed", "grey")
    if sender == "host" or to == ["host"] or status == "finished":
        return None
    rule = settings.get("press", "full")
    if rule == "none":
        return ProtocolError("press_refused", "this game's press rule is 'none': "
                             "players may send press only to the host", "to")
    if rule == "public" and to != ["all"]:
        return ProtocolError("press_refused", "this game's press rule is 'public': "
                             "private press is not allowed (send to 'all' or to the host)", "to")
    if not settings.get("press_in_all_phases", False) and phase_kind in ("retreat", "adjustment"):
        return ProtocolError("press_refused", "this game's press rule 'press_in_all_phases' is off: "
                             f"no press between players during a {phase_kind} phase "
                             "(only to or from the host)", "game")
    return None


def check_text(text: str) -> None:
    """1 to :data:`MAX_TEXT` characters, printable apart from newlines and tabs.

    Raises:
        ProtocolError: ``bad_message`` (field ``text``); the message never quotes the text.
    """
    if not 1 <= len(text) <= MAX_TEXT:
        raise ProtocolError("bad_message", f"press text must be 1 to {MAX_TEXT} characters", "text")
    if not all(c.isprintable() or c in "\n\t" for c in text):
        raise ProtocolError("bad_message", "press text must be printable (newlines and tabs allowed)", "text")


def recipients(room: Room, sender: str, to: list[str]) -> list[str]:
    """The checked recipient list: ``["all"]``, or sorted nations and ``host`` without the sender.

    Raises:
        ProtocolError: ``bad_message`` (empty, ``all`` combined, only yourself) or
        ``not_found`` (no such nation), field ``to``.
    """
    if not to:
        raise ProtocolError("bad_message", "name at least one recipient: nations, 'all' or 'host'", "to")
    wanted = set(to)
    if "all" in wanted:
        if len(wanted) > 1:
            raise ProtocolError("bad_message", "'all' already includes everyone; send it alone", "to")
        return ["all"]
    for name in sorted(wanted):
        if name != "host" and name not in room.seats:
            raise ProtocolError("not_found", f"{name!r} is not a nation of this game (or 'all', 'host')", "to")
    wanted.discard(sender)
    if not wanted:
        raise ProtocolError("bad_message", "a message only to yourself is not press", "to")
    return sorted(wanted)


def _who(name: str) -> str:
    """The push audience entry of a sender or recipient."""
    return "host" if name == "host" else f"n:{name}"


def stored_to(to: list[str]) -> str:
    return "*" if to == ["all"] else ",".join(to)


def shown_to(stored: str) -> list[str]:
    return ["all"] if stored == "*" else stored.split(",")


def message_plain(row: sqlite3.Row, anonymous: bool) -> dict[str, Any]:
    """One stored message as clients see it (``from`` null when ``anonymous``)."""
    return {"id": int(row["id"]), "phase": row["phase"], "from": None if anonymous else row["sender"],
            "to": shown_to(row["recipients"]), "grey": bool(row["grey"]), "text": row["text"],
            "time": int(row["time"])}


def pages(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split messages into pages of at most :data:`MAX_PAGE` messages and about
    :data:`MAX_PAGE_TEXT` characters (a longer message is alone on its page)."""
    out: list[list[dict[str, Any]]] = []
    page: list[dict[str, Any]] = []
    size = 0
    for m in messages:
        if page and (len(page) >= MAX_PAGE or size + len(m["text"]) > MAX_PAGE_TEXT):
            out.append(page)
            page, size = [], 0
        page.append(m)
        size += len(m["text"])
    if page:
        out.append(page)
    return out


def release_press(db: sqlite3.Connection, batch: Batch, game: str) -> int:
    """Inside a write: mark every unreleased message of ``game`` released and push them to
    everyone (``press_released``, in pages; grey messages stay anonymous). Returns the count."""
    rows = list(db.execute("SELECT * FROM press WHERE game = ? AND released = 0 ORDER BY id", (game,)))
    if not rows:
        return 0
    db.execute("UPDATE press SET released = 1 WHERE game = ? AND released = 0", (game,))
    split = pages([message_plain(r, bool(r["grey"])) for r in rows])
    for k, page in enumerate(split, start=1):
        batch.push(db, "press_released", part=k, parts=len(split), messages=page)
    return len(rows)


class PressMixin:
    """``on_press``, ``on_inbox`` for :class:`server.net.service.Service`."""

    def _press_identity(self, conn: Any, room: Room) -> str:
        nation = room.nation_of(conn.user)
        if nation is not None:
            return nation
        if room.host == conn.user:
            return "host"
        raise ProtocolError("forbidden", f"only the players and host of {room.id} may send press", "game")

    async def on_press(self, conn: Any, req: Request) -> tuple[dict[str, Any], Batch | None]:
        room: Room = self.room(req.get("game"))  # type: ignore[attr-defined]
        sender = self._press_identity(conn, room)
        text: str = req.get("text")
        grey = bool(req.get("grey", False))
        check_text(text)
        to = recipients(room, sender, req.get("to"))
        refused = refusal(room.settings, room.status, room.state.phase, sender, to, grey)
        if refused is not None:
            raise refused
        now = int(self.clock.now())  # type: ignore[attr-defined]
        self._press_quota(room.id, sender, now)
        game, phase = room.id, room.phase
        if to == ["all"]:
            reach = ["host", *(f"n:{n}" for n in sorted(room.seats))]
        else:
            reach = [_who(n) for n in to]
        own = _who(sender)
        got: dict[str, int] = {}

        def write(db: sqlite3.Connection, b: Batch) -> None:
            pid = int(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM press WHERE game = ?",
                                 (game,)).fetchone()[0])
            db.execute("INSERT INTO press (game, id, phase, sender, grey, recipients, text, time) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (game, pid, phase, sender, int(grey), stored_to(to), text, now))
            msg = {"id": pid, "phase": phase, "to": to, "grey": grey, "text": text, "time": now}
            if grey:  # the sender's copy names them; the recipients' never does
                b.push(db, "press", audience=own, **{**msg, "from": sender})
                others = [w for w in reach if w != own]
                if others:
                    b.push(db, "press", audience=",".join(others), **{**msg, "from": None})
            else:
                audience = reach if own in reach else [own, *reach]
                b.push(db, "press", audience=",".join(audience), **{**msg, "from": sender})
            got["id"] = pid

        batch = await room._awrite(write)
        return {"game": game, "id": got["id"], "phase": phase, "from": sender, "to": to, "time": now}, batch

    def _press_quota(self, game: str, sender: str, now: int) -> None:
        """At most ``MAX_PER_MINUTE`` messages from one sender in one game in any 60 seconds
        (game time): every message is stored, and one player must not be able to fill the
        disk or drown the others' inboxes."""
        sent = self.__dict__.setdefault("_press_sent", {}).setdefault((game, sender), collections.deque())
        while sent and sent[0] <= now - 60:
            sent.popleft()
        if len(sent) >= MAX_PER_MINUTE:
            raise ProtocolError("rate_limited", f"at most {MAX_PER_MINUTE} press messages a minute from one "
                                "nation; wait a little", "text")
        sent.append(now)

    def on_inbox(self, conn: Any, req: Request) -> tuple[dict[str, Any], Batch | None]:
        room: Room = self.room(req.get("game"))  # type: ignore[attr-defined]
        after = req.get("after", 0)
        if after < 0:
            raise ProtocolError("bad_message", "'after' must be >= 0", "after")
        me = {n for n in [room.nation_of(conn.user)] if n is not None}
        if room.host == conn.user:
            me.add("host")
        seen: list[dict[str, Any]] = []
        more = False
        size = 0
        rows = room.repo.db.execute("SELECT * FROM press WHERE game = ? AND id > ? ORDER BY id", (room.id, after))
        for row in rows:
            mine = row["sender"] in me
            to = row["recipients"]
            if not (mine or row["released"] or to == "*" or me & set(to.split(","))):
                continue
            if seen and (len(seen) >= MAX_PAGE or size + len(row["text"]) > MAX_PAGE_TEXT):
                more = True
                break
            seen.append(message_plain(row, bool(row["grey"]) and not mine))
            size += len(row["text"])
        return {"game": room.id, "messages": seen, "more": more}, None


__all__ = ["PressMixin", "refusal", "recipients", "check_text", "release_press", "message_plain", "pages"]
