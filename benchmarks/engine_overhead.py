"""Engine overhead: a plain Python call of ``landjax.engine.solve`` against the same call inside
the user's own ``jax.jit``, calls 1-5 of each, on two problems:

* ``armington``: the README's example (3 countries, optimistix Newton);
* ``geography``: the Allen-Arkolakis economic geography of ``landjax.examples`` (N = 50
  locations, 100 unknowns, optimistix Newton).

Call 1 includes compilation (of the engine's cached program for the plain call, of the user's
program for the jitted one). From call 2 on, a plain call reuses the engine's compiled program.
Writes ``benchmarks/results/engine_overhead.csv`` (``problem, call, plain_s, jitted_s, ratio``)
and ``benchmarks/results/engine_overhead.md``.

    python benchmarks/engine_overhead.py [--calls 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from _machine import machine_line  # noqa: E402

import landjax  # noqa: E402,F401  (float64)
from landjax.engine import solve  # noqa: E402
from landjax.examples import Armington, armington_residual, geography_params, geography_residual  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def problems():
    arm = Armington(
        Q=jnp.array([1.0, 2.0, 3.0]), a=jnp.array([0.5, 0.3, 0.2]), sigma=jnp.asarray(4.0), d=jnp.ones((3, 3))
    )
    return {
        "armington": (armington_residual, jnp.zeros(2), arm),
        "geography": (geography_residual, jnp.zeros(100), geography_params(50, seed=0)),
    }


def time_calls(call, arg, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        sol = call(arg)
        jax.block_until_ready(sol.value)
        out.append(time.perf_counter() - t0)
        assert bool(sol.converged)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=5)
    a = ap.parse_args(argv)
    machine = machine_line()
    rows = []
    for name, (fn, y0, par) in problems().items():
        plain = time_calls(lambda p, fn=fn, y0=y0: solve(fn, y0, p), par, a.calls)
        user_jit = jax.jit(lambda p, fn=fn, y0=y0: solve(fn, y0, p))
        jitted = time_calls(user_jit, par, a.calls)
        for k in range(a.calls):
            rows.append(
                dict(problem=name, call=k + 1, plain_s=plain[k], jitted_s=jitted[k], ratio=plain[k] / jitted[k])
            )
    df = pd.DataFrame(rows, columns=["problem", "call", "plain_s", "jitted_s", "ratio"])
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "engine_overhead.csv", index=False)
    load = os.getloadavg()
    md = [
        "## Engine: plain calls against the user's own jax.jit",
        "",
        f"Machine: {machine}; load average (1, 5, 15 min) at the end {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"
        + (" (shared, loaded machine: timings are noisy)." if load[0] > 1.5 else "."),
        f"Command: `python benchmarks/engine_overhead.py --calls {a.calls}`.",
        "",
        "`plain`: `solve(fn, y0, par)` called from Python; `jitted`: the same call inside `jax.jit` written by the",
        "user. Call 1 includes compilation. Ratio = plain / jitted (goal: at most 3 from call 2 on).",
        "",
        "| problem | call | plain (s) | jitted (s) | ratio |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(f"| {r['problem']} | {r['call']} | {r['plain_s']:.5f} | {r['jitted_s']:.5f} | {r['ratio']:.2f} |")
    md.append("")
    for name in problems():
        sub = df[(df.problem == name) & (df.call >= 2)]
        md.append(
            f"- {name}: calls 2-{a.calls}, plain/jitted ratio {sub.ratio.min():.2f}-{sub.ratio.max():.2f} "
            f"(median {sub.ratio.median():.2f}); first plain call "
            f"{df[(df.problem == name) & (df.call == 1)].plain_s.iloc[0]:.2f} s."
        )
    (OUT / "engine_overhead.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
