"""Start-up of ``landjax solve MODEL --json``: cold (an empty cache folder) and warm (the same
folder, runs 2..R), wall-clock and CPU (user + sys of the child process) per model, beside
``python -c "import jax"`` alone. Each command runs in a fresh interpreter, as a user runs it.

Writes ``benchmarks/results/engine_startup.csv`` (``case, run, kind, wall_s, cpu_s, load_1min``)
and ``benchmarks/results/engine_startup.md``. The cache folder is a temporary one
(``LANDJAX_CACHE_DIR``), so the cold run really starts empty; the warm figure is the minimum over
the warm runs (the machine may be shared: the 1-minute load average is recorded per run).

    python benchmarks/engine_startup.py [--warm 3] [--models claims helpman ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import machine_line  # noqa: E402

ROOT = HERE.parent
#: text from this line on in the fragment is written by hand (profile, before/after) and kept on a rerun
NOTES_MARK = "<!-- notes -->"
OUT = HERE / "results"
CASES = {
    "claims": ["claims"],
    "urban_rural": ["urban_rural"],
    "quota_trade": ["quota_trade"],
    "quota_trade (inter_all_area_both)": ["quota_trade", "--scenario", "inter_all_area_both"],
    "land_debt": ["land_debt"],
    "helpman": ["helpman"],
}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warm", type=int, default=3, help="warm runs per model (after the cold one)")
    ap.add_argument("--models", nargs="*", default=list(CASES), help="cases to run (default: all)")
    a = ap.parse_args(argv)
    import pandas as pd

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANDJAX_PROGRESS": "0"}
    env.setdefault("LANDJAX_RRH_DATA", "/work/shared/data/rrh2017")
    header = machine_line()
    rows = []
    for _ in range(a.warm):
        wall, cpu = timed([sys.executable, "-c", "import jax, jax.numpy"], env)
        rows.append(dict(case="import jax", run=0, kind="warm", wall_s=wall, cpu_s=cpu, load_1min=os.getloadavg()[0]))
    with tempfile.TemporaryDirectory(prefix="landjax-startup-") as tmp:
        env["LANDJAX_CACHE_DIR"] = str(Path(tmp) / "cache")
        for case in a.models:
            cmd = [sys.executable, "-m", "landjax", "solve", *CASES[case], "--json"]
            for run in range(1 + a.warm):
                wall, cpu = timed(cmd, env)
                kind = "cold" if run == 0 else "warm"
                rows.append(
                    dict(case=case, run=run + 1, kind=kind, wall_s=wall, cpu_s=cpu, load_1min=os.getloadavg()[0])
                )
                print(f"{case:36s} run {run + 1} ({kind}) {wall:6.2f} s wall {cpu:6.2f} s CPU", file=sys.stderr)
    df = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "engine_startup.csv", index=False, float_format="%.3f")

    lines = [
        "## Engine: start-up of `landjax solve MODEL --json`",
        "",
        f"Machine: {header}.",
        f"Command: `python benchmarks/engine_startup.py --warm {a.warm}` (each run a fresh "
        "`python -m landjax solve MODEL --json`; cold: an empty `LANDJAX_CACHE_DIR`; warm: the same folder "
        "afterwards, minimum of the warm runs). CPU = user + sys of the child. Load: 1-minute load average "
        "after each run (when other jobs take the cores, wall time exceeds CPU time).",
        "",
        "| case | cold wall (s) | cold CPU (s) | warm wall, min (s) | warm CPU, min (s) | warm / cold (CPU) | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, g in df.groupby("case", sort=False):
        cold = g[g.kind == "cold"]
        warm = g[g.kind == "warm"]
        cw = f"{cold.wall_s.iloc[0]:.2f}" if len(cold) else "-"
        cc = f"{cold.cpu_s.iloc[0]:.2f}" if len(cold) else "-"
        ratio = f"{warm.cpu_s.min() / cold.cpu_s.iloc[0]:.2f}x" if len(cold) else "-"
        lines.append(
            f"| {case} | {cw} | {cc} | {warm.wall_s.min():.2f} | {warm.cpu_s.min():.2f} | {ratio} | "
            f"{g.load_1min.min():.1f}-{g.load_1min.max():.1f} |"
        )
    md = OUT / "engine_startup.md"
    old = md.read_text() if md.exists() else ""
    notes = old[old.index(NOTES_MARK) :] if NOTES_MARK in old else ""  # hand-written notes are kept
    md.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""))
    print(f"wrote {OUT / 'engine_startup.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
