"""Plain HTTP on the websocket port: published posts and maps, the spectator page, nothing secret.

Rendering is on here (the other server tests turn it off): one phase is adjudicated, the
worker process writes the files, and they are fetched with urllib.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import struct
import subprocess
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest

from wsclient import run
from test_server import NATIONS, full_game, started

CANARY_FROM, CANARY_TO = "A ven", "tri"  # Italy's order for F1901M, never adjudicated here
CHROMIUM = "/usr/bin/chromium"


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


async def fetch(port: int, path: str) -> tuple[int, str, bytes]:
    return await asyncio.to_thread(_get, port, path)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def png_is_blank(data: bytes) -> bool:
    """True when every pixel of an 8-bit RGB(A) PNG has the same value (a crude decoder)."""
    w, h = png_size(data)
    depth, colour = data[24], data[25]
    if depth != 8 or colour not in (2, 6):
        return False  # not a layout this check reads: do not call it blank
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = 3 if colour == 2 else 4
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    first = rows[0][:bpp]
    return all(r == first * w for r in rows)


async def play_one_phase(tmp: Path, server: Any, token: str) -> tuple[str, Path]:
    """Adjudicate S1901M, queue Italy's (secret) F1901M orders, wait for the published files."""
    host, game, p = await full_game(server, token)
    await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur")
    await p["italy"].ok("orders", game=game, phase="S1901M", text="A ven H")
    for n in NATIONS:
        await p[n].ok("ready", game=game, phase="S1901M")
    await host.wait_push(game, "adjudicated")
    got = await p["italy"].ok("orders", game=game, phase="F1901M", text=f"{CANARY_FROM} - {CANARY_TO}")
    assert got["orders"] == [f"{CANARY_FROM} - {CANARY_TO}"]
    folder = Path(server.games_dir) / game
    want = [folder / f"{game}_S1901M{s}" for s in
            (".bbcode.txt", ".md", ".discord.txt", ".txt", "_orders.png", "_position.png")]
    for _ in range(1800):  # the worker process: first start, maybe the province shapes (bounded)
        if (folder / "index.json").is_file() and all(f.is_file() for f in want):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"the worker did not publish S1901M in time: {sorted(os.listdir(folder)) if folder.exists() else []}")
    return game, folder


def test_phase_is_published_and_served(tmp_path: Path) -> None:
    """After S1901M: every post format, both maps and index.json are in the game's folder,
    served over HTTP on the websocket port; bad paths are 404; next-phase orders never leak."""
    pytest.importorskip("resvg_py")

    async def go() -> None:
        async with started(tmp_path, render=True) as (server, _, token):
            game, folder = await play_one_phase(tmp_path, server, token)
            port = server.port
            assert server.games_dir == str((tmp_path / "games").resolve())

            status, ctype, body = await fetch(port, f"/games/{game}/")
            page = body.decode()
            assert status == 200 and ctype.startswith("text/html")
            assert "<h1>t</h1>" in page and f'<img src="{game}_S1901M_position.png"' in page
            assert "A par - bur" in page and "<table>" in page

            status, ctype, png = await fetch(port, f"/games/{game}/{game}_S1901M_position.png")
            assert status == 200 and ctype == "image/png"
            w, h = png_size(png)
            assert w > 100 and h > 100
            assert png_size((await fetch(port, f"/games/{game}/{game}_S1901M_orders.png"))[2]) == (w, h)

            status, ctype, post = await fetch(port, f"/games/{game}/{game}_S1901M.bbcode.txt")
            assert status == 200 and ctype.startswith("text/plain") and b"A par - bur" in post
            assert b"Deadline: 2027-01-15 09:00 UTC" in post  # the next deadline, as the server has it
            status, _, discord = await fetch(port, f"/games/{game}/{game}_S1901M.discord.txt")
            assert status == 200 and discord
            status, ctype, idx = await fetch(port, f"/games/{game}/index.json")
            index = json.loads(idx)
            assert status == 200 and ctype == "application/json"
            assert [p["phase"] for p in index["phases"]] == ["S1901M"]
            assert index["phases"][0]["centres"]["france"] == 3 and index["title"] == "t"

            for bad in (f"/games/{game}/../k.db", f"/games/{game}/..%2Fk.db", f"/games/{game}/%2e%2e",
                        f"/games/{game}/sub/x.txt", f"/games/{game}/k.db", f"/games/{game}/missing.txt",
                        "/games/../k.db", "/games/nope/", "/games/nope/index.json", "/", "/games/",
                        f"/games/{game}", "/k.db"):
                assert (await fetch(port, bad))[0] == 404, bad
            (folder / "notes.sh").write_text("x")  # an existing file of a type not served
            assert (await fetch(port, f"/games/{game}/notes.sh"))[0] == 404

            served = [page.encode(), post, discord, idx]
            served += [(await fetch(port, f"/games/{game}/{n}"))[2] for n in os.listdir(folder)
                       if n.endswith((".txt", ".md", ".json"))]
            for blob in served:
                assert f"{CANARY_FROM} - {CANARY_TO}".encode() not in blob
                assert b"ven - tri" not in blob and b"Venice -> Trieste" not in blob
            assert not any("F1901M" in n for n in os.listdir(folder))  # no file for an unplayed phase
    run(go(), timeout=240)


def test_spectator_page_screenshot(tmp_path: Path) -> None:
    """Headless Chromium renders the spectator page to a non-blank screenshot."""
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium): no browser screenshot")
    pytest.importorskip("resvg_py")

    async def go() -> None:
        async with started(tmp_path, render=True) as (server, _, token):
            game, _ = await play_one_phase(tmp_path, server, token)
            shot = tmp_path / "shot.png"
            proc = await asyncio.create_subprocess_exec(
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,900",
                f"http://127.0.0.1:{server.port}/games/{game}/",
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                pytest.fail("chromium did not finish its screenshot within 60 s")
            data = shot.read_bytes()
            assert png_size(data) == (1200, 900)
            assert not png_is_blank(data)
    run(go(), timeout=300)
