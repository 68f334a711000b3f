"""``kessen bench saves``: save size, load + verify speed and memory, against the peer.

The workload is the peer's 20 recorded games (R20x20, ``tests/data/ref_trace_w20x20.jsonl.gz``:
orders per phase). Kessen replays each game with the ``peer-compat`` edition (the peer's
rule choices, so every board matches the trace), records it as a save, then measures:

* save size in KB per 20-year game (ruleset by reference, as the peer names its map; and
  with the ruleset embedded);
* load + full re-adjudicating verify, in phases per second (one process; and with every
  core, as ``kessen verify DIR`` runs);
* memory per game held (RSS growth while holding the loaded saves; tracemalloc too).

The peer (MILA ``diplomacy`` 1.1.2) is never imported: ``benchmarks/peer_saves.py`` runs
in its own environment (``.venv-peer`` or ``$KESSEN_PEER_PYTHON``) on the same games, and
both sides print side by side. A script, not a test.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from .bench import peer_python, rss_kb  # shared with kessen bench engine

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "tests" / "data" / "ref_trace_w20x20.jsonl.gz"
PEER_SCRIPT = ROOT / "benchmarks" / "peer_saves.py"
CREATED = 1_767_225_600
GOALS = {"size": 1 / 5, "speed": 20.0, "memory": 1 / 10}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``kessen bench saves``."""
    parser.add_argument("--games", type=int, default=20, help="games of the trace to use (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept (default 3)")
    parser.add_argument("--jobs", type=int, default=0, help="processes for the parallel verify (default: all cores)")
    parser.add_argument("--no-peer", action="store_true", help="do not run the peer side")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--trace", default=str(TRACE), help="the R20x20 trace (jsonl.gz)")


def peer_compat_files(files: dict[str, str]) -> dict[str, str]:
    """The classic ruleset's files with the peer's rule edition (id ``classic-peer``)."""
    scen = files["scenario.toml"]
    scen = re.sub(r'(?m)^id\s*=\s*"[^"]*"', 'id = "classic-peer"', scen, count=1)
    if re.search(r'(?m)^edition\s*=', scen):
        scen = re.sub(r'(?m)^edition\s*=\s*"[^"]*"', 'edition = "peer-compat"', scen, count=1)
    elif "[rules]" in scen:
        scen = scen.replace("[rules]", '[rules]\nedition = "peer-compat"', 1)
    else:
        scen += '\n[rules]\nedition = "peer-compat"\n'
    return {**files, "scenario.toml": scen}


def build_saves(trace: list[dict[str, Any]]) -> tuple[list[bytes], list[bytes], int, int]:
    """Replay the trace games with Kessen; ``(embedded saves, by-reference saves, phases,
    phases whose board differs from the trace)``."""
    import attrs

    from .engine.notation import parse_order
    from .engine.ruleset import parse_ruleset
    from .engine.state import initial_state, phase_name
    from .engine.turn import step
    from .ruleset_files import read_folder, rulesets_dir
    from .saves.builder import new_save
    from .saves.format import to_bytes
    from .selfplay import board_snapshot

    files = peer_compat_files(read_folder(rulesets_dir() / "classic"))
    rs = parse_ruleset(files, "classic-peer")
    embedded, bare = [], []
    phases = differ = 0
    for g in trace:
        rec = new_save(rs, f"w20-{g['seed']}", f"W20x20 seed {g['seed']}", created=CREATED, seed=g["seed"],
                       ruleset_files=files, settings={"workload": "R20x20"})
        state = initial_state(rs)
        for ph in g["phases"]:
            if phase_name(rs, state) != ph["phase"]:
                differ += 1
                break
            orders = {p.lower(): [parse_order(o, rs) for o in os_] for p, os_ in ph["orders"].items() if os_}
            turn = step(rs, state, orders)
            rec.add_turn(rs, orders, turn)
            state = turn.state
            phases += 1
            differ += board_snapshot(rs, state) != ph["after"]
        save = rec.to_save()
        embedded.append(to_bytes(save))
        bare.append(to_bytes(attrs.evolve(save, header=attrs.evolve(save.header, ruleset_files=None))))
    return embedded, bare, phases, differ


