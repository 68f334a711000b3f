"""Sign-ins never freeze the server: secrets are hashed and checked off the event loop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import server.storage.secrets as secrets_mod
from test_server import full_game, started
from wsclient import Client, run


def test_secret_checks_and_hashes_run_in_worker_threads(tmp_path: Path, monkeypatch: Any) -> None:
    """Every token and invite check during sign-ins, and the hashing of new tokens, runs in a
    thread other than the event loop's, while another client keeps getting answers."""
    loop_threads: set[int] = set()
    used: list[tuple[str, int]] = []
    real_check, real_hash = secrets_mod.check, secrets_mod.make_hash

    def check(raw: str, stored: bytes) -> bool:
        used.append(("check", threading.get_ident()))
        return real_check(raw, stored)

    def hash_secret(secret: str) -> bytes:
        used.append(("hash", threading.get_ident()))
        return real_hash(secret)

    monkeypatch.setattr(secrets_mod, "check", check)
    monkeypatch.setattr(secrets_mod, "make_hash", hash_secret)

    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            loop_threads.add(threading.get_ident())
            used.clear()
            host, _, players = await full_game(server, token)
            again, _ = await Client.open(server.port, token=token)
            assert (await again.ok("ping"))["now"]
            for c in (host, again, *players.values()):
                await c.close()

    run(go())
    checks = [t for kind, t in used if kind == "check"]
    assert len(checks) >= 8  # seven invites and at least one token
    assert not loop_threads & {t for _, t in used}, "a secret was hashed on the event loop thread"
