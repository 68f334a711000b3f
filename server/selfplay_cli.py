"""``kessen selfplay``: play a reproducible random game and print one line per phase."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .engine.adjustments import centre_counts


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "selfplay",
        help="play a seeded random game (uniform choice among legal orders); same seed, same game",
        description="Play a reproducible random game and print one line per phase: the phase, "
        "centres per nation after it, and notable events. Same ruleset and seed give the same game "
        "in any process.",
    )
    p.add_argument("--ruleset", default="classic", help="installed ruleset id or folder (default: classic)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--years", type=int, default=10, help="years to play (default: 10)")
    p.add_argument("--games", type=int, default=1, help="play this many games with seeds seed, seed+1, ... and print one summary line each")
    p.add_argument("--save", metavar="OUT", help="write the game as a .kessen save (one game) or into a folder (several)")
    p.add_argument("--no-embed", action="store_true", help="saves refer to the installed ruleset by digest instead of embedding it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .ruleset_files import load, load_path, read_folder, rulesets_dir
    from .selfplay import describe, play

    if args.years < 1 or args.games < 1:
        print("kessen: --years and --games must be at least 1", file=sys.stderr)
        return 2
    folder = Path(args.ruleset) if Path(args.ruleset).is_dir() else rulesets_dir() / args.ruleset
    rs = load_path(folder) if Path(args.ruleset).is_dir() else load(args.ruleset)
    # saves embed the ruleset so they replay anywhere (--no-embed: refer to the installed one)
    files = None if args.no_embed or not args.save else read_folder(folder)
    for g in range(args.games):
        seed = args.seed + g
        played = []
        for p in play(rs, seed, args.years):
            played.append(p)
            if args.games == 1:
                print(describe(rs, p), flush=False)
        last = played[-1].turn.state if played else None
        if args.games > 1 and last is not None:
            counts = centre_counts(rs, last.centres)
            alive = sum(1 for n in rs.nation_ids if counts[n] > 0 or any(u.nation == n for u in last.units))
            cells = " ".join(f"{n[:3]}={counts[n]}" for n in rs.nation_ids)
            result = f"{last.winner} wins" if last.winner else f"{alive} survive"
            print(f"seed {seed}  {len(played)} phases  {cells}  {result}")
        elif last is not None:
            print(f"end: {last.winner + ' wins' if last.winner else 'no winner'} after {len(played)} phases")
        if args.save:
            from .saves.builder import record_game_from_turns
            from .saves.files import save_game

            out = Path(args.save)
            if args.games > 1:
                out.mkdir(parents=True, exist_ok=True)
                target = out / f"{rs.id}-seed{seed}.kessen"
            else:
                target = out
            save = record_game_from_turns(
                rs, played, f"{rs.id}-selfplay-{seed}", f"{rs.name} self-play, seed {seed}, {args.years} years",
                seed=seed, settings={"policy": "W-rand v1", "years": args.years}, ruleset_files=files,
            )
            save_game(target, save)
    return 0
