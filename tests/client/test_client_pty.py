"""``kessen-client`` in a pseudo-terminal, as a player sees it: a real ``kessen serve`` on loopback
runs a classic game whose six other nations are scripted protocol clients. The player joins
with an invite code, opens the shell, mistypes an order and takes the suggestion, keeps a
half-typed line while a push arrives, submits, gets ready, sees the results, reads and sends
press, and sees a host action in the history. Every wait is bounded."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from wsclient import ROOT, ServerProcess, run

from clienthelp import NATIONS, host_token

from client_cli.connection import Connection

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def client_argv() -> list[str]:
    """The installed ``kessen-client`` script beside this Python, else the module."""
    script = Path(sys.executable).with_name("kessen-client")
    return [str(script)] if script.exists() else [sys.executable, "-m", "client_cli.app"]


class Terminal:
    """A process on a pseudo-terminal (120x40); :meth:`expect` waits (bounded) for text on the
    screen, escape sequences removed."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd, self.raw, self.pos = master, b"", 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the process closed the terminal
            return False
        self.raw += data
        return bool(data)

    @property
    def screen(self) -> str:
        """Everything shown so far as plain text."""
        return ANSI.sub("", self.raw.decode("utf-8", "replace")).replace("\r", "")

    def expect(self, needle: str, timeout: float = 15) -> str:
        """Wait for ``needle`` after the last match; returns the text up to and including it."""
        end = time.monotonic() + timeout
        while True:
            text = self.screen
            i = text.find(needle, self.pos)
            if i >= 0:
                got, self.pos = text[self.pos:i + len(needle)], i + len(needle)
                return got
            left = end - time.monotonic()
            if left <= 0 or (not self._read(min(left, 0.2)) and self.proc.poll() is not None
                             and not self._read(0)):
                raise AssertionError(f"{needle!r} not shown within {timeout} s; the screen since the last match:\n"
                                     + text[max(0, self.pos - 200):][-4000:])

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 15) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._read(0.1)
        return self.proc.wait(max(0.1, end - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        os.close(self.fd)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    token = host_token(tmp_path)
    srv = ServerProcess(tmp_path, args=("--no-render",)).start()
    srv.host_token = token  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        assert srv.stop() == 0


def test_a_movement_phase_and_press_in_a_terminal(server: Any, tmp_path: Path) -> None:
    """In a terminal: join with a code, order with a typo fixed by the suggestion, a push that
    leaves the half-typed line intact, submit, ready, results, press both ways, history."""
    url = f"ws://127.0.0.1:{server.port}"
    cfg = str(tmp_path / "ada" / "client.toml")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1",
           "XDG_CONFIG_HOME": str(tmp_path / "ada"), "TZ": "UTC", "COLUMNS": "120", "LINES": "40"}
    base = [*client_argv(), "--config", cfg]
    terms: list[Terminal] = []

    def terminal(*args: str) -> Terminal:
        t = Terminal([*base, *args], env, tmp_path)
        terms.append(t)
        return t

    async def step(fn: Any, *args: Any, **kw: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kw)

    async def go() -> None:
        host = await Connection.open(url, token=server.host_token)
        gid = (await host.request("create_game", ruleset="classic", title="Terminal test"))["game"]
        codes = {n: (await host.request("invite", game=gid, nation=n))["code"] for n in NATIONS}
        others = {n: await Connection.open(url, invite=codes[n], name=n.title()) for n in NATIONS if n != "austria"}
        try:
            # joining with the code prints the welcome and saves the token
            t = terminal("--server", url, "join", codes["austria"], "--name", "Ada")
            await step(t.expect, "signed in as Ada")
            await step(t.expect, "your token is saved in " + cfg)
            assert await step(t.wait) == 0

            # no sub-command on a terminal: the shell
            sh = terminal()
            await step(sh.expect, "signed in as Ada")
            await step(sh.expect, f"{gid} S1901M>")

            sh.send("A Vie - Bdu\r")
            await step(sh.expect, "not added: unknown province 'Bdu'")
            await step(sh.expect, "did you mean: A vie - bud  ('y' adds it)")
            sh.send("y\r")
            await step(sh.expect, "added 1: A vie - bud")

            # a push arrives while a line is half typed: it is printed above, the line survives
            await step(sh.expect, f"{gid} S1901M>")
            sh.send("A bu")
            de = others["germany"]
            await de.request("orders", game=gid, phase="S1901M", text="A mun - ruh\nA ber - kie\nF kie - den")
            await de.request("ready", game=gid, phase="S1901M")
            await step(sh.expect, f"* {gid} S1901M: germany has orders in, ready")
            sh.send("d - ser\r")
            await step(sh.expect, "added 2: A bud - ser")
            sh.send("F Trieste -> Albania\r")
            await step(sh.expect, "added 3: F tri - alb")
            sh.send("submit\r")
            await step(sh.expect, "austria S1901M: 3 orders accepted")
            await step(sh.expect, "missing: none")

            for n, c in others.items():
                if n != "germany":
                    await c.request("ready", game=gid, phase="S1901M")
            sh.send("ready\r")
            await step(sh.expect, "S1901M: ready")
            await step(sh.expect, f"* {gid} S1901M adjudicated; now F1901M ('results' shows them)")
            await step(sh.expect, f"{gid} F1901M>")  # the prompt follows the game
            sh.send("results\r")
            got = await step(sh.expect, "next: F1901M")
            assert "results of S1901M" in got and "austria\n  A vie - bud  succeeds\n  A bud - ser  succeeds\n" \
                "  F tri - alb  succeeds\n" in got, got
            assert "germany\n  A mun - ruh  succeeds" in got

            # press from France appears by itself; the inbox groups it; a reply reaches France
            fr = others["france"]
            await fr.request("press", game=gid, to=["austria"], text="Shall we talk about Italy?")
            await step(sh.expect, "france -> austria: Shall we talk about Italy?")
            sh.send("inbox\r")
            await step(sh.expect, "with france (1 message):")
            sh.send("press france Yes: Venice is yours to take.\r")
            await step(sh.expect, "sent press #2 to france")

            async def reply_seen() -> dict[str, Any]:
                while True:
                    for p in fr.pushes.get(gid, []):
                        if p.get("event") == "press" and p.get("from") == "austria":
                            return p
                    fr.changed.clear()
                    await fr.changed.wait()

            got_press = await asyncio.wait_for(reply_seen(), 10)
            assert got_press["text"] == "Yes: Venice is yours to take." and got_press["to"] == ["france"]
            sh.send("inbox fr\r")
            await step(sh.expect, "austria -> france: Yes: Venice is yours to take.")

            # a host action is announced and listed in the history
            await host.request("extend", game=gid, phase="F1901M", seconds=3600, reason="weekend")
            await step(sh.expect, "extend by boss: weekend")
            sh.send("history\r")
            await step(sh.expect, "F1901M  2027-01-")
            await step(sh.expect, "extend by boss: weekend")

            sh.send("quit\r")
            assert await step(sh.wait) == 0
        finally:
            for c in [host, *others.values()]:
                await c.close()

    try:
        run(go(), timeout=120)
    finally:
        for t in terms:
            t.close()
