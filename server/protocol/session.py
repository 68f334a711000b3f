"""Per-connection state machine (PURE): frames in, requests or refusals out.

A session starts ``new``; the only acceptable first frame is a valid ``hello`` (the shim
then authenticates it and calls :meth:`Session.authenticated`). After that, requests are
checked for role. The shim performs whatever the requests mean.

>>> s = Session()
>>> s.receive(encode({"type": "ping", "id": 1}))
Traceback (most recent call last):
...
server.protocol.errors.ProtocolError: auth_required: the first message must be a hello
>>> s.receive(encode({"type": "hello", "id": 1, "versions": [1], "token": "t"})).type
'hello'
"""

from __future__ import annotations

from .codec import DEFAULT_LIMITS, Limits, decode, encode  # noqa: F401  (encode: doctest)
from .errors import ProtocolError
from .messages import Request, request_id, validate


class Session:
    """What one connection has said so far: ``new`` -> ``hello`` -> ``open``."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.state = "new"
        self.user_id: int | None = None
        self.role = ""
        self.version = 0

    def receive(self, frame: bytes) -> Request:
        """Decode and validate one frame.

        Raises:
            ProtocolError: a malformed frame, or a request not allowed now.
        """
        message = decode(frame, self.limits)
        try:
            return self._check(message)
        except ProtocolError as e:
            e.re = request_id(message)
            raise

    def _check(self, message: dict[str, object]) -> Request:
        if self.state == "new":
            if message.get("type") != "hello":
                raise ProtocolError("auth_required", "the first message must be a hello")
            req = validate(message)
            self.state = "hello"
            return req
        if self.state == "hello":
            raise ProtocolError("auth_required", "wait for the welcome before sending requests")
        req = validate(message)
        if req.type == "hello":
            raise ProtocolError("bad_message", "hello was already received", "type")
        if req.spec.role == "host" and self.role != "host":
            raise ProtocolError("forbidden", f"only hosts may send {req.type}")
        return req

    def authenticated(self, user_id: int, role: str, version: int) -> None:
        self.state, self.user_id, self.role, self.version = "open", user_id, role, version

    def failed(self) -> None:
        self.state = "closed"


__all__ = ["Session"]
