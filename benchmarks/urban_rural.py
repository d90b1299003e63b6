"""Urban-rural model (Cheng & Liu 2021) benchmark.

1. one equilibrium solve after compilation (six-equation Newton, reduced-form initial guess);
2. a 10,000-point sweep over (m, phi_r, omega_a, omega_0) drawn uniformly in the paper's ranges:
   ``solve_many`` (engine ``solve_batch``) versus a Python loop of ``scipy.optimize.root(hybr)``
   on the same six residuals (jitted residual and Jacobian), started from the same reduced-form
   initial guesses; the loop runs on a subsample of ``--loop`` points and is extrapolated
   linearly to 10,000 (said so in the output);
3. the Table-2 calibration with the engine's ``calibrate`` (option ``rratio=gross``, the set that
   calibrates exactly, started 5 % away from the answer) and the default-option calibration
   (which cannot hit the targets and ends in least squares).

Writes ``benchmarks/results/urban_rural.md`` and ``.csv``.

    python benchmarks/urban_rural.py [--n 10000] [--loop 500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from _machine import machine_line  # noqa: E402

import landjax  # noqa: E402,F401
from landjax.models import urban_rural as ur  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--loop", type=int, default=500)
    args = ap.parse_args(argv)
    from scipy.optimize import root

    rows = []
    p, o = ur.Params(), ur.Options()

    # 1. single solve
    t = time.perf_counter()
    ur.solve_equilibrium(p, o)
    t_first = time.perf_counter() - t
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        ur.solve_equilibrium(ur.make_params(m=0.5 + 1e-3 * np.random.rand()), o)
    t_single = (time.perf_counter() - t) / reps
    rows.append(dict(task="single solve (first call, incl. compile)", seconds=t_first, note=""))
    rows.append(
        dict(task="single solve after compilation (incl. Python checks)", seconds=t_single, note=f"mean of {reps}")
    )

    # 2. sweep
    rng = np.random.default_rng(0)
    n = args.n
    cols = {k: rng.uniform(*ur.POLICY_RANGES[k], size=n) for k in ur.POLICY_RANGES}
    pb = ur.batch_params(p, n, **cols)
    t = time.perf_counter()
    res = ur.solve_many(pb, o)
    t_batch_first = time.perf_counter() - t
    t = time.perf_counter()
    res = ur.solve_many(pb, o)
    t_batch = time.perf_counter() - t
    n_conv = int(res["converged"].sum())
    _, found_b = jax.vmap(lambda q: ur.initial_guess(q, o))(pb)
    n_found = int(np.asarray(found_b).sum())
    rows.append(dict(task=f"batch of {n} (solve_batch), first call", seconds=t_batch_first, note="incl. compile"))
    rows.append(
        dict(
            task=f"batch of {n} (solve_batch), after compilation",
            seconds=t_batch,
            note=f"{n_conv}/{n} converged; {n - n_found} points have no interior equilibrium "
            f"(everyone migrates: high m and conversion), flagged, not solved",
        )
    )

    z0, _ = jax.vmap(lambda q: ur.initial_guess(q, o))(pb)
    z0 = np.asarray(z0)
    f = jax.jit(lambda z, q: ur.residual(z, q, o))
    J = jax.jit(jax.jacfwd(lambda z, q: ur.residual(z, q, o)))
    m = min(args.loop, n)
    qs = [ur.make_params(**{k: float(cols[k][i]) for k in cols}) for i in range(m)]
    f(jnp.asarray(z0[0]), qs[0]).block_until_ready()
    J(jnp.asarray(z0[0]), qs[0]).block_until_ready()
    agree = 0
    t = time.perf_counter()
    for i in range(m):
        q = qs[i]
        sol = root(
            lambda z: np.asarray(f(jnp.asarray(z), q)),
            z0[i],
            jac=lambda z: np.asarray(J(jnp.asarray(z), q)),
            method="hybr",
            options={"xtol": 1e-12},
        )
        if sol.success:
            x = np.asarray(ur.to_levels(jnp.asarray(sol.x), q))
            agree += bool(np.allclose(x, [res[k][i] for k in ur.UNKNOWNS], rtol=1e-8))
    t_loop = time.perf_counter() - t
    t_loop_n = t_loop * n / m
    rows.append(
        dict(
            task=f"scipy root(hybr) loop, {m} points",
            seconds=t_loop,
            note=f"{agree}/{int(res['converged'][:m].sum())} batch-converged points agree to 1e-8",
        )
    )
    rows.append(
        dict(
            task=f"scipy root(hybr) loop extrapolated to {n}",
            seconds=t_loop_n,
            note=f"linear extrapolation from {m} points",
        )
    )
    ratio_sweep = t_loop_n / t_batch

    # 3. calibration
    og = ur.Options(rratio="gross")
    ref = ur.calibrate_reduced(og, starts=4)
    t = time.perf_counter()
    cal = ur.calibrate_table2(og, theta0=np.asarray(ref["params"]) * 1.05, max_steps=40)
    t_cal = time.perf_counter() - t
    rows.append(
        dict(
            task="engine calibrate, rratio=gross (exact), incl. compile",
            seconds=t_cal,
            note=f"exact={cal.exact}, {cal.steps} steps",
        )
    )
    t = time.perf_counter()
    cal2 = ur.calibrate_table2(og, theta0=np.asarray(ref["params"]) * 1.05, max_steps=40)
    t_cal2 = time.perf_counter() - t
    rows.append(dict(task="engine calibrate, rratio=gross, second call", seconds=t_cal2, note=f"exact={cal2.exact}"))
    t = time.perf_counter()
    cal0 = ur.calibrate_table2(o, max_steps=20)
    t_cal0 = time.perf_counter() - t
    rows.append(
        dict(
            task="engine calibrate, default options (targets unreachable), incl. compile",
            seconds=t_cal0,
            note=f"exact={cal0.exact}, {cal0.steps} steps",
        )
    )

    df = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / "urban_rural.csv", index=False)
    lines = [
        "## Urban-rural model (Cheng & Liu 2021) benchmark",
        "",
        f"Machine: {machine_line()}. The machine was shared with other jobs: timings are noisy and "
        "compile times in particular are inflated.",
        "",
        "| task | seconds | note |",
        "|---|---|---|",
        *[f"| {r.task} | {r.seconds:.4g} | {r.note} |" for r in df.itertuples()],
        "",
        f"- sweep speed-up, batched `solve_batch` vs a scipy `root(hybr)` loop on the same residuals "
        f"(loop extrapolated from {m} points): **{ratio_sweep:.1f}x** after compilation "
        f"({t_loop_n / t_batch_first:.1f}x counting the batch's compile).",
        f"- per-point cost: batch {1e3 * t_batch / n:.3f} ms, loop {1e3 * t_loop / m:.3f} ms, single solve "
        f"{1e3 * t_single:.2f} ms (the single solve includes Python-side checks and conversions).",
        "",
        f"Command: `python benchmarks/urban_rural.py --n {n} --loop {m}`.",
        "",
    ]
    (OUT / "urban_rural.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
