"""Synthetic maps for scaling benchmarks: a ruleset of about N provinces, generated as data.

Pure: returns the text of ``scenario.toml`` and ``map.toml`` for ``parse_ruleset``. The map
is a grid with sea basins; about a third of the provinces are seas, coasts touch a sea, and
41% of land provinces are supply centres. Nations get four home centres each, about one
nation per 16 provinces, so a 2,000-province map has over a hundred nations.
"""

from __future__ import annotations


def synthetic_ruleset(n: int) -> dict[str, str]:
    """Files of a synthetic ruleset with about ``n`` provinces (a square grid)."""
    side = max(5, round(n ** 0.5))
    cells = [(x, y) for y in range(side) for x in range(side)]

    def pid(x: int, y: int) -> str:
        return f"p{x:03d}{y:03d}"

    def is_sea(x: int, y: int) -> bool:
        return (x // 3 + 2 * (y // 3)) % 3 == 0

    def neighbours(x: int, y: int) -> list[tuple[int, int]]:
        return [(a, b) for a, b in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)) if 0 <= a < side and 0 <= b < side]

    terrain = {}
    for x, y in cells:
        if is_sea(x, y):
            terrain[(x, y)] = "sea"
        else:
            terrain[(x, y)] = "coast" if any(is_sea(a, b) for a, b in neighbours(x, y)) else "land"
    land = [c for c in cells if terrain[c] != "sea"]
    centres = {c for i, c in enumerate(land) if (i * 41) % 100 < 41}
    nation_count = max(3, len(cells) // 16)
    # home centres: spread nations over the centres, four each, in grid order
    ordered = sorted(centres, key=lambda c: (c[1] // 4, c[0] // 4, c))
    homes: dict[tuple[int, int], int] = {}
    step = max(1, len(ordered) // (nation_count * 4))
    k = 0
    for i in range(0, len(ordered), step):
        if k >= nation_count * 4:
            break
        homes[ordered[i]] = k // 4
        k += 1
    nation_count = max(1, (k + 3) // 4)
    lines = ["# synthetic map for scaling benchmarks (generated)\n"]
    for (x, y) in cells:
        t = terrain[(x, y)]
        p = [f"[provinces.{pid(x, y)}]", f'name = "Area {x}-{y}"', f'terrain = "{t}"',
             f"anchor = [{(y * 90 // side) - 45}, {(x * 180 // side) - 90}]"]
        if (x, y) in centres:
            p.append("centre = true")
        if (x, y) in homes:
            p.append(f'home = "n{homes[(x, y)]:03d}"')
        nb = neighbours(x, y)
        if t != "sea":
            p.append("army = [" + ", ".join(f'"{pid(a, b)}"' for a, b in nb if terrain[(a, b)] != "sea") + "]")
        if t != "land":
            # fleets sail sea to sea and between a sea and its coasts
            fl = [pid(a, b) for a, b in nb if terrain[(a, b)] == "sea" or (t == "sea" and terrain[(a, b)] == "coast")]
            p.append("fleet = [" + ", ".join(f'"{f}"' for f in fl) + "]")
        lines.append("\n".join(p) + "\n")
    map_toml = "\n".join(lines)
    nations = [f"n{i:03d}" for i in range(nation_count)]
    scen = [
        'id = "synthetic"', f'name = "Synthetic {len(cells)}"', "[rules]", 'edition = "datc-3.0"',
        "[victory]", f"centres = {len(centres) // 2 + 1}",
        "[calendar]", "seasons = [",
        '  { id = "spring", letter = "S", phases = ["movement", "retreat"] },',
        '  { id = "fall", letter = "F", phases = ["movement", "retreat"], ownership = true },',
        '  { id = "winter", letter = "W", phases = ["adjustment"] },', "]",
    ]
    for i, nid in enumerate(nations):
        scen += [f"[nations.{nid}]", f'name = "Nation {i}"', f'colour = "#{(i * 2654435761) % 0xFFFFFF:06x}"']
    scen += ["[start]", "year = 1901", 'season = "spring"', "[start.units]"]
    by_nation: dict[str, list[str]] = {}
    for (x, y), k in sorted(homes.items()):
        kind = "F" if terrain[(x, y)] == "coast" and (x + y) % 2 == 0 else "A"
        by_nation.setdefault(nations[k], []).append(f"{kind} {pid(x, y)}")
    for nid, us in sorted(by_nation.items()):
        scen.append(f"{nid} = [" + ", ".join(f'"{u}"' for u in us) + "]")
    scen.append("[start.centres]")
    owned: dict[str, list[str]] = {}
    for (x, y), k in sorted(homes.items()):
        owned.setdefault(nations[k], []).append(pid(x, y))
    for nid, cs in sorted(owned.items()):
        scen.append(f"{nid} = [" + ", ".join(f'"{c}"' for c in cs) + "]")
    return {"scenario.toml": "\n".join(scen) + "\n", "map.toml": map_toml}

