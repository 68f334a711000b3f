#!/usr/bin/env python3
"""Benchmark harness for the peer engine (MILA `diplomacy`, PyPI 1.1.2): the peer side of
`kessen bench`. Runs only under the separate peer environment (.venv-peer), never imported
by Kessen. Copied unchanged in substance from the workload definition (WORKLOAD.md).

Plays N complete games on the 'standard' map with seeded random legal orders
(policy defined in WORKLOAD.md, section "Random-order policy"), and measures:

  * process() calls per second (phases adjudicated / s, adjudication time only)
  * orders adjudicated per second (orders submitted / process() time)
  * get_all_possible_orders() time per phase
  * set_orders() (order parsing/validation) time per phase
  * whole-game serialisation: to_saved_game_format() + json.dumps()
  * whole-game load: json.loads() + from_saved_game_format()
  * whole-game replay: fresh Game, re-submit each recorded phase's orders and
    process(), verifying the units/centres after every phase
  * peak RSS (ru_maxrss) and RSS held by the N finished games

Output: JSON lines on stdout (one "game" line per game, one "summary" line).

Usage:
  bench_peer.py run [--games 20] [--years 20] [--seed0 0] [--ref-out F.jsonl.gz]
  bench_peer.py summarize RUN1.jsonl RUN2.jsonl ...   (median / min / max of summaries)

Only public API is used: diplomacy.Game, Game.get_all_possible_orders,
Game.get_orderable_locations, Game.set_orders, Game.process, Game.get_units,
Game.get_centers, Game.get_current_phase, Game.is_game_done,
diplomacy.utils.export.{to_saved_game_format, from_saved_game_format}.
"""
import argparse
import gc
import gzip
import hashlib
import json
import os
import platform
import random
import resource
import statistics
import sys
import time

POWERS = ('AUSTRIA', 'ENGLAND', 'FRANCE', 'GERMANY', 'ITALY', 'RUSSIA', 'TURKEY')
GAME_RULES = ('SOLITAIRE', 'NO_PRESS', 'IGNORE_ERRORS', 'POWER_CHOICE')  # the peer's defaults
START_YEAR = 1901


def rss_kb():
    """Current resident set size in KiB (Linux /proc)."""
    with open('/proc/self/status') as fh:
        for line in fh:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return -1


def phase_year(phase):
    """'S1901M' -> 1901; 'COMPLETED' -> None."""
    if len(phase) == 6 and phase[1:5].isdigit():
        return int(phase[1:5])
    return None


# ---------------------------------------------------------------------------
# The random-order policy (WORKLOAD.md).  Engine-neutral inputs:
#   phase_type: 'M' | 'R' | 'A'
#   orderable:  {power: sorted list of 3-letter province codes needing an order}
#   options:    {province: list of legal order strings (any order; we sort)}
#   need:       {power: signed adjustment count = min(SC - units, free home SCs) if >0
#                else SC - units} (adjustment phases only)
# ---------------------------------------------------------------------------
def choose_orders(rng, phase_type, orderable, options, need):
    chosen = {}
    for power in POWERS:                              # alphabetical, fixed
        locs = sorted(orderable.get(power, []))
        orders = []
        if phase_type in ('M', 'R'):
            for loc in locs:
                opts = sorted(options.get(loc, []))
                if opts:
                    orders.append(rng.choice(opts))
        elif phase_type == 'A':
            n = need.get(power, 0)
            if n > 0 and locs:                        # builds: random subset of sites,
                k = min(n, len(locs))                 # each a random build type or WAIVE
                for loc in sorted(rng.sample(locs, k)):
                    opts = sorted(options.get(loc, []))
                    if opts:
                        orders.append(rng.choice(opts))
            elif n < 0 and locs:                      # disbands: random subset of units
                k = min(-n, len(locs))
                for loc in sorted(rng.sample(locs, k)):
                    opts = sorted(o for o in options.get(loc, []) if o.endswith(' D'))
                    if opts:
                        orders.append(rng.choice(opts))
        chosen[power] = orders
    return chosen


def board_snapshot(game):
    """Engine-neutral board: sorted units, dislodged units and centres per power."""
    units = game.get_units()
    centers = game.get_centers()
    return {p: {'units': sorted(u for u in units.get(p, []) if not u.startswith('*')),
                'dislodged': sorted(u[1:] for u in units.get(p, []) if u.startswith('*')),
                'centers': sorted(centers.get(p, []))} for p in POWERS}


