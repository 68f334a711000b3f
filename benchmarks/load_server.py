#!/usr/bin/env python3
"""Load generator for ``kessen bench server``: many websocket clients in one asyncio process.

Run by ``server/bench_server.py`` (never imported by the server). It reads a plan (JSON:
one entry per client with its token, game, nation, phase and two order texts; the games'
deadlines; the clock file), connects and authenticates every client, prints ``READY n``
and waits for ``go`` on stdin, then runs two stages:

``paced``
    Open loop: every client submits its orders (alternating two texts, so each submission
    replaces the last) at random intervals averaging ``1/rate`` s, whether or not its last
    request was answered. Acknowledgement latency is send -> reply, per request. Meanwhile
    the deadline driver forces deadlines by rewriting the server's clock file: game after
    game, one clock step per game (deadlines spread, ``--step`` s apart), and in the last
    round all games at one clock jump (a burst). For each forced deadline it records the
    time from the clock write until the last of the game's clients has the ``adjudicated``
    push.
``saturate`` rounds
    Closed loop: every client submits, waits for the reply, submits again. Throughput. One
    round of ``--sat-seconds`` per ``sat`` line on stdin (``ROUND {json}`` after each), until
    ``end``: the caller alternates rounds against kessen and against the echo server.

Against the echo server (``--mode echo``) the same clients send the same frames; there are
no deadlines. Output: ``STAGE ...`` lines while running, ``ROUND {json}`` per saturation
round, then one ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import time
from typing import Any

import msgpack
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

now = time.perf_counter


def set_file_clock(path: str, value: float) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(repr(float(value)))
    os.replace(tmp, path)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(1e3 * s[min(len(s) - 1, int(p * len(s)))], 3)


class Stage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.ok = 0
        self.errors: dict[str, int] = {}
        self.sent = 0
        self.t0 = self.t1 = 0.0

    def summary(self) -> dict[str, Any]:
        secs = max(1e-9, self.t1 - self.t0)
        return {"seconds": round(secs, 3), "sent": self.sent, "ok": self.ok, "errors": self.errors,
                "orders_per_s": round(self.ok / secs, 1), "ack_ms_p50": pct(self.latencies, 0.50),
                "ack_ms_p99": pct(self.latencies, 0.99), "ack_ms_max": pct(self.latencies, 1.0)}


class Games:
    """Who has seen each game's ``adjudicated`` push, and when."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.deadline: dict[str, float] = {g: float(v["deadline"]) for g, v in plan["games"].items()}
        self.members: dict[str, int] = {}
        self.forced: dict[tuple[str, str], float] = {}     # (game, phase) -> when the clock was moved
        self.seen: dict[tuple[str, str], int] = {}
        self.done: dict[tuple[str, str], float] = {}       # -> when the last client got the results
        self.first: dict[tuple[str, str], float] = {}
        self.late: list[tuple[str, str]] = []

    def adjudicated(self, game: str, msg: dict[str, Any], t: float) -> None:
        key = (game, msg["phase"])
        n = self.seen[key] = self.seen.get(key, 0) + 1
        self.first.setdefault(key, t)
        if msg.get("deadline") is not None:
            self.deadline[game] = float(msg["deadline"])
        if n == self.members[game]:
            self.done[key] = t


class Client:
    def __init__(self, spec: dict[str, Any], games: Games) -> None:
        self.token, self.game, self.phase = spec["token"], spec["game"], spec["phase"]
        self.texts = spec["texts"]
        self.games = games
        self.ws: Any = None
        self.ids = itertools.count(1)
        self.pending: dict[int, float] = {}
        self.stage: Stage | None = None
        self.idle = asyncio.Event()
        self.idle.set()
        self.reader: asyncio.Task[None] | None = None
        self.flip = 0

    async def open(self, url: str, mode: str) -> None:
        self.ws = await connect(url, compression=None, open_timeout=60, close_timeout=2,
                                ping_interval=None, max_size=2**22)
        await self.ws.send(msgpack.packb({"type": "hello", "id": 0, "versions": [1], "token": self.token}))
        while True:  # pushes may come before the welcome on a busy server
            msg = msgpack.unpackb(await asyncio.wait_for(self.ws.recv(), 120), raw=False)
            if msg.get("type") != "push":
                break
        if msg.get("type") != "ok":
            raise RuntimeError(f"hello refused: {msg}")
        if mode == "kessen":
            got = [g for g in msg["games"] if g["game"] == self.game]
            if not got or got[0]["nation"] is None:
                raise RuntimeError(f"client not seated in {self.game}: {msg['games']}")
            self.phase = got[0]["phase"]
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                t = now()
                msg = msgpack.unpackb(frame, raw=False)
                if msg.get("type") == "push":
                    if msg.get("event") == "adjudicated":
                        self.phase = msg["next"]
                        self.games.adjudicated(msg["game"], msg, t)
                    continue
                sent = self.pending.pop(msg.get("re"), None)
                if not self.pending:
                    self.idle.set()
                st = self.stage
                if sent is None or st is None:
                    continue
                st.latencies.append(t - sent)
                if msg["type"] == "ok":
                    st.ok += 1
                else:
                    st.errors[msg["code"]] = st.errors.get(msg["code"], 0) + 1
        except ConnectionClosed:
            pass

    async def submit(self) -> None:
        mid = next(self.ids)
        self.flip ^= 1
        frame = msgpack.packb({"type": "orders", "id": mid, "game": self.game, "phase": self.phase,
                               "text": self.texts[self.flip]})
        self.pending[mid] = now()
        self.idle.clear()
        assert self.stage is not None
        self.stage.sent += 1
        await self.ws.send(frame)

    async def paced(self, rate: float, until: float, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, 1 / rate))
        while now() < until:
            await self.submit()
            await asyncio.sleep(rng.uniform(0.5, 1.5) / rate)

    async def closed_loop(self, until: float) -> None:
        while now() < until:
            await self.submit()
            await self.idle.wait()


