"""The message table: every request a client may send, its fields, who may send it.

A request is a map ``{"type": T, "id": N, ...fields}``. :func:`validate` checks it against
:data:`MESSAGES` and returns a frozen :class:`Request`, or raises :class:`ProtocolError`
naming the offending field. PROTOCOL.md documents the same table for people.

>>> validate({"type": "ready", "id": 7, "game": "g1", "phase": "S1901M"})
Request(type='ready', id=7, fields={'game': 'g1', 'phase': 'S1901M'})
>>> validate({"type": "ready", "id": 7, "game": "g1"})
Traceback (most recent call last):
...
server.protocol.errors.ProtocolError: bad_message: 'phase' is required in ready (field 'phase')
"""

from __future__ import annotations

from typing import Any

import attrs

from .errors import ProtocolError

VERSIONS = (1,)
"""Protocol versions this server speaks, newest last."""

MAX_ID = 2**53


@attrs.frozen
class Spec:
    """One message type.

    ``fields`` maps a field name to ``(type, required)``; types are ``str``, ``int``, ``bool``,
    ``map``, ``list[int]``, ``list[str]``. ``scope`` is ``none``, ``game`` (names a game) or
    ``phase`` (names a game and the phase it refers to: refused with ``stale_phase`` unless
    that phase is current).

    ``who`` is the authorisation policy, enforced in one place (:meth:`Service.handle`
    and :class:`Session`) before the request is performed:

    - ``any``: before authentication (only ``hello``);
    - ``user``: any authenticated user (reads of public game data, joining, watching);
    - ``hosts``: users with the host role (creating games);
    - ``player``: the player seated in the named game (acts for *their* nation only: the
      nation always comes from the session, never from a field);
    - ``member``: the named game's players and its host;
    - ``host``: the host of the named game.
    """

    fields: dict[str, tuple[str, bool]]
    who: str = "user"
    scope: str = "none"

    @property
    def role(self) -> str:
        """The account role the session checks before anything else."""
        return {"any": "any", "hosts": "host"}.get(self.who, "user")


WHO = ("any", "user", "hosts", "player", "member", "host")

_G = {"game": ("str", True)}
_GP = {"game": ("str", True), "phase": ("str", True)}
_REASON = {"reason": ("str", False)}

MESSAGES: dict[str, Spec] = {
    "hello": Spec({"versions": ("list[int]", True), "token": ("str", False),
                   "invite": ("str", False), "name": ("str", False)}, who="any"),
    "ping": Spec({}),
    "games": Spec({}),
    "profile": Spec({"tz": ("str", False)}),
    "create_game": Spec({"ruleset": ("str", True), "title": ("str", True),
                         "settings": ("map", False)}, who="hosts"),
    "invite": Spec({**_G, "nation": ("str", False)}, who="host", scope="game"),
    "join": Spec({**_G, "nation": ("str", False), "invite": ("str", False)}, scope="game"),
    "watch": Spec(dict(_G), scope="game"),
    "game": Spec(dict(_G), scope="game"),
    "resync": Spec({**_G, "after": ("int", True)}, scope="game"),
    "history": Spec(dict(_G), scope="game"),
    "orders": Spec({**_GP, "text": ("str", True)}, who="player", scope="phase"),
    "ready": Spec(dict(_GP), who="player", scope="phase"),
    "unready": Spec(dict(_GP), who="player", scope="phase"),
    "legal": Spec(dict(_GP), who="player", scope="phase"),
    # press
    "press": Spec({**_G, "to": ("list[str]", True), "text": ("str", True), "grey": ("bool", False)},
                  who="member", scope="game"),
    "inbox": Spec({**_G, "after": ("int", False)}, who="member", scope="game"),
    # deadlines
    "absence": Spec({**_G, "start": ("int", True), "end": ("int", True), **_REASON}, who="player", scope="game"),
    # draws and concession
    "vote": Spec({**_GP, "kind": ("str", True), "value": ("bool", True)}, who="player", scope="phase"),
    # host tools
    "pause": Spec({**_G, "reason": ("str", True)}, who="host", scope="game"),
    "resume": Spec({**_G, **_REASON}, who="host", scope="game"),
    "extend": Spec({**_GP, "seconds": ("int", True), **_REASON}, who="host", scope="phase"),
    "process": Spec({**_GP, **_REASON}, who="host", scope="phase"),
    "preview": Spec(dict(_GP), who="host", scope="phase"),
    "rollback": Spec({**_GP, "reason": ("str", True)}, who="host", scope="game"),
    "replace": Spec({**_G, "nation": ("str", True), "name": ("str", False), **_REASON}, who="host", scope="game"),
    "enter_orders": Spec({**_GP, "nation": ("str", True), "text": ("str", True), **_REASON},
                         who="host", scope="phase"),
    "advertise": Spec({**_G, "nation": ("str", True), "value": ("bool", False)}, who="host", scope="game"),
    "export": Spec(dict(_G), who="host", scope="game"),
}


@attrs.frozen
class Request:
    """A validated request."""

    type: str
    id: int
    fields: dict[str, Any]

    @property
    def spec(self) -> Spec:
        return MESSAGES[self.type]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "map":
        return isinstance(value, dict)
    if kind == "list[int]":
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise AssertionError(kind)


def request_id(message: dict[str, Any]) -> int | None:
    """The client's message id if it is usable, to echo in an error reply."""
    mid = message.get("id")
    return mid if isinstance(mid, int) and not isinstance(mid, bool) and 0 <= mid < MAX_ID else None


def validate(message: dict[str, Any]) -> Request:
    """Check a decoded frame against the table.

    Raises:
        ProtocolError: ``unknown_type`` or ``bad_message`` (``field`` names the culprit).
    """
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", "'type' must be a string", "type")
    spec = MESSAGES.get(kind)
    if spec is None:
        raise ProtocolError("unknown_type", f"no message type {kind!r}", "type")
    if request_id(message) is None:
        raise ProtocolError("bad_message", f"'id' must be an integer in [0, 2**53) in {kind}", "id")
    fields: dict[str, Any] = {}
    for name, value in message.items():
        if name in ("type", "id"):
            continue
        if name not in spec.fields:
            raise ProtocolError("bad_message", f"unknown field {name!r} in {kind}", name)
        want, _ = spec.fields[name]
        if not _type_ok(want, value):
            raise ProtocolError("bad_message", f"{name!r} must be {want} in {kind}", name)
        fields[name] = value
    for name, (_, required) in spec.fields.items():
        if required and name not in fields:
            raise ProtocolError("bad_message", f"{name!r} is required in {kind}", name)
    return Request(kind, message["id"], fields)


def negotiate(offered: list[int]) -> int:
    """The newest version both sides speak.

    >>> negotiate([1, 2])
    1
    """
    common = set(offered) & set(VERSIONS)
    if not common:
        raise ProtocolError("unsupported_version", f"server speaks versions {list(VERSIONS)}", "versions")
    return max(common)


__all__ = ["VERSIONS", "WHO", "Spec", "MESSAGES", "Request", "validate", "negotiate", "request_id"]