def play_game(seed, years, keep_trace):
    from diplomacy import Game
    rng = random.Random(seed)
    game = Game(game_id='bench-%d' % seed, map_name='standard', rules=list(GAME_RULES))
    last_year = START_YEAR + years - 1
    t_poss = t_set = t_proc = 0.0
    n_proc = n_orders = n_accepted = n_units_moves = 0
    per_phase_proc = []
    trace = []                       # canonical record of the game (for fingerprint / ref file)
    while not game.is_game_done:
        phase = game.get_current_phase()
        year = phase_year(phase)
        if year is None or year > last_year:
            break
        ptype = phase[-1]

        t0 = time.perf_counter()
        possible = game.get_all_possible_orders()
        t1 = time.perf_counter()
        t_poss += t1 - t0

        orderable = game.get_orderable_locations()
        need = {}
        if ptype == 'A':
            centers, units = game.get_centers(), game.get_units()
            for p in POWERS:
                diff = len(centers[p]) - len(units[p])
                need[p] = min(diff, len(orderable[p])) if diff > 0 else diff
        chosen = choose_orders(rng, ptype, orderable, possible, need)

        t2 = time.perf_counter()
        for p in POWERS:
            if chosen[p]:
                game.set_orders(p, chosen[p])
        t3 = time.perf_counter()
        t_set += t3 - t2

        submitted = sum(len(v) for v in chosen.values())
        accepted = sum(len(v) for v in game.get_orders().values())
        if ptype == 'M':
            n_units_moves += sum(len(v) for v in game.get_units().values())

        t4 = time.perf_counter()
        game.process()
        t5 = time.perf_counter()
        t_proc += t5 - t4
        per_phase_proc.append(t5 - t4)
        n_proc += 1
        n_orders += submitted
        n_accepted += accepted
        trace.append({'phase': phase, 'orders': {p: chosen[p] for p in POWERS if chosen[p]},
                      'after': board_snapshot(game)})

    final_phase = game.get_current_phase()
    sc = {p: len(c) for p, c in game.get_centers().items()}
    canon = json.dumps([[t['phase'], t['orders']] for t in trace], sort_keys=True,
                       separators=(',', ':'))
    fingerprint = hashlib.sha256(canon.encode()).hexdigest()[:16]
    final_board = json.dumps(board_snapshot(game), sort_keys=True, separators=(',', ':'))
    board_fp = hashlib.sha256(final_board.encode()).hexdigest()[:16]
    rec = {
        'seed': seed, 'years': years, 'final_phase': final_phase,
        'years_played': (phase_year(final_phase) or last_year + 1) - START_YEAR,
        'process_calls': n_proc, 'orders_submitted': n_orders, 'orders_accepted': n_accepted,
        'unit_moves': n_units_moves,
        't_possible_s': t_poss, 't_set_orders_s': t_set, 't_process_s': t_proc,
        'process_ms_max': max(per_phase_proc) * 1e3 if per_phase_proc else 0.0,
        'sc_counts': sc, 'orders_fp': fingerprint, 'final_board_fp': board_fp,
    }
    return game, rec, (trace if keep_trace else None)


def roundtrip(game, rec):
    """Serialise, load and replay one finished game; adds timings to rec."""
    from diplomacy import Game
    from diplomacy.utils.export import to_saved_game_format, from_saved_game_format

    t0 = time.perf_counter()
    saved = to_saved_game_format(game)
    t1 = time.perf_counter()
    text = json.dumps(saved)
    t2 = time.perf_counter()
    rec['t_to_saved_s'] = t1 - t0
    rec['t_json_dumps_s'] = t2 - t1
    rec['saved_bytes'] = len(text.encode())

    t3 = time.perf_counter()
    loaded = json.loads(text)
    t4 = time.perf_counter()
    g2 = from_saved_game_format(loaded)
    t5 = time.perf_counter()
    rec['t_json_loads_s'] = t4 - t3
    rec['t_from_saved_s'] = t5 - t4
    rec['load_ok'] = (board_snapshot(g2) == board_snapshot(game)
                      and g2.get_current_phase() == game.get_current_phase())

    # Replay: re-adjudicate every recorded phase from the saved orders.
    t6 = time.perf_counter()
    g3 = Game(game_id=loaded['id'], map_name=loaded['map'], rules=list(GAME_RULES))
    ok = True
    phases = loaded['phases']
    for i, ph in enumerate(phases[:-1]):
        if g3.get_current_phase() != ph['name']:
            ok = False
            break
        for p, orders in (ph.get('orders') or {}).items():
            if orders:
                g3.set_orders(p, orders)
        g3.process()
        nxt = phases[i + 1]['state']
        for p in POWERS:
            if sorted(g3.get_centers(p)) != sorted(nxt['centers'].get(p, [])) or \
               sorted(g3.get_units(p)) != sorted(nxt['units'].get(p, [])):
                ok = False
        if not ok:
            break
    t7 = time.perf_counter()
    rec['t_replay_s'] = t7 - t6
    rec['replay_ok'] = ok and g3.get_current_phase() == game.get_current_phase()
    return rec


