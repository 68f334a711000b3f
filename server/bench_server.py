"""``kessen bench server``: the real server under many clients, with an echo server as ceiling.

Everything runs on loopback, in subprocesses, on a temporary directory that is removed at the
end (also on failure or Ctrl-C):

1. A database is prepared in-process through the server's own code (``Service``): one host,
   one user per client, ``--games`` classic games with every client seated, all started. Each
   game ``k`` has phase deadlines ``DEADLINE + k`` seconds after the phase starts, so the
   games' deadlines are spread and can be forced one game at a time.
2. ``kessen serve`` starts on port 0 with that database, a clock file (``--clock-file``),
   a 5 ms scheduler poll, and ``KESSEN_STATS=1`` (event-loop lag, :mod:`server.net.stats`),
   with ``--no-render``: the publishing worker renders every adjudicated phase's posts and
   maps in its own process, and the forced deadlines adjudicate some 400 phases in seconds
   (weeks of a real server's phases), which would give that worker a whole core for the
   rest of the run. What is measured is the game server.
   Its RSS is read from ``/proc`` once idle (started, no client).
3. The load generator (``benchmarks/load_server.py``, its own process) connects and
   authenticates every client; the server's RSS is read again (memory per connection); then
   the paced stage runs (orders at ``--rate`` per client per second, deadlines forced through
   the clock file).
4. The echo server (``benchmarks/echo_server.py``) gets the same clients and frames, and its
   own paced stage (the kessen server is stopped meanwhile, SIGSTOP).
5. Saturation (closed loop), ``--rounds`` rounds against each server in turn, the other one
   stopped: both see the same machine, and a busy moment of a shared VM spoils one round
   rather than one side. Each side's figure is its median round; the ratio is the median of
   the rounds' ratios, and every round is printed.

``KESSEN_BENCH_PROFILE=FILE`` runs the server under cProfile (main thread) and writes FILE.

Orders submitted by the clients are valid and keep the board as it is (holds, or supports to
own units holding), so every phase's orders stay valid for the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000
DEADLINE = 100_000  # seconds: game k's phases last DEADLINE + k (spread, never out of order)
GOALS = {"ack_p99_ms": 20.0, "deadline_p99_ms": 20.0, "echo_ratio": 0.5, "idle_mb": 60.0}
PEER = "11 ms median acknowledgement with 0.5 s spikes, 64 ms deadline-to-results, 764 MB idle"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clients", type=int, default=700, help="websocket clients (default 700)")
    p.add_argument("--games", type=int, default=100, help="games; clients are seated 7 to a game (default 100)")
    p.add_argument("--seconds", type=float, default=20, help="paced stage, with forced deadlines (default 20)")
    p.add_argument("--sat-seconds", type=float, default=5, help="each saturation round (default 5)")
    p.add_argument("--rounds", type=int, default=3,
                   help="saturation rounds against each server, alternating (default 3)")
    p.add_argument("--rate", type=float, default=1.0, help="orders per second per client in the paced stage (default 1)")
    p.add_argument("--no-echo", action="store_true", help="skip the echo-server ceiling")
    p.add_argument("--json", default=None, help="also write every figure to this JSON file")


# ---- processes ---------------------------------------------------------------------------
class Proc:
    """A subprocess whose stdout lines are read by a thread (so every wait has a timeout)."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], stderr: Path, stdin: bool = False) -> None:
        self.err_path = stderr
        with open(stderr, "w") as err:
            self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                                      stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.t = threading.Thread(target=self._pump, daemon=True)
        self.t.start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pred: Callable[[str], bool], timeout: float, what: str,
               on_line: Callable[[str], None] | None = None) -> str:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"timed out waiting for {what}; stderr: {self.stderr_tail()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"process exited waiting for {what} (rc {self.p.poll()}); stderr: {self.stderr_tail()}")
            if pred(line):
                return line
            if on_line is not None:
                on_line(line)

    def stderr_tail(self) -> str:
        try:
            return self.err_path.read_text()[-1500:]
        except OSError:
            return ""

    def send(self, text: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def signal(self, sig: int) -> None:
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, timeout: float = 10) -> int | None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        return self.p.returncode

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _limits(args: argparse.Namespace) -> list[str]:
    """The saturation stage drives every connection as fast as the server answers it. At 700
    clients that is a few requests a second each, far under the default per-connection limit;
    with a handful of clients (a quick run) it would trip the limiter, which would then be
    what is measured. The limit is raised to what the stage could reach in the worst case."""
    per_client = max(100.0, 50_000 / max(1, args.clients))
    return ["--rate", f"{per_client:g}", "--burst", str(int(2 * per_client))]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "PYTHONUNBUFFERED": "1"}


