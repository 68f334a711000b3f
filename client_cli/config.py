"""The per-user client config file (I/O at the edges: :func:`load` and :func:`save`).

Where: ``$XDG_CONFIG_HOME/kessen/client.toml``, else ``~/.config/kessen/client.toml``.
What: the server URL and the user's token::

    server = "ws://127.0.0.1:8765"
    token = "u12.xxxx"

Read with :mod:`tomllib`; written by the tiny writer :func:`dumps` (strings only), with mode
0600 since the token is a password.

Beside it, ``state.json`` keeps what the shell needs to resync on its next run: the last push
``seq`` seen per game, per server and user (:func:`load_seqs`, :func:`save_seqs`).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Mapping

DEFAULT_SERVER = "ws://127.0.0.1:8765"
KEYS = ("server", "token")


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file's path for this user.

    >>> str(default_path({"XDG_CONFIG_HOME": "/x"}))
    '/x/kessen/client.toml'
    """
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "kessen" / "client.toml"


def _quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dumps(values: Mapping[str, str]) -> str:
    """TOML text for a flat map of strings (keys sorted).

    >>> dumps({"token": 'a"b', "server": "ws://h:1"})
    'server = "ws://h:1"\\ntoken = "a\\\\"b"\\n'
    >>> tomllib.loads(dumps({"token": 'a"b'}))
    {'token': 'a"b'}
    """
    return "".join(f"{k} = {_quote(str(v))}\n" for k, v in sorted(values.items()))


def load(path: Path) -> dict[str, str]:
    """The stored values (empty if the file does not exist).

    Raises:
        ValueError: the file is not valid TOML.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def save(path: Path, values: Mapping[str, str]) -> None:
    """Write ``values`` (merged over what the file holds) atomically, readable only by the user."""
    merged = {**load(path), **{k: v for k, v in values.items() if v is not None}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(dumps(merged))
    os.replace(tmp, path)


def normalise_url(server: str) -> str:
    """``host:port`` or ``ws://host:port``; a bare address gets ``ws://``.

    >>> normalise_url("127.0.0.1:9000")
    'ws://127.0.0.1:9000'
    >>> normalise_url("wss://kessen.example")
    'wss://kessen.example'
    """
    return server if "://" in server else f"ws://{server}"


def state_key(server: str, token: str) -> str:
    """Which server and user a saved state belongs to: the URL and the token's public id.

    >>> state_key("ws://h:1", "u12.secret")
    'ws://h:1 u12'
    """
    return f"{server} {token.split('.', 1)[0]}"


def load_seqs(path: Path, key: str) -> dict[str, int]:
    """The last push seq per game saved for ``key`` in the state file (JSON; empty if absent or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(g): int(s) for g, s in data.get(key, {}).get("last_seq", {}).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def save_seqs(path: Path, key: str, seqs: Mapping[str, int]) -> None:
    """Record the last seq per game for ``key`` (other keys kept), atomically.

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "state.json"
    >>> save_seqs(p, "k", {"g1": 3}); save_seqs(p, "j", {"g2": 1}); load_seqs(p, "k")
    {'g1': 3}
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = {"last_seq": {g: int(s) for g, s in sorted(seqs.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["DEFAULT_SERVER", "default_path", "dumps", "load", "load_seqs", "normalise_url", "save", "save_seqs",
           "state_key"]
