"""Canaries: unique strings planted in each nation's orders and private press never reach
another connection, an error message, a log line or an HTTP endpoint before the phase is
adjudicated (orders) or the press is released (never, in this game).

Every connection records every frame it receives (``Client.raw``); every log record of the
server process is captured; the HTTP endpoints are fetched before and after adjudication.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from test_http import fetch
from test_server import FAST, NATIONS, full_game, started
from wsclient import Client, run

# an S1901 move only this nation can give: its canonical text is a secret until adjudicated
SECRET_MOVE = {"austria": "F tri - alb", "england": "F lon - nth", "france": "A par - gas",
               "germany": "F kie - hol", "italy": "A ven - pie", "russia": "F sev - rum", "turkey": "F ank - bla"}


def canary(kind: str, nation: str) -> str:
    return f"KANARIE-{kind}-{nation}-7f3a"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_orders_and_press_never_leak(tmp_path: Path) -> None:
    pytest.importorskip("resvg_py")
    cap = Capture()
    cap.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(cap)
    root.setLevel(logging.DEBUG)

    async def go() -> None:
        async with started(tmp_path, render=True) as (server, clock, token):
            host, game, p = await full_game(server, token)
            assert server.service is not None
            _, tok = server.service.add_user("observer", "player")
            observer, _ = await Client.open(server.port, token=tok)
            await observer.ok("watch", game=game)
            _, tok = server.service.add_user("otherhost", "host")
            other_host, _ = await Client.open(server.port, token=tok)
            await other_host.ok("create_game", ruleset="classic", title="elsewhere")
            everyone = {**p, "host": host, "observer": observer, "other_host": other_host}
            nations = list(NATIONS)
            for i, n in enumerate(nations):
                text = "\n".join([f"# {canary('comment', n)}", SECRET_MOVE[n], f"A xyz - {canary('reject', n)}"])
                r = await p[n].ok("orders", game=game, phase="S1901M", text=text)
                assert r["orders"] == [SECRET_MOVE[n]]
                to = nations[(i + 1) % len(nations)]
                await p[n].ok("press", game=game, to=[to], text=f"secret {canary('press', n)}")
                # an error about a press message must not quote it
                bad = await p[n].request("press", game=game, to=["narnia"], text=f"x {canary('press', n)}")
                assert bad["type"] == "error" and canary("press", n) not in repr(bad)
            # the readers see at least the status pushes and the press addressed to them
            for i, n in enumerate(nations):
                sender = nations[i - 1]
                await p[n].wait_push(game, "press")
                assert canary("press", sender).encode() in b"".join(p[n].raw)
            for c in (host, observer):
                await c.wait_for(lambda c=c: sum(1 for x in c.pushes.get(game, []) if x["event"] == "status") >= 7)

            def allowed(who: str, secret_of: str, kind: str) -> bool:
                if kind == "press":  # the sender and the one recipient
                    i = nations.index(secret_of)
                    return who in (secret_of, nations[(i + 1) % len(nations)])
                return who == secret_of  # orders: their own player only

            def check(adjudicated: bool) -> None:
                for who, c in everyone.items():
                    blob = b"".join(c.raw)
                    for n in nations:
                        for kind in ("comment", "reject", "press"):
                            if not allowed(who, n, kind):
                                assert canary(kind, n).encode() not in blob, (who, kind, n)
                        if not adjudicated and who != n:
                            assert SECRET_MOVE[n].encode() not in blob, (who, n)
                logs = "\n".join(cap.lines)
                for n in nations:
                    for kind in ("comment", "reject", "press"):
                        assert canary(kind, n) not in logs
                    if not adjudicated:
                        assert SECRET_MOVE[n] not in logs

            check(adjudicated=False)
            for path in (f"/games/{game}/", f"/games/{game}/index.json", "/"):
                status, _, body = await fetch(server.port, path)
                assert status == 404 and not any(SECRET_MOVE[n].encode() in body for n in nations)

            for n in nations:
                await p[n].ok("ready", game=game, phase="S1901M")
            got = await observer.wait_push(game, "adjudicated", phase="S1901M")
            assert {o for _, o, _, _ in got["results"]} == set(SECRET_MOVE.values())  # now public
            check(adjudicated=True)
            folder = Path(server.games_dir) / game
            for _ in range(600):  # the publishing worker: at most 60 s
                if (folder / "index.json").exists():
                    break
                await asyncio.sleep(0.1)
            served = [(await fetch(server.port, f"/games/{game}/"))[2]]
            served += [(await fetch(server.port, f"/games/{game}/{name}"))[2] for name in os.listdir(folder)
                       if name.endswith((".txt", ".md", ".json"))]
            assert len(served) >= 5
            for body in served:
                for n in nations:
                    for kind in ("comment", "reject", "press"):
                        assert canary(kind, n).encode() not in body
            for c in everyone.values():
                await c.close()

    try:
        run(go(), timeout=240)
    finally:
        root.removeHandler(cap)
        root.setLevel(old_level)