# ---- the prepared database ---------------------------------------------------------------
def board_keeping_orders(rs: Any, state: Any, nation: str) -> tuple[str, str]:
    """Two valid order sets that leave the board unchanged: all hold; supports to own units."""
    from .engine.notation import format_order
    from .engine.options import legal_orders
    from .engine.orders import Hold, Support

    opts = legal_orders(rs, state, nation)
    own = {u.loc for u in state.units if u.nation == nation}
    holds, supports = [], []
    for loc, choices in sorted(opts.items()):
        hold = next(o for o in choices if isinstance(o, Hold))
        sup = next((o for o in choices if isinstance(o, Support) and o.dest is None and o.target in own), None)
        holds.append(format_order(hold))
        supports.append(format_order(sup or hold))
    return "\n".join(holds), "\n".join(supports)


def prepare(tmp: Path, clients: int, games: int) -> dict[str, Any]:
    """Database + clock file + the generator's plan (written to ``tmp``)."""
    from .net.clock import FakeClock, set_file_clock
    from .net.service import Service
    from .storage import secrets
    from .storage.repository import Repository

    db, clock = tmp / "bench.db", tmp / "clock"
    set_file_clock(clock, T0)
    service = Service(Repository(str(db)), FakeClock(T0))
    try:
        raw = secrets.new_secret()
        hashed = (raw, secrets.make_hash(raw))  # one secret for all: the server still checks each token
        host, _ = service.add_user("bench-host", "host", hashed)
        texts: dict[tuple[str, str], tuple[str, str]] = {}
        rooms = []
        for k in range(games):
            after = {"after": DEADLINE + k}
            settings = {"deadlines": {"movement": after, "retreat": after, "adjustment": after},
                        # no reminders: the driver jumps the one clock across every game's
                        # reminder moment within seconds, a burst no real server sees
                        "early": False, "civil_disorder_after": 0, "reminders": []}
            rooms.append(service.create_game(host, "classic", f"bench {k}", settings, f"b{k:03d}"))
        nations = rooms[0].ruleset.nation_ids
        plan_clients = []
        for i in range(clients):
            room = rooms[i % games]
            nation = nations[i // games]
            uid, token = service.add_user(f"p{i}", "player", hashed)
            room.claim(nation, uid, f"p{i}", service.clock.now())
            if (room.ruleset.id, nation) not in texts:
                texts[(room.ruleset.id, nation)] = board_keeping_orders(room.ruleset, room.state, nation)
            plan_clients.append({"token": token, "game": room.id, "nation": nation, "phase": room.phase,
                                 "texts": list(texts[(room.ruleset.id, nation)])})
        for room in rooms:
            room.start(T0)
        plan = {"clock": T0, "clock_file": str(clock), "clients": plan_clients,
                "games": {r.id: {"deadline": r.deadline} for r in rooms}}
    finally:
        service.repo.close()
    (tmp / "plan.json").write_text(json.dumps(plan))
    return plan


# ---- one load generator against a server -------------------------------------------------
class Run:
    """The load generator against one server: connect and authenticate every client, the
    paced stage, then saturation rounds one at a time (:meth:`round`), then its figures."""

    def __init__(self, server: Proc, tmp: Path, url: str, mode: str, args: argparse.Namespace,
                 stats: Callable[[str], Any] | None) -> None:
        self.server, self.args, self.stats = server, args, stats
        self.out: dict[str, Any] = {"rss_idle_mb": rss_mb(server.p.pid)}
        self.gen = Proc([sys.executable, str(ROOT / "benchmarks" / "load_server.py"), "--url", url,
                         "--plan", str(tmp / "plan.json"), "--mode", mode, "--seconds", str(args.seconds),
                         "--sat-seconds", str(args.sat_seconds), "--rate", str(args.rate)],
                        tmp, _env(), tmp / f"gen-{mode}.err", stdin=True)

    def paced(self) -> None:
        gen, out, stats = self.gen, self.out, self.stats
        ready = gen.expect(lambda s: s.startswith("READY"), 240, "every client to connect")
        time.sleep(0.5)
        out["rss_loaded_mb"] = rss_mb(self.server.p.pid)
        out["connect_s"] = float(ready.split()[2])
        gen.send("go\n")
        gen.expect(lambda s: s == "STAGE paced start", 30, "the paced stage")
        if stats:
            stats("reset")
        gen.expect(lambda s: s == "STAGE paced end", self.args.seconds + 30, "the end of the paced stage")
        if stats:
            out["loop"] = stats("paced")
        gen.expect(lambda s: s == "STAGE rounds", 30, "the saturation rounds")
        out["rss_after_mb"] = rss_mb(self.server.p.pid)

    def round(self) -> dict[str, Any]:
        if self.stats:
            self.stats("reset")
        self.gen.send("sat\n")
        line = self.gen.expect(lambda s: s.startswith("ROUND "), self.args.sat_seconds + 30, "a saturation round")
        got: dict[str, Any] = json.loads(line[len("ROUND "):])
        if self.stats:
            got["loop"] = self.stats("saturate")
        return got

    def finish(self) -> dict[str, Any]:
        self.gen.send("end\n")
        res = self.gen.expect(lambda s: s.startswith("RESULT "), 60, "the generator's figures")
        self.out.update(json.loads(res[len("RESULT "):]))
        self.gen.p.wait(20)
        return self.out

    def kill(self) -> None:
        self.gen.kill()


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput (the lower middle one of an even count)."""
    ranked = sorted(rounds, key=lambda r: r["orders_per_s"])
    return ranked[(len(ranked) - 1) // 2]


def _switch(stop: Proc | None, go: Proc | None) -> None:
    """Stop one server process (SIGSTOP) and let the other run (SIGCONT)."""
    if stop is not None:
        stop.signal(signal.SIGSTOP)
    if go is not None:
        go.signal(signal.SIGCONT)
        time.sleep(0.3)  # its timers catch up before the round (and the lag window) starts


def start_server(argv: list[str], tmp: Path, name: str, env: dict[str, str]) -> tuple[Proc, int]:
    proc = Proc(argv, tmp, env, tmp / f"{name}.err")
    line = proc.expect(lambda s: s.startswith("listening on "), 60, f"{name} to listen")
    return proc, int(line.rsplit(":", 1)[1])


def run_server_bench(args: argparse.Namespace) -> int:
    if args.clients > 7 * args.games or args.clients < args.games:
        print("kessen: --clients must be between --games and 7 x --games", file=sys.stderr)
        return 2
    if args.rounds < 1 or args.sat_seconds <= 0:
        print("kessen: --rounds must be at least 1 and --sat-seconds more than 0", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="kessen-bench-server-"))
    procs: list[Proc] = []
    runs: list[Run] = []
    started = time.monotonic()
    try:
        print(f"kessen bench server: {args.clients} clients over {args.games} games, loopback, "
              f"{os.cpu_count()} cores; paced {args.seconds:g} s at {args.rate:g} orders/s per client "
              f"with forced deadlines, then {args.sat_seconds:g} s saturated", flush=True)
        t = time.monotonic()
        prepare(tmp, args.clients, args.games)
        print(f"prepared database and plan in {time.monotonic() - t:.1f} s", flush=True)

        env = {**_env(), "KESSEN_STATS": "1"}
        prof = ["-m", "cProfile", "-o", os.environ["KESSEN_BENCH_PROFILE"]] if os.environ.get("KESSEN_BENCH_PROFILE") else []
        server, port = start_server([sys.executable, *prof, "-m", "server.cli", "serve", "--port", "0",
                                     "--db", str(tmp / "bench.db"), "--clock-file", str(tmp / "clock"),
                                     "--tick", "0.005", "--no-render", *_limits(args)], tmp, "server", env)
        procs.append(server)
        time.sleep(1.0)  # idle: started, rooms loaded, no client

        def stats(what: str) -> dict[str, Any] | None:
            server.signal(signal.SIGUSR1)
            line = server.expect(lambda s: s.startswith("stats "), 10, "the server's stats")
            return json.loads(line[len("stats "):]) if what != "reset" else None

        ours_run = Run(server, tmp, f"ws://127.0.0.1:{port}", "kessen", args, stats)
        runs.append(ours_run)
        ours_run.paced()
        print(f"kessen paced stage done ({time.monotonic() - started:.0f} s)", flush=True)
        echo_run = eproc = None
        if not args.no_echo:
            server.signal(signal.SIGSTOP)  # idle meanwhile: its scheduler's tick costs nothing
            eproc, eport = start_server([sys.executable, str(ROOT / "benchmarks" / "echo_server.py"), "0"],
                                        tmp, "echo", _env())
            procs.append(eproc)
            time.sleep(0.5)
            echo_run = Run(eproc, tmp, f"ws://127.0.0.1:{eport}", "echo", args, None)
            runs.append(echo_run)
            echo_run.paced()
        # saturation: rounds against each server in turn, the other one stopped (SIGSTOP), so
        # both see the same machine, and a slow or busy moment hits one round, not one side
        ours_rounds: list[dict[str, Any]] = []
        echo_rounds: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            _switch(eproc, server)
            ours_rounds.append(ours_run.round())
            if echo_run is not None:
                _switch(server, eproc)
                echo_rounds.append(echo_run.round())
        _switch(None, server)
        _switch(None, eproc)
        ours = ours_run.finish()
        ours["saturate"] = median_round(ours_rounds)
        ours["loop_saturated"] = ours["saturate"].get("loop")
        server.stop()
        echo = None
        if echo_run is not None and eproc is not None:
            echo = echo_run.finish()
            echo["saturate"] = median_round(echo_rounds)
            eproc.stop()
        report(args, ours, echo, ours_rounds, echo_rounds)
        if args.json:
            Path(args.json).write_text(json.dumps({"kessen": ours, "echo": echo}, indent=1))
        print(f"total {time.monotonic() - started:.0f} s")
        return 0
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print(f"kessen bench server: failed: {e}", file=sys.stderr)
        return 1
    finally:
        for p in procs:
            p.signal(signal.SIGCONT)
            p.kill()
        for r in runs:
            r.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, ours: dict[str, Any], echo: dict[str, Any] | None,
           ours_rounds: list[dict[str, Any]], echo_rounds: list[dict[str, Any]]) -> None:
    def f(v: Any, fmt: str = "{:.1f}") -> str:
        return "-" if v is None else fmt.format(v)

    def row(label: str, mine: Any, other: Any = None, fmt: str = "{:.1f}") -> None:
        print(f"{label:52} {f(mine, fmt):>12} {f(other, fmt):>12}")

    n = ours["clients"]
    p, s, d = ours["paced"], ours["saturate"], ours.get("deadlines", {})
    ep = echo["paced"] if echo else {}
    es = echo["saturate"] if echo else {}
    per_conn = (ours["rss_loaded_mb"] - ours["rss_idle_mb"]) * 1024 / n
    print(f"\n{'figure':52} {'kessen':>12} {'echo':>12}")
    row(f"orders/s, saturated ({n} clients, closed loop; median of {len(ours_rounds)})",
        s["orders_per_s"], es.get("orders_per_s"), "{:,.0f}")
    row("  ack latency p50 / p99 ms at saturation", s["ack_ms_p50"], es.get("ack_ms_p50"))
    row("", s["ack_ms_p99"], es.get("ack_ms_p99"))
    row(f"orders/s, paced ({args.rate:g}/s per client)", p["orders_per_s"], ep.get("orders_per_s"), "{:,.0f}")
    row("  ack latency p50 ms", p["ack_ms_p50"], ep.get("ack_ms_p50"), "{:.2f}")
    row("  ack latency p99 ms", p["ack_ms_p99"], ep.get("ack_ms_p99"), "{:.2f}")
    row("  ack latency max ms", p["ack_ms_max"], ep.get("ack_ms_max"), "{:.2f}")
    if p["errors"]:
        print(f"  refused during the paced stage: {p['errors']} (stale_phase: sent just before a deadline)")
    if d:
        row(f"deadline -> all 7 clients have results, p50 ms ({d['completed']}/{d['forced']} forced, spread)",
            d["to_all_ms_p50"], None, "{:.2f}")
        row("deadline -> all 7 clients have results, p99 ms", d["to_all_ms_p99"], None, "{:.2f}")
        row("deadline -> all 7 clients have results, max ms", d["to_all_ms_max"], None, "{:.2f}")
        row(f"all {d['burst_games']} games at one deadline: p50 / last game ms", d["burst_ms_p50"], None, "{:.1f}")
        row("", d["burst_ms_max"], None, "{:.1f}")
    loop = ours.get("loop") or {}
    row("event-loop lag p50 / p99 / max ms (in the server, paced)", loop.get("lag_ms_p50"), None, "{:.2f}")
    row("", loop.get("lag_ms_p99"), None, "{:.2f}")
    row("", loop.get("lag_ms_max"), None, "{:.2f}")
    row("idle server RSS MB (started, no client)", ours["rss_idle_mb"], echo["rss_idle_mb"] if echo else None)
    row(f"RSS MB with {n} connections", ours["rss_loaded_mb"], echo["rss_loaded_mb"] if echo else None)
    row("RSS MB after the paced stage", ours["rss_after_mb"], echo["rss_after_mb"] if echo else None)
    row("memory per connection KB", per_conn,
        (echo["rss_loaded_mb"] - echo["rss_idle_mb"]) * 1024 / n if echo else None)
    row("connect + authenticate all clients s", ours["connect_s"], echo["connect_s"] if echo else None, "{:.1f}")
    ratio = None
    if echo_rounds:
        ratios = [k["orders_per_s"] / e["orders_per_s"] for k, e in zip(ours_rounds, echo_rounds) if e["orders_per_s"]]
        print(f"\nsaturation rounds ({args.sat_seconds:g} s each, kessen then echo, the other server stopped):")
        for i, (k, e) in enumerate(zip(ours_rounds, echo_rounds), start=1):
            print(f"  round {i}: kessen {k['orders_per_s']:,.0f}  echo {e['orders_per_s']:,.0f} orders/s  "
                  f"ratio {k['orders_per_s'] / e['orders_per_s']:.2f}")
        ratio = statistics.median(ratios) if ratios else None
        if ratio is not None:
            print(f"throughput ratio kessen / echo ceiling (median of rounds): {ratio:.2f}")
    print("\ngoals:")
    checks = [
        ("p99 acknowledgement < 20 ms (paced)", p["ack_ms_p99"] is not None and p["ack_ms_p99"] < GOALS["ack_p99_ms"]),
        ("deadline-to-results p99 < 20 ms per game (spread deadlines)",
         d.get("to_all_ms_p99") is not None and d["to_all_ms_p99"] < GOALS["deadline_p99_ms"]),
        (">= half the echo ceiling's throughput", ratio is not None and ratio >= GOALS["echo_ratio"]),
        ("idle server < 60 MB", ours["rss_idle_mb"] < GOALS["idle_mb"]),
    ]
    for label, ok in checks:
        print(f"  {'met   ' if ok else 'MISSED'} {label}")
    print(f"peer: {PEER}")
