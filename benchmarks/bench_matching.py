"""Matching 300k customers to 2,000 grid polygons, and 300k addresses to 8,000 grid names.

    .venv/bin/python benchmarks/bench_matching.py [--points 300000] [--grids 2000] [--repeat 3]

Grids are a seeded Voronoi tiling (shapely.voronoi_polygons) of a box the size of a city
centre, stored and parsed as GeoJSON text like the app does, with four community or street
names each. Points are uniform in the box. Compared in the same run:

- GridIndex.match_points: what intake uses; from 20k points on, one prepared intersects_xy pass
  per polygon over the points in its bounding box, below that one vectorised STRtree query
  (both timed here), lowest id on borders;
- a per-polygon loop of shapely.contains_xy over the points in the polygon's bounding box;
- the same loop over every point (on --loop-sample points, extrapolated);
- a naive per-point Python loop over the polygons (on --naive-sample points, extrapolated).

Addresses are synthetic: province/city prefix, district, one grid name (5% none, 2% a rule
pattern), a house
number, sometimes full-width digits and spaces. GridIndex.match_addresses (normalisation,
rules, then the longest name) is compared with a per-position Python scan using a
first-character index (same answers). Medians of --repeat runs; the naive loop runs once.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.intake import matching  # noqa: E402
from app.services.intake.matching import (  # noqa: E402
    GridIndex,
    GridShape,
    RuleRow,
    normalise_addresses,
)

BOX = (103.95, 30.55, 104.15, 30.75)  # lon/lat, roughly central Chengdu
SUFFIXES = ("社区", "街道", "路", "街", "小区", "村", "花园", "苑")
# Common place-name characters, so names share characters the way real ones do.
CHARS = (
    "东西南北中新老金银玉青红白黄华兴安宁平和康福寿长春秋明光星月山水河江湖海林森桥城"
    "关门口坝湾塘井泉石岭岗园庄营府街巷台楼阁亭寺庙市场文武德仁义礼智信忠孝双三五九龙凤"
    "桂桃李梅兰竹菊松柏荷花锦绣丰盛昌隆泰盈祥瑞吉庆顺达通"
)
DISTRICTS = ("锦江区", "青羊区", "金牛区", "武侯区", "成华区", "高新区")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def voronoi_grids(n: int, rng: np.random.Generator) -> list[shapely.Polygon]:
    xs = rng.uniform(BOX[0], BOX[2], n)
    ys = rng.uniform(BOX[1], BOX[3], n)
    box = shapely.box(*BOX)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.column_stack([xs, ys])), extend_to=box)
    )
    return list(shapely.intersection(cells, box))


def grid_names(n_grids: int, rng: random.Random) -> list[list[str]]:
    seen: set[str] = set()
    out = []
    for _ in range(n_grids):
        names = []
        while len(names) < 4:
            name = "".join(rng.choice(CHARS) for _ in range(rng.randint(2, 3)))
            name += rng.choice(SUFFIXES)
            if name not in seen:
                seen.add(name)
                names.append(name)
        out.append(names)
    return out


def addresses(
    names: list[list[str]], rules: list[RuleRow], n: int, rng: random.Random
) -> list[str]:
    flat = [x for group in names for x in group]
    out = []
    for _ in range(n):
        draw = rng.random()
        if draw < 0.05:
            name = "无名巷"
        elif draw < 0.07:
            name = rng.choice(rules).pattern
        else:
            name = rng.choice(flat)
        number = f"{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元"
        if rng.random() < 0.2:
            number = number.translate(FULL_WIDTH)
        prefix = rng.choice(("四川省成都市", "成都市", ""))
        sep = " " if rng.random() < 0.2 else ""
        out.append(f"{prefix}{rng.choice(DISTRICTS)}{sep}{name}{sep}{number}")
    return out


def per_polygon_loop(polys: list, ids: np.ndarray, lons: np.ndarray, lats: np.ndarray):
    """For each polygon, contains_xy over every point (no spatial filter)."""
    out = np.full(len(lons), -1, dtype=np.int64)
    for poly, gid in zip(polys, ids.tolist(), strict=True):
        inside = shapely.contains_xy(poly, lons, lats)
        out[inside & (out == -1)] = gid
    return out


def per_polygon_bbox_loop(polys: list, ids: np.ndarray, lons: np.ndarray, lats: np.ndarray):
    """For each polygon, contains_xy over the points in its bounding box (points sorted by
    longitude once, the box's longitude range found by binary search)."""
    order = np.argsort(lons, kind="stable")
    slon, slat = lons[order], lats[order]
    out = np.full(len(lons), -1, dtype=np.int64)
    bounds = shapely.bounds(polys)
    for poly, gid, (x0, y0, x1, y1) in zip(polys, ids.tolist(), bounds.tolist(), strict=True):
        lo = int(np.searchsorted(slon, x0, side="left"))
        hi = int(np.searchsorted(slon, x1, side="right"))
        sel = np.flatnonzero((slat[lo:hi] >= y0) & (slat[lo:hi] <= y1)) + lo
        inside = sel[shapely.contains_xy(poly, slon[sel], slat[sel])]
        hits = order[inside]
        out[hits[out[hits] == -1]] = gid
    return out


def naive_loop(polys: list, ids: list[int], lons: list[float], lats: list[float]) -> list[int]:
    """For each point, each polygon in turn until one contains it."""
    out = []
    for x, y in zip(lons, lats, strict=True):
        point = shapely.Point(x, y)
        found = -1
        for poly, gid in zip(polys, ids, strict=True):
            if poly.contains(point):
                found = gid
                break
        out.append(found)
    return out


def first_char_scan(index: GridIndex, texts: list[str]) -> list[tuple[str, ...]]:
    """The longest names per text by a per-position Python scan (the simple alternative)."""
    grids = index._names.grids  # noqa: SLF001 - the benchmark compares against the same names
    lengths: dict[str, set[int]] = {}
    for name in grids:
        lengths.setdefault(name[0], set()).add(len(name))
    by_first = {k: sorted(v, reverse=True) for k, v in lengths.items()}
    out = []
    for t in texts:
        best: list[str] = []
        best_len = 0
        for i, ch in enumerate(t):
            for length in by_first.get(ch, ()):
                if length < best_len:
                    break
                piece = t[i : i + length]
                if len(piece) == length and piece in grids:
                    if length > best_len:
                        best, best_len = [piece], length
                    elif piece not in best:
                        best.append(piece)
                    break
        out.append(tuple(best))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=300_000)
    ap.add_argument("--grids", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--loop-sample", type=int, default=30_000)
    ap.add_argument("--naive-sample", type=int, default=3_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    prng = random.Random(args.seed)

    polys = voronoi_grids(args.grids, rng)
    names = grid_names(len(polys), prng)
    shapes = [
        GridShape(i + 1, f"G{i + 1:04d}", shapely.to_geojson(p), json.dumps(n, ensure_ascii=False))
        for i, (p, n) in enumerate(zip(polys, names, strict=True))
    ]
    rules = [RuleRow(names[i][0] + "东门", i + 1) for i in range(0, len(polys), 10)]
    ids = np.arange(1, len(polys) + 1, dtype=np.int64)
    lons = rng.uniform(BOX[0], BOX[2], args.points)
    lats = rng.uniform(BOX[1], BOX[3], args.points)
    texts = addresses(names, rules, args.points, prng)

    print(
        f"{len(polys)} grid polygons, {sum(map(len, names))} grid names, {len(rules)} rules, "
        f"{args.points} points and addresses; medians of {args.repeat} runs\n"
    )
    t_build, index = median_time(lambda: GridIndex(shapes, rules, city="成都"), args.repeat)
    assert isinstance(index, GridIndex)
    t_tree, by_tree = median_time(lambda: index.match_points(lons, lats), args.repeat)
    batch, matching.BATCH_POINTS = matching.BATCH_POINTS, args.points + 1  # the tree for all
    t_strtree, by_strtree = median_time(lambda: index.match_points(lons, lats), args.repeat)
    matching.BATCH_POINTS = batch
    assert isinstance(by_strtree, np.ndarray)
    tree_differ = int(np.count_nonzero(by_tree != by_strtree))
    t_box, by_box = median_time(lambda: per_polygon_bbox_loop(polys, ids, lons, lats), args.repeat)
    assert isinstance(by_tree, np.ndarray) and isinstance(by_box, np.ndarray)
    differ = int(np.count_nonzero(by_tree != by_box))  # only points exactly on a border
    k = min(args.loop_sample, args.points)
    t_loop, by_loop = median_time(
        lambda: per_polygon_loop(polys, ids, lons[:k], lats[:k]), args.repeat
    )
    t_loop *= args.points / k
    assert isinstance(by_loop, np.ndarray)
    loop_differ = int(np.count_nonzero(by_tree[:k] != by_loop))
    k_naive = min(args.naive_sample, args.points)
    t = time.perf_counter()
    by_naive = naive_loop(polys, ids.tolist(), lons[:k_naive].tolist(), lats[:k_naive].tolist())
    t_naive = (time.perf_counter() - t) * args.points / k_naive
    naive_differ = sum(a != b for a, b in zip(by_naive, by_tree[:k_naive].tolist(), strict=True))

    t_addr, found = median_time(lambda: index.match_addresses(texts), args.repeat)
    assert isinstance(found, list)
    t_norm, normalised = median_time(
        lambda: normalise_addresses(texts, city=index.city), args.repeat
    )
    assert isinstance(normalised, list)
    t_fast, fast = median_time(lambda: index._names.longest(normalised), args.repeat)  # noqa: SLF001
    t_scan, scan = median_time(lambda: first_char_scan(index, normalised), args.repeat)
    matched = sum(1 for m in found if m.grid_id is not None)
    by_rule = sum(1 for m in found if m.method is not None and m.method.value == "rule")

    rows = [
        ("GridIndex build (parse GeoJSON, STRtree, name indexes)", t_build, ""),
        ("points: GridIndex.match_points (the app: a pass per polygon)", t_tree, ""),
        (
            "points: GridIndex STRtree query (the app's path below 20k points)",
            t_strtree,
            f"{tree_differ} differ",
        ),
        (
            "points: per-polygon contains_xy loop, bbox-filtered",
            t_box,
            f"{differ} differ (borders)",
        ),
        (
            f"points: per-polygon contains_xy loop, all points ({k} sample, extrapolated)",
            t_loop,
            f"{loop_differ} differ",
        ),
        (
            f"points: naive per-point loop ({k_naive} sample, extrapolated, 1 run)",
            t_naive,
            f"{naive_differ} differ",
        ),
        ("addresses: GridIndex.match_addresses (all steps)", t_addr, f"{matched} matched"),
        ("  of which normalisation", t_norm, f"{by_rule} by rule"),
        ("  longest name, numpy-filtered prefixes (the index)", t_fast, ""),
        (
            "  longest name, per-position scan, first-char index",
            t_scan,
            "same answers" if scan == fast else "DIFFERENT ANSWERS",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for label, seconds, note in rows:
        print(f"{label:<{width}}  {seconds:8.3f} s  {note}")
    print(
        f"\nThe app vs its STRtree query: {t_strtree / t_tree:.1f}x; vs the bbox-filtered "
        f"contains_xy loop: {t_box / t_tree:.1f}x; vs unfiltered: "
        f"{t_loop / t_tree:.0f}x; vs naive: {t_naive / t_tree:.0f}x. "
        f"Name search vs per-position scan: {t_scan / t_fast:.1f}x."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
