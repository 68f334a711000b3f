"""``kessen bench``: benchmarks that print figures, with the peer timed in the same run.

Benchmarks are scripts, not tests. The peer (MILA ``diplomacy`` 1.1.2) is never imported:
when a separate environment holding it exists (``.venv-peer`` at the project root, or
``$KESSEN_PEER_PYTHON``), its side runs as a subprocess (``benchmarks/peer_bench.py``) on
the same workload, and the ratio is printed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "tests" / "data" / "ref_trace_w20x20.jsonl.gz"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="benchmarks (engine, saves, server) with the peer timed in the same run")
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT")
    e = bsub.add_parser("engine", help="adjudication speed on the peer workload W20x20 (and --scaling)")
    e.add_argument("--games", type=int, default=20, help="workload games (seeds 0..N-1; default 20)")
    e.add_argument("--years", type=int, default=20, help="years per game (default 20)")
    e.add_argument("--no-peer", action="store_true", help="do not run the peer side")
    e.add_argument("--scaling", action="store_true", help="time synthetic maps of ~75, 300, 1000 and 2000 provinces")
    e.set_defaults(func=cmd_engine)
    from . import bench_server

    sv = bsub.add_parser("server", help="the game server under 700 clients (orders/s, latency, deadlines, memory) "
                                        "against a bare websocket echo server")
    bench_server.add_arguments(sv)
    sv.set_defaults(func=bench_server.run_server_bench)
    try:
        from . import bench_saves
    except ImportError:  # pragma: no cover - saves package not present
        return
    s = bsub.add_parser("saves", help="save size and verify speed against the peer's saved games")
    bench_saves.add_arguments(s)
    s.set_defaults(func=bench_saves.run_saves_bench)


def peer_python() -> str | None:
    """The interpreter of the separate environment holding the peer, if any."""
    env = os.environ.get("KESSEN_PEER_PYTHON")
    if env:
        return env
    candidate = ROOT / ".venv-peer" / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def rss_kb() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


# ---- engine ------------------------------------------------------------------------------
def run_workload(games: int, years: int, edition: str) -> dict[str, Any]:
    """Play the W-rand workload with the Kessen engine; times as bench_peer.py defines them."""
    from .engine.notation import parse_order
    from .engine.options import all_legal_orders
    from .engine.rules import make_options
    from .engine.state import initial_state, phase_name
    from .engine.turn import step
    from .ruleset_files import load
    from .selfplay import board_snapshot, choose_orders, peer_text

    rs = load("classic")
    rs = attrs.evolve(rs, options=make_options(edition, {}))
    t_poss = t_set = t_proc = t_wall = 0.0
    n_proc = n_orders = 0
    years_played = 0
    fps = []
    max_phase = 0.0
    for seed in range(games):
        g0 = time.perf_counter()
        rng = random.Random(seed)
        state = initial_state(rs)
        trace = []
        last_year = state.year + years - 1
        while state.winner is None and state.year <= last_year:
            t0 = time.perf_counter()
            all_legal_orders(rs, state)
            t1 = time.perf_counter()
            t_poss += t1 - t0
            orders = choose_orders(rng, rs, state)
            texts = {n.upper(): [peer_text(o) for o in os] for n, os in orders.items() if os}
            t2 = time.perf_counter()
            parsed = {n.lower(): [parse_order(t, rs) for t in ts] for n, ts in texts.items()}
            t3 = time.perf_counter()
            t_set += t3 - t2
            t4 = time.perf_counter()
            turn = step(rs, state, parsed)
            t5 = time.perf_counter()
            t_proc += t5 - t4
            max_phase = max(max_phase, t5 - t4)
            n_proc += 1
            n_orders += sum(len(v) for v in texts.values())
            trace.append([phase_name(rs, state), texts])
            state = turn.state
        t_wall += time.perf_counter() - g0
        years_played += state.year - rs.start_year
        fp = hashlib.sha256(json.dumps(trace, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
        bfp = hashlib.sha256(json.dumps(board_snapshot(rs, state), sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
        fps.append(fp + bfp)
    return {
        "phases": n_proc, "orders": n_orders,
        "phases_per_s": n_proc / t_proc, "orders_per_s": n_orders / t_proc,
        "process_ms_mean": 1e3 * t_proc / n_proc, "process_ms_max": 1e3 * max_phase,
        "possible_orders_ms_mean": 1e3 * t_poss / n_proc,
        "set_orders_ms_mean": 1e3 * t_set / n_proc,
        "game_years_per_s_end_to_end": years_played / t_wall,
        "workload_fp": hashlib.sha256("".join(fps).encode()).hexdigest()[:16],
    }


def run_replay() -> dict[str, Any]:
    """R20x20: re-adjudicate the peer's recorded games; time and board agreement."""
    from .peer_replay import replay_trace
    from .ruleset_files import load

    with gzip.open(TRACE, "rt") as fh:
        games = [json.loads(line) for line in fh]
    t0 = time.perf_counter()
    report = replay_trace(load("classic"), games)
    elapsed = time.perf_counter() - t0
    return {"report": report, "seconds": elapsed}


