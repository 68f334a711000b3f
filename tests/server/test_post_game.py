"""`kessen post` and `kessen map` take a game id of the server database as well as a save."""

from __future__ import annotations

from pathlib import Path

from server.cli import main
from test_server import NATIONS, full_game, started
from wsclient import run


def test_post_and_map_of_a_live_game(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """After a phase is adjudicated, the post and map of the game come straight from the
    database; an unknown game id gives one line and exit 1."""
    async def go() -> str:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur")
            for n in NATIONS:
                await p[n].ok("ready", game=game, phase="S1901M")
            await host.wait_push(game, "adjudicated")
            return game

    game = run(go())
    db = str(tmp_path / "k.db")
    assert main(["post", game, "--db", db, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "S1901M" in out and "`A par - bur`" in out
    assert main(["map", game, "--db", db, "-o", str(tmp_path / "m.svg")]) == 0
    assert (tmp_path / "m.svg").read_text().startswith("<svg")
    assert main(["post", "nosuchgame", "--db", db]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no game 'nosuchgame'" in err[0]
