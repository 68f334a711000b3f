"""Server sub-commands of ``kessen`` (I/O edge): ``serve``, ``user add``, ``game export``.

Exit codes: 0 success; 1 a failure (unknown game, name taken); 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

DEMO_GAME = "demo"
DEMO_SETTINGS = {"deadlines": {"movement": {"after": 86400}, "retreat": {"after": 43200},
                               "adjustment": {"after": 43200}}, "early": True}


def _service(db: str) -> Any:
    from .net.clock import SystemClock
    from .net.service import Service
    from .storage.repository import Repository

    service = Service(Repository(db), SystemClock())
    service.load_rooms()
    return service


def demo(service: Any) -> list[str]:
    """Create (once) the classic demo game; give it a fresh host token and invite codes for
    every unclaimed nation. Returns the lines to print."""
    host = service.repo.user_by_name("demo-host")
    from .storage import secrets

    if host is None:
        host_id, token = service.add_user("demo-host", "host")
    else:
        host_id, raw = host["id"], secrets.new_secret()
        service.repo.set_token(host_id, secrets.make_hash(raw))
        token = secrets.join("u", host_id, raw)
    room = service.rooms.get(DEMO_GAME) or service.create_game(host_id, "classic", "Demo", DEMO_SETTINGS, DEMO_GAME)
    lines = [f"demo game {room.id}: {room.title} ({room.ruleset.id}), {room.status} at {room.phase}",
             f"host token: {token}"]
    for nation, seat in sorted(room.seats.items()):
        if seat.user is None:
            lines.append(f"invite {nation}: {service.add_invite(room, host_id, nation)}")
        else:
            lines.append(f"invite {nation}: claimed by {seat.player}")
    return lines


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def cmd_serve(args: argparse.Namespace) -> int:
    from .net.app import Server
    from .net.config import Config

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = Config(db=args.db, host=args.host, port=args.port, demo=args.demo, clock_file=args.clock_file,
                    games_dir=args.games_dir, **({"tick": args.tick} if args.tick else {}),
                    **({"render": False} if args.no_render else {}),
                    rate=args.rate, burst=args.burst, flood=2 * args.burst, max_per_address=args.max_per_address)
    server = Server(config)

    def ready(srv: Server) -> None:
        print(f"listening on {config.host}:{srv.port}", flush=True)
        if config.demo:
            assert srv.service is not None
            for line in demo(srv.service):
                print(line, flush=True)

    try:
        asyncio.run(server.serve(ready))
    except OSError as e:
        print(f"kessen: cannot serve on {config.host}:{config.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    print("server stopped", flush=True)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from .protocol.errors import ProtocolError

    service = _service(args.db)
    try:
        uid, token = service.add_user(args.name, "host" if args.host else "player")
    except ProtocolError as e:
        print(f"kessen: {e.message}", file=sys.stderr)
        return 1
    finally:
        service.repo.close()
    print(f"user {args.name} (id {uid}, {'host' if args.host else 'player'})")
    print(f"token: {token}")
    print("the token is shown only now; only its hash is stored")
    return 0


def cmd_game_export(args: argparse.Namespace) -> int:
    from .saves.files import save_game
    from .storage.export import build_save

    service = _service(args.db)
    try:
        save = build_save(service.repo, args.game)
    except KeyError:
        print(f"kessen: no game {args.game!r} in {args.db}", file=sys.stderr)
        return 1
    finally:
        service.repo.close()
    out = args.output or f"{args.game}.kessen"
    size = save_game(out, save)
    print(f"wrote {out} ({size} bytes, {sum(1 for r in save.records if hasattr(r, 'digest'))} phases)")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``serve``, ``user`` and ``game`` to ``kessen``."""
    s = sub.add_parser("serve", help="run the game server (websocket, msgpack; see PROTOCOL.md)")
    s.add_argument("--db", default="kessen.db", help="SQLite database (default ./kessen.db)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    s.add_argument("--demo", action="store_true", help="create a classic demo game; print invite codes and a host token")
    s.add_argument("--games-dir", default=None,
                   help="where each phase's posts and maps are written and served over HTTP "
                   "(default: 'games' next to the database)")
    s.add_argument("--no-render", action="store_true",
                   help="publish no posts or maps (also KESSEN_NO_RENDER=1)")
    s.add_argument("--rate", type=_positive, default=100.0,
                   help="requests a second one connection may send, sustained (default 100); the excess is "
                   "refused with rate_limited, and a connection that keeps flooding is closed")
    s.add_argument("--burst", type=int, default=200, help="requests one connection may send at once (default 200)")
    s.add_argument("--max-per-address", type=int, default=16,
                   help="connections from one remote address (default 16; loopback is exempt)")
    s.add_argument("--clock-file", default=None, help=argparse.SUPPRESS)  # tests: read "now" from this file
    s.add_argument("--tick", type=float, default=None, help=argparse.SUPPRESS)  # benchmarks: scheduler poll interval
    s.add_argument("-v", "--verbose", action="store_true", help="log requests and processing")
    s.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="server accounts")
    usub = u.add_subparsers(dest="user_command", metavar="SUBCOMMAND")
    ua = usub.add_parser("add", help="add a user and print its token (once)")
    ua.add_argument("name")
    ua.add_argument("--host", action="store_true", help="may create games")
    ua.add_argument("--db", default="kessen.db")
    ua.set_defaults(func=cmd_user_add)

    g = sub.add_parser("game", help="server games")
    gsub = g.add_subparsers(dest="game_command", metavar="SUBCOMMAND")
    ge = gsub.add_parser("export", help="export a game to a .kessen save (kessen verify accepts it)")
    ge.add_argument("game")
    ge.add_argument("-o", "--output", default=None, help="file to write (default GAME.kessen)")
    ge.add_argument("--db", default="kessen.db")
    ge.set_defaults(func=cmd_game_export)


__all__ = ["add_parser", "demo"]
