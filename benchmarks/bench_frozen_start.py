"""The built folder application (packaging/griddesk.spec): its size on disk, and the time from
starting it to its first window (the sign-in) on the screen.

    python benchmarks/bench_frozen_start.py dist/GridDesk [--runs 5]

Linux with X: it starts Xvfb (Debian ``xvfb``, ``x11-utils`` for xwininfo) unless a display is
set. A demo database is built first with the program's own ``demo`` command; each run is a new
process, timed until a GridDesk window is mapped, then stopped. The first run follows the build
(files not yet in the page cache as on a first start after installing, or nearly).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_WINDOW = re.compile(r"^\s*(0x[0-9a-f]+) .*\(\"[^\"]*\" \"GridDesk\"\)\s+(\d+)x(\d+)", re.M)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def mapped_window(env: dict[str, str]) -> bool:
    """True once a GridDesk top-level window of a real size is viewable."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True, errors="replace"
    ).stdout
    for wid, w, h in _WINDOW.findall(tree):
        if int(w) < 200 or int(h) < 100:
            continue
        info = subprocess.run(
            ["xwininfo", "-id", wid], env=env, capture_output=True, text=True, errors="replace"
        ).stdout
        if "IsViewable" in info:
            return True
    return False


def one_start(exe: Path, db: Path, env: dict[str, str], timeout: float = 60.0) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "--db", f"sqlite:///{db}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            if mapped_window(env):
                return time.perf_counter() - started
            if proc.poll() is not None:
                raise RuntimeError(f"the program exited with {proc.returncode} before a window")
            time.sleep(0.01)
        raise RuntimeError("no window within the timeout")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, help="the built folder (dist/GridDesk)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = args.folder / ("GridDesk.exe" if sys.platform == "win32" else "GridDesk")
    if shutil.which("xwininfo") is None:
        sys.exit("xwininfo is missing (Debian: x11-utils)")
    tmp = Path(tempfile.mkdtemp(prefix="griddesk-start-"))
    env = dict(os.environ, GRIDDESK_SETTINGS_DIR=str(tmp / "settings"))
    xvfb = None
    if not env.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", ":95", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
        env["DISPLAY"] = ":95"
        time.sleep(1.0)
    try:
        db = tmp / "demo.db"
        cli = args.folder / ("griddesk-cli.exe" if sys.platform == "win32" else "griddesk-cli")
        subprocess.run(
            [str(cli), "--db", f"sqlite:///{db}", "demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times = [one_start(exe, db, env) for _ in range(args.runs)]
    finally:
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    size = folder_size(args.folder)
    print(f"folder: {size / 1e6:.0f} MB in {sum(1 for _ in args.folder.rglob('*'))} entries")
    print("start to the sign-in window: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print(
        f"first {times[0]:.2f} s, median of the rest {statistics.median(times[1:] or times):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