async def drive_deadlines(games: Games, phase_of: dict[str, Client], clock_file: str, clock: float,
                          until: float, step: float, burst_at: float) -> dict[str, Any]:
    """Force every game's deadline, one clock step per game; then all games at one jump."""
    order = sorted(games.deadline, key=lambda g: games.deadline[g])
    spread: list[tuple[str, str]] = []
    burst: list[tuple[str, str]] = []
    rounds = 0

    def force(targets: list[str], value: float) -> list[tuple[str, str]]:
        nonlocal clock
        clock = max(clock, value)
        keys = [(g, phase_of[g].phase) for g in targets]
        set_file_clock(clock_file, clock)
        t = now()
        for k in keys:
            games.forced[k] = t
        return keys

    while now() < burst_at:
        for g in sorted(games.deadline, key=lambda g: games.deadline[g]):
            if now() >= burst_at:
                break
            spread += force([g], games.deadline[g])
            await asyncio.sleep(step)
        rounds += 1
        await asyncio.sleep(0.3)
    if now() < until:
        await asyncio.sleep(0.3)
        burst = force(order, max(games.deadline.values()))
    return {"spread": spread, "burst": burst, "rounds": rounds}


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--mode", choices=("kessen", "echo"), default="kessen")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--sat-seconds", type=float, default=5)
    ap.add_argument("--rate", type=float, default=1.0, help="orders per second per client (paced stage)")
    ap.add_argument("--step", type=float, default=0.02, help="seconds between two games' forced deadlines")
    ap.add_argument("--connect-concurrency", type=int, default=64)
    args = ap.parse_args()
    with open(args.plan) as fh:
        plan = json.load(fh)
    games = Games(plan)
    clients = [Client(spec, games) for spec in plan["clients"]]
    for c in clients:
        games.members[c.game] = games.members.get(c.game, 0) + 1

    sem = asyncio.Semaphore(args.connect_concurrency)

    async def open_one(c: Client) -> None:
        async with sem:
            await c.open(args.url, args.mode)

    t = now()
    await asyncio.gather(*(open_one(c) for c in clients))
    connect_s = now() - t
    print(f"READY {len(clients)} {connect_s:.2f}", flush=True)
    line = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), 60)
    if line.strip() != "go":
        return 2
    rng = random.Random(1)
    result: dict[str, Any] = {"mode": args.mode, "clients": len(clients), "connect_s": round(connect_s, 2)}

    # ---- paced stage, with forced deadlines -------------------------------------------------
    paced = Stage("paced")
    for c in clients:
        c.stage = paced
    print("STAGE paced start", flush=True)
    paced.t0 = now()
    until = paced.t0 + args.seconds
    tasks = [asyncio.create_task(c.paced(args.rate, until, random.Random(rng.random()))) for c in clients]
    driver = None
    if args.mode == "kessen":
        by_game: dict[str, Client] = {}
        for c in clients:
            by_game.setdefault(c.game, c)
        driver = asyncio.create_task(drive_deadlines(
            games, by_game, plan["clock_file"], float(plan["clock"]), until - 1.5, args.step, until - 2.5))
    await asyncio.gather(*tasks)
    paced.t1 = now()
    deadlines = await driver if driver is not None else None
    await wait_idle(clients, 5)
    print("STAGE paced end", flush=True)
    result["paced"] = paced.summary()
    result["paced"]["rate_per_client"] = args.rate
    if deadlines is not None:
        await asyncio.sleep(1.0)  # the last adjudications' pushes
        spread = [games.done[k] - games.forced[k] for k in deadlines["spread"] if k in games.done]
        first = [games.first[k] - games.forced[k] for k in deadlines["spread"] if k in games.first]
        burst = [games.done[k] - games.forced[k] for k in deadlines["burst"] if k in games.done]
        result["deadlines"] = {
            "forced": len(deadlines["spread"]), "completed": len(spread), "rounds": deadlines["rounds"],
            "to_all_ms_p50": pct(spread, 0.5), "to_all_ms_p99": pct(spread, 0.99), "to_all_ms_max": pct(spread, 1.0),
            "to_first_ms_p50": pct(first, 0.5),
            "burst_games": len(deadlines["burst"]), "burst_completed": len(burst),
            "burst_ms_p50": pct(burst, 0.5), "burst_ms_p99": pct(burst, 0.99), "burst_ms_max": pct(burst, 1.0),
        }

    # ---- saturation rounds: one per "sat" line on stdin, until "end" --------------------------
    print("STAGE rounds", flush=True)
    rounds = []
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() != "sat":
            break
        sat = Stage("saturate")
        for c in clients:
            c.stage = sat
        sat.t0 = now()
        until = sat.t0 + args.sat_seconds
        await asyncio.gather(*(c.closed_loop(until) for c in clients))
        sat.t1 = now()
        await wait_idle(clients, 5)
        rounds.append(sat.summary())
        print("ROUND " + json.dumps(rounds[-1]), flush=True)
    result["rounds"] = rounds

    print("RESULT " + json.dumps(result), flush=True)
    await asyncio.wait_for(asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True), 10)
    return 0


async def wait_idle(clients: list[Client], timeout: float) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*(c.idle.wait() for c in clients)), timeout)
    except TimeoutError:
        pass


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