def cmd_run(args):
    import diplomacy
    gc.collect()
    rss0 = rss_kb()
    t_import0 = time.perf_counter()
    from diplomacy import Game
    Game(map_name='standard')                 # warm map cache (first Map load is excluded)
    t_warm = time.perf_counter() - t_import0
    rss_warm = rss_kb()
    games, recs = [], []
    ref = gzip.open(args.ref_out, 'wt') if args.ref_out else None
    t_all0 = time.perf_counter()
    for i in range(args.games):
        seed = args.seed0 + i
        g0 = time.perf_counter()
        game, rec, trace = play_game(seed, args.years, keep_trace=bool(ref))
        rec['t_game_wall_s'] = time.perf_counter() - g0
        if not args.no_roundtrip:
            roundtrip(game, rec)
        rec['kind'] = 'game'
        print(json.dumps(rec, sort_keys=True), flush=True)
        recs.append(rec)
        if ref:
            ref.write(json.dumps({'seed': seed, 'years': args.years, 'rules': list(GAME_RULES),
                                  'phases': trace, 'orders_fp': rec['orders_fp'],
                                  'final_board_fp': rec['final_board_fp']},
                                 sort_keys=True, separators=(',', ':')) + '\n')
        games.append(game)                        # keep: measures RSS held by N games
    t_all = time.perf_counter() - t_all0
    if ref:
        ref.close()
    gc.collect()
    rss_end = rss_kb()

    def tot(k):
        return sum(r.get(k, 0.0) for r in recs)
    n_proc, n_ord = tot('process_calls'), tot('orders_submitted')
    summary = {
        'kind': 'summary', 'engine': 'diplomacy', 'engine_version': diplomacy.__version__
        if hasattr(diplomacy, '__version__') else '1.1.2',
        'python': platform.python_version(), 'games': args.games, 'years': args.years,
        'seed0': args.seed0,
        'process_calls': n_proc, 'orders_submitted': n_ord,
        'orders_accepted': tot('orders_accepted'), 'game_years': tot('years_played'),
        'phases_per_s': n_proc / tot('t_process_s'),
        'orders_per_s': n_ord / tot('t_process_s'),
        'process_ms_mean': 1e3 * tot('t_process_s') / n_proc,
        'possible_orders_ms_mean': 1e3 * tot('t_possible_s') / n_proc,
        'set_orders_ms_mean': 1e3 * tot('t_set_orders_s') / n_proc,
        'game_years_per_s_end_to_end': tot('years_played') / tot('t_game_wall_s'),
        'wall_s_total': t_all, 'warm_map_s': t_warm,
        'rss_kb_start': rss0, 'rss_kb_warm': rss_warm, 'rss_kb_end_holding_games': rss_end,
        'rss_kb_per_game_held': (rss_end - rss_warm) / max(1, args.games),
        'peak_rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if not args.no_roundtrip:
        summary.update({
            'to_saved_ms_mean': 1e3 * tot('t_to_saved_s') / args.games,
            'json_dumps_ms_mean': 1e3 * tot('t_json_dumps_s') / args.games,
            'saved_kb_mean': tot('saved_bytes') / 1024 / args.games,
            'json_loads_ms_mean': 1e3 * tot('t_json_loads_s') / args.games,
            'from_saved_ms_mean': 1e3 * tot('t_from_saved_s') / args.games,
            'replay_ms_mean': 1e3 * tot('t_replay_s') / args.games,
            'replay_phases_per_s': n_proc / tot('t_replay_s'),
            'load_ok_all': all(r['load_ok'] for r in recs),
            'replay_ok_all': all(r['replay_ok'] for r in recs),
        })
    summary['workload_fp'] = hashlib.sha256(
        ''.join(r['orders_fp'] + r['final_board_fp'] for r in recs).encode()).hexdigest()[:16]
    print(json.dumps(summary, sort_keys=True), flush=True)


def cmd_summarize(args):
    sums = []
    for path in args.files:
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if line.startswith('{'):
                    d = json.loads(line)
                    if d.get('kind') == 'summary':
                        sums.append(d)
    if not sums:
        sys.exit('no summary lines found')
    out = {'kind': 'median_of_runs', 'runs': len(sums)}
    for k in sorted(sums[0]):
        vals = [s[k] for s in sums if k in s]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            out[k] = {'median': statistics.median(vals), 'min': min(vals), 'max': max(vals)}
        elif len({json.dumps(v) for v in vals}) == 1:
            out[k] = vals[0]
        else:
            out[k] = vals
    print(json.dumps(out, sort_keys=True, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--games', type=int, default=20)
    r.add_argument('--years', type=int, default=20)
    r.add_argument('--seed0', type=int, default=0)
    r.add_argument('--no-roundtrip', action='store_true')
    r.add_argument('--ref-out', help='write the canonical trace (orders + board after each phase) '
                                     'as gzipped JSON lines')
    s = sub.add_parser('summarize')
    s.add_argument('files', nargs='+')
    args = ap.parse_args()
    {'run': cmd_run, 'summarize': cmd_summarize}[args.cmd](args)


if __name__ == '__main__':
    main()