def run_peer(games: int, years: int) -> dict[str, Any] | None:
    py = peer_python()
    if py is None:
        return None
    script = ROOT / "benchmarks" / "peer_bench.py"
    env = dict(os.environ)
    env["HOME"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"kessen-peer-home-{os.getpid()}")
    Path(env["HOME"]).mkdir(exist_ok=True)
    proc = subprocess.run([py, str(script), "run", "--games", str(games), "--years", str(years), "--no-roundtrip"],
                          capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        print(f"peer run failed: {proc.stderr.strip()[-400:]}", file=sys.stderr)
        return None
    for line in proc.stdout.splitlines():
        if line.startswith("{") and '"summary"' in line:
            return json.loads(line)
    return None


def cmd_engine(args: argparse.Namespace) -> int:
    if args.scaling:
        return cmd_scaling(args)
    from .engine import resolve

    mode = "compiled with mypyc" if not resolve.__file__.endswith(".py") else "pure Python (KESSEN_PURE or no compiler)"
    print(f"Kessen engine benchmark: workload W{args.games}x{args.years} (W-rand v1, classic map); engine {mode}")
    rss0 = rss_kb()
    ours = run_workload(args.games, args.years, "peer-compat")
    strict = run_workload(args.games, args.years, "datc-3.0")
    replay = run_replay()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = [
        ("adjudicated phases/s", "phases_per_s", "{:,.0f}"),
        ("orders/s", "orders_per_s", "{:,.0f}"),
        ("adjudication ms/phase (mean)", "process_ms_mean", "{:.3f}"),
        ("legal orders ms/phase (whole board)", "possible_orders_ms_mean", "{:.3f}"),
        ("parse+validate orders ms/phase", "set_orders_ms_mean", "{:.3f}"),
        ("game years/s end to end", "game_years_per_s_end_to_end", "{:,.1f}"),
    ]
    peer = None if args.no_peer else run_peer(args.games, args.years)
    if peer is None and not args.no_peer:
        print("peer: not available (python -m venv .venv-peer && .venv-peer/bin/pip install -r benchmarks/peer-requirements.txt)")
    print(f"\n{'figure':40} {'kessen':>12} {'peer':>12} {'ratio':>8}")
    for label, key, fmt in rows:
        mine = ours[key]
        other = peer.get(key) if peer else None
        if other:
            better = mine / other if "_per_s" in key else other / mine
            print(f"{label:40} {fmt.format(mine):>12} {fmt.format(other):>12} {better:>7.1f}x")
        else:
            print(f"{label:40} {fmt.format(mine):>12} {'-':>12} {'':>8}")
    print(f"{'peak RSS (MB)':40} {peak / 1024:>12.1f} {(peer['peak_rss_kb'] / 1024 if peer else float('nan')):>12.1f}")
    print(f"{'RSS before workload (MB)':40} {rss0 / 1024:>12.1f}")
    print(f"\nsame games as the peer (peer-compat edition): workload_fp {ours['workload_fp']}"
          + (f", peer {peer['workload_fp']}" if peer else ", expected 93f373839e9fe713")
          + (" (identical)" if ours["workload_fp"] == (peer["workload_fp"] if peer else "93f373839e9fe713") else " (DIFFERENT)"))
    print(f"DATC 3.0 rules on the same policy: {strict['phases']} phases, {strict['phases_per_s']:,.0f} phases/s, workload_fp {strict['workload_fp']}")
    rep = replay["report"]
    print(f"\nR20x20 replay of the peer's recorded games: {rep.phases} phases in {replay['seconds']:.2f} s "
          f"({rep.phases / replay['seconds']:,.0f} phases/s including checks); {rep.matching} boards match, "
          f"{len(rep.differences)} differ")
    by_reason: dict[str, list[str]] = {}
    for d in rep.differences:
        by_reason.setdefault(d.reason, []).append(f"g{d.game}:{d.phase}")
    for reason, where in by_reason.items():
        print(f"  {len(where)} phases: {reason}")
        print("    " + " ".join(where))
    if rep.unexplained:
        print(f"  UNEXPLAINED: {len(rep.unexplained)}")
        return 1
    return 0


# ---- scaling -----------------------------------------------------------------------------
def cmd_scaling(args: argparse.Namespace) -> int:
    import numpy as np

    from .engine.options import all_legal_orders
    from .engine.ruleset import parse_ruleset
    from .engine.state import initial_state
    from .engine.turn import step
    from .selfplay import choose_orders
    from .synthetic import synthetic_ruleset

    print("Scaling: synthetic maps, seeded random play (W-rand policy), 3 game years each")
    print(f"{'provinces':>9} {'nations':>7} {'units':>6} {'move ms/phase':>14} {'us/unit':>8} {'legal ms/phase':>15}")
    xs, ys, ls = [], [], []
    for n in (75, 300, 1000, 2000):
        rs = parse_ruleset(synthetic_ruleset(n), "synthetic")
        rng = random.Random(1)
        state = initial_state(rs)
        t_move = t_legal = 0.0
        n_move = 0
        units = 0
        for _ in range(9):
            t0 = time.perf_counter()
            all_legal_orders(rs, state)
            t_legal += time.perf_counter() - t0
            orders = choose_orders(rng, rs, state)
            t1 = time.perf_counter()
            turn = step(rs, state, orders)
            dt = time.perf_counter() - t1
            if state.phase == "movement":
                t_move += dt
                n_move += 1
                units += len(state.units)
            state = turn.state
        u = units / n_move
        xs.append(u)
        ys.append(t_move / n_move)
        ls.append(t_legal / 9)
        print(f"{len(rs.provinces):>9} {len(rs.nations):>7} {u:>6.0f} {1e3 * t_move / n_move:>14.2f} {1e6 * t_move / n_move / u:>8.1f} {1e3 * t_legal / 9:>15.2f}")
    k, _ = np.polyfit(np.log(xs), np.log(ys), 1)
    kl, _ = np.polyfit(np.log(xs), np.log(ls), 1)
    print(f"fitted growth: adjudication time ~ units^{k:.2f}; legal-order generation ~ units^{kl:.2f}")
    chain = convoy_chain_bench()
    print(f"convoy chain of {chain['fleets']} fleets: {chain['ms']:.2f} ms per adjudication (army moves {chain['result']})")
    return 0


def convoy_chain_bench(length: int = 30) -> dict[str, Any]:
    """One army convoyed along a line of ``length`` seas, each holding a convoying fleet."""
    from .engine.orders import Convoy, Move
    from .engine.ruleset import parse_ruleset
    from .engine.state import GameState, Unit
    from .engine.turn import step

    seas = [f"s{i:02d}" for i in range(length)]
    lines = ['[provinces.west]\nname = "West"\nterrain = "coast"\nanchor = [0, 0]\narmy = []\nfleet = ["s00"]\n',
             f'[provinces.east]\nname = "East"\nterrain = "coast"\nanchor = [0, 1]\narmy = []\nfleet = ["{seas[-1]}"]\n']
    for i, s in enumerate(seas):
        nb = [seas[j] for j in (i - 1, i + 1) if 0 <= j < length]
        if i == 0:
            nb.append("west")
        if i == length - 1:
            nb.append("east")
        lines.append(f'[provinces.{s}]\nname = "Sea {i}"\nterrain = "sea"\nanchor = [1, {i / 10:.1f}]\nfleet = [{", ".join(repr(x).replace(chr(39), chr(34)) for x in nb)}]\n')
    scen = ('id = "chain"\nname = "Chain"\n[victory]\ncentres = 1\n[calendar]\nseasons = [{ id = "spring", letter = "S", phases = ["movement"], ownership = true }]\n'
            '[nations.a]\nname = "A"\ncolour = "#aaaaaa"\n[start]\nyear = 1\nseason = "spring"\n')
    map_text = "\n".join(lines).replace('[provinces.east]', '[provinces.east]\ncentre = true', 1)
    rs = parse_ruleset({"scenario.toml": scen, "map.toml": map_text}, "chain")
    units = [Unit("a", "A", "west")] + [Unit("a", "F", s) for s in seas]
    state = GameState.build(1, "spring", "movement", units, {})
    orders = {"a": [Move("A", "west", "east")] + [Convoy("F", s, "A", "west", "east") for s in seas]}
    t0 = time.perf_counter()
    reps = 20
    for _ in range(reps):
        turn = step(rs, state, orders)
    ms = 1e3 * (time.perf_counter() - t0) / reps
    return {"fleets": length, "ms": ms, "result": turn.results[0].result}
