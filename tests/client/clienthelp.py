"""Helpers for the client tests: run ``kessen-client`` in-process (bounded), and a classic game
on a real ``kessen serve`` with seven seated players whose tokens are in config files."""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from wsclient import kessen, run  # the server tests' helpers

from client_cli import config
from client_cli.app import main
from client_cli.connection import Connection

NATIONS = ("austria", "england", "france", "germany", "italy", "russia", "turkey")


def cli(*args: str, timeout: float = 60, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``kessen-client ARGS`` in-process (in a thread, bounded); returns (code, stdout, stderr).

    ``stdin``: text the command reads from standard input (default: none, end of file).
    """
    out, err, result = io.StringIO(), io.StringIO(), []

    def go() -> None:
        saved, sys.stdin = sys.stdin, io.StringIO(stdin or "")
        try:
            result.append(main([*args, "--timeout", "10"], out=out, err=err))
        finally:
            sys.stdin = saved

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive() and result, f"kessen-client {' '.join(args)} did not finish"
    return result[0], out.getvalue(), err.getvalue()


def ok(*args: str, stdin: str | None = None) -> str:
    """The output of a command that must succeed (exit 0)."""
    code, out, err = cli(*args, stdin=stdin)
    assert code == 0, (args, out, err)
    return out


def ok_json(*args: str) -> Any:
    """The parsed ``--json`` output of a command that must succeed."""
    return json.loads(ok(*args, "--json"))


def refused(*args: str, code: str) -> tuple[str, str]:
    """Run a command the server must refuse with ``code``: exit 1, the reason on stderr, and in
    ``--json`` the same code on stdout. Returns the text-mode (stdout, stderr)."""
    rc, out, err = cli(*args)
    assert rc == 1 and out == "" and err.startswith(f"kessen-client: refused: {code}: "), (args, rc, out, err)
    rc, jout, jerr = cli(*args, "--json")
    assert rc == 1 and json.loads(jout)["error"] == code, (args, rc, jout, jerr)
    return out, err


def usage(*args: str) -> str:
    """Run a command with a usage error: exit 2 and a message on stderr. Returns stderr.
    (Standard input is empty.)"""
    rc, out, err = cli(*args, stdin="")
    assert rc == 2 and err, (args, rc, out, err)
    return err


def host_token(tmp: Path) -> str:
    r = kessen("user", "add", "boss", "--host", "--db", str(tmp / "k.db"))
    assert r.returncode == 0, r.stderr
    return r.stdout.split("token: ")[1].split()[0]


class Game:
    """A started classic game: ``cfg[nation]`` and ``host`` are config files holding the server
    URL and that player's (the host's) token."""

    def __init__(self, url: str, game: str, cfg: dict[str, str], host: str, tokens: dict[str, str]) -> None:
        self.url, self.id, self.cfg, self.host, self.tokens = url, game, cfg, host, tokens

    def as_(self, who: str) -> tuple[str, str]:
        """``--config FILE`` for ``who`` (a nation or ``host``)."""
        return ("--config", self.host if who == "host" else self.cfg[who])


def make_game(url: str, host_tok: str, tmp: Path, settings: dict[str, Any] | None = None,
              seated: tuple[str, ...] = NATIONS) -> Game:
    """Create a classic game, seat ``seated`` through invites, write each one's config file."""
    async def setup() -> tuple[str, dict[str, str]]:
        async with await Connection.open(url, token=host_tok) as host:
            gid = (await host.request("create_game", ruleset="classic", title="Client test",
                                      settings=settings or {}))["game"]
            codes = {n: (await host.request("invite", game=gid, nation=n))["code"] for n in seated}
        tokens = {}
        for n in seated:
            async with await Connection.open(url, invite=codes[n], name=f"{n.title()}-{gid}") as c:
                tokens[n] = c.welcome["token"]
        return gid, tokens

    gid, tokens = run(setup(), timeout=60)
    d = tmp / gid
    cfg = {n: str(d / f"{n}.toml") for n in seated}
    for n in seated:
        config.save(Path(cfg[n]), {"server": url, "token": tokens[n]})
    host = str(d / "host.toml")
    config.save(Path(host), {"server": url, "token": host_tok})
    return Game(url, gid, cfg, host, tokens)
