#!/usr/bin/env python3
"""The peer side of `kessen bench saves` (MILA `diplomacy` 1.1.2; run only under .venv-peer).

For each game of the R20x20 trace (orders per phase, WORKLOAD.md), rebuild the game with
the peer (set_orders + process, untimed), then measure, as bench_peer.py's `roundtrip`:

  * save size: to_saved_game_format() + json.dumps(), in bytes;
  * load: json.loads() + from_saved_game_format() (a state load, no re-adjudication);
  * replay: a fresh Game re-adjudicating every saved phase's orders, checking units and
    centres after every phase (the peer's own full verification of a save);
  * memory per game held: RSS (and tracemalloc) growth while holding the loaded games.

Prints one JSON object on stdout. Never imported by Kessen.

Usage: peer_saves.py TRACE.jsonl.gz [--games N] [--repeat R]
"""
import argparse
import gc
import gzip
import json
import sys
import time
import tracemalloc

POWERS = ('AUSTRIA', 'ENGLAND', 'FRANCE', 'GERMANY', 'ITALY', 'RUSSIA', 'TURKEY')
GAME_RULES = ('SOLITAIRE', 'NO_PRESS', 'IGNORE_ERRORS', 'POWER_CHOICE')


def rss_kb():
    with open('/proc/self/status') as fh:
        for line in fh:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return -1


def build(trace_game):
    from diplomacy import Game
    game = Game(game_id='w20-%d' % trace_game['seed'], map_name='standard', rules=list(GAME_RULES))
    for ph in trace_game['phases']:
        assert game.get_current_phase() == ph['phase'], (game.get_current_phase(), ph['phase'])
        for p, orders in ph['orders'].items():
            if orders:
                game.set_orders(p, orders)
        game.process()
    return game


def replay(loaded):
    """bench_peer.py's replay: re-adjudicate every saved phase, check the board after each."""
    from diplomacy import Game
    g3 = Game(game_id=loaded['id'], map_name=loaded['map'], rules=list(GAME_RULES))
    phases = loaded['phases']
    for i, ph in enumerate(phases[:-1]):
        if g3.get_current_phase() != ph['name']:
            return False, i
        for p, orders in (ph.get('orders') or {}).items():
            if orders:
                g3.set_orders(p, orders)
        g3.process()
        nxt = phases[i + 1]['state']
        for p in POWERS:
            if sorted(g3.get_centers(p)) != sorted(nxt['centers'].get(p, [])) or \
               sorted(g3.get_units(p)) != sorted(nxt['units'].get(p, [])):
                return False, i + 1
    return True, len(phases) - 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('trace')
    ap.add_argument('--games', type=int, default=20)
    ap.add_argument('--repeat', type=int, default=1, help='timing repeats (best is kept)')
    args = ap.parse_args()
    import diplomacy
    from diplomacy import Game
    from diplomacy.utils.export import from_saved_game_format, to_saved_game_format

    with gzip.open(args.trace, 'rt') as fh:
        trace = [json.loads(line) for line in fh][:args.games]
    Game(map_name='standard')  # warm the map cache, as bench_peer.py does
    texts = []
    for tg in trace:
        game = build(tg)
        texts.append(json.dumps(to_saved_game_format(game)))
        del game
    sizes = [len(t.encode()) for t in texts]
    phases = sum(len(tg['phases']) for tg in trace)

    best_load = best_replay = float('inf')
    ok_all = True
    for _ in range(max(1, args.repeat)):
        t_load = t_replay = 0.0
        for text in texts:
            t0 = time.perf_counter()
            loaded = json.loads(text)
            t1 = time.perf_counter()
            from_saved_game_format(loaded)
            t2 = time.perf_counter()
            ok, _ = replay(loaded)
            t3 = time.perf_counter()
            ok_all = ok_all and ok
            t_load += t2 - t0
            t_replay += (t1 - t0) + (t3 - t2)
        best_load = min(best_load, t_load)
        best_replay = min(best_replay, t_replay)

    # memory per game held: load every game and keep it
    gc.collect()
    before = rss_kb()
    held = [from_saved_game_format(json.loads(t)) for t in texts]
    gc.collect()
    after = rss_kb()
    tracemalloc.start()
    held2 = [from_saved_game_format(json.loads(t)) for t in texts]
    gc.collect()
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = {
        'engine': 'diplomacy', 'version': getattr(diplomacy, '__version__', '1.1.2'),
        'python': sys.version.split()[0], 'games': len(trace), 'phases': phases,
        'saved_bytes': sizes, 'saved_kb_mean': sum(sizes) / 1024 / len(sizes),
        'load_s': best_load, 'load_games_per_s': len(trace) / best_load,
        'replay_s': best_replay, 'replay_phases_per_s': phases / best_replay,
        'replay_ok_all': ok_all,
        'rss_kb_per_game_held': (after - before) / len(held),
        'traced_kb_per_game_held': traced / 1024 / len(held2),
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
