"""Benchmark: perfect-foresight transition of the land-debt model (Zhao & Liu 2024; eqs. (6), (8)-(16)
of docs/zhao_liu2024.md).

Transition after 'labour mobile + land to City 1' (11 unknowns per period), T = 150 and T = 500:

* landjax Newton with the block-tridiagonal solver (``BlockTridiagonal(11)``),
* landjax Newton with the dense Jacobian (``jax.jacfwd`` + LU),
* ``scipy.optimize.root`` (MINPACK ``hybr``) on the same stacked residual from the same initial
  path, given the exact Jacobian (assembled dense from the JAX block diagonals).

Dense landjax Newton runs at T = 150 only unless ``--dense500`` is given.

Each configuration runs in a fresh subprocess, so that the peak resident memory (``ru_maxrss``)
belongs to it alone. Reported: first call (includes JAX compilation), warm call, Newton steps
(scipy: Jacobian evaluations), final max-norm residual, peak RSS.

Usage: ``python benchmarks/land_debt_transition.py [--quick]`` -> ``benchmarks/results/land_debt.md``
(+ ``land_debt.csv``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(method: str, T: int) -> dict:
    import resource

    import jax
    import jax.numpy as jnp
    import numpy as np

    from landjax.models import land_debt as ld
    from landjax.models.land_debt import transition as tr
    from landjax.reproduce import zhao_liu2024_study as ex

    pc, _ = ld.calibrate_joint(ld.Params())
    y = ld.solve_steady_state(pc).value
    pn, on = ex.experiment_params(pc, "mobile_land1")
    yn = ld.solve_steady_state(pn, on, ld.guess_for(y, on)).value
    a = tr.make_args(pc, y, pn, yn, o_new=on, T=T)
    y0 = tr.initial_path(a)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"method": method, "T": T, "unknowns": int(y0.shape[0])}
    if method in ("block", "dense"):
        t0 = time.perf_counter()
        sol = tr.solve_transition(a, y0, linear_solver=method, throw=False)
        jax.block_until_ready(sol.value)
        out["first_call_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sol = tr.solve_transition(a, y0 * (1 + 1e-12), linear_solver=method, throw=False)
        jax.block_until_ready(sol.value)
        out["warm_s"] = time.perf_counter() - t0
        out["steps"] = int(sol.steps)
        out["max_residual"] = float(sol.residual_norm)
        out["converged"] = bool(sol.converged)
    else:
        f = jax.jit(lambda v: tr.transition_residual(v, a))
        bt = tr.BlockTridiagonal(tr.N_PER_PERIOD)
        blocks = jax.jit(lambda v: bt.materialize(jax.linearize(lambda u: tr.transition_residual(u, a), v)[1], v))
        n = tr.N_PER_PERIOD

        def J(v):  # the exact Jacobian, assembled dense from its three block diagonals (3n JVPs)
            Lb, Db, Ub = (np.asarray(b) for b in blocks(v))
            Tn = Db.shape[0]
            M = np.zeros((Tn * n, Tn * n))
            for t in range(Tn):
                M[t * n : (t + 1) * n, t * n : (t + 1) * n] = Db[t]
                if t > 0:
                    M[t * n : (t + 1) * n, (t - 1) * n : t * n] = Lb[t - 1]
                if t < Tn - 1:
                    M[t * n : (t + 1) * n, (t + 1) * n : (t + 2) * n] = Ub[t]
            return M

        f(y0).block_until_ready()
        J(y0)  # compile outside the timing of the scipy iterations
        from scipy.optimize import root

        t0 = time.perf_counter()
        r = root(
            lambda v: np.asarray(f(jnp.asarray(v))),
            np.asarray(y0),
            jac=lambda v: J(jnp.asarray(v)),
            method="hybr",
            tol=1e-13,
        )
        out["first_call_s"] = out["warm_s"] = time.perf_counter() - t0
        out["steps"] = int(r.get("njev", -1))
        res = float(np.max(np.abs(np.asarray(f(jnp.asarray(r.x))))))
        out["max_residual"] = res
        out["converged"] = bool(res <= 1e-10)
        out["note"] = f"hybr: nfev={r.nfev}, njev={r.get('njev')}, success={r.success}"
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["peak_rss_increase_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return out


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        print("RESULT " + json.dumps(_child(argv[1], int(argv[2]))))
        return 0
    quick = "--quick" in argv
    configs = [("block", 150), ("dense", 150), ("scipy_hybr", 150), ("block", 500), ("scipy_hybr", 500)]
    if "--dense500" in argv:  # the dense (5500 x 5500) jacfwd Jacobian: several GB of intermediates
        configs.insert(4, ("dense", 500))
    if quick:
        configs = [("block", 150), ("dense", 150), ("scipy_hybr", 150)]
    rows = []
    env = dict(os.environ, LANDJAX_PROGRESS="0")
    for method, T in configs:
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, __file__, "--child", method, str(T)], capture_output=True, text=True, env=env, timeout=1800
        )
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode or not line:
            rows.append({"method": method, "T": T, "error": (p.stderr or p.stdout)[-400:]})
        else:
            rows.append(json.loads(line[0][7:]))
        print(rows[-1], f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    import pandas as pd

    sys.path.insert(0, str(HERE))
    from _machine import machine_line  # noqa: E402

    from landjax._io import markdown_table

    df = pd.DataFrame(rows)
    res_dir = HERE / "results"
    res_dir.mkdir(exist_ok=True)
    df.to_csv(res_dir / "land_debt.csv", index=False)
    cols = [
        c
        for c in (
            "method",
            "T",
            "unknowns",
            "first_call_s",
            "warm_s",
            "steps",
            "max_residual",
            "converged",
            "peak_rss_mb",
            "peak_rss_increase_mb",
            "note",
            "error",
        )
        if c in df.columns
    ]
    md = [
        "## Land-debt transition: block-tridiagonal Newton vs dense Newton vs scipy.optimize.root",
        "",
        "Machine: " + machine_line() + " (shared machine).",
        "",
        "Transition after 'labour mobile + land to City 1' (Zhao & Liu 2024 spec §9), 11 unknowns per period, "
        "same stacked residual and initial path for every method. `first_call_s` includes JAX compilation "
        "(scipy: the residual and Jacobian are compiled before timing); `warm_s` is a second call. "
        "`steps`: Newton iterations (scipy hybr: Jacobian evaluations). Peak RSS of a fresh subprocess per row. "
        "The machine was shared with other jobs: timings are noisy.",
        "",
        markdown_table(df[cols]),
        "",
    ]
    (res_dir / "land_debt.md").write_text("\n".join(md), encoding="utf-8")
    print(f"wrote {res_dir / 'land_debt.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