def _clear_caches() -> None:
    from .saves import entries, verify

    entries._REASONS.clear()
    verify._ORDER_CACHE.clear()


def _verify_all(datas: list[bytes]) -> tuple[int, bool]:
    from .saves.files import ruleset_for
    from .saves.verify import verify_bytes

    phases, ok = 0, True
    for d in datas:
        report = verify_bytes(d, ruleset_for)
        phases += report.phases
        ok = ok and report.ok
    return phases, ok


def _verify_chunk(datas: list[bytes]) -> tuple[int, bool]:
    _clear_caches()  # as cold as the one-process figure
    return _verify_all(datas)


def measure_ours(datas: list[bytes], bare: list[bytes], repeat: int, jobs: int) -> dict[str, Any]:
    from .saves.files import ruleset_for
    from .saves.format import parse

    ruleset_for(parse(datas[0]).save.header)  # parse the embedded ruleset once (cached)
    best, best_load, ok_all, phases = float("inf"), float("inf"), True, 0
    for _ in range(max(1, repeat)):
        _clear_caches()
        gc.collect()
        t0 = time.perf_counter()
        for d in datas:
            parse(d, strict=True)
        t1 = time.perf_counter()
        _clear_caches()
        t2 = time.perf_counter()
        phases, ok = _verify_all(datas)
        t3 = time.perf_counter()
        best_load = min(best_load, t1 - t0)
        best = min(best, t3 - t2)
        ok_all = ok_all and ok
    # every core, as `kessen verify DIR` does
    jobs = jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    par = None
    if jobs > 1:
        chunks = [datas[k::jobs] for k in range(jobs)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(_verify_chunk, [[datas[0]]] * jobs))  # start and warm the workers
            best_par = float("inf")
            for _ in range(max(1, repeat)):
                t0 = time.perf_counter()
                results = list(pool.map(_verify_chunk, chunks))
                best_par = min(best_par, time.perf_counter() - t0)
                ok_all = ok_all and all(ok for _, ok in results)
        par = phases / best_par
    # memory per game held
    _clear_caches()
    gc.collect()
    before = rss_kb()
    held = [parse(d).save for d in datas]
    gc.collect()
    after = rss_kb()
    del held
    _clear_caches()
    gc.collect()
    tracemalloc.start()
    held = [parse(d).save for d in datas]
    gc.collect()
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = len(datas)
    return {
        "engine": "kessen", "games": n, "phases": phases,
        "saved_kb_mean": sum(map(len, bare)) / 1024 / n,
        "saved_kb_mean_embedded": sum(map(len, datas)) / 1024 / n,
        "load_s": best_load, "verify_s": best,
        # verify_bytes parses the file itself: the verify time already includes the load
        "verify_phases_per_s": phases / best,
        "verify_phases_per_s_parallel": par, "jobs": jobs,
        "verify_ok_all": ok_all,
        "rss_kb_per_game_held": (after - before) / n,
        "traced_kb_per_game_held": traced / 1024 / n,
    }


