"""Quota-trade model (Ma & Ni): what a plain `solve_shock` call costs around its kernel.

Side by side in one process, interleaved call by call (so that a noisy host slows every variant
alike), for one scenario (inter-province / all / both / equal area) on each bundled dataset:

* ``plain``: `M.solve_shock(base, shock)` as a user calls it (input checks, one compiled program
  for the migration weights, the fixed point and the hats, the failure checks);
* ``two programs``: the path `solve_shock` took before 2026-12-07, rebuilt here from the same
  public pieces: a plain `landjax.engine.fixed_point` call, then the hats as a second program
  (and `Params()` / `Solver()` built and validated anew on every call);
* ``jitted, whole Equilibrium``: the same solve inside the user's own `jax.jit`, every output kept;
* ``jitted, L_hat only``: the same, returning only L-hat (XLA then drops the residual norm and
  the hats: the kernel alone, what `benchmarks/quota_trade.py` calls "jitted").

Medians over the repeats; ratios from the same run. Writes
``benchmarks/results/quota_trade_call.md`` and ``.csv``.

    python benchmarks/quota_trade_call.py [--repeats 400]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
from _machine import machine_line  # noqa: E402

import landjax  # noqa: E402,F401
from landjax.data.china import load_dataset  # noqa: E402
from landjax.models import quota_trade as M  # noqa: E402
from landjax.models.quota_trade.equations import check_shock  # noqa: E402

S = importlib.import_module("landjax.models.quota_trade.solve")
OUT = Path(__file__).resolve().parent / "results"
SCENARIO = "inter_all_area_both"


def two_programs(base, shock, params=None):
    """`solve_shock` as it was before 2026-12-07: validation objects built per call, then the solve's
    body called plainly, so that the migration weights are an eager operation, the fixed point its
    own compiled program and the hats a second one."""
    s = M.Solver()
    params = M.Params() if params is None else params
    eq = S._solve_eq(base, check_shock(base, shock), params, s, None)
    S._raise_if_failed(eq)
    return eq


def measure(dataset: str, repeats: int) -> list[dict]:
    base = M.build_baseline(load_dataset(dataset))
    shock = M.compile_scenario(base, M.Scenario.from_name(SCENARIO))
    params = M.Params()
    whole = jax.jit(lambda b, s, p: M.solve_shock(b, s, p, throw=False))
    kernel = jax.jit(lambda b, s, p: M.solve_shock(b, s, p, throw=False).L_hat)
    calls = {
        "plain": lambda: M.solve_shock(base, shock),
        "two programs": lambda: two_programs(base, shock),
        "jitted, whole Equilibrium": lambda: whole(base, shock, params),
        "jitted, L_hat only": lambda: kernel(base, shock, params),
    }
    ref = M.solve_shock(base, shock)
    old = two_programs(base, shock)
    same_bits = all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(old), strict=True)
    )
    for name, f in calls.items():  # compile, and check every variant solves the same problem
        out = jax.block_until_ready(f())
        got = np.asarray(out if name == "jitted, L_hat only" else out.L_hat)
        gap = float(np.max(np.abs(got - np.asarray(ref.L_hat))))
        if gap > 1e-12:
            raise SystemExit(f"{name}: L-hat differs from the plain solve by {gap:.2e}")
        for _ in range(10):
            jax.block_until_ready(f())
    times: dict[str, list[float]] = {n: [] for n in calls}
    for _ in range(repeats):
        for name, f in calls.items():
            t = time.perf_counter()
            jax.block_until_ready(f())
            times[name].append(time.perf_counter() - t)
    n = int(base.L0.shape[0])
    return [
        {
            "dataset": dataset,
            "cities": n,
            "call": name,
            "median_ms": float(np.median(v)) * 1e3,
            "p25_ms": float(np.percentile(v, 25)) * 1e3,
            "p75_ms": float(np.percentile(v, 75)) * 1e3,
            "steps": int(ref.steps),
            "same_bits_as_two_programs": same_bits,
        }
        for name, v in times.items()
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=400)
    a = ap.parse_args(argv)
    machine = machine_line()
    rows = []
    for ds in ("china_synthetic", "china_semireal"):
        rows += measure(ds, a.repeats)
        print(f"{ds}: done", file=sys.stderr)
    df = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "quota_trade_call.csv", index=False)
    lines = [
        "## Quota-trade model: a plain solve call and its kernel",
        "",
        f"Command: `python benchmarks/quota_trade_call.py --repeats {a.repeats}`. Machine: {machine}. "
        "The four calls are interleaved call by call in one process (medians, with the quartiles); "
        f"scenario `{SCENARIO}`, tolerance 1e-13 on log L-hat.",
        "",
        "| dataset | N | call | median (ms) | quartiles (ms) | / jitted whole | / jitted L_hat only |",
        "|---|---|---|---|---|---|---|",
    ]
    for ds, g in df.groupby("dataset", sort=False):
        t = dict(zip(g["call"], g["median_ms"], strict=True))
        for r in g.itertuples():
            lines.append(
                f"| {ds} | {r.cities} | {r.call} | {r.median_ms:.3f} | {r.p25_ms:.3f}-{r.p75_ms:.3f} | "
                f"{r.median_ms / t['jitted, whole Equilibrium']:.2f}x | {r.median_ms / t['jitted, L_hat only']:.2f}x |"
            )
    syn = df[df["dataset"] == "china_synthetic"].set_index("call")["median_ms"]
    bits = df.groupby("dataset", sort=False)["same_bits_as_two_programs"].all()
    lines += [
        "",
        f"On `china_synthetic` a plain call costs {syn['plain'] - syn['jitted, whole Equilibrium']:.2f} ms more than "
        f"the same solve inside the user's `jax.jit` with every output kept, and "
        f"{syn['plain'] - syn['jitted, L_hat only']:.2f} ms more than the kernel alone (L-hat only: XLA drops the "
        "residual norm and the hats, one map evaluation each). The path before 2026-12-07 (two compiled programs, "
        "validation objects built per call) took "
        f"{syn['two programs']:.3f} ms, {syn['two programs'] / syn['plain']:.2f}x the plain call of now. Every output "
        "leaf of the two paths bit-identical in this run: "
        + ", ".join(f"{ds} {'yes' if ok else 'NO'}" for ds, ok in bits.items())
        + ".",
        "",
    ]
    (OUT / "quota_trade_call.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