def run_peer(trace: str, games: int, repeat: int) -> dict[str, Any] | None:
    py = peer_python()
    if py is None or not PEER_SCRIPT.exists():
        return None
    with tempfile.TemporaryDirectory() as home:  # the peer caches convoy paths under ~/.cache
        env = {**os.environ, "HOME": home}
        proc = subprocess.run([py, str(PEER_SCRIPT), trace, "--games", str(games), "--repeat", str(repeat)],
                              capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        print(f"peer side failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _row(name: str, ours: str, peer: str, ratio: str, goal: str) -> str:
    return f"{name:<38}{ours:>22}{peer:>16}{ratio:>12}  {goal}"


def report(ours: dict[str, Any], peer: dict[str, Any] | None) -> str:
    lines = [f"kessen bench saves: R20x20, {ours['games']} games, {ours['phases']} phases "
             f"(Kessen replays them with the peer-compat edition; boards differing: {ours['boards_differing']})",
             _row("", "kessen", "peer", "ratio", "goal")]

    def ok(flag: bool) -> str:
        return "met" if flag else "NOT met"

    size = ours["saved_kb_mean"]
    speed = ours["verify_phases_per_s"]
    mem = max(ours["rss_kb_per_game_held"], ours["traced_kb_per_game_held"])
    if peer:
        ps, pv, pm = peer["saved_kb_mean"], peer["replay_phases_per_s"], max(peer["rss_kb_per_game_held"], peer["traced_kb_per_game_held"])
        lines.append(_row("save size, KB per game", f"{size:.1f}", f"{ps:.1f}", f"1/{ps / size:.1f}",
                          f"<= 1/5: {ok(size <= ps * GOALS['size'])}"))
        lines.append(_row("  with the ruleset embedded", f"{ours['saved_kb_mean_embedded']:.1f}", f"{ps:.1f}",
                          f"1/{ps / ours['saved_kb_mean_embedded']:.1f}", "(the peer names its map)"))
        lines.append(_row("load + verify, phases/s (1 process)", f"{speed:,.0f}", f"{pv:,.0f}", f"{speed / pv:.1f}x",
                          f">= 20x: {ok(speed >= pv * GOALS['speed'])}"))
        if ours["verify_phases_per_s_parallel"]:
            par = ours["verify_phases_per_s_parallel"]
            lines.append(_row(f"  with {ours['jobs']} processes", f"{par:,.0f}", f"{pv:,.0f}", f"{par / pv:.1f}x",
                              f">= 20x: {ok(par >= pv * GOALS['speed'])}"))
        lines.append(_row("memory per game held, KB", f"{mem:.0f}", f"{pm:.0f}", f"1/{pm / max(mem, 1):.1f}",
                          f"<= 1/10: {ok(mem <= pm * GOALS['memory'])}"))
        lines.append(f"  (memory: the larger of RSS growth and tracemalloc; kessen RSS {ours['rss_kb_per_game_held']:.0f}, "
                     f"traced {ours['traced_kb_per_game_held']:.0f}; peer RSS {peer['rss_kb_per_game_held']:.0f}, "
                     f"traced {peer['traced_kb_per_game_held']:.0f})")
        lines.append(f"  (peer: load {peer['load_s'] * 1e3 / peer['games']:.1f} ms/game without re-adjudication; "
                     f"kessen: load {ours['load_s'] * 1e3 / ours['games']:.2f} ms/game; replays ok: "
                     f"kessen {ours['verify_ok_all']}, peer {peer['replay_ok_all']})")
    else:
        lines.append(_row("save size, KB per game", f"{size:.1f}", "-", "-", ""))
        lines.append(_row("  with the ruleset embedded", f"{ours['saved_kb_mean_embedded']:.1f}", "-", "-", ""))
        lines.append(_row("load + verify, phases/s (1 process)", f"{speed:,.0f}", "-", "-", ""))
        if ours["verify_phases_per_s_parallel"]:
            lines.append(_row(f"  with {ours['jobs']} processes", f"{ours['verify_phases_per_s_parallel']:,.0f}", "-", "-", ""))
        lines.append(_row("memory per game held, KB", f"{mem:.0f}", "-", "-", ""))
        lines.append("  (peer not run: no .venv-peer with diplomacy 1.1.2, or --no-peer)")
    return "\n".join(lines)


def run_saves_bench(args: argparse.Namespace) -> int:
    """Entry point of ``kessen bench saves``; prints the table (or JSON) and returns 0."""
    with gzip.open(args.trace, "rt") as fh:
        trace = [json.loads(line) for line in fh][: args.games]
    datas, bare, phases, differ = build_saves(trace)
    ours = measure_ours(datas, bare, args.repeat, args.jobs)
    ours["boards_differing"] = differ
    peer = None if args.no_peer else run_peer(args.trace, len(trace), args.repeat)
    if args.json:
        print(json.dumps({"kessen": ours, "peer": peer}, indent=1, sort_keys=True))
    else:
        print(report(ours, peer))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kessen bench saves", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_saves_bench(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
